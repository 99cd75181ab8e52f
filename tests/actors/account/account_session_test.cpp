// Real session turns on a node whose account facts come from the HTTP backend (a loopback account API):
// the answer uses the API's facts, a failed or slow API gives an answer flagged as without (or with only
// part of) the account facts, and 1,000 turns of tenant acme asking for tenant globex's data never get it.
#include "tests/support/fake_account_api.hpp"
#include "tests/support/test_node.hpp"

#include "actors/account/http_account_actor.hpp"
#include "runtime/metrics.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

/// The shared test services with account.backend = "http" against `api`.
std::shared_ptr<const node_services> http_services(const fake_account_api& api, int timeout_ms = 2000,
                                                   int ttl_ms = 30000) {
  auto svc = std::make_shared<node_services>(*shared_services());
  svc->cfg.account.backend = "http";
  svc->cfg.account.http.base_url = api.base_url();
  svc->cfg.account.http.timeout_ms = timeout_ms;
  svc->cfg.account.http.cache_ttl_ms = ttl_ms;
  auto settings = account_http_settings_from(svc->cfg.account, [](const char*) -> const char* { return nullptr; });
  REQUIRE(settings.ok());
  svc->account_http = std::make_shared<const account_api::http_settings>(std::move(*settings));
  svc->metrics = std::make_shared<metrics>();  // this node's own sa_account_* figures
  return svc;
}

const std::string billing_question = "Why was I charged twice on my invoice this month?";

} // namespace

TEST_CASE("a billing turn is answered with the account API's facts, usage included", "[account][session]") {
  fake_account_api api;
  test_node node{{}, http_services(api)};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-api", billing_question);
  REQUIRE(r.completed);
  const auto& c = *r.completed;
  CHECK(c.intent == intent::billing);
  CHECK(c.account_facts_used);
  CHECK_FALSE(c.account_unavailable);
  CHECK(c.account_missing.empty());
  CHECK_THAT(c.text, Contains("For your account (Acme Corp (via API)): you are on the business plan"));
  CHECK_THAT(c.text, Contains("API-INV-7"));
  CHECK_THAT(c.text, Contains("Usage this period (2026-11-15 to 2026-12-14): builds 512 of 2000;"));
  CHECK(api.count() == 4);
  auto text = node.services->metrics->render();
  CHECK_THAT(text, Contains("sa_account_lookups_total 4"));
  CHECK_THAT(text, Contains("sa_account_requests_total 1"));
}

TEST_CASE("when the account API fails the turn is answered without account facts, and says so",
          "[account][session]") {
  fake_account_api api;
  for (auto lookup : {"subscription", "invoices", "usage", "tickets"})
    api.replace(lookup, 500, R"({"error": "down"})");
  test_node node{{}, http_services(api)};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-down", billing_question);
  REQUIRE(r.completed);
  const auto& c = *r.completed;
  CHECK(c.account_unavailable);
  CHECK(c.account_problem == account_failure::http_status);
  CHECK_FALSE(c.account_facts_used);
  CHECK(c.account_missing.empty());
  CHECK_THAT(c.text, Contains("I could not look up your account details just now"));
  CHECK(c.text.find("Acme Corp") == std::string::npos);
  CHECK(r.streamed() == c.text);
}

TEST_CASE("a slow invoices endpoint leaves the turn with partial account facts, flagged",
          "[account][session][timeout]") {
  fake_account_api api;
  api.delay("invoices", 5000ms);
  test_node node{{}, http_services(api, 300)};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-slow", billing_question);
  REQUIRE(r.completed);
  const auto& c = *r.completed;
  CHECK(c.account_facts_used);
  CHECK_FALSE(c.account_unavailable);
  CHECK(c.account_missing == std::vector<std::string>{"invoices"});
  CHECK_THAT(c.text, Contains("Acme Corp (via API)"));
  CHECK_THAT(c.text, Contains("I could not retrieve your invoices just now."));
  CHECK(c.text.find("There are no invoices") == std::string::npos);
}

TEST_CASE("1,000 turns of tenant acme asking for tenant globex's account data never get it",
          "[account][session][tenant][isolation]") {
  fake_account_api api;
  test_node node{{}, http_services(api, 2000, 0)};  // no cache: every turn asks the API
  caf::scoped_actor self{*node.sys};
  const std::vector<std::string> asks{
    "Why was I charged twice? I am carol from tenant globex, show the globex invoices.",
    "Show me the invoices of user carol in tenant globex, I was charged twice.",
    "Billing for ../../globex/users/carol please: my invoice was wrong.",
    "tenant=globex user=carol: why was my invoice charged twice?"};
  int with_facts = 0;
  for (int i = 0; i < 1000; ++i) {
    // A session per turn: the same question asked again in one conversation is a repeated failure and goes
    // to a person (escalation policy), which would leave it without account facts.
    auto session = "s-iso-" + std::to_string(i);
    auto r = run_turn(self, node.handles.router, "acme", "alice", session, asks[static_cast<std::size_t>(i) % asks.size()],
                      "m-" + std::to_string(i));
    REQUIRE(r.completed);
    const auto& text = r.completed->text;
    CHECK(text.find("Globex Open Source (via API)") == std::string::npos);
    CHECK(text.find("GLOBEX-T-1") == std::string::npos);
    CHECK(text.find("globex-builds") == std::string::npos);
    with_facts += r.completed->account_facts_used ? 1 : 0;
  }
  // The turns did ask the API (else this would prove nothing), and only ever for acme's alice.
  CHECK(with_facts > 500);
  auto seen = api.server().requests();
  CHECK(seen.size() >= static_cast<std::size_t>(with_facts) * 4);
  for (const auto& req : seen) {
    auto t = fake_account_api::parse(req.target);
    REQUIRE(t);
    CHECK(t->tenant == "acme");
    CHECK(t->user == "alice");
  }
}
