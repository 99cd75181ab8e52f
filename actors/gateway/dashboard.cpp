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
         const char* unit, std::string note = {}, json recent = nullptr) {
  return json{{"key", key},       {"metric", metric},
              {"target", target}, {"target_text", target_text},
              {"at_most", at_most}, {"actual", number_or_null(actual)},
              {"unit", unit},     {"status", status_of(actual, target, at_most)},
              {"note", std::move(note)}, {"recent", std::move(recent)}};
}

/// The CSAT average of the ratings counted in `t`.
double csat_avg(const metrics_totals& t) {
  return ratio(t.csat_sum, t.csat_count);
}

/// "judge/dimension" -> {"judge", "dimension"}.
std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), slash == std::string::npos ? std::string{} : key.substr(slash + 1)};
}

/// Cost and tokens per closed conversation by component, since start.
json cost_by_component_json(const metrics_totals& t) {
  json out = json::object();
  for (const auto& [component, usd] : t.cost_by_component) {
    auto tokens = t.tokens_by_component.count(component) ? t.tokens_by_component.at(component) : 0.0;
    out[component] = json{{"usd", usd},
                          {"tokens", tokens},
                          {"usd_per_conversation", number_or_null(ratio(usd, conversations(t)))},
                          {"tokens_per_conversation", number_or_null(ratio(tokens, conversations(t)))}};
  }
  return out;
}

/// The quality monitor's mean score by judge and dimension, and its samples by judge and outcome.
json quality_json(const metrics_totals& t) {
  json scores = json::array();
  for (const auto& [key, o] : t.quality_scores) {
    auto [judge, dimension] = split_key(key);
    scores.push_back(json{{"judge", judge},
                          {"local", judge == "local_groundedness"},
                          {"dimension", dimension},
                          {"mean", number_or_null(ratio(o.sum, o.count))},
                          {"count", o.count}});
  }
  json samples = json::array();
  for (const auto& [key, n] : t.quality_samples) {
    auto [judge, outcome] = split_key(key);
    samples.push_back(json{{"judge", judge}, {"outcome", outcome}, {"count", n}});
  }
  return json{{"scores", std::move(scores)}, {"samples", std::move(samples)}};
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
      } else if (name == "sa_component_cost_usd_total") {
        t.cost_usd += sample.counter.value;
        t.cost_by_component[label_of(sample, "component")] += sample.counter.value;
      } else if (name == "sa_component_tokens_total") {
        t.tokens_by_component[label_of(sample, "component")] += sample.counter.value;
      } else if (name == "sa_quality_score") {
        auto& o = t.quality_scores[label_of(sample, "judge") + "/" + label_of(sample, "dimension")];
        o.sum += sample.histogram.sample_sum;
        o.count += static_cast<double>(sample.histogram.sample_count);
      } else if (name == "sa_quality_samples_total") {
        t.quality_samples[label_of(sample, "judge") + "/" + label_of(sample, "outcome")] += sample.counter.value;
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

json window_json(const metrics_totals& now, const metrics_totals& before) {
  const double turns = now.turns - before.turns;
  const double closed = conversations(now) - conversations(before);
  return json{{"seconds", static_cast<double>(now.unix_ms - before.unix_ms) / 1000.0},
              {"turns", turns},
              {"conversations", closed},
              {"escalation_rate", number_or_null(ratio(now.escalations - before.escalations, turns))},
              {"resolution_rate",
               number_or_null(ratio(now.conversations_bot - before.conversations_bot, closed))},
              {"csat_count", now.csat_count - before.csat_count},
              {"csat_avg", number_or_null(ratio(now.csat_sum - before.csat_sum, now.csat_count - before.csat_count))},
              {"cost_per_conversation_usd", number_or_null(ratio(now.cost_usd - before.cost_usd, closed))}};
}

dashboard_history::dashboard_history(std::size_t capacity, int interval_s)
  : capacity_(capacity == 0 ? 1 : capacity), interval_s_(interval_s) {}

void dashboard_history::record(metrics_totals totals) {
  std::lock_guard<std::mutex> guard{mutex_};
  points_.push_back(point_json(totals, totals_.empty() ? nullptr : &totals_.back()));
  totals_.push_back(std::move(totals));
  while (points_.size() > capacity_) {
    points_.pop_front();
    totals_.pop_front();
  }
}

std::size_t dashboard_history::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return points_.size();
}

json dashboard_history::to_json(const metrics_totals& current) const {
  std::lock_guard<std::mutex> guard{mutex_};
  const auto& tg = targets_;
  auto now = point_json(current, totals_.empty() ? nullptr : &totals_.back());
  // The recent window's baseline: the oldest snapshot at most recent_window_s old (else the newest).
  json recent = nullptr;
  if (!totals_.empty()) {
    const metrics_totals* base = &totals_.back();
    for (const auto& t : totals_)
      if (current.unix_ms - t.unix_ms <= int64_t{recent_window_s} * 1000) {
        base = &t;
        break;
      }
    recent = window_json(current, *base);
  }
  auto recent_of = [&](const char* key) { return recent.is_null() ? json(nullptr) : recent[key]; };
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
        "ratio", {}, recent_of("escalation_rate")),
    row("resolution_rate", "Resolution rate (no human)", ">= 60% of conversations", tg.resolution_rate, false,
        num("resolution_rate"), "ratio",
        "conversations close when their session goes idle; escalated ones count as human",
        recent_of("resolution_rate")),
    row("csat", "CSAT", ">= 4.0 of 5", tg.csat_avg, false, csat_avg(current), "score", {}, recent_of("csat_avg")),
    row("cost_per_conversation", "Cost per conversation", "<= $0.10", tg.cost_per_conversation_usd, true,
        num("cost_per_conversation_usd"), "usd",
        "every component (classification, embeddings, generation, thinking, judging) over closed conversations",
        recent_of("cost_per_conversation_usd")),
  });
  json history = json::array();
  for (const auto& p : points_)
    history.push_back(p);
  return json{{"interval_s", interval_s_},
              {"capacity", capacity_},
              {"table", std::move(table)},
              {"escalations_by_reason", std::move(by_reason)},
              {"cost_by_component", cost_by_component_json(current)},
              {"quality", quality_json(current)},
              {"recent_window_s", recent_window_s},
              {"recent", std::move(recent)},
              {"now", std::move(now)},
              {"history", std::move(history)}};
}

} // namespace sa::gateway
