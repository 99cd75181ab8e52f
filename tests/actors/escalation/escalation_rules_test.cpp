// The escalation rules added by issue #7: the safety verdict, repeated failure, negative sentiment, their
// order among the seed's rules, and per-tenant settings built from config.
#include "actors/escalation/escalation_policies.hpp"
#include "tests/actors/escalation/default_policy.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

using sa::test::default_policy;
using sa::test::default_topics;

sa::escalation_request request(std::string text, std::vector<std::string> earlier = {},
                               std::vector<bool> earlier_escalated = {}) {
  sa::escalation_request r;
  r.tenant = sa::tenant_id{"acme"};
  r.text = std::move(text);
  r.intent.intent = sa::intent::technical;
  r.intent.confidence = 0.9;
  r.answer_confidence = 0.9;
  r.recent_user_texts = std::move(earlier);
  r.recent_escalated = std::move(earlier_escalated);
  return r;
}

sa::escalation_request with_safety(sa::escalation_request r, sa::safety_action a, sa::safety_reason why,
                                   std::string detail = {}) {
  r.safety.action = a;
  r.safety.reason = why;
  r.safety.detail = std::move(detail);
  return r;
}

} // namespace

TEST_CASE("a safety verdict of escalate escalates with reason safety and the safety reason as detail",
          "[escalation][safety]") {
  const auto& p = default_policy();
  auto d = p.before_answer(with_safety(request("how do I configure webhooks"), sa::safety_action::escalate,
                                       sa::safety_reason::harmful, "self-harm"));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::safety);
  CHECK(d.detail == "harmful: self-harm");
  // Safety comes first, even before an explicit request for a person.
  d = p.after_answer(with_safety(request("let me talk to a human"), sa::safety_action::escalate,
                                 sa::safety_reason::abusive));
  CHECK(d.reason == sa::escalation_reason::safety);
  CHECK(d.detail == "abusive");
}

TEST_CASE("safety verdicts other than escalate do not escalate by themselves", "[escalation][safety]") {
  const auto& p = default_policy();
  for (auto a : {sa::safety_action::allow, sa::safety_action::redact, sa::safety_action::refuse}) {
    auto d = p.after_answer(with_safety(request("how do I configure webhooks"), a, sa::safety_reason::pii));
    CHECK_FALSE(d.escalate);
  }
}

TEST_CASE("saying the answer did not help escalates with reason repeated_failure", "[escalation][repeated_failure]") {
  const auto& p = default_policy();
  for (auto* text : {"that didn't help", "Not what I asked.", "it's still not working", "I already tried that"}) {
    INFO(text);
    auto d = p.before_answer(request(text, {"How do I add a custom domain?"}, {false}));
    CHECK(d.escalate);
    CHECK(d.reason == sa::escalation_reason::repeated_failure);
    CHECK(d.detail == "the customer said the answer did not help");
  }
}

TEST_CASE("rephrasing one of the last questions escalates with reason repeated_failure, the detail has no user "
          "text",
          "[escalation][repeated_failure]") {
  const auto& p = default_policy();
  auto d = p.before_answer(request("I asked how to set up my custom domain for the project",
                                   {"How do I add a custom domain to my project?", "thanks"}, {false, false}));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::repeated_failure);
  CHECK_THAT(d.detail, StartsWith("rephrased an earlier question (similarity "));
  CHECK_THAT(d.detail, !Contains("domain"));
}

TEST_CASE("the same question about another invoice or order is the next question, not a repeated failure",
          "[escalation][repeated_failure]") {
  const auto& p = default_policy();
  CHECK_FALSE(p.before_answer(request("What's the status of invoice INV-2026-0097?",
                                      {"What's the status of invoice INV-2026-0142?"}, {false}))
                .escalate);
  CHECK_FALSE(p.before_answer(request("And ticket TCK-5019, what is its status?",
                                      {"What is the status of ticket TCK-5012?"}, {false}))
                .escalate);
  // The same reference asked about again is a rephrase.
  auto d = p.before_answer(request("Invoice INV-2026-0142: what is its status, again?",
                                   {"What's the status of invoice INV-2026-0142?"}, {false}));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::repeated_failure);
}

