// phrase_match: the word-level phrase matcher shared by the escalation policy (explicit requests for a
// person, sensitive topics, "that didn't help"), the action rules (workflow phrases) and the local composer.
//
// Text is split into lower-cased words of letters, digits and non-ASCII bytes; apostrophes are dropped
// ("don't" -> "dont"). A phrase matches when its words appear in order, each starting a text word (words
// of four letters or more: "refund" matches "refunded") or equal to it (shorter words: "an" is not
// "analytics"), with at most two other words between two phrase words ("cancel our whole subscription").
// Plain functions, no state: thread-safe. To change the matching, change it here and in its tests
// (tests/actors/text); every caller follows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sa {

/// Lower-cased words (letters and digits) of `text`, in order.
std::vector<std::string> lower_words(std::string_view text);

/// True when the phrase word `phrase_word` matches the text word `text_word` (prefix for >= 4 letters).
bool word_matches(std::string_view text_word, std::string_view phrase_word);

/// True when the phrase (its lower_words) occurs in `words`, in order, with small gaps. An empty phrase
/// never matches.
bool phrase_in(const std::vector<std::string>& words, const std::vector<std::string>& phrase);

/// A set of phrases compiled once (their lower_words), for "does any of these occur".
class phrase_list {
public:
  phrase_list() = default;
  explicit phrase_list(const std::vector<std::string>& phrases);

  /// The index of the first phrase found in `words`, or -1.
  int find(const std::vector<std::string>& words) const;
  bool any_in(const std::vector<std::string>& words) const { return find(words) >= 0; }
  bool empty() const noexcept { return phrases_.empty(); }
  /// The phrase as configured (for details and logs).
  const std::string& original(size_t i) const { return originals_[i]; }

private:
  std::vector<std::string> originals_;
  std::vector<std::vector<std::string>> phrases_;
};

} // namespace sa
