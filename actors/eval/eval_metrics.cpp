// Offline evaluation arithmetic (see eval_metrics.hpp for the definitions).
#include "actors/eval/eval_metrics.hpp"

#include "actors/eval/eval_set.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

namespace sa::eval {

namespace {

double ratio(std::size_t a, std::size_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

rate make_rate(std::size_t hits, std::size_t rows) {
  return rate{ratio(hits, rows), rows};
}

nlohmann::json rate_json(const rate& r) {
  return r.rows == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.value);
}

std::string rate_text(const rate& r) {
  if (r.rows == 0)
    return "n/a (no rows)";
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << r.value << "  (" << r.rows << " rows)";
  return os.str();
}

} // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

eval_report summarize(const std::vector<eval_observation>& obs, unsigned k) {
  eval_report r;
  r.rows = obs.size();
  r.k = k;
  std::size_t correct = 0, oos_gold = 0, oos_hit = 0, oos_pred = 0, retr_rows = 0, retr_hit = 0;
  std::size_t esc_pos = 0, esc_tp = 0, esc_pred = 0, grounded_rows = 0;
  double grounded_sum = 0, words_sum = 0, latency_sum = 0;
  std::vector<double> latencies;
  for (const auto& o : obs) {
    r.failed += o.failed ? 1 : 0;
    auto& gold = r.labels[o.gold];
    ++gold.support;
    if (!o.predicted.empty())
      ++r.labels[o.predicted].predicted;
    if (o.predicted == o.gold) {
      ++correct;
      ++r.labels[o.gold].correct;
    }
    if (o.gold == "out_of_scope") {
      ++oos_gold;
      oos_hit += o.predicted == "out_of_scope" ? 1 : 0;
    }
    if (o.predicted == "out_of_scope") {
      ++oos_pred;
    }
    if (!o.relevant.empty()) {
      ++retr_rows;
      bool hit = false;
      for (std::size_t i = 0; i < o.retrieved.size() && i < k && !hit; ++i)
        for (const auto& rel : o.relevant)
          hit = hit || source_matches(o.retrieved[i], rel);
      retr_hit += hit ? 1 : 0;
    }
    if (o.should_escalate) {
      esc_pos += *o.should_escalate ? 1 : 0;
      esc_pred += o.escalated ? 1 : 0;
      esc_tp += (*o.should_escalate && o.escalated) ? 1 : 0;
      if (o.escalated) {
        auto& by = r.escalation_reasons[o.escalation_reason.empty() ? "unknown" : o.escalation_reason];
        ++by.escalated;
        by.right += *o.should_escalate ? 1 : 0;
      }
    }
    if (o.groundedness) {
      ++grounded_rows;
      grounded_sum += *o.groundedness;
      words_sum += o.word_support.value_or(0);
    }
    latencies.push_back(o.latency_ms);
    latency_sum += o.latency_ms;
  }
  r.accuracy = ratio(correct, obs.size());
  double f1_sum = 0;
  for (auto& [name, f] : r.labels) {
    f.precision = ratio(f.correct, f.predicted);
    f.recall = ratio(f.correct, f.support);
    f.f1 = f.precision + f.recall == 0 ? 0 : 2 * f.precision * f.recall / (f.precision + f.recall);
    f1_sum += f.f1;
  }
  r.macro_f1 = r.labels.empty() ? 0 : f1_sum / static_cast<double>(r.labels.size());
  r.oos_recall = make_rate(oos_hit, oos_gold);
  r.oos_precision = make_rate(oos_hit, oos_pred);
  r.recall_at_k = make_rate(retr_hit, retr_rows);
  r.escalation_precision = make_rate(esc_tp, esc_pred);
  r.escalation_recall = make_rate(esc_tp, esc_pos);
  r.groundedness = rate{grounded_rows == 0 ? 0 : grounded_sum / static_cast<double>(grounded_rows), grounded_rows};
  r.word_support = rate{grounded_rows == 0 ? 0 : words_sum / static_cast<double>(grounded_rows), grounded_rows};
  r.latency_p50_ms = percentile(latencies, 50);
  r.latency_p99_ms = percentile(latencies, 99);
  r.latency_mean_ms = obs.empty() ? 0 : latency_sum / static_cast<double>(obs.size());
  return r;
}

void print_table(std::ostream& out, const eval_report& r, const std::string& set_name) {
  auto old_flags = out.flags();
  auto old_precision = out.precision();
  out << "offline evaluation of " << set_name << ": " << r.rows << " rows, " << r.failed
      << " failed or unanswered\n\n";
  out << std::left << std::setw(22) << "intent" << std::right << std::setw(8) << "support" << std::setw(10)
      << "predicted" << std::setw(11) << "precision" << std::setw(8) << "recall" << std::setw(8) << "F1" << "\n";
  out << std::fixed << std::setprecision(3);
  for (const auto& [name, f] : r.labels)
    out << std::left << std::setw(22) << name << std::right << std::setw(8) << f.support << std::setw(10)
        << f.predicted << std::setw(11) << f.precision << std::setw(8) << f.recall << std::setw(8) << f.f1
        << "\n";
  out << "\n" << std::left;
  auto row = [&](const std::string& name, const std::string& value) {
    out << "  " << std::setw(28) << name << value << "\n";
  };
  std::ostringstream acc, f1, lat;
  acc << std::fixed << std::setprecision(3) << r.accuracy << "  (" << r.rows << " rows)";
  f1 << std::fixed << std::setprecision(3) << r.macro_f1 << "  (" << r.labels.size() << " labels)";
  lat << std::fixed << std::setprecision(2) << r.latency_p50_ms << " / " << r.latency_p99_ms << " / "
      << r.latency_mean_ms;
  row("intent accuracy", acc.str());
  row("intent macro-F1", f1.str());
  row("out-of-scope recall", rate_text(r.oos_recall));
  row("out-of-scope precision", rate_text(r.oos_precision));
  row("retrieval recall@" + std::to_string(r.k), rate_text(r.recall_at_k));
  row("escalation precision", rate_text(r.escalation_precision));
  row("escalation recall", rate_text(r.escalation_recall));
  if (!r.escalation_reasons.empty())
    out << "  escalated rows by reason (rightly: the row should escalate)\n";
  for (const auto& [reason, by] : r.escalation_reasons)
    row("  " + reason, std::to_string(by.escalated) + ", " + std::to_string(by.right) + " rightly");
  row("groundedness (sentences)", rate_text(r.groundedness));
  row("groundedness (words)", rate_text(r.word_support));
  row("latency p50/p99/mean ms", lat.str());
  out.flags(old_flags);
  out.precision(old_precision);
}

nlohmann::json to_json(const eval_report& r, const std::string& set_name) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [name, f] : r.labels)
    labels[name] = {{"support", f.support}, {"predicted", f.predicted}, {"correct", f.correct},
                    {"precision", f.precision}, {"recall", f.recall}, {"f1", f.f1}};
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [reason, by] : r.escalation_reasons)
    reasons[reason] = {{"escalated", by.escalated}, {"right", by.right}};
  return {{"bench", "eval"},
          {"set", set_name},
          {"rows", r.rows},
          {"failed", r.failed},
          {"k", r.k},
          {"intent_accuracy", r.rows == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.accuracy)},
          {"intent_macro_f1", r.labels.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.macro_f1)},
          {"intents", labels},
          {"oos_recall", rate_json(r.oos_recall)},
          {"oos_rows", r.oos_recall.rows},
          {"oos_precision", rate_json(r.oos_precision)},
          {"recall_at_k", rate_json(r.recall_at_k)},
          {"retrieval_rows", r.recall_at_k.rows},
          {"escalation_precision", rate_json(r.escalation_precision)},
          {"escalation_recall", rate_json(r.escalation_recall)},
          {"escalation_positive_rows", r.escalation_recall.rows},
          {"escalation_reasons", reasons},
          {"groundedness", rate_json(r.groundedness)},
          {"groundedness_words", rate_json(r.word_support)},
          {"grounded_rows", r.groundedness.rows},
          {"latency_p50_ms", r.latency_p50_ms},
          {"latency_p99_ms", r.latency_p99_ms},
          {"latency_mean_ms", r.latency_mean_ms}};
}

nlohmann::json row_json(const eval_observation& o, const std::string& text) {
  nlohmann::json j{{"id", o.id},
                   {"text", text},
                   {"gold", o.gold},
                   {"predicted", o.predicted},
                   {"failed", o.failed},
                   {"escalated", o.escalated},
                   {"confidence", o.confidence},
                   {"retrieved", o.retrieved},
                   {"latency_ms", o.latency_ms}};
  if (o.should_escalate)
    j["should_escalate"] = *o.should_escalate;
  if (o.escalated)
    j["escalation_reason"] = o.escalation_reason;
  if (!o.relevant.empty())
    j["relevant"] = o.relevant;
  if (o.groundedness)
    j["groundedness"] = *o.groundedness;
  return j;
}

} // namespace sa::eval
