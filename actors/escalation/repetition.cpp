// repetition: content words, their overlap, and the "that didn't help" phrases (see repetition.hpp).
#include "actors/escalation/repetition.hpp"

#include "actors/text/phrase_match.hpp"

#include <algorithm>
#include <iterator>

namespace sa {

namespace {

// Function words and the generic verbs of support questions: they say nothing about the topic.
constexpr std::string_view stop_words[]{
  "the", "and", "for", "you", "your", "yours", "our", "ours", "this", "that", "these", "those", "with",
  "what", "whats", "when", "where", "which", "who", "whom", "why", "how", "hows", "can", "cant", "could",
  "would", "should", "will", "wont", "shall", "may", "might", "must", "are", "arent", "was", "wasnt",
  "were", "been", "being", "have", "has", "had", "having", "does", "doesnt", "did", "didnt", "dont", "not",
  "there", "their", "them", "they", "its", "from", "into", "about", "again", "still", "just", "please",
  "any", "some", "all", "get", "got", "make", "use", "using", "need", "want", "way", "know", "tell", "help",
  "thanks", "thank", "hello", "also", "then", "than", "but", "because", "very", "really", "yes", "okay",
  "try", "tried", "said", "asked", "mean", "question"};

bool is_stop_word(std::string_view w) {
  return std::find(std::begin(stop_words), std::end(stop_words), w) != std::end(stop_words);
}

/// A light suffix stem: "-ing", "-ed" (and a doubled consonant before them) go when at least four letters
/// stay; "-es" after s, x, ch, sh; "-s" otherwise ("invoices" -> "invoice").
std::string stem(std::string w) {
  auto strip = [&](std::string_view suffix) {
    if (w.size() >= suffix.size() + 4 && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0) {
      w.resize(w.size() - suffix.size());
      return true;
    }
    return false;
  };
  if (strip("ing") || strip("ed")) {
    // "resetting" -> "resett" -> "reset", "stopped" -> "stop"
    auto n = w.size();
    if (n >= 4 && w[n - 1] == w[n - 2] && w[n - 1] != 'l' && w[n - 1] != 's')
      w.pop_back();
    return w;
  }
  for (std::string_view plural : {"sses", "xes", "ches", "shes"})  // "addresses" -> "address"
    if (w.size() > plural.size() && w.compare(w.size() - plural.size(), plural.size(), plural) == 0) {
      w.resize(w.size() - 2);
      return w;
    }
  if (w.size() >= 5 && w.back() == 's' && w[w.size() - 2] != 's')
    w.pop_back();
  return w;
}

const phrase_list& failure_phrases() {
  static const phrase_list phrases{{
    "didnt help", "did not help", "doesnt help", "does not help", "not helpful", "wasnt helpful",
    "not what i asked", "not what i meant", "not my question", "didnt answer my question",
    "did not answer my question", "doesnt answer my question", "not answering my question",
    "you didnt answer", "you did not answer", "still not working", "still doesnt work", "still does not work",
    "still broken", "still the same problem", "still have the same", "still having the same",
    "still getting the same", "that didnt work", "that did not work", "that doesnt work", "already tried that",
    "tried that already", "same answer again", "you already said that", "you keep saying",
  }};
  return phrases;
}

} // namespace

std::vector<std::string> content_words(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : lower_words(text)) {
    if (w.size() < 3 || is_stop_word(w))
      continue;
    out.push_back(stem(std::move(w)));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

overlap content_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty())
    return {};
  std::vector<std::string> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return {2.0 * static_cast<double>(both.size()) / static_cast<double>(a.size() + b.size()), both.size()};
}

std::vector<std::string> references(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : lower_words(text))
    if (std::any_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(std::move(w));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool says_answer_failed(std::string_view text) {
  return failure_phrases().any_in(lower_words(text));
}

} // namespace sa
