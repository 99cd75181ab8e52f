// measured_usage: what a running node measured, read back from its /metrics text, for `support-agent cost
// --from-metrics`: turns (sa_turns_total), closed conversations (sa_conversations_closed_total) and LLM
// tokens by component and kind (sa_component_tokens_total{component, kind="input"|"output"}), summed over
// tenants and models.
//
// apply_measured() turns those totals into tokens per turn: a component with measured tokens is priced
// once a turn at (its tokens / turns), which already folds in how often it ran (judging's sample rate, the
// share of turns that thought); a component without any keeps the assumption of cost_projection.hpp and
// stays marked "assumed". To read another figure: a field here and a case in parse_measured_usage().
#pragma once

#include "actors/quality/cost_projection.hpp"
#include "runtime/result.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sa::quality {

struct measured_usage {
  double turns = 0;          ///< sa_turns_total, every tenant, intent and outcome
  double conversations = 0;  ///< sa_conversations_closed_total, by the bot or a human
  std::map<std::string, component_tokens> tokens;  ///< totals by component (input, output)
};

/// The figures of a Prometheus text exposition (format 0.0.4). Fails naming the line of a malformed
/// sample, or when the text has no sa_turns_total (not a support-agent node's /metrics).
result<measured_usage> parse_measured_usage(std::string_view text);

/// Replaces the assumed tokens of every component measured in `m` by its tokens per turn (per_turn 1,
/// `measured` set). Fails when `m` has no turns (nothing to divide by). Returns the names of the components
/// the config uses that kept their assumed tokens (nothing measured for them).
result<std::vector<std::string>> apply_measured(const measured_usage& m, std::vector<cost_component>& components);

} // namespace sa::quality
