// metrics: the node's Prometheus figures (prometheus-cpp's core library: its counters and gauges are
// atomics, so actors and io threads update them directly, from any thread, without a message hop; finding
// a labelled series and a histogram observation take a short internal lock, never I/O).
//
// One object per node, made by build_node_services and handed (shared_ptr) to whoever updates it: no
// global registry. Every family has a fixed name and fixed label names (README, "Metrics"); label values
// pass through metric_label(), so a value outside [A-Za-z0-9_.:-]{1,64} - anything that could be free
// text, a message or an e-mail address - is exported as "invalid", never as itself. Callers pass only
// closed sets (intents, escalation reasons, outcomes) and config identifiers (tenant, provider, model).
// render() is the exposition at /metrics (text format 0.0.4). To add a figure: a family in metrics.cpp
// (name, help, labels), a method here, the README table, and a line in tests/runtime/metrics_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace sa {

/// `value` when it matches [A-Za-z0-9_.:-]{1,64}, else "invalid" (empty included).
std::string metric_label(std::string_view value);

/// The value of sa_provider_breaker_state: ordered by severity, so max() over providers means something.
enum class breaker_gauge : uint8_t { closed = 0, half_open = 1, open = 2 };

/// A figure another component keeps (e.g. the Redis client's counters), read when /metrics is scraped.
/// `read` runs on the scraping thread: it must be thread-safe and must not block.
struct sampled_metric {
  std::string name;   ///< [a-zA-Z_:][a-zA-Z0-9_:]*, unique among all families
  std::string help;
  bool counter = false;  ///< counter (monotonic) or gauge
  std::function<double()> read;
};

class metrics {
public:
  /// Histogram buckets of sa_ttft_seconds and sa_turn_duration_seconds, in seconds (1 ms .. 30 s).
  static const std::vector<double>& latency_buckets();

  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // --- turns (session actor) -------------------------------------------------------------------------
  /// A turn the session ran ended: outcome answered, escalated or failed; `seconds` from its start.
  void turn_finished(std::string_view tenant, std::string_view intent, std::string_view outcome, double seconds);
  /// The first text of a turn's answer went to the client, `seconds` after the turn started.
  void first_delta(std::string_view tenant, double seconds);
  void escalated(std::string_view tenant, std::string_view reason);
  /// A safety check's verdict that was not allow (action redact, refuse, escalate; reason pii, harmful, ...).
  void safety_checked(std::string_view action, std::string_view reason);
  /// One LLM moderation call ended: allowed, flagged, failed or unparsable (sa_moderation_calls_total).
  void moderation_call(std::string_view outcome);
  /// A handoff record's event: queued, taken, returned (to the bot), closed.
  void handoff_event(std::string_view tenant, std::string_view event);
  /// An agent took a handoff `seconds` after it was queued.
  void handoff_taken(std::string_view tenant, double seconds);
  /// A conversation ended (its session passivated after answering): by a human when any turn escalated.
  void conversation_closed(std::string_view tenant, bool by_human);
  /// A customer rated an answer 1..5; intent and escalation reason of the rated turn ("unknown" when the
  /// connection no longer remembers it, reason "none" when it did not escalate).
  void csat_rated(std::string_view tenant, std::string_view intent, std::string_view escalation_reason, int score);

  /// An end-of-conversation survey: score 1..5 and whether the customer says it was resolved; intent and
  /// escalation reason of the conversation's last answered turn ("unknown" when not known).
  void csat_survey(std::string_view tenant, std::string_view intent, std::string_view escalation_reason, int score,
                   bool resolved);

  // --- quality monitor (actors/quality) ------------------------------------------------------------------
  /// A turn offered to the quality monitor was sampled and scored by `judge` (an endpoint or strategy name,
  /// or "local_groundedness"); outcome "scored", or "judge_failed" (then scored locally as well).
  void quality_sampled(std::string_view tenant, std::string_view intent, std::string_view judge,
                       std::string_view outcome);
  /// One score of a sample, normalised to [0, 1]; dimension relevance, accuracy, helpfulness, tone (a judge)
  /// or groundedness, word_support (local).
  void quality_score(std::string_view tenant, std::string_view intent, std::string_view judge,
                     std::string_view dimension, double score);

  // --- cost by component ---------------------------------------------------------------------------------
  /// Tokens and cost of one LLM call's part: component classification, retrieval_embeddings, generation,
  /// thinking or judging; `input` (prompt) and `output` (completion) tokens apart, so `support-agent cost
  /// --from-metrics` can price them again. A free model (local) counts its tokens at 0 USD.
  void component_cost(std::string_view tenant, std::string_view component, std::string_view model,
                      uint64_t input, uint64_t output, double usd);
  /// A closed conversation's total LLM cost (what its turns' answers cost), for cost per conversation.
  void conversation_cost(std::string_view tenant, double usd);

  // --- providers ---------------------------------------------------------------------------------------
  /// A completion call to an endpoint ended: outcome "ok" or the provider error's name.
  void provider_call(std::string_view provider, std::string_view outcome);
  void provider_retry(std::string_view provider);
  /// A fallback strategy moved from member `from` (which failed) to member `to`.
  void provider_fallback(std::string_view strategy, std::string_view from, std::string_view to);
  void provider_breaker(std::string_view provider, breaker_gauge state);
  /// Billed tokens of one answer: input (prompt), output (answer) and thinking; output excludes thinking.
  void tokens(std::string_view tenant, std::string_view model, uint64_t input, uint64_t output, uint64_t thinking);
  void cost(std::string_view tenant, std::string_view model, double usd);

  // --- the node ------------------------------------------------------------------------------------------
  void session_activated();
  void sessions_ended(std::size_t count = 1);
  void connection_opened();
  void connection_closed();
  /// A supervised actor was restarted after a crash (kind: its role, e.g. memory, classifier, provider:NAME).
  void actor_restarted(std::string_view kind);
  void memory_backend_error(std::string_view backend, std::string_view kind);

  /// Adds figures read at scrape time. Fails (false) on a malformed or already used name.
  bool add_sampled(std::vector<sampled_metric> figures);

  /// The Prometheus text exposition (version 0.0.4) of every family that has a sample.
  std::string render() const;

  /// The families render() serializes, for in-process readers that must agree with /metrics (the
  /// dashboard, actors/gateway/dashboard.hpp). Include <prometheus/metric_family.h> to use them.
  std::vector<prometheus::MetricFamily> collect() const;

  /// Content-Type of render()'s text.
  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace sa
