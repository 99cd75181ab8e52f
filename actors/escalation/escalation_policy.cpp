#include "actors/escalation/escalation_policy.hpp"

#include <cctype>
#include <cstdio>

namespace sa {

std::vector<std::string> lower_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else if (c == '\'' && !cur.empty()) {
      continue;  // "don't" -> "dont"
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

escalation_policy::escalation_policy(double confidence_threshold,
                                     const std::vector<std::string>& sensitive_topics)
  : threshold_(confidence_threshold) {
  for (auto& t : sensitive_topics) {
    auto words = lower_words(t);
    if (!words.empty())
      topics_.emplace_back(t, std::move(words));
  }
  for (auto p : {"talk to a human", "speak to a human", "human agent", "real person", "live agent",
                 "talk to someone", "speak to someone", "talk to a person", "speak to a person",
                 "speak with a human", "talk with a human", "speak with someone", "customer service rep",
                 "support agent", "your manager", "speak to a manager", "human please", "an agent"})
    human_phrases_.push_back(lower_words(p));
}

// Each phrase word must start a text word (so "refund" matches "refunded", "lawyer" "lawyers"); words
// shorter than four letters must match whole ("an" is not "analytics"). Phrase words come in order,
// with at most two other words between them ("cancel my subscription", "cancel our whole subscription").
namespace {
bool word_matches(const std::string& text_word, const std::string& phrase_word) {
  if (phrase_word.size() < 4)
    return text_word == phrase_word;
  return text_word.compare(0, phrase_word.size(), phrase_word) == 0;
}
} // namespace

bool escalation_policy::matches(const std::vector<std::string>& words, const phrase& p) {
  for (size_t start = 0; start < words.size(); ++start) {
    if (!word_matches(words[start], p[0]))
      continue;
    size_t pos = start;
    size_t k = 1;
    for (; k < p.size(); ++k) {
      bool found = false;
      for (size_t j = pos + 1; j < words.size() && j <= pos + 3; ++j) {
        if (word_matches(words[j], p[k])) {
          pos = j;
          found = true;
          break;
        }
      }
      if (!found)
        break;
    }
    if (k == p.size())
      return true;
  }
  return false;
}

std::string escalation_policy::find_sensitive_topic(std::string_view text) const {
  auto words = lower_words(text);
  for (auto& [name, p] : topics_)
    if (matches(words, p))
      return name;
  return {};
}

bool escalation_policy::asks_for_human(std::string_view text) const {
  auto words = lower_words(text);
  for (auto& p : human_phrases_)
    if (matches(words, p))
      return true;
  return false;
}

escalation_decision escalation_policy::before_answer(const escalation_request& r) const {
  if (r.intent.intent == intent::escalation_request || asks_for_human(r.text))
    return {true, escalation_reason::user_requested, "the customer asked for a person"};
  if (auto topic = find_sensitive_topic(r.text); !topic.empty())
    return {true, escalation_reason::sensitive_topic, "topic: " + topic};
  if (!r.knowledge_available)
    return {true, escalation_reason::knowledge_unavailable, "no knowledge base for this tenant"};
  return {};
}

escalation_decision escalation_policy::after_answer(const escalation_request& r) const {
  if (auto d = before_answer(r); d.escalate)
    return d;
  if (r.answer_confidence < threshold_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "confidence %.2f < %.2f", r.answer_confidence, threshold_);
    return {true, escalation_reason::low_confidence, buf};
  }
  return {};
}

} // namespace sa
