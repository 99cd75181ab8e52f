// fault_table: the faults the fake provider injects and the counters it keeps. Rules are matched in order
// against a request's provider ("*" matches all); the first rule that matches, still has `count` left and
// wins its `probability` roll (a PRNG seeded by --seed, so runs are reproducible) applies to the request.
//
// Plain class, used from the single io thread only. To add a fault: a fault_kind, its name in
// fault_kind_names (fault_table.cpp), and its effect in fake_service::plan_stream / plan_chat.
#pragma once

#include "actors/providers/fake/fake_answer.hpp"
#include "runtime/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sa::providers::fake {

enum class fault_kind {
  none,                  ///< no fault (a stats label only)
  status,                ///< answer `status` with the provider's error body and headers
  error_event,           ///< 200, `after_tokens` tokens, then the provider's mid-stream error
  stall_before_headers,  ///< read the request, send nothing for `stall_ms`, then close
  stall_mid_stream,      ///< send `after_tokens` tokens, then nothing for `stall_ms`, then close
  reset,                 ///< send `after_tokens` tokens (0: nothing at all), then reset the connection (RST)
  cut_line,              ///< the stream ends in the middle of its finish event's line
  bad_json,              ///< after `after_tokens` tokens, a `data:` line with invalid JSON, then the rest
  drip,                  ///< the whole response one byte per write, `drip_ms` apart
  timing,                ///< only the ttft_ms / tokens_per_s overrides
  tool_call,             ///< a script, not a failure: answer with a call to `script.tool` (only requests that
                         ///< offer tools and do not already answer tool calls; others skip this rule)
};

const char* to_string(fault_kind k) noexcept;
std::optional<fault_kind> fault_kind_from_string(std::string_view name) noexcept;

struct fault_spec {
  std::string provider = "*";                 ///< "openai", "anthropic", "gemini", "*" (all three) or
                                              ///< "embeddings" (both embedding APIs; never matched by "*")
  fault_kind kind = fault_kind::none;
  int status = 500;                           ///< for `status`
  std::string code;                           ///< error code/type/status override in the body
  std::string message;                        ///< error message override
  std::optional<double> retry_after_s;        ///< `retry-after` header (seconds)
  std::optional<int64_t> retry_after_ms;      ///< `retry-after-ms` header
  std::optional<bool> should_retry;           ///< `x-should-retry` header
  double probability = 1.0;
  int64_t count = -1;                         ///< requests left to fault; -1: unlimited
  uint32_t after_tokens = 0;
  uint32_t stall_ms = 600000;
  uint32_t drip_ms = 1;
  std::optional<uint32_t> ttft_ms;            ///< overrides the server's time to first token
  std::optional<double> tokens_per_s;         ///< overrides the server's rate (0: no delay)
  tool_script script;                         ///< for `tool_call`: JSON fields tool, arguments (an object),
                                              ///< text, malformed, fragment_bytes
};

/// One fault from a JSON object, e.g. {"provider":"openai","fault":"status","status":429,"retry_after_s":2}
/// or {"fault":"tool_call","tool":"create_ticket","arguments":{"subject":"Refund"},"text":"Let me do that."}.
/// Fails on an unknown fault or provider, a wrong type, a probability outside [0, 1], or a tool_call
/// without a tool.
result<fault_spec> parse_fault(std::string_view json_text);

/// A JSON object or an array of them.
result<std::vector<fault_spec>> parse_faults(std::string_view json_text);

class fault_table {
public:
  explicit fault_table(uint64_t seed = 1) : rng_(seed) {}

  void replace(std::vector<fault_spec> faults) { faults_ = std::move(faults); }
  void add(fault_spec f) { faults_.push_back(std::move(f)); }
  void clear() { faults_.clear(); }

  /// The fault for the next request to `provider` (consuming one of its `count`), or nullopt. `tool_call`
  /// rules apply only when `offers_tools` (the request offers tools and does not answer tool calls).
  std::optional<fault_spec> pick(provider_kind provider, bool offers_tools = false);
  /// The same by route name: a provider's name, or "embeddings" (which only rules naming it match).
  std::optional<fault_spec> pick(std::string_view route, bool offers_tools = false);

  /// Counts a request by route ("openai", "anthropic", "gemini", "embeddings") and applied fault.
  void record(std::string_view route, fault_kind applied);
  void reset_stats();

  /// The rules with their remaining counts, as a JSON array.
  std::string faults_json() const;
  /// {"total":N,"requests":{route:N},"faults":{kind:N},"by_route":{route:{kind:N}}}
  std::string stats_json() const;

  uint64_t total() const noexcept { return total_; }
  uint64_t requests(std::string_view route) const;
  uint64_t faults(fault_kind kind) const;

private:
  double roll();

  std::vector<fault_spec> faults_;
  std::mt19937_64 rng_;
  uint64_t total_ = 0;
  std::map<std::string, std::map<std::string, uint64_t>, std::less<>> by_route_;
  std::map<std::string, uint64_t, std::less<>> by_fault_;
};

} // namespace sa::providers::fake
