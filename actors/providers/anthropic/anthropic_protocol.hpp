// anthropic_protocol: the Anthropic Messages wire format.
//
// build_request -> POST /v1/messages with top-level system, required max_tokens, anthropic-version, and
// extended thinking {type enabled, budget_tokens} (validated: 1024 <= budget < max_tokens; temperature
// is then left unset). Tools go as {name, description, input_schema}; an assistant message that called
// tools becomes thinking blocks (unchanged, with their signatures) + text + tool_use blocks, and the
// results a user message of tool_result blocks (is_error for a refused or failed call). Thinking is left
// off for a request whose final tool-calling assistant message has no thinking block (the API would
// refuse it). anthropic_stream_decoder reads named events: message_start (input tokens),
// content_block_start/delta (text_delta, thinking_delta and signature_delta kept per block,
// input_json_delta fragments of tool_use blocks), message_delta (stop_reason, cumulative output tokens),
// message_stop (end; tool calls checked to be JSON objects), error (mid-stream error); ping and unknown
// types are ignored. parse_error maps {"type":"error","error":{...}} bodies and the retry rules.
#pragma once

#include "actors/providers/provider_types.hpp"
#include "actors/providers/stream_decoder.hpp"
#include "runtime/result.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace sa::providers {

struct anthropic_options {
  std::string path = "/v1/messages";
  std::string version = "2023-06-01";
};

class anthropic_stream_decoder final : public stream_decoder {
public:
  using stream_decoder::stream_decoder;

private:
  void on_event(const sse_event& ev, std::vector<stream_event>& out) override;
  void on_close(std::vector<stream_event>&) override {} // no message_stop: truncated
  const char* provider_name() const noexcept override { return "anthropic"; }

  std::string stop_reason_;
  usage usage_;
  std::map<uint64_t, tool_call> tools_; ///< tool_use blocks by content block index
  std::set<uint64_t> partial_input_;    ///< tool_use blocks whose input_json_delta started
  std::map<uint64_t, thinking_block> thinking_; ///< thinking / redacted_thinking blocks by index
};

class anthropic_protocol {
public:
  explicit anthropic_protocol(anthropic_options opts = {}) : opts_(std::move(opts)) {}

  /// The request for `r`; fails when the model or messages are missing, max_tokens is 0, the thinking
  /// budget is outside [1024, max_tokens), or a tool schema is not a JSON object. `json_mode` has no
  /// Anthropic equivalent and is ignored (say so in the system prompt).
  result<http_request> build_request(const completion_request& r) const;

  std::unique_ptr<stream_decoder> make_decoder() const { return std::make_unique<anthropic_stream_decoder>(); }

  /// Maps a non-2xx response: kind by error.type (falling back to the status); retry-after(-ms),
  /// request-id and x-should-retry from the headers.
  provider_error parse_error(int http_status, const header_list& headers, std::string_view body) const;

  /// The error of an {"type":"error","error":{...}} body; `http_status` 200 for a mid-stream event.
  static provider_error error_from_body(int http_status, std::string_view body);

  static finish_kind finish_of(std::string_view stop_reason) noexcept;

private:
  anthropic_options opts_;
};

} // namespace sa::providers
