// Self-consistency's choice as plain functions: word sets, Jaccard similarity, medoid and agreement.
#include "actors/providers/strategies/consensus.hpp"

#include <catch2/catch.hpp>

using namespace sa::providers;

TEST_CASE("consensus: words are lower-cased and punctuation is ignored", "[consensus]") {
  auto w = word_set("Don't PANIC: the refund (USD 20) arrives, refund-wise, soon!");
  CHECK(w == std::set<std::string>{"dont", "panic", "the", "refund", "usd", "20", "arrives", "wise", "soon"});
  CHECK(word_set("  ...  ").empty());
}

TEST_CASE("consensus: jaccard is shared words over all words", "[consensus]") {
  CHECK(jaccard(word_set("a b c"), word_set("b c d")) == Approx(2.0 / 4.0));
  CHECK(jaccard(word_set("same words"), word_set("Words, same.")) == Approx(1.0));
  CHECK(jaccard(word_set(""), word_set("")) == Approx(1.0));
  CHECK(jaccard(word_set("x"), word_set("")) == Approx(0.0));
}

TEST_CASE("consensus: the medoid is the sample closest to the others", "[consensus]") {
  std::vector<std::string> texts{"reset your password in settings", "restart the router now",
                                 "reset the password in settings", "you can reset your password in settings"};
  auto c = pick_medoid(texts, texts.size());
  CHECK(c.chosen != 1);
  // Three of the four agree with the chosen one.
  CHECK(c.agreement == Approx(3.0 / 4.0));
}

TEST_CASE("consensus: failed samples count as disagreeing", "[consensus]") {
  auto c = pick_medoid({"the same answer", "the same answer"}, 4);
  CHECK(c.chosen == 0);
  CHECK(c.agreement == Approx(0.5));
  auto one = pick_medoid({"only one"}, 3);
  CHECK(one.chosen == 0);
  CHECK(one.agreement == Approx(1.0 / 3.0));
}
