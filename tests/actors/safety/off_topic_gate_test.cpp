// The off-topic gate of safety_checks.hpp: knowledge_covers (does one retrieved passage cover most of the
// question?) and off_topic_candidate (which out-of-scope messages go on to the off-topic check at all).
// To extend: one SECTION or CHECK per exemption, with the near miss that must not pass beside it.
#include "actors/safety/safety_checks.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::safety;

namespace {

/// A retrieval as the retriever measures it: the question's search term count and each passage's coverage.
retrieval measured(uint32_t terms, std::vector<double> coverage) {
  retrieval r;
  r.question_terms = terms;
  for (std::size_t i = 0; i < coverage.size(); ++i) {
    passage p;
    p.source_id = "kb/page-" + std::to_string(i) + "#0";
    p.question_coverage = coverage[i];
    r.passages.push_back(std::move(p));
  }
  return r;
}

classification out_of_scope(std::vector<entity_mention> entities = {}) {
  classification c;
  c.out_of_scope = true;
  c.entities = std::move(entities);
  return c;
}

} // namespace

// How the coverage itself is measured (IDF weights, stems, synonyms): tests/actors/retriever, "coverage ...".
TEST_CASE("one passage covering most of a question of two or more terms covers it", "[safety][off_topic]") {
  CHECK(knowledge_covers(measured(3, {0.2, 0.6})));
  CHECK(knowledge_covers(measured(2, {1.0})));
}

TEST_CASE("the knowledge base does not cover a question it only touches", "[safety][off_topic]") {
  CHECK_FALSE(knowledge_covers(measured(3, {0.59, 0.4, 0.5})));
  // A one-word question is never covered: one shared word says little about the subject.
  CHECK_FALSE(knowledge_covers(measured(1, {1.0})));
  CHECK_FALSE(knowledge_covers(measured(3, {})));
  // Passages the retriever did not measure cover nothing.
  CHECK_FALSE(knowledge_covers(measured(3, {-1.0})));
}

TEST_CASE("the off-topic gate passes only out-of-scope messages without an exemption", "[safety][off_topic]") {
  const auto nothing = measured(4, {0.1});
  const auto covered = measured(4, {0.9});
  CHECK(off_topic_candidate(out_of_scope(), false, nothing));
  SECTION("a message the classifier kept in scope is never a candidate") {
    CHECK_FALSE(off_topic_candidate(classification{}, false, nothing));
  }
  SECTION("asking for one of the tenant's tools exempts it") {
    CHECK_FALSE(off_topic_candidate(out_of_scope(), true, nothing));
  }
  SECTION("naming an invoice or a ticket exempts it; other entities do not") {
    CHECK_FALSE(off_topic_candidate(out_of_scope({{"invoice_id", "INV-2041"}}), false, nothing));
    CHECK_FALSE(off_topic_candidate(out_of_scope({{"ticket_id", "HD-991"}}), false, nothing));
    CHECK(off_topic_candidate(out_of_scope({{"email", "x@example.com"}, {"date", "tomorrow"}}), false, nothing));
  }
  SECTION("a question the knowledge base covers exempts it") {
    CHECK_FALSE(off_topic_candidate(out_of_scope(), false, covered));
    CHECK(off_topic_candidate(out_of_scope(), false, retrieval{}));
  }
}
