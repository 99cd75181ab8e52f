// The off-topic gate of safety_checks.hpp: knowledge_covers (does one retrieved passage cover most of the
// question?) and off_topic_candidate (which out-of-scope messages go on to the off-topic check at all).
// To extend: one SECTION or CHECK per exemption, with the near miss that must not pass beside it.
#include "actors/safety/safety_checks.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::safety;

namespace {

passage doc(std::string title, std::string text) {
  passage p;
  p.source_id = "kb/" + title + "#1";
  p.title = std::move(title);
  p.text = std::move(text);
  return p;
}

classification out_of_scope(std::vector<entity_mention> entities = {}) {
  classification c;
  c.out_of_scope = true;
  c.entities = std::move(entities);
  return c;
}

const std::vector<passage> kb{
  doc("Webhook signatures", "Every webhook carries an HMAC signature header; verify it with your signing secret."),
  doc("Refunds", "Refunds reach the original payment method within ten business days."),
};

} // namespace

TEST_CASE("a passage covering most of the question's content words covers it", "[safety][off_topic]") {
  CHECK(knowledge_covers("How do I verify the webhook signature?", kb));
  // Words are stemmed and matched case-insensitively, in the title as in the text.
  CHECK(knowledge_covers("VERIFYING WEBHOOK SIGNATURES", kb));
  CHECK(knowledge_covers("refunds payment", kb));
}

TEST_CASE("the knowledge base does not cover a question it only touches", "[safety][off_topic]") {
  CHECK_FALSE(knowledge_covers("Who won the football match last night in Madrid?", kb));
  // One shared word is not enough, even when it is the only content word.
  CHECK_FALSE(knowledge_covers("webhook", kb));
  CHECK_FALSE(knowledge_covers("the webhook for my football club", kb));
  // Two of five content words is under 60%.
  CHECK_FALSE(knowledge_covers("webhook signature football weather horoscope", kb));
  // Words spread over two passages: no single passage covers the question.
  CHECK_FALSE(knowledge_covers("refunds webhook", kb));
  CHECK_FALSE(knowledge_covers("How do I verify the webhook signature?", {}));
}

TEST_CASE("the off-topic gate passes only out-of-scope messages without an exemption", "[safety][off_topic]") {
  const std::string weather = "What will the weather be like tomorrow in Lisbon?";
  CHECK(off_topic_candidate(out_of_scope(), false, weather, kb));
  SECTION("a message the classifier kept in scope is never a candidate") {
    CHECK_FALSE(off_topic_candidate(classification{}, false, weather, kb));
  }
  SECTION("asking for one of the tenant's tools exempts it") {
    CHECK_FALSE(off_topic_candidate(out_of_scope(), true, weather, kb));
  }
  SECTION("naming an invoice or a ticket exempts it; other entities do not") {
    CHECK_FALSE(off_topic_candidate(out_of_scope({{"invoice_id", "INV-2041"}}), false, weather, kb));
    CHECK_FALSE(off_topic_candidate(out_of_scope({{"ticket_id", "HD-991"}}), false, weather, kb));
    CHECK(off_topic_candidate(out_of_scope({{"email", "x@example.com"}, {"date", "tomorrow"}}), false, weather,
                              kb));
  }
  SECTION("a question the knowledge base covers exempts it") {
    CHECK_FALSE(off_topic_candidate(out_of_scope(), false, "How do I verify the webhook signature?", kb));
    CHECK(off_topic_candidate(out_of_scope(), false, "How do I verify the webhook signature?", {}));
  }
}
