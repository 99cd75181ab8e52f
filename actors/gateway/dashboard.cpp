// dashboard: totals read from the metrics families, their figures, and the snapshot ring (dashboard.hpp).
#include "actors/gateway/dashboard.hpp"

#include "runtime/metrics.hpp"

#include <prometheus/metric_family.h>

#include <cmath>
#include <limits>

namespace sa::gateway {

namespace {

using nlohmann::json;

std::string label_of(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label)
    if (l.name == name)
      return l.value;
  return {};
}

/// Adds one label set's histogram to `into` (bucket bounds are the same for every label set).
void add_histogram(latency_histogram& into, const prometheus::ClientMetric::Histogram& h) {
  if (into.bounds.empty())
    for (const auto& b : h.bucket) {
      into.bounds.push_back(b.upper_bound);
      into.cumulative.push_back(0);
    }
  if (into.bounds.size() != h.bucket.size())
    return;  // cannot happen with one bucket layout per family; never mix layouts
  for (std::size_t i = 0; i < h.bucket.size(); ++i)
    into.cumulative[i] += static_cast<double>(h.bucket[i].cumulative_count);
  into.count += static_cast<double>(h.sample_count);
  into.sum += h.sample_sum;
}

/// A JSON number, or null for NaN (undefined figures: a rate with nothing to divide by).
json number_or_null(double v) {
  return std::isnan(v) ? json(nullptr) : json(v);
}

double ratio(double num, double den) {
  return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}

double conversations(const metrics_totals& t) {
  return t.conversations_bot + t.conversations_human;
}

/// "met", "missed" or "no_data" for `actual` against a bound (`at_most` or at least).
const char* status_of(double actual, double target, bool at_most) {
  if (std::isnan(actual))
    return "no_data";
  return (at_most ? actual <= target : actual >= target) ? "met" : "missed";
}

json row(const char* key, const char* metric, const char* target_text, double target, bool at_most, double actual,
         const char* unit, std::string note = {}) {
  return json{{"key", key},       {"metric", metric},
              {"target", target}, {"target_text", target_text},
              {"at_most", at_most}, {"actual", number_or_null(actual)},
              {"unit", unit},     {"status", status_of(actual, target, at_most)},
              {"note", std::move(note)}};
}

} // namespace

double histogram_quantile(double q, const latency_histogram& h) {
  if (h.bounds.empty() || h.cumulative.empty() || h.cumulative.back() <= 0)
    return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * h.cumulative.back();
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    if (h.cumulative[i] < rank)
      continue;
    if (std::isinf(h.bounds[i]))  // in +Inf: the highest finite bound, as histogram_quantile()
      return i > 0 ? h.bounds[i - 1] : std::numeric_limits<double>::quiet_NaN();
    const double lower = i > 0 ? h.bounds[i - 1] : 0.0;
    const double below = i > 0 ? h.cumulative[i - 1] : 0.0;
    const double in_bucket = h.cumulative[i] - below;
    if (in_bucket <= 0)
      return h.bounds[i];
    return lower + (h.bounds[i] - lower) * (rank - below) / in_bucket;
  }
  return h.bounds.back();
}

latency_histogram histogram_delta(const latency_histogram& now, const latency_histogram& before) {
  if (now.bounds != before.bounds)
    return now;
  latency_histogram d = now;
  for (std::size_t i = 0; i < d.cumulative.size(); ++i)
    d.cumulative[i] -= before.cumulative[i];
  d.count -= before.count;
  d.sum -= before.sum;
  return d;
}

metrics_totals read_totals(const metrics& m, int64_t unix_ms) {
  metrics_totals t;
  t.unix_ms = unix_ms;
  for (const auto& family : m.collect()) {
    const auto& name = family.name;
    for (const auto& sample : family.metric) {
      if (name == "sa_turns_total") {
        t.turns += sample.counter.value;
      } else if (name == "sa_escalations_total") {
        t.escalations += sample.counter.value;
        t.escalations_by_reason[label_of(sample, "reason")] += sample.counter.value;
      } else if (name == "sa_conversations_closed_total") {
        (label_of(sample, "resolved_by") == "human" ? t.conversations_human : t.conversations_bot)
          += sample.counter.value;
      } else if (name == "sa_csat_ratings_total") {
        auto score = label_of(sample, "score");
        if (score.size() == 1 && score[0] >= '1' && score[0] <= '5') {
          t.csat_count += sample.counter.value;
          t.csat_sum += sample.counter.value * (score[0] - '0');
        }
      } else if (name == "sa_cost_usd_total") {
        t.cost_usd += sample.counter.value;
      } else if (name == "sa_active_sessions") {
        t.active_sessions += sample.gauge.value;
      } else if (name == "sa_ttft_seconds") {
        add_histogram(t.ttft, sample.histogram);
      } else if (name == "sa_turn_duration_seconds") {
        add_histogram(t.turn, sample.histogram);
      }
    }
  }
  return t;
}

