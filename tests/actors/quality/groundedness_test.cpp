// The local groundedness check on hand-made cases: the figures are computed by hand in each comment.
#include "actors/quality/groundedness.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::quality;

namespace {

passage make_passage(std::string id, std::string text) {
  passage p;
  p.source_id = std::move(id);
  p.text = std::move(text);
  return p;
}

const std::vector<passage> kb{
  make_passage("domains.md#1",
               "To add a custom domain, open Settings, choose Domains and enter the domain name. "
               "Create a CNAME record pointing to proxy.example.com and wait for verification."),
  make_passage("billing.md#2", "Invoices are issued on the first day of each month and sent by email."),
};

} // namespace

TEST_CASE("sentences split at end marks and line breaks, not inside numbers", "[quality][groundedness]") {
  CHECK(split_sentences("Open Settings. Then choose Domains!\nDone? Version 3.5 works.") ==
        std::vector<std::string>{"Open Settings.", "Then choose Domains!", "Done?", "Version 3.5 works."});
  CHECK(split_sentences("  ").empty());
}

TEST_CASE("an answer copied from the cited passage is fully grounded", "[quality][groundedness]") {
  auto s = score_groundedness("Open Settings, choose Domains and enter the domain name. "
                              "Create a CNAME record pointing to proxy.example.com.",
                              kb, {"domains.md#1"});
  CHECK(s.sentences == 2);
  CHECK(s.supported_sentences == 2);
  CHECK(s.groundedness == 1.0);
  CHECK(s.word_support == 1.0);
}

TEST_CASE("an invented sentence lowers groundedness by its share", "[quality][groundedness]") {
  // Sentence 1 is from the passage; sentence 2 ("Refunds arrive within fourteen business days") shares no
  // content word with it: 1 of 2 sentences supported.
  auto s = score_groundedness("Create a CNAME record pointing to proxy.example.com. "
                              "Refunds arrive within fourteen business days.",
                              kb, {"domains.md#1"});
  CHECK(s.sentences == 2);
  CHECK(s.supported_sentences == 1);
  CHECK(s.groundedness == Approx(0.5));
  CHECK(s.supported_words < s.words);
  CHECK(s.word_support < 1.0);
}

TEST_CASE("only the cited passages count, none cited means all retrieved", "[quality][groundedness]") {
  const std::string answer = "Invoices are issued on the first day of each month.";
  CHECK(score_groundedness(answer, kb, {"domains.md#1"}).groundedness == 0.0);
  CHECK(score_groundedness(answer, kb, {"billing.md#2"}).groundedness == 1.0);
  CHECK(score_groundedness(answer, kb, {}).groundedness == 1.0);
}

TEST_CASE("no passages: nothing is supported, no content words: not applicable", "[quality][groundedness]") {
  auto none = score_groundedness("Create a CNAME record pointing to proxy.example.com.", {}, {});
  CHECK(none.applicable());
  CHECK(none.groundedness == 0.0);
  auto greeting = score_groundedness("Hi! OK.", kb, {});
  CHECK_FALSE(greeting.applicable());
  CHECK(greeting.groundedness == 0.0);
}

TEST_CASE("the support threshold decides a half-supported sentence", "[quality][groundedness]") {
  // Content words (stemmed): invoice, sent, email (in the billing passage) + refund, take, days (not: the
  // passage has "day", and "days" is too short to lose its s): 3 of 6.
  const std::string answer = "Invoices sent by email; refunds take days.";
  auto half = score_groundedness(answer, kb, {}, {0.5});
  auto strict = score_groundedness(answer, kb, {}, {0.6});
  CHECK(half.supported_sentences == 1);
  CHECK(strict.supported_sentences == 0);
  CHECK(half.word_support == strict.word_support);
  CHECK(half.word_support == Approx(0.5));
  CHECK(half.words == 6);
}
