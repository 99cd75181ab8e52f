// Repetition signals: content words, their overlap, and "that didn't help" phrases.
#include "actors/escalation/repetition.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using words = std::vector<std::string>;

TEST_CASE("content words drop stop words and short words and stem light suffixes", "[escalation][repetition]") {
  CHECK(sa::content_words("How do I reset my passwords?") == words{"password", "reset"});
  CHECK(sa::content_words("I still can't reset the password") == words{"password", "reset"});
  CHECK(sa::content_words("Resetting passwords") == words{"password", "reset"});
  CHECK(sa::content_words("the and for").empty());
}

TEST_CASE("a rephrased question overlaps its original, a question on another topic does not",
          "[escalation][repetition]") {
  auto original = sa::content_words("How do I add a custom domain to my project?");
  auto rephrased = sa::content_words("I asked how to set up my custom domain for the project");
  auto other = sa::content_words("And how do I change my billing address?");
  auto related = sa::content_words("What does the custom theme cost?");
  auto o = sa::content_overlap(original, rephrased);
  CHECK(o.shared >= 2);
  CHECK(o.similarity >= 0.6);
  CHECK(sa::content_overlap(original, other).shared == 0);
  CHECK(sa::content_overlap(original, related).similarity < 0.6);
  CHECK(sa::content_overlap({}, original).similarity == 0);
}

TEST_CASE("complaints that the answer did not help are recognised", "[escalation][repetition]") {
  for (auto* text : {"that didn't help", "This did not help at all", "not what I asked", "It's still not working",
                     "still doesn't work", "I already tried that", "you didn't answer my question",
                     "That is not helpful", "still the same problem"}) {
    INFO(text);
    CHECK(sa::says_answer_failed(text));
  }
  for (auto* text : {"thanks, that helped", "how do I stop the build from failing?", "it is working now",
                     "No, I need help with something else", "what did you mean by webhook?"}) {
    INFO(text);
    CHECK_FALSE(sa::says_answer_failed(text));
  }
}
