// consensus: how self-consistency picks one answer out of several samples - the medoid under word-set
// Jaccard similarity - and how much the samples agree with it. Plain functions, no actor system.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sa::providers {

/// The distinct lower-cased words of `text`: runs of ASCII letters and digits (bytes >= 0x80 count as
/// letters, so UTF-8 words stay whole); apostrophes inside words are dropped ("don't" -> "dont"), other
/// punctuation separates words.
std::set<std::string> word_set(std::string_view text);

/// |a ∩ b| / |a ∪ b|; 1 when both are empty.
double jaccard(const std::set<std::string>& a, const std::set<std::string>& b);

struct consensus {
  std::size_t chosen = 0;  ///< index into the texts given
  double agreement = 0;    ///< in [0, 1]
};

/// The medoid of `texts` (the one whose mean similarity to the others is highest; ties: the earliest)
/// and the share of `asked` samples whose similarity to it is >= `agree_at` (the medoid included;
/// samples asked but missing from `texts` count as disagreeing). Requires !texts.empty() and
/// asked >= texts.size().
consensus pick_medoid(const std::vector<std::string>& texts, std::size_t asked, double agree_at = 0.6);

} // namespace sa::providers
