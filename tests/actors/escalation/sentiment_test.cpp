// The negative-sentiment lexicon scorer: angry and frustrated messages score at or above the default
// threshold (3); neutral bug reports, negated complaints and mild disappointment stay below it.
#include "actors/escalation/sentiment.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {
constexpr double threshold = 3.0;  // config/default.jsonc escalation.negative_sentiment.threshold
}

TEST_CASE("strongly negative, angry or frustrated messages reach the threshold", "[escalation][sentiment]") {
  const std::vector<std::string> angry{
    "This is absolutely unacceptable, I am furious!!!",
    "Worst support I have ever had.",
    "I'm really frustrated with your product",
    "This is so frustrating!!!",
    "Your service is a scam and a total rip off",
    "I am fed up with this, it's terrible",
    "THIS IS RIDICULOUS",
    "I'm sick and tired of waiting for a fix",
    "Honestly I hate this, it's useless",
    "I'm not happy at all, this is not acceptable",
    "pathetic. completely incompetent.",
  };
  for (const auto& text : angry) {
    INFO(text);
    CHECK(sa::negative_sentiment_score(text) >= threshold);
  }
}

TEST_CASE("neutral reports, negated words and mild complaints stay below the threshold", "[escalation][sentiment]") {
  const std::vector<std::string> calm{
    "The build failed with error 500",
    "My docs build is failing since yesterday, the log says permission denied",
    "not bad, thanks for the quick answer",
    "I'm not angry, just confused about the pricing",
    "I'm a bit disappointed the theme has no dark mode",
    "This is terrible",                 // one clearly negative word alone
    "Thanks!!! That worked great!!!",   // exclamation marks add only to a negative score
    "HOW DO I ADD A CUSTOM DOMAIN",     // capitals alone are not anger
    "No, I can't believe how easy that was",
    "Is it bad practice to pin the Sphinx version?",
    "",
  };
  for (const auto& text : calm) {
    INFO(text);
    CHECK(sa::negative_sentiment_score(text) < threshold);
  }
}

TEST_CASE("negation, intensifiers, capitals and exclamation marks change the score as documented",
          "[escalation][sentiment]") {
  CHECK(sa::negative_sentiment_score("this is bad") == Approx(1.0));
  CHECK(sa::negative_sentiment_score("this is not bad") == Approx(0.0));
  CHECK(sa::negative_sentiment_score("this is not that bad") == Approx(0.0));
  CHECK(sa::negative_sentiment_score("this is really bad") == Approx(1.5));
  CHECK(sa::negative_sentiment_score("this is BAD") == Approx(1.5));
  CHECK(sa::negative_sentiment_score("this is bad!!") == Approx(1.5));
  CHECK(sa::negative_sentiment_score("this is bad!!!!!!!!") == Approx(2.5));  // '!' bonus capped at 1.5
  CHECK(sa::negative_sentiment_score("not happy") == Approx(1.5));
  CHECK(sa::negative_sentiment_score("happy") == Approx(0.0));
  // Negation ends at a clause boundary: "No. Terrible." is negative.
  CHECK(sa::negative_sentiment_score("No. Terrible.") == Approx(2.0));
  CHECK(sa::negative_sentiment_score("I'm not fed up") == Approx(0.0));
}
