// sentiment: a small lexicon scorer for strongly negative, angry or frustrated customer messages (the
// escalation policy's negative_sentiment rule). Not a general sentiment model: it only has to tell "this is
// absolutely unacceptable, I'm furious!!!" from a neutral bug report ("the build failed with error 500").
//
// Score = sum over lexicon hits (sentiment.cpp: "furious" 3, "unacceptable" 3, "frustrated" 2, "bad" 1,
// "fed up" 3, ...), each
//   x1.5 after an intensifier within two words ("really", "so", "absolutely", ...),
//   x1.5 when written in CAPITALS (three letters or more),
//   0 when negated within two words of the same clause ("not bad", "I'm not angry"),
// plus negated positive words ("not happy" 1.5, "not acceptable" 3); then, only when something scored,
// +0.5 per '!' beyond the first (at most +1.5) and +1 when the message is mostly capitals.
// To extend: add words to the tables in sentiment.cpp with a weight and a test line in
// tests/actors/escalation/sentiment_test.cpp (a positive and a look-alike that must stay neutral).
#pragma once

#include <string_view>

namespace sa {

/// The message's negative-sentiment score (0 = neutral); see above.
double negative_sentiment_score(std::string_view text);

} // namespace sa
