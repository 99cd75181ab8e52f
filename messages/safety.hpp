// safety: is this text fit to pass? One verdict per check, with its reason, for the customer's message
// (before the pipeline runs), each retrieved passage (text smuggled into documents) and the answer.
#pragma once

#include "messages/classify.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// What happens to the checked text. Ordered by severity: a turn's verdict is the most severe of its checks.
enum class safety_action : uint8_t {
  allow = 0,  ///< pass it as is
  redact,     ///< pass it with the sensitive spans replaced ("[redacted card_number]")
  refuse,     ///< do not answer it; the customer gets a polite refusal
  escalate,   ///< hand the conversation to a person
};
const char* to_string(safety_action x) noexcept;

/// Why. Stable names: protocol, audit, metrics labels.
enum class safety_reason : uint8_t {
  none = 0,
  pii,               ///< personal data or secrets (emails, phones, cards, IBANs, national ids, IPs, keys)
  harmful,           ///< self-harm, violence, weapons, illegal activity
  abusive,           ///< insults and harassment aimed at the agent or others
  off_topic,         ///< outside the tenant's support scope (classifier out-of-scope or configured topics)
  prompt_injection,  ///< instructions to ignore rules, reveal the system prompt, role-play another system
  other_person_data, ///< the answer would disclose data that is not the asking customer's
  moderation,        ///< a configured LLM moderation strategy said so
};
const char* to_string(safety_reason x) noexcept;

/// Where the checked text comes from; rules differ (a document may hold an email address; it may not hold
/// instructions to the model).
enum class safety_source : uint8_t { user_message = 0, retrieved_passage, answer };
const char* to_string(safety_source x) noexcept;

struct safety_check_request {
  tenant_id tenant;
  safety_source source = safety_source::user_message;
  std::string text;
  classification intent;  ///< for user messages: the classifier's view (out_of_scope feeds off_topic)
  /// For user messages: `text` was checked (and redacted) already and `intent` is the classifier's; only
  /// the checks that need the classification run (off topic).
  bool classified = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, safety_check_request& x) {
  return f(caf::meta::type_name("safety_check_request"), x.tenant, x.source, x.text, x.intent,
           x.classified);
}

struct safety_verdict {
  safety_action action = safety_action::allow;
  safety_reason reason = safety_reason::none;
  std::string detail;       ///< e.g. "card_number x1", "ignore-instructions"; never the checked text
  uint32_t redactions = 0;  ///< spans replaced when action is redact
  std::string redacted;     ///< the text with PII replaced (equal to the input when nothing was found)
  /// A customer's message (first check): their own emails and phone numbers in it, normalised as
  /// safety::own_data holds them, so the answer may repeat them; found by the same scan that redacted them.
  std::vector<std::string> own_contacts;
  /// What the check cost in LLM calls (the moderation call, safety.moderation), for the conversation's cost.
  double cost_usd = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, safety_verdict& x) {
  return f(caf::meta::type_name("safety_verdict"), x.action, x.reason, x.detail, x.redactions, x.redacted,
           x.own_contacts, x.cost_usd);
}

using safety_actor = caf::typed_actor<caf::replies_to<safety_check_request>::with<safety_verdict>>;

} // namespace sa