TEST_CASE("no repeated failure without an earlier turn, for another topic, or after an escalated turn",
          "[escalation][repeated_failure]") {
  const auto& p = default_policy();
  // A first message that sounds like a complaint is a bug report, not a repeated failure.
  CHECK_FALSE(p.before_answer(request("my build is still not working")).escalate);
  // A follow-up on a different topic.
  CHECK_FALSE(p.before_answer(request("And how do I change the billing address on invoices?",
                                      {"How do I add a custom domain to my project?"}, {false}))
                .escalate);
  // The earlier turn already went to a human: neither a rephrase nor "didn't help" counts again.
  CHECK_FALSE(p.before_answer(request("How can I add a custom domain to the project?",
                                      {"How do I add a custom domain to my project?"}, {true}))
                .escalate);
  CHECK_FALSE(p.before_answer(request("that didn't help", {"How do I add a custom domain?"}, {true})).escalate);
  // Outside the window (default 3 earlier messages).
  CHECK_FALSE(p.before_answer(request("How can I add a custom domain to the project?",
                                      {"How do I add a custom domain to my project?", "what is a build", "thanks",
                                       "where are my invoices"},
                                      {false, false, false, false}))
                .escalate);
  // recent_escalated may be shorter than the texts (missing = not escalated).
  CHECK(p.before_answer(request("that didn't help", {"How do I add a custom domain?"}, {})).escalate);
}

TEST_CASE("strongly negative messages escalate with reason negative_sentiment, neutral bug reports do not",
          "[escalation][negative_sentiment]") {
  const auto& p = default_policy();
  auto d = p.before_answer(request("This is absolutely unacceptable, I am furious!!!"));
  CHECK(d.escalate);
  CHECK(d.reason == sa::escalation_reason::negative_sentiment);
  CHECK_THAT(d.detail, StartsWith("sentiment score "));
  CHECK_THAT(d.detail, Contains(">= 3.0"));
  CHECK_FALSE(p.after_answer(request("the build failed with error 500")).escalate);
  CHECK_FALSE(p.after_answer(request("not bad, thanks")).escalate);
}

TEST_CASE("the new rules come after explicit requests and sensitive topics, repeated failure before sentiment",
          "[escalation][order]") {
  const auto& p = default_policy();
  CHECK(p.before_answer(request("I am furious, get me a real person")).reason == sa::escalation_reason::user_requested);
  CHECK(p.before_answer(request("I am furious, I want a refund")).reason == sa::escalation_reason::sensitive_topic);
  CHECK(p.before_answer(request("that didn't help, this is absolutely ridiculous!!!", {"how do I add a domain"},
                                {false}))
          .reason
        == sa::escalation_reason::repeated_failure);
  auto r = request("This is absolutely unacceptable!!!");
  r.knowledge_available = false;
  CHECK(p.before_answer(r).reason == sa::escalation_reason::negative_sentiment);
}

TEST_CASE("each tenant gets its own compiled policy from config, unset fields keep the global values",
          "[escalation][tenant]") {
  sa::config::escalation_config cfg;
  cfg.negative_sentiment.threshold = 4.0;
  sa::config::escalation_tenant_config globex;
  globex.confidence_threshold = 0.9;
  globex.sensitive_topics = std::vector<std::string>{"chargeback"};
  globex.repeated_failure_enabled = false;
  globex.negative_sentiment_threshold = 10.0;
  cfg.tenants["globex"] = globex;
  sa::config::escalation_tenant_config initech;
  initech.negative_sentiment_enabled = false;
  initech.repeated_failure_similarity = 0.95;
  cfg.tenants["initech"] = initech;
  sa::escalation_policies policies{cfg};

  const auto& acme = policies.for_tenant("acme");  // no overrides: the global settings
  CHECK(acme.threshold() == Approx(0.7));
  CHECK(acme.find_sensitive_topic("I want a refund") == "refund");
  CHECK(acme.settings().sentiment_threshold == Approx(4.0));

  const auto& g = policies.for_tenant("globex");
  CHECK(g.threshold() == Approx(0.9));
  CHECK(g.find_sensitive_topic("I want a refund").empty());  // the tenant's list replaces the global one
  CHECK(g.find_sensitive_topic("we got a chargeback") == "chargeback");
  CHECK_FALSE(g.before_answer(request("that didn't help", {"how do I add a domain"}, {false})).escalate);
  CHECK_FALSE(g.before_answer(request("This is absolutely unacceptable, I am furious!!!")).escalate);
  CHECK(g.before_answer(request("I HATE THIS, this is ABSOLUTELY UNACCEPTABLE, I am FURIOUS!!!")).escalate);
  auto low = request("how do I add a domain");
  low.answer_confidence = 0.85;
  CHECK(g.after_answer(low).reason == sa::escalation_reason::low_confidence);
  CHECK_FALSE(acme.after_answer(low).escalate);

  const auto& i = policies.for_tenant("initech");
  CHECK(i.threshold() == Approx(0.7));
  CHECK(i.settings().sentiment_threshold == Approx(4.0));
  CHECK_FALSE(i.before_answer(request("This is absolutely unacceptable, I am furious!!!")).escalate);
  CHECK_FALSE(i.before_answer(request("I asked how to set up my custom domain for the project",
                                      {"How do I add a custom domain to my project?"}, {false}))
                .escalate);  // similarity 0.75 < 0.95
  CHECK(i.before_answer(request("that didn't help", {"how do I add a domain"}, {false})).escalate);
}