json point_json(const metrics_totals& now, const metrics_totals* before) {
  json p{{"t", now.unix_ms},
         {"turns", now.turns},
         {"escalations", now.escalations},
         {"escalation_rate", number_or_null(ratio(now.escalations, now.turns))},
         {"conversations", conversations(now)},
         {"resolved_by_bot", now.conversations_bot},
         {"resolution_rate", number_or_null(ratio(now.conversations_bot, conversations(now)))},
         {"csat_count", now.csat_count},
         {"csat_avg", number_or_null(ratio(now.csat_sum, now.csat_count))},
         {"cost_usd", now.cost_usd},
         {"cost_per_conversation_usd", number_or_null(ratio(now.cost_usd, conversations(now)))},
         {"active_sessions", now.active_sessions},
         {"ttft_p95_s", number_or_null(histogram_quantile(0.95, now.ttft))},
         {"ttft_p99_s", number_or_null(histogram_quantile(0.99, now.ttft))},
         {"turn_p95_s", number_or_null(histogram_quantile(0.95, now.turn))},
         {"turn_p99_s", number_or_null(histogram_quantile(0.99, now.turn))}};
  json window = nullptr;
  if (before != nullptr) {
    auto ttft = histogram_delta(now.ttft, before->ttft);
    auto turn = histogram_delta(now.turn, before->turn);
    window = json{{"seconds", static_cast<double>(now.unix_ms - before->unix_ms) / 1000.0},
                  {"turns", now.turns - before->turns},
                  {"ttft_p95_s", number_or_null(histogram_quantile(0.95, ttft))},
                  {"turn_p95_s", number_or_null(histogram_quantile(0.95, turn))}};
  }
  p["window"] = std::move(window);
  return p;
}

dashboard_history::dashboard_history(std::size_t capacity, int interval_s)
  : capacity_(capacity == 0 ? 1 : capacity), interval_s_(interval_s) {}

void dashboard_history::record(metrics_totals totals) {
  std::lock_guard<std::mutex> guard{mutex_};
  points_.push_back(point_json(totals, has_last_ ? &last_ : nullptr));
  while (points_.size() > capacity_)
    points_.pop_front();
  last_ = std::move(totals);
  has_last_ = true;
}

std::size_t dashboard_history::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return points_.size();
}

json dashboard_history::to_json(const metrics_totals& current) const {
  std::lock_guard<std::mutex> guard{mutex_};
  const auto& tg = targets_;
  auto now = point_json(current, has_last_ ? &last_ : nullptr);
  auto num = [&](const char* key) { return now[key].is_null() ? std::numeric_limits<double>::quiet_NaN() : now[key].get<double>(); };
  json by_reason = json::object();
  for (const auto& [reason, count] : current.escalations_by_reason)
    by_reason[reason] = count;
  json table = json::array({
    row("ttft_p95", "Time to first token (p95)", "< 1 s", tg.ttft_p95_s, true, num("ttft_p95_s"), "s"),
    row("ttft_p99", "Time to first token (p99)", "< 2 s", tg.ttft_p99_s, true, num("ttft_p99_s"), "s"),
    row("turn_p95", "Full turn latency (p95)", "< 3 s", tg.turn_p95_s, true, num("turn_p95_s"), "s"),
    row("intent_accuracy", "Intent accuracy", ">= 90%", tg.intent_accuracy, false,
        std::numeric_limits<double>::quiet_NaN(), "ratio",
        "not measurable live: customers' messages carry no true intent. Measured offline with support-agent eval "
        "(docs/benchmarks.md); agents' tags feed export-training."),
    row("escalation_rate", "Escalation rate", "<= 20% of turns", tg.escalation_rate, true, num("escalation_rate"),
        "ratio"),
    row("resolution_rate", "Resolution rate (no human)", ">= 60% of conversations", tg.resolution_rate, false,
        num("resolution_rate"), "ratio",
        "conversations close when their session goes idle; escalated ones count as human"),
    row("csat", "CSAT", ">= 4.0 of 5", tg.csat_avg, false, num("csat_avg"), "score"),
    row("cost_per_conversation", "Cost per conversation", "<= $0.10", tg.cost_per_conversation_usd, true,
        num("cost_per_conversation_usd"), "usd"),
  });
  json history = json::array();
  for (const auto& p : points_)
    history.push_back(p);
  return json{{"interval_s", interval_s_},
              {"capacity", capacity_},
              {"table", std::move(table)},
              {"escalations_by_reason", std::move(by_reason)},
              {"now", std::move(now)},
              {"history", std::move(history)}};
}

} // namespace sa::gateway
