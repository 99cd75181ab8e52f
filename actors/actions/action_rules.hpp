// action_rules: the local generator's tool use. Explicit requests ("open a ticket about ...", "what's the
// status of invoice INV-2026-0142", "escalate my order 1234", "run the refund_review workflow") become a
// tool call with arguments taken from the message and the classifier's entities; anything else is left to
// the composer. Also: reading the customer's reply to a proposed action, and the text of tool results.
//
// Plain class, RE2 patterns compiled once, shared read-only (const methods are thread-safe).
// To add a rule: a pattern in action_rules.cpp, a branch in match() (most specific first), and a test.
#pragma once

#include "messages/actions.hpp"
#include "messages/classify.hpp"
#include "messages/generate.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa::actions {

/// Phrases that trigger a configured workflow ("escalate my order"), from actions.workflows.<name>.phrases.
struct workflow_phrases {
  std::string workflow;
  std::vector<std::string> phrases;
};

class action_rules {
public:
  explicit action_rules(std::vector<workflow_phrases> workflows = {});
  ~action_rules();
  action_rules(const action_rules&) = delete;
  action_rules& operator=(const action_rules&) = delete;

  /// The call an explicit request in `text` asks for, when that tool is among `offered`; nullopt when the
  /// message asks for no tool (a question for the composer). Rules, most specific first: a configured
  /// workflow phrase or "run the X workflow"; "escalate my order ..." (a workflow when one is offered for
  /// it, else a high-priority ticket); "open/create/file a ticket ..."; a lookup cue with an order, invoice
  /// or ticket id. Arguments always fit the registry's limits (long subjects are cut at a word).
  std::optional<action_call> match(std::string_view text, const std::vector<entity_mention>& entities,
                                   const std::vector<action_tool>& offered) const;

  /// True when `text` asks for a tool in so many words (a ticket, a workflow, an order escalation). The
  /// session then does not read the classifier's escalation_request intent as a request for a person (an
  /// explicit "talk to a human" still is).
  bool asks_for_action(std::string_view text) const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// The customer's reply to a proposed action. Only a short reply made of confirming words confirms
/// ("yes", "yes please", "confirm", "go ahead", "ok do it"); only one made of declining words declines
/// ("no", "cancel", "no thanks", "don't"); anything else (a mixed or longer message, a new question) is
/// `other`: the proposal is dropped and the message handled as a new one.
enum class reply_kind { confirm, decline, other };
reply_kind read_confirmation(std::string_view text);

/// The answer that reports tool results to the customer (one paragraph per result, its summary).
std::string render_results(const std::vector<action_result>& results);

/// The local generator's tool step (also the LLM generator's until the providers' tool calling lands):
/// with tool results, the answer reporting them; with tools offered and an explicit request, that tool
/// call (no text); otherwise nullopt, and the composer answers as usual. Confidence 1: the rules and the
/// results are exact.
std::optional<generation> local_tool_step(const generate_request& r, const action_rules* rules);

} // namespace sa::actions
