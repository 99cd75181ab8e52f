// The shared phrase matcher (actors/text/phrase_match.hpp): words, prefix rules, gaps, phrase lists.
#include "actors/text/phrase_match.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using words = std::vector<std::string>;

TEST_CASE("lower_words splits on punctuation, lower-cases and joins apostrophes", "[text][words]") {
  CHECK(sa::lower_words("Don't CANCEL my plan, OK?!") == words{"dont", "cancel", "my", "plan", "ok"});
  CHECK(sa::lower_words("INV-2026-0142 costs $250") == words{"inv", "2026", "0142", "costs", "250"});
  CHECK(sa::lower_words("doesn`t") == words{"doesnt"});
  CHECK(sa::lower_words("").empty());
  CHECK(sa::lower_words("  ... ,,, ").empty());
  CHECK(sa::lower_words("'quoted'") == words{"quoted"});
}

TEST_CASE("a phrase word of four letters or more matches a text word starting with it, shorter ones match "
          "whole words",
          "[text][match]") {
  CHECK(sa::word_matches("refunded", "refund"));
  CHECK(sa::word_matches("lawyers", "lawyer"));
  CHECK_FALSE(sa::word_matches("refun", "refund"));
  CHECK(sa::word_matches("an", "an"));
  CHECK_FALSE(sa::word_matches("analytics", "an"));
  CHECK_FALSE(sa::word_matches("any", "an"));
}

TEST_CASE("a phrase matches in order with at most two other words between its words", "[text][match]") {
  auto text = sa::lower_words("please cancel our whole subscription today");
  CHECK(sa::phrase_in(text, sa::lower_words("cancel subscription")));
  CHECK_FALSE(sa::phrase_in(text, sa::lower_words("subscription cancel")));  // order matters
  CHECK(sa::phrase_in(sa::lower_words("cancel it then subscription"), sa::lower_words("cancel subscription")));
  CHECK_FALSE(sa::phrase_in(sa::lower_words("cancel it, then our subscription"),
                            sa::lower_words("cancel subscription")));  // three words between
  CHECK_FALSE(sa::phrase_in(text, {}));
  CHECK_FALSE(sa::phrase_in({}, sa::lower_words("cancel")));
  // A first word that occurs twice: the later occurrence may complete the phrase.
  CHECK(sa::phrase_in(sa::lower_words("cancel what? cancel my subscription"), sa::lower_words("cancel subscription")));
}

TEST_CASE("a phrase list finds the first configured phrase present and skips phrases without words",
          "[text][list]") {
  sa::phrase_list list{{"  ", "data breach", "lawsuit"}};
  CHECK_FALSE(list.empty());
  auto i = list.find(sa::lower_words("There was a DATA breach and a lawsuit"));
  REQUIRE(i == 0);
  CHECK(list.original(0) == "data breach");
  CHECK(list.find(sa::lower_words("lawsuits everywhere")) == 1);
  CHECK(list.find(sa::lower_words("nothing here")) == -1);
  CHECK_FALSE(sa::phrase_list{}.any_in(sa::lower_words("anything")));
}
