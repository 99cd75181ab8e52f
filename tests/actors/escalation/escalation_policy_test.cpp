// The escalation policy: explicit requests for a person, sensitive topics (with inflections and small
// gaps), missing knowledge, low confidence, the order the rules are checked in, and custom settings.
#include "actors/escalation/escalation_policy.hpp"
#include "tests/actors/escalation/default_policy.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

using sa::test::default_policy;
using sa::test::default_topics;

sa::escalation_request request(std::string text, sa::intent in = sa::intent::general,
                               double answer_confidence = 0.9, bool knowledge_available = true) {
  sa::escalation_request r;
  r.tenant = sa::tenant_id{"acme"};
  r.text = std::move(text);
  r.intent.intent = in;
  r.intent.confidence = 0.9;
  r.answer_confidence = answer_confidence;
  r.knowledge_available = knowledge_available;
  return r;
}

} // namespace

TEST_CASE("an explicit request for a person escalates with reason user_requested, in many phrasings",
          "[escalation][user_requested]") {
  const auto& p = default_policy();
  const std::vector<std::string> asks{
    "let me talk to a human",
    "Can I speak with someone?",
    "I want a real person",
    "get me an agent",
    "Please, I need to speak to a manager now",
    "Is there a live agent available?",
    "talk to a person please",
    "I'd like to talk with a human",
    "human agent",
    "HUMAN PLEASE",
    "can i speak to someone about this",
    "connect me to a support agent",
    "I want your manager",
    "put me through to a customer service rep",
  };
  for (const auto& text : asks) {
    INFO(text);
    CHECK(p.asks_for_human(text));
    auto d = p.before_answer(request(text));
    CHECK(d.escalate);
    CHECK(d.reason == sa::escalation_reason::user_requested);
    CHECK(d.detail == "the customer asked for a person");
  }
}

TEST_CASE("the escalation_request intent escalates with reason user_requested even without a phrase",
          "[escalation][user_requested]") {
  auto d = default_policy().before_answer(request("this is going nowhere", sa::intent::escalation_request));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::user_requested);
}

TEST_CASE("each default sensitive topic escalates with reason sensitive_topic, naming the topic",
          "[escalation][sensitive_topic]") {
  struct example {
    const char* text;
    const char* topic;
  };
  const std::vector<example> examples{
    {"is this legal in Germany?", "legal"},
    {"we will file a lawsuit", "lawsuit"},
    {"my lawyer will call you", "lawyer"},
    {"our lawyers are reviewing the contract", "lawyer"},
    {"I want a refund", "refund"},
    {"was I refunded yet?", "refund"},
    {"Refunds take how long?", "refund"},
    {"cancel subscription", "cancel subscription"},
    {"please cancel my subscription", "cancel subscription"},
    {"cancel our whole subscription today", "cancel subscription"},
    {"Cancelling the subscriptions for all projects", "cancel subscription"},
    {"your competitor is cheaper", "competitor"},
    {"was there a data breach?", "data breach"},
    {"DATA BREACH!!!", "data breach"},
  };
  for (const auto& e : examples) {
    INFO(e.text);
    CHECK(default_policy().find_sensitive_topic(e.text) == e.topic);
    auto d = default_policy().before_answer(request(e.text));
    CHECK(d.escalate);
    CHECK(d.reason == sa::escalation_reason::sensitive_topic);
    CHECK(d.detail == std::string{"topic: "} + e.topic);
  }
}

TEST_CASE("a phrase topic allows at most two words between its words", "[escalation][sensitive_topic]") {
  const auto& p = default_policy();
  CHECK(p.find_sensitive_topic("cancel our whole subscription") == "cancel subscription");
  CHECK(p.find_sensitive_topic("cancel the build for this subscription").empty());  // three words between
  CHECK(p.find_sensitive_topic("subscription cancel").empty());                     // wrong order
  CHECK(p.find_sensitive_topic("the data shows no breach") == "data breach");       // two words between
  CHECK(p.find_sensitive_topic("data from the old breach").empty());                // three words between
}

TEST_CASE("benign questions do not escalate before the answer", "[escalation][benign]") {
  const auto& p = default_policy();
  const std::vector<std::string> benign{
    "how do I cancel a build",
    "my subscription renews when?",
    "how do I add a custom domain",
    "where are my invoices",
    "the agent setting in my config",
    "can you explain the build log?",
    "what is the price of the business plan",
    "someone on my team cannot log in",
    "",
  };
  for (const auto& text : benign) {
    INFO(text);
    CHECK_FALSE(p.asks_for_human(text));
    CHECK(p.find_sensitive_topic(text).empty());
    auto d = p.before_answer(request(text));
    CHECK_FALSE(d.escalate);
    CHECK(d.reason == sa::escalation_reason::none);
    CHECK(d.detail.empty());
  }
}

TEST_CASE("a configured topic inside a benign-looking question still escalates",
          "[escalation][sensitive_topic]") {
  // "legal" is a default topic, so asking for the legal page is treated as sensitive (prefix match).
  auto d = default_policy().before_answer(request("is there a legal page"));
  CHECK(d.reason == sa::escalation_reason::sensitive_topic);
  CHECK(d.detail == "topic: legal");
}

