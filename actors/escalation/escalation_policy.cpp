#include "actors/escalation/escalation_policy.hpp"

#include "actors/escalation/repetition.hpp"
#include "actors/escalation/sentiment.hpp"

#include <algorithm>
#include <cstdio>

namespace sa {

namespace {

escalation_settings seed_settings(double confidence_threshold, const std::vector<std::string>& topics) {
  escalation_settings s;
  s.confidence_threshold = confidence_threshold;
  s.sensitive_topics = topics;
  return s;
}

std::string format(const char* fmt, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

} // namespace

escalation_policy::escalation_policy(escalation_settings settings)
  : settings_(std::move(settings)),
    topics_(settings_.sensitive_topics),
    human_phrases_({"talk to a human", "speak to a human", "human agent", "real person", "live agent",
                    "talk to someone", "speak to someone", "talk to a person", "speak to a person",
                    "speak with a human", "talk with a human", "speak with someone", "customer service rep",
                    "support agent", "your manager", "speak to a manager", "human please", "an agent"}) {}

escalation_policy::escalation_policy(double confidence_threshold, const std::vector<std::string>& sensitive_topics)
  : escalation_policy(seed_settings(confidence_threshold, sensitive_topics)) {}

std::string escalation_policy::find_sensitive_topic(std::string_view text) const {
  auto i = topics_.find(lower_words(text));
  return i < 0 ? std::string{} : topics_.original(static_cast<size_t>(i));
}

bool escalation_policy::asks_for_human(std::string_view text) const {
  return human_phrases_.any_in(lower_words(text));
}

escalation_decision escalation_policy::repeated_failure(const escalation_request& r) const {
  if (!settings_.repeated_failure || r.recent_user_texts.empty())
    return {};
  auto n = r.recent_user_texts.size();
  auto escalated = [&](size_t i) { return i < r.recent_escalated.size() && r.recent_escalated[i]; };
  // "That didn't help" is about the answer just given: the turn before must have been the bot's.
  if (!escalated(n - 1) && says_answer_failed(r.text))
    return {true, escalation_reason::repeated_failure, "the customer said the answer did not help"};
  auto mine = content_words(r.text);
  if (mine.size() < 2)
    return {};
  auto my_refs = references(r.text);
  auto window = static_cast<size_t>(std::max(1, settings_.rephrase_window));
  for (size_t k = 0; k < std::min(window, n); ++k) {
    auto i = n - 1 - k;
    if (escalated(i))
      continue;
    // "Status of INV-2026-0142?" after "Status of INV-2026-0097?" is the next question, not the same one.
    auto their_refs = references(r.recent_user_texts[i]);
    if (!my_refs.empty() && !their_refs.empty() && my_refs != their_refs)
      continue;
    auto o = content_overlap(mine, content_words(r.recent_user_texts[i]));
    if (o.shared >= 2 && o.similarity >= settings_.rephrase_similarity)
      return {true, escalation_reason::repeated_failure,
              format("rephrased an earlier question (similarity %.2f >= %.2f)", o.similarity,
                     settings_.rephrase_similarity)};
  }
  return {};
}

escalation_decision escalation_policy::before_answer(const escalation_request& r) const {
  if (r.safety.action == safety_action::escalate) {
    std::string detail = to_string(r.safety.reason);
    if (!r.safety.detail.empty())
      detail += ": " + r.safety.detail;
    return {true, escalation_reason::safety, std::move(detail)};
  }
  if (r.intent.intent == intent::escalation_request || asks_for_human(r.text))
    return {true, escalation_reason::user_requested, "the customer asked for a person"};
  if (auto topic = find_sensitive_topic(r.text); !topic.empty())
    return {true, escalation_reason::sensitive_topic, "topic: " + topic};
  if (auto d = repeated_failure(r); d.escalate)
    return d;
  if (settings_.negative_sentiment) {
    if (auto score = negative_sentiment_score(r.text); score >= settings_.sentiment_threshold)
      return {true, escalation_reason::negative_sentiment,
              format("sentiment score %.1f >= %.1f", score, settings_.sentiment_threshold)};
  }
  if (!r.knowledge_available)
    return {true, escalation_reason::knowledge_unavailable, "no knowledge base for this tenant"};
  return {};
}

escalation_decision escalation_policy::after_answer(const escalation_request& r) const {
  if (auto d = before_answer(r); d.escalate)
    return d;
  if (r.answer_confidence < settings_.confidence_threshold)
    return {true, escalation_reason::low_confidence,
            format("confidence %.2f < %.2f", r.answer_confidence, settings_.confidence_threshold)};
  return {};
}

} // namespace sa
