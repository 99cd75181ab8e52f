// content_checks: what a message or document says, as opposed to which personal data it holds
// (output_filter.hpp). A plain class, compiled once per node and shared read-only by every safety actor:
//
//   harmful          self-harm -> escalate (a person should answer); violence, weapons, illegal -> refuse
//   abusive          insults aimed at the agent -> refuse politely (not when the message also asks for a
//                    person: the escalation policy answers that one)
//   prompt_injection "ignore previous instructions", "reveal your system prompt", "act as DAN", ... ->
//                    refuse; in a retrieved passage also instructions addressed to the model and chat
//                    control tokens -> the passage is dropped before the generator sees it
//   off_topic        the classifier's out_of_scope, or a configured topic (per tenant) -> refuse with a
//                    polite redirect; never for a message that asks for a person
//
// Text is normalised first (lower case, leetspeak inside words, punctuation to spaces, s p a c e d
// letters joined), then matched against whole-word RE2 patterns, all in one RE2::Set pass. Patterns aim
// at intent, not words: "how do I kill a running build", "remove the admin", "ignore case in search" pass.
// To add a rule: add a line to the rule table in content_checks.cpp and a positive and a benign case to
// tests/actors/safety/content_checks_test.cpp.
#pragma once

#include "messages/safety.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::safety {

/// Which checks run for a tenant, and its off-topic topics.
struct content_settings {
  bool harmful = true;
  bool abusive = true;
  bool prompt_injection = true;
  bool off_topic = true;                     ///< configured topics and the classifier's out_of_scope
  bool off_topic_classifier = true;          ///< out_of_scope from the classifier counts as off topic
  std::vector<std::string> off_topic_topics; ///< phrases, matched as whole words after normalisation
};

/// The checks' settings: the defaults and per-tenant overrides (a tenant not listed gets the defaults).
struct content_policy {
  content_settings defaults;
  std::map<std::string, content_settings> tenants;
  const content_settings& for_tenant(const std::string& tenant) const;
};

/// What a check found. action allow means nothing.
struct content_finding {
  safety_action action = safety_action::allow;
  safety_reason reason = safety_reason::none;
  std::string rule;  ///< the rule's stable name ("self_harm", "ignore_instructions", "topic:weather")
};

class content_checks {
public:
  explicit content_checks(content_policy policy = {});
  ~content_checks();
  content_checks(const content_checks&) = delete;
  content_checks& operator=(const content_checks&) = delete;

  /// A customer's message, before classification (harmful, abusive, injection, configured topics).
  content_finding check_message(const std::string& tenant, std::string_view text) const;
  /// After classification: the classifier's out_of_scope for a message check_message allowed.
  content_finding check_classified(const std::string& tenant, std::string_view text,
                                   const classification& cls) const;
  /// A retrieved passage: injection only (a document may discuss anything else).
  content_finding check_passage(std::string_view text) const;

  const content_policy& policy() const noexcept;

  /// Lower case, leetspeak inside words undone, everything but letters and digits a single space,
  /// runs of four or more single letters joined ("k i l l" -> "kill"); padded with one space each side.
  static std::string normalise(std::string_view text);

  struct impl;
private:
  std::unique_ptr<impl> impl_;
};

} // namespace sa::safety