TEST_CASE("an unavailable knowledge base escalates with reason knowledge_unavailable",
          "[escalation][knowledge_unavailable]") {
  auto d = default_policy().before_answer(request("how do I add a custom domain", sa::intent::technical,
                                                  0.9, false));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::knowledge_unavailable);
  CHECK(d.detail == "no knowledge base for this tenant");
}

TEST_CASE("before the answer, confidence is not considered", "[escalation][low_confidence]") {
  auto d = default_policy().before_answer(request("how do I add a custom domain", sa::intent::technical, 0.0));
  CHECK_FALSE(d.escalate);
}

SCENARIO("after the answer, confidence below the threshold escalates with reason low_confidence",
         "[escalation][low_confidence]") {
  GIVEN("the default threshold 0.7") {
    const auto& p = default_policy();
    REQUIRE(p.threshold() == Approx(0.7));
    WHEN("the answer confidence is 0.69") {
      auto d = p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.69));
      THEN("the turn escalates for low confidence, with both numbers in the detail") {
        CHECK(d.escalate);
        CHECK(d.reason == sa::escalation_reason::low_confidence);
        CHECK(d.detail == "confidence 0.69 < 0.70");
      }
    }
    WHEN("the answer confidence is exactly 0.70") {
      auto d = p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.70));
      THEN("the turn does not escalate") {
        CHECK_FALSE(d.escalate);
        CHECK(d.reason == sa::escalation_reason::none);
      }
    }
    WHEN("the answer confidence is 0.95") {
      auto d = p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.95));
      THEN("the turn does not escalate") { CHECK_FALSE(d.escalate); }
    }
    WHEN("the answer confidence is 0") {
      auto d = p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.0));
      THEN("the turn escalates for low confidence") {
        CHECK(d.reason == sa::escalation_reason::low_confidence);
        CHECK(d.detail == "confidence 0.00 < 0.70");
      }
    }
  }
}

TEST_CASE("the first rule that fires gives the reason", "[escalation][order]") {
  const auto& p = default_policy();
  SECTION("an explicit request with low confidence reports user_requested") {
    auto d = p.after_answer(request("let me talk to a human", sa::intent::general, 0.1));
    CHECK(d.reason == sa::escalation_reason::user_requested);
  }
  SECTION("an explicit request about a sensitive topic reports user_requested") {
    auto d = p.after_answer(request("I want a real person about my refund", sa::intent::billing, 0.1, false));
    CHECK(d.reason == sa::escalation_reason::user_requested);
  }
  SECTION("a sensitive topic without knowledge reports sensitive_topic") {
    auto d = p.after_answer(request("my lawyer says so", sa::intent::general, 0.1, false));
    CHECK(d.reason == sa::escalation_reason::sensitive_topic);
  }
  SECTION("missing knowledge with low confidence reports knowledge_unavailable") {
    auto d = p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.1, false));
    CHECK(d.reason == sa::escalation_reason::knowledge_unavailable);
  }
  SECTION("after_answer agrees with before_answer whenever a pre-answer rule fires") {
    for (auto text : {"get me an agent", "data breach", "how do I add a custom domain"}) {
      auto r = request(text, sa::intent::general, 0.1, false);
      auto before = p.before_answer(r);
      auto after = p.after_answer(r);
      CHECK(before.escalate);
      CHECK(after.reason == before.reason);
      CHECK(after.detail == before.detail);
    }
  }
}

TEST_CASE("custom topics and thresholds replace the defaults", "[escalation][config]") {
  sa::escalation_policy p{0.5, {"GDPR request", "chargeback", "  ", ""}};
  CHECK(p.threshold() == Approx(0.5));

  CHECK(p.find_sensitive_topic("I am filing a GDPR deletion request") == "GDPR request");
  CHECK(p.find_sensitive_topic("we got chargebacks") == "chargeback");
  // Default topics are not active any more; empty topics never match.
  CHECK(p.find_sensitive_topic("I want a refund from my lawyer").empty());
  CHECK(p.find_sensitive_topic("anything at all").empty());
  // Requests for a person do not depend on the topic list.
  CHECK(p.asks_for_human("let me talk to a human"));

  CHECK(p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.49)).reason
        == sa::escalation_reason::low_confidence);
  CHECK_FALSE(p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.5)).escalate);
  CHECK_FALSE(p.after_answer(request("how do I add a custom domain", sa::intent::technical, 0.69)).escalate);
}

TEST_CASE("no topics and threshold 0 never escalate for topics or confidence", "[escalation][config]") {
  sa::escalation_policy p{0.0, {}};
  CHECK_FALSE(p.after_answer(request("my lawyer wants a refund", sa::intent::billing, 0.0)).escalate);
  CHECK(p.after_answer(request("get me an agent", sa::intent::billing, 0.0)).reason
        == sa::escalation_reason::user_requested);
}

TEST_CASE("a question that merely mentions a word starting with 'an' next to 'agent' is not a request "
          "for a person",
          "[escalation][benign]") {
  // The phrase "an agent" is matched by word prefix, so "an" also matches "any", "analytics", "and".
  const auto& p = default_policy();
  CHECK_FALSE(p.asks_for_human("how do I configure the analytics agent"));
  CHECK_FALSE(p.asks_for_human("is there any agent setting for retries?"));
  CHECK_FALSE(p.before_answer(request("how do I configure the analytics agent", sa::intent::technical)).escalate);
}
