// What answers make of the account facts the backends give: usage is shown, a part that could not be
// fetched is said to be unknown (never "none"), facts that could not be looked up at all are admitted,
// and only real facts lend the local answer confidence. Local composer and LLM prompt alike; the embedded
// store reads usage from the demo data.
#include "actors/account/account_store.hpp"
#include "actors/generator/local_composer.hpp"
#include "actors/generator/prompt.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using Catch::Matchers::Contains;

namespace {

account_facts facts() {
  account_facts a;
  a.available = true;
  a.company = "Acme Corporation";
  a.user_name = "Alice Nguyen";
  a.user_role = "owner";
  a.plan = "business";
  a.seats_purchased = 25;
  a.seats_used = 18;
  a.price = 250;
  a.currency = "USD";
  a.invoices = {{"INV-3", "2026-11-01", 250.0, "USD", "paid", ""}};
  a.open_tickets = {{"TCK-1", "Build stuck", "open", "2026-11-20"}};
  a.usage_period_start = "2026-11-01";
  a.usage_period_end = "2026-11-30";
  a.usage = {{"builds", 340, 1000, ""}, {"bandwidth", 12.5, 0, "GB"}};
  return a;
}

generate_request request(intent in, account_facts a, const std::string& question) {
  generate_request r;
  r.tenant = tenant_id{"acme"};
  r.question = question;
  r.intent.intent = in;
  r.intent.confidence = 0.9;
  r.account = std::move(a);
  return r;
}

std::string answer(intent in, account_facts a, const std::string& question = "What does my invoice say?") {
  local_composer composer{composer_options{}};
  return composer.compose(request(in, std::move(a), question)).text;
}

} // namespace

TEST_CASE("a billing answer shows the period's usage next to the plan and invoices", "[account][answer]") {
  auto text = answer(intent::billing, facts());
  CHECK_THAT(text, Contains("you are on the business plan"));
  CHECK_THAT(text, Contains(" Usage this period (2026-11-01 to 2026-11-30): builds 340 of 1000; bandwidth 12.50 GB."));
  CHECK_THAT(text, Contains("Recent invoices: INV-3"));
  auto account = answer(intent::account, facts(), "Who is on my account?");
  CHECK_THAT(account, Contains("Usage this period"));
}

TEST_CASE("invoices that could not be fetched are unknown, not absent", "[account][answer]") {
  auto a = facts();
  a.invoices.clear();
  a.missing = {{"invoices", account_failure::timeout}};
  auto text = answer(intent::billing, a);
  CHECK_THAT(text, Contains("I could not retrieve your invoices just now."));
  CHECK(text.find("There are no invoices") == std::string::npos);
  CHECK_THAT(text, Contains("you are on the business plan"));  // the rest is still used
}

TEST_CASE("a missing subscription is said, and the answer does not claim the confidence of facts",
          "[account][answer]") {
  auto a = facts();
  a.company.clear();
  a.plan.clear();
  a.missing = {{"subscription", account_failure::http_status}};
  local_composer composer{composer_options{}};
  auto g = composer.compose(request(intent::billing, a, "What plan am I on and what did my invoice cost?"));
  CHECK_THAT(g.text, Contains("For your account: I could not retrieve your subscription details just now."));
  CHECK_THAT(g.text, Contains("Recent invoices: INV-3"));
  auto full = composer.compose(request(intent::billing, facts(), "What plan am I on and what did my invoice cost?"));
  CHECK(full.confidence >= 0.8);
  CHECK(g.confidence < full.confidence);
}

TEST_CASE("open tickets that could not be fetched are said to be unknown", "[account][answer]") {
  auto a = facts();
  a.open_tickets.clear();
  a.missing = {{"open_tickets", account_failure::bad_response}};
  CHECK_THAT(answer(intent::account, a, "What is open on my account?"),
             Contains("I could not retrieve your open tickets just now."));
}

TEST_CASE("account facts that could not be looked up at all are admitted, unknown users are not mentioned",
          "[account][answer]") {
  account_facts failed;
  failed.failure = account_failure::unreachable;
  auto text = answer(intent::billing, failed, "Why was my invoice charged twice?");
  CHECK_THAT(text, Contains("I could not look up your account details just now"));
  account_facts not_asked;
  CHECK(answer(intent::billing, not_asked).find("account details") == std::string::npos);
  account_facts unknown;
  unknown.failure = account_failure::not_found;
  CHECK(answer(intent::billing, unknown).find("account details") == std::string::npos);
}

TEST_CASE("the LLM prompt carries usage and marks missing parts as unknown", "[account][answer][prompt]") {
  auto a = facts();
  a.invoices.clear();
  a.missing = {{"invoices", account_failure::timeout}};
  auto req = answer_prompt(request(intent::billing, a, "What did I pay?"), prompt_options{});
  CHECK_THAT(req.system, Contains("- usage period: 2026-11-01 to 2026-11-30\n"));
  CHECK_THAT(req.system, Contains("- usage: builds: 340 of 1000\n"));
  CHECK_THAT(req.system, Contains("- usage: bandwidth: 12.5 GB\n"));
  CHECK_THAT(req.system, Contains("- not available right now: invoices (unknown: do not say there are none)\n"));
  account_facts failed;
  failed.failure = account_failure::timeout;
  auto none = answer_prompt(request(intent::billing, failed, "What did I pay?"), prompt_options{});
  CHECK_THAT(none.system, Contains("Account facts: could not be looked up just now."));
}

TEST_CASE("the embedded store reads the demo tenants' usage", "[account][answer]") {
  auto store = account_store::load(std::string(SA_SOURCE_DIR) + "/data/tenants/accounts.json");
  REQUIRE(store.ok());
  auto a = (*store)->lookup("acme", "alice");
  REQUIRE(a.available);
  CHECK(a.usage_period_start == "2026-11-01");
  CHECK(a.usage_period_end == "2026-11-30");
  REQUIRE(a.usage.size() == 4);
  CHECK(a.usage[0].name == "projects");
  CHECK(a.usage[0].used == Approx(12));
  CHECK(a.usage[2].unit == "min");
  CHECK(a.usage[2].limit == 0);
  CHECK((*store)->lookup("globex", "carol").usage[1].used == Approx(37));
  auto unknown = (*store)->lookup("acme", "carol");
  CHECK_FALSE(unknown.available);
  CHECK(unknown.failure == account_failure::not_found);
}
