// escalation_policy: the seed's escalation rules as a plain class (no actors), one instance per node,
// shared read-only by every session's escalation actor.
//
// Rules, in order (the first that fires gives the reason):
//   1. user_requested        the classifier says escalation_request, or an explicit phrase asks for a person
//   2. sensitive_topic       a configured topic appears (word-prefix match, small gaps allowed in phrases)
//   3. knowledge_unavailable the tenant's knowledge base could not be searched
//   4. low_confidence        (after generation only) answer confidence below the threshold
// To add a rule: add a reason to messages/escalate.hpp, evaluate it here, and test it.
#pragma once

#include "messages/escalate.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sa {

class escalation_policy {
public:
  escalation_policy(double confidence_threshold, const std::vector<std::string>& sensitive_topics);

  /// Rules that can be decided before an answer exists (1-3).
  escalation_decision before_answer(const escalation_request& r) const;

  /// All rules, once the generator's confidence is known.
  escalation_decision after_answer(const escalation_request& r) const;

  /// The configured topic found in `text`, or empty.
  std::string find_sensitive_topic(std::string_view text) const;

  /// True when the text explicitly asks for a human ("talk to a person", "human agent", ...).
  bool asks_for_human(std::string_view text) const;

  double threshold() const noexcept { return threshold_; }

private:
  using phrase = std::vector<std::string>;
  static bool matches(const std::vector<std::string>& words, const phrase& p);

  double threshold_;
  std::vector<std::pair<std::string, phrase>> topics_;  // original topic, its words
  std::vector<phrase> human_phrases_;
};

/// Lower-cased words (letters and digits) of `text`, in order.
std::vector<std::string> lower_words(std::string_view text);

} // namespace sa
