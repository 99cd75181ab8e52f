// groundedness: the quality monitor's local check, used when no judge model is configured (or the judge
// failed). It measures how much of an answer the retrieved passages support, not whether it is right:
//
//   - the answer is split into sentences (at . ! ? and line breaks); a sentence without content words
//     ("Hi!") is not counted;
//   - a sentence is supported when at least `support_threshold` of its content words (escalation's
//     content_words: lower-cased, stop words and words under three letters dropped, lightly stemmed)
//     occur in the cited passages (all retrieved passages when the answer cites none);
//   - groundedness = supported sentences / counted sentences; word_support = content words found in the
//     passages / content words of the counted sentences.
//
// Scores are labelled judge="local_groundedness" wherever they appear. To refine it (synonyms, numbers
// must match exactly, ...), change score_groundedness and the hand-made cases in
// tests/actors/quality/groundedness_test.cpp.
#pragma once

#include "messages/retrieve.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sa::quality {

struct groundedness_options {
  double support_threshold = 0.5;  ///< share of a sentence's content words the passages must hold
};

struct groundedness_score {
  std::size_t sentences = 0;            ///< counted sentences (with content words)
  std::size_t supported_sentences = 0;
  std::size_t words = 0;                ///< content words over the counted sentences (unique per sentence)
  std::size_t supported_words = 0;
  double groundedness = 0;              ///< supported_sentences / sentences; 0 when nothing was counted
  double word_support = 0;              ///< supported_words / words; 0 when nothing was counted
  /// False when the answer had no content words: the check says nothing (no metric is recorded).
  [[nodiscard]] bool applicable() const noexcept { return sentences > 0; }
};

/// The answer's sentences (trimmed, non-empty), in order.
std::vector<std::string> split_sentences(std::string_view text);

/// Scores `answer` against the passages whose source_id is in `cited` (all of them when `cited` is empty).
groundedness_score score_groundedness(std::string_view answer, const std::vector<passage>& passages,
                                      const std::vector<std::string>& cited, groundedness_options opts = {});

} // namespace sa::quality
