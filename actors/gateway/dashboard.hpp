// dashboard: the operator dashboard's figures (GET /api/dashboard, the page web/dashboard.html at
// /dashboard). Everything is read from the node's metrics object - the same families GET /metrics
// exposes - so the page and a Prometheus scrape agree: totals since the node started, latency quantiles
// interpolated from the histogram buckets the way PromQL's histogram_quantile() does.
//
// dashboard_history keeps a small in-memory ring of snapshots (one every gateway.dashboard_interval_s,
// gateway.dashboard_history of them), so a freshly opened page draws the recent past, and the table gives
// each rate over the recent window too (recent_window_s, against the oldest snapshot inside it), not only
// since the node started. Snapshots hold counts only: no tenant, user or text. Thread-safe: the gateway's
// timer records, HTTP sessions read.
//
// Also shown: cost per closed conversation by component (sa_component_cost_usd_total and _tokens_total over
// sa_conversations_closed_total) and the quality monitor's mean scores by judge and dimension
// (sa_quality_score), the local groundedness check labelled apart from a judge model.
//
// To add a figure: a field in metrics_totals filled in read_totals(), a field in the point JSON
// (point_json), and, for the table, a row in dashboard_json() with its target; then the page's table
// needs nothing (it renders the rows it is given) unless the figure gets a chart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sa {
class metrics;
}

namespace sa::gateway {

/// A cumulative histogram summed over its label sets: upper bounds (ascending, the last +Inf) and the
/// cumulative count of observations at or below each.
struct latency_histogram {
  std::vector<double> bounds;
  std::vector<double> cumulative;
  double count = 0;
  double sum = 0;
};

/// The q-quantile (0 < q < 1) by linear interpolation inside the bucket that holds it, as PromQL's
/// histogram_quantile(); the highest finite bound when it falls in +Inf; NaN with no observations.
double histogram_quantile(double q, const latency_histogram& h);

/// `now - before` bucket by bucket (the observations between two snapshots); `now` when the bounds differ.
latency_histogram histogram_delta(const latency_histogram& now, const latency_histogram& before);

/// Sum and count of one histogram's observations (a mean).
struct observed_sum {
  double sum = 0;
  double count = 0;
};

/// The node's totals since start, summed over tenants, intents and reasons.
struct metrics_totals {
  int64_t unix_ms = 0;
  double turns = 0;                  ///< sa_turns_total
  double escalations = 0;            ///< sa_escalations_total
  std::map<std::string, double> escalations_by_reason;
  double conversations_bot = 0;      ///< sa_conversations_closed_total{resolved_by="bot"}
  double conversations_human = 0;    ///< ... {resolved_by="human"}
  double csat_count = 0;             ///< sa_csat_ratings_total (valid scores 1..5)
  double csat_sum = 0;               ///< sum of score x count
  double cost_usd = 0;               ///< sa_component_cost_usd_total, every component (embeddings included)
  std::map<std::string, double> cost_by_component;    ///< sa_component_cost_usd_total by component
  std::map<std::string, double> tokens_by_component;  ///< sa_component_tokens_total by component
  /// sa_quality_score by "judge/dimension" (judge: an endpoint or strategy, or local_groundedness).
  std::map<std::string, observed_sum> quality_scores;
  std::map<std::string, double> quality_samples;      ///< sa_quality_samples_total by "judge/outcome"
  double active_sessions = 0;        ///< sa_active_sessions
  latency_histogram ttft;            ///< sa_ttft_seconds
  latency_histogram turn;            ///< sa_turn_duration_seconds
};

/// Reads the totals from `m` (the families GET /metrics renders), stamped `unix_ms`.
metrics_totals read_totals(const metrics& m, int64_t unix_ms);

/// One point of the dashboard: the totals' figures (rates and averages null while undefined) and the
/// latency of the turns since `before` (the previous snapshot; null for the first point).
nlohmann::json point_json(const metrics_totals& now, const metrics_totals* before);

/// The rates of the turns and conversations between `before` and `now` (escalation and resolution rate,
/// CSAT average, cost per conversation; null while undefined) with the window's length in seconds.
nlohmann::json window_json(const metrics_totals& now, const metrics_totals& before);

/// The targets the table compares against (the seed's figures; README, "Dashboard").
struct dashboard_targets {
  double ttft_p95_s = 1.0;
  double ttft_p99_s = 2.0;
  double turn_p95_s = 3.0;
  double intent_accuracy = 0.90;
  double escalation_rate = 0.20;     ///< at most
  double resolution_rate = 0.60;     ///< at least, without a human
  double csat_avg = 4.0;             ///< at least, of 5
  double cost_per_conversation_usd = 0.10;  ///< at most
};

class dashboard_history {
public:
  /// Length of the table's "recent" figures: the oldest snapshot at most this old is the baseline.
  static constexpr int recent_window_s = 300;

  dashboard_history(std::size_t capacity, int interval_s);

  /// Appends a snapshot, dropping the oldest beyond capacity.
  void record(metrics_totals totals);

  /// GET /api/dashboard: {"interval_s", "capacity", "table" (metric, target, actual, recent, status rows),
  /// "escalations_by_reason", "cost_by_component", "quality", "recent", "now", "history"}; `now` is
  /// `current` (read at the request), its window relative to the newest snapshot.
  nlohmann::json to_json(const metrics_totals& current) const;

  std::size_t size() const;

private:
  mutable std::mutex mutex_;
  std::deque<nlohmann::json> points_;  // point_json of each snapshot, oldest first
  std::deque<metrics_totals> totals_;  // the snapshots themselves, oldest first (recent window baselines)
  std::size_t capacity_;
  int interval_s_;
  dashboard_targets targets_;
};

} // namespace sa::gateway
