// Offline evaluation figures from per-row observations: intent accuracy and macro-F1 (with per-intent
// precision/recall/F1), out-of-scope recall, retrieval recall@k, escalation precision/recall, answer
// groundedness and latency percentiles. Plain arithmetic, no actors: the runner (eval_runner.hpp) fills
// the observations, tests can write them by hand. To add a figure: add it to eval_report, compute it in
// summarize(), print it in print_table() and to_json().
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sa::eval {

/// What the pipeline did with one labeled row.
struct eval_observation {
  std::string id;
  std::string gold;                     ///< gold label (an intent name or out_of_scope)
  std::string predicted;                ///< predicted label; empty when the turn failed or timed out
  bool failed = false;                  ///< turn_failed or no answer in time
  std::optional<bool> should_escalate;  ///< gold escalation label, when the row has one
  bool escalated = false;
  std::string escalation_reason;        ///< escalated: the rule's reason (low_confidence, sensitive_topic, ...)
  double confidence = 0;                ///< the turn's answer confidence (the escalation threshold compares it)
  std::vector<std::string> relevant;    ///< gold sources (empty: not counted for recall@k)
  std::vector<std::string> retrieved;   ///< ids of the top-k passages retrieved, best first
  std::optional<double> groundedness;   ///< answered with citations: share of supported sentences
  std::optional<double> word_support;   ///< ... share of supported content words
  double latency_ms = 0;                ///< user_turn sent -> turn_completed/turn_failed received
};

struct label_figures {
  std::size_t support = 0;   ///< rows with this gold label
  std::size_t predicted = 0; ///< rows predicted as this label
  std::size_t correct = 0;
  double precision = 0, recall = 0, f1 = 0;  ///< 0 when undefined (no prediction / no support)
};

/// A rate with the number of rows it is over (rows == 0: not measured; value is then 0).
struct rate {
  double value = 0;
  std::size_t rows = 0;
};

struct eval_report {
  std::size_t rows = 0;
  std::size_t failed = 0;
  unsigned k = 5;
  double accuracy = 0;
  double macro_f1 = 0;  ///< mean F1 over every label that is a gold or a predicted label of some row
  std::map<std::string, label_figures> labels;
  rate oos_recall;             ///< over rows whose gold label is out_of_scope
  rate oos_precision;          ///< over rows predicted out_of_scope
  rate recall_at_k;            ///< over rows with relevant sources: some relevant source in the top k
  rate escalation_precision;   ///< over rows with should_escalate that were escalated
  rate escalation_recall;      ///< over rows with should_escalate = true
  /// Escalated rows with a gold label, by escalation reason: how many, and how many should have escalated
  /// (where the precision is lost: a rule that escalates many rows wrongly).
  struct reason_figures {
    std::size_t escalated = 0, right = 0;
  };
  std::map<std::string, reason_figures> escalation_reasons;
  rate groundedness;           ///< mean sentence share over answers with citations
  rate word_support;           ///< mean content-word share over the same answers
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_mean_ms = 0;
};

/// Computes every figure; `k` is only recorded (observations carry the top-k already).
eval_report summarize(const std::vector<eval_observation>& obs, unsigned k);

/// Nearest-rank percentile (p in [0,100]) of `v`; 0 for an empty vector.
double percentile(std::vector<double> v, double p);

/// The report as a human-readable table.
void print_table(std::ostream& out, const eval_report& r, const std::string& set_name);

/// The report as one JSON object (null for figures measured over no rows).
nlohmann::json to_json(const eval_report& r, const std::string& set_name);

/// One row's observation with its text, as `eval --rows` writes it (one JSON object per line): what to
/// read when a figure moves.
nlohmann::json row_json(const eval_observation& o, const std::string& text);

} // namespace sa::eval
