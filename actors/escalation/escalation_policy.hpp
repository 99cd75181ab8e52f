// escalation_policy: the escalation rules as a plain class (no actors). One instance per tenant with its
// settings (escalation_policies.hpp builds them from config), shared read-only by every session's
// escalation actor.
//
// Rules, in order (the first that fires gives the reason; the detail never quotes the customer):
//   1. safety                the turn's safety verdict is escalate (detail: its reason)
//   2. user_requested        the classifier says escalation_request, or an explicit phrase asks for a person
//   3. sensitive_topic       a configured topic appears (word-prefix match, small gaps allowed in phrases)
//   4. repeated_failure      the customer says the answer did not help, or rephrases one of the last few
//                            questions (repetition.hpp); an earlier turn that went to a human does not count
//   5. negative_sentiment    the message's negative-sentiment score reaches the threshold (sentiment.hpp)
//   6. knowledge_unavailable the tenant's knowledge base could not be searched
//   7. low_confidence        (after generation only) answer confidence below the threshold
// To add a rule: add a reason to messages/escalate.hpp, its settings to escalation_settings (and config:
// escalation_config, escalation_tenant_config, schema.cpp, default.jsonc), evaluate it here, and test it.
#pragma once

#include "actors/text/phrase_match.hpp"
#include "messages/escalate.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sa {

/// One tenant's effective escalation settings (config/config.hpp escalation_config, overrides applied).
struct escalation_settings {
  double confidence_threshold = 0.7;
  std::vector<std::string> sensitive_topics;
  bool repeated_failure = true;
  double rephrase_similarity = 0.6;  ///< Dice overlap of content words at or above which a message repeats
  int rephrase_window = 3;           ///< earlier user messages compared
  bool negative_sentiment = true;
  double sentiment_threshold = 3.0;  ///< negative_sentiment_score at or above which a message escalates
};

class escalation_policy {
public:
  explicit escalation_policy(escalation_settings settings);
  /// The seed's rules only (the new rules keep their defaults).
  escalation_policy(double confidence_threshold, const std::vector<std::string>& sensitive_topics);

  /// Rules that can be decided before an answer exists (1-6).
  escalation_decision before_answer(const escalation_request& r) const;

  /// All rules, once the generator's confidence is known.
  escalation_decision after_answer(const escalation_request& r) const;

  /// The configured topic found in `text`, or empty.
  std::string find_sensitive_topic(std::string_view text) const;

  /// True when the text explicitly asks for a human ("talk to a person", "human agent", ...).
  bool asks_for_human(std::string_view text) const;

  /// Rule 4 alone: a decision with reason repeated_failure, or none.
  escalation_decision repeated_failure(const escalation_request& r) const;

  double threshold() const noexcept { return settings_.confidence_threshold; }
  const escalation_settings& settings() const noexcept { return settings_; }

private:
  escalation_settings settings_;
  phrase_list topics_;
  phrase_list human_phrases_;
};

} // namespace sa
