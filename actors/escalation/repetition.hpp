// repetition: signs that the bot's previous answers failed (the escalation policy's repeated_failure rule).
//
//   - a rephrase: the message's content words (lower-cased, stop words and words under three letters
//     dropped, a light suffix stem: "passwords" = "password", "resetting" = "reset") overlap an earlier
//     user message's by at least the threshold (Dice: 2|A and B| / (|A| + |B|)) and share at least two
//     words, so "How do I reset my password?" then "I still can't reset the password" repeats, while a
//     follow-up on another topic ("and how do I change my billing address?") does not;
//   - a complaint about the answer: "that didn't help", "not what I asked", "still not working", ...
// To extend: add stop words or complaint phrases in repetition.cpp with a test line each
// (tests/actors/escalation/repetition_test.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sa {

/// The message's content words, stemmed, sorted and unique.
std::vector<std::string> content_words(std::string_view text);

/// Dice overlap of two content-word sets (0..1) and how many words they share.
struct overlap {
  double similarity = 0;
  size_t shared = 0;
};
overlap content_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b);

/// True when the message says the previous answer did not help ("that didn't help", "still not working").
bool says_answer_failed(std::string_view text);

/// The references in `text`: its words that hold a digit ("inv", "2026", "0142" of INV-2026-0142 -> "2026",
/// "0142"), sorted, unique. Two questions naming different references (another invoice, another order) are
/// different questions, however alike their words.
std::vector<std::string> references(std::string_view text);

} // namespace sa
