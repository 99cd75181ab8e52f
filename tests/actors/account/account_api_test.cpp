// The HTTP account backend's plain parts: URL templates (placeholders, encoding, the config loader's
// agreement), each lookup's response read into account_facts (every rejection names the field and never
// a value), the tenant and user the API echoes, combining partial parts, and the cache (TTL, failures
// not stored, size bound) on a clock the test moves.
#include "actors/account/account_api.hpp"
#include "actors/account/account_cache.hpp"
#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace sa;
using account_api::lookup;
using account_api::url_template;
using Catch::Matchers::Contains;

namespace {

account_api::part read(lookup which, const std::string& body, int status = 200) {
  return account_api::read_response(which, status, body, "acme", "alice");
}

std::shared_ptr<const account_api::part> ok_part(lookup which, const std::string& body) {
  auto p = read(which, body);
  REQUIRE(p.ok());
  return std::make_shared<const account_api::part>(std::move(p));
}

const std::string subscription_body = R"({
  "tenant": "acme", "user": "alice", "company": "Acme Corporation", "plan": "business", "status": "active",
  "user_name": "Alice Nguyen", "user_role": "owner", "seats": {"purchased": 25, "used": 18},
  "billing": {"cycle": "monthly", "price": {"amount": 250.0, "currency": "USD"}, "next_renewal": "2026-12-01",
              "payment_method": "Visa ending 4242"}})";
const std::string invoices_body = R"({"invoices": [
  {"id": "INV-1", "date": "2026-09-01", "amount": 250, "currency": "USD", "status": "paid"},
  {"id": "INV-3", "date": "2026-11-01", "amount": 250.5, "currency": "USD", "status": "open", "description": "Nov"},
  {"id": "INV-2", "date": "2026-10-01", "amount": 250, "currency": "USD", "status": "failed"}]})";
const std::string usage_body = R"({"period": {"start": "2026-11-01", "end": "2026-11-30"},
  "metrics": [{"name": "builds", "used": 340, "limit": 1000}, {"name": "bandwidth", "used": 12.5, "limit": null,
               "unit": "GB"}]})";
const std::string tickets_body = R"({"tickets": [{"id": "TCK-1", "subject": "Build stuck", "opened": "2026-11-20"},
  {"id": "TCK-2", "subject": "Domain", "status": "pending"}]})";

} // namespace

TEST_CASE("a URL template substitutes the tenant and user percent-encoded", "[account][http]") {
  auto t = url_template::parse("/v1/tenants/{tenant}/users/{user}/invoices?open=1");
  REQUIRE(t.ok());
  CHECK(t->expand("acme", "alice") == "/v1/tenants/acme/users/alice/invoices?open=1");
  // Nothing an id holds can add a segment, a query, a fragment or an escape of its own.
  CHECK(t->expand("acme", "../../globex/users/carol") ==
        "/v1/tenants/acme/users/..%2F..%2Fglobex%2Fusers%2Fcarol/invoices?open=1");
  CHECK(t->expand("a b", "c?d=e&f#g%h") == "/v1/tenants/a%20b/users/c%3Fd%3De%26f%23g%25h/invoices?open=1");
  CHECK(t->expand("acme", "jos\xC3\xA9") == "/v1/tenants/acme/users/jos%C3%A9/invoices?open=1");
  CHECK(account_api::url_encode("AZaz09-._~") == "AZaz09-._~");
  auto tenant_only = url_template::parse("/accounts/{tenant}");
  REQUIRE(tenant_only.ok());
  CHECK(tenant_only->expand("acme", "alice") == "/accounts/acme");
  auto empty = url_template::parse("");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("ids a URL must not carry are refused", "[account][http]") {
  CHECK(account_api::valid_id("acme"));
  CHECK(account_api::valid_id("..."));
  CHECK_FALSE(account_api::valid_id(""));
  CHECK_FALSE(account_api::valid_id("."));
  CHECK_FALSE(account_api::valid_id(".."));
}

TEST_CASE("a malformed URL template is refused, and the config loader refuses it naming the key", "[account][http]") {
  struct example {
    std::string text, problem;
  };
  const std::vector<example> examples{
    {"/v1/{tenant}/{account}", "unknown placeholder {account} (known: {tenant}, {user})"},
    {"/v1/{tenant}/{User}", "unknown placeholder {User}"},
    {"/v1/{tenant}/{}", "unknown placeholder {}"},
    {"/v1/{tenant/x", "'{' at offset 4 is not closed by '}'"},
    {"/v1/{ten{ant}", "'{' at offset 4 is not closed by '}'"},
    {"/v1/{tenant}}", "'}' at offset 12 closes no placeholder"},
    {"v1/{tenant}", "expected a path starting with '/'"},
    {"/v1/{tenant} x", "expected no spaces or control characters"},
    {"/v1/{tenant}#top", "expected no fragment"},
    {"/v1/users/{user}", "expected the placeholder {tenant}"},
  };
  for (const auto& e : examples) {
    INFO(e.text);
    auto t = url_template::parse(e.text);
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.error(), Contains(e.problem));
    auto cfg = config::load({"", {"account.http.usage_url=" + e.text}, {}});
    REQUIRE_FALSE(cfg.ok());
    CHECK_THAT(cfg.error(), Contains("config error: account.http.usage_url = "));
    CHECK_THAT(cfg.error(), Contains(e.problem));
  }
}

TEST_CASE("a subscription response maps onto the account facts", "[account][http]") {
  auto p = read(lookup::subscription, subscription_body);
  REQUIRE(p.ok());
  const auto& f = p.facts;
  CHECK(f.company == "Acme Corporation");
  CHECK(f.plan == "business");
  CHECK(f.plan_status == "active");
  CHECK(f.user_name == "Alice Nguyen");
  CHECK(f.user_role == "owner");
  CHECK(f.seats_purchased == 25);
  CHECK(f.seats_used == 18);
  CHECK(f.billing_cycle == "monthly");
  CHECK(f.price == Approx(250.0));
  CHECK(f.currency == "USD");
  CHECK(f.next_renewal == "2026-12-01");
  CHECK(f.payment_method == "Visa ending 4242");
  // Only the required fields: the rest stays empty.
  auto minimal = read(lookup::subscription, R"({"company": "C", "plan": "free", "seats": null})");
  REQUIRE(minimal.ok());
  CHECK(minimal.facts.seats_purchased == 0);
  CHECK(minimal.facts.user_name.empty());
}

TEST_CASE("invoices, usage and open tickets responses map onto the account facts", "[account][http]") {
  auto inv = read(lookup::invoices, invoices_body);
  REQUIRE(inv.ok());
  REQUIRE(inv.facts.invoices.size() == 3);
  CHECK(inv.facts.invoices[0].id == "INV-3");  // newest first
  CHECK(inv.facts.invoices[0].amount == Approx(250.5));
  CHECK(inv.facts.invoices[0].description == "Nov");
  CHECK(inv.facts.invoices[2].id == "INV-1");
  CHECK(read(lookup::invoices, R"({"invoices": []})").ok());

  auto use = read(lookup::usage, usage_body);
  REQUIRE(use.ok());
  CHECK(use.facts.usage_period_start == "2026-11-01");
  CHECK(use.facts.usage_period_end == "2026-11-30");
  REQUIRE(use.facts.usage.size() == 2);
  CHECK(use.facts.usage[0].name == "builds");
  CHECK(use.facts.usage[0].used == Approx(340));
  CHECK(use.facts.usage[0].limit == Approx(1000));
  CHECK(use.facts.usage[1].limit == 0);  // null: no limit
  CHECK(use.facts.usage[1].unit == "GB");

  auto tk = read(lookup::open_tickets, tickets_body);
  REQUIRE(tk.ok());
  REQUIRE(tk.facts.open_tickets.size() == 2);
  CHECK(tk.facts.open_tickets[0].status == "open");  // default
  CHECK(tk.facts.open_tickets[0].opened == "2026-11-20");
  CHECK(tk.facts.open_tickets[1].status == "pending");
}

TEST_CASE("long lists are cut to the first 50 entries (invoices: the newest)", "[account][http]") {
  std::string body = R"({"invoices": [)";
  for (int i = 0; i < 120; ++i)
    body += std::string(i ? "," : "") + R"({"id": "I-)" + std::to_string(i) + R"(", "date": "2026-01-)" +
            (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) + R"(", "amount": 1, "currency": "USD", "status": "paid"})";
  body += "]}";
  auto p = read(lookup::invoices, body);
  REQUIRE(p.ok());
  CHECK(p.facts.invoices.size() == 50);
  CHECK(p.facts.invoices.front().date == "2026-01-28");
}

TEST_CASE("a response of another shape fails its lookup, naming the field but never a value", "[account][http]") {
  struct example {
    lookup which;
    std::string body, problem;
  };
  const std::vector<example> examples{
    {lookup::subscription, R"({"plan": "business"})", "company: missing"},
    {lookup::subscription, R"({"company": "SECRET-CO", "plan": 7})", "plan: expected a string, got number"},
    {lookup::subscription, R"({"company": "C", "plan": "p", "seats": {"purchased": -1, "used": 0}})",
     "seats.purchased: expected a whole number"},
    {lookup::subscription, R"({"company": "C", "plan": "p", "seats": {"purchased": 2.5, "used": 0}})",
     "seats.purchased: expected a whole number"},
    {lookup::subscription, R"({"company": "C", "plan": "p", "billing": {"price": {"amount": "250"}}})",
     "billing.price.amount: expected a number, got string"},
    {lookup::subscription, R"({"company": "C", "plan": "p", "billing": "monthly"})", "billing: expected an object"},
    {lookup::invoices, R"({"items": []})", "invoices: missing"},
    {lookup::invoices, R"({"invoices": {"id": "I"}})", "invoices: expected an array, got object"},
    {lookup::invoices,
     R"({"invoices": [{"id": "I-1", "date": "d", "amount": 1, "currency": "USD", "status": "paid"},
                      {"id": "I-2", "date": "d", "amount": "SECRET-AMOUNT", "currency": "USD", "status": "paid"}]})",
     "invoices[1].amount: expected a number, got string"},
    {lookup::invoices, R"({"invoices": ["I-1"]})", "invoices[0]: expected an object, got string"},
    {lookup::usage, R"({"metrics": [{"name": "builds"}]})", "metrics[0].used: missing"},
    {lookup::usage, R"({"period": [], "metrics": []})", "period: expected an object, got array"},
    {lookup::open_tickets, R"({"tickets": [{"id": "T-1"}]})", "tickets[0].subject: missing"},
    {lookup::open_tickets, R"([1, 2])", "expected a JSON object at the top level, got array"},
    {lookup::open_tickets, R"({"tickets": [)", "body is not valid JSON"},
    {lookup::usage, "", "body is not valid JSON"},
    {lookup::usage, R"({"metrics": [{"name": "x", "used": 1e999}]})", "body is not valid JSON"},
  };
  for (const auto& e : examples) {
    INFO(e.body);
    auto p = read(e.which, e.body);
    CHECK(p.failure == account_failure::bad_response);
    CHECK_THAT(p.problem, Contains(e.problem));
    CHECK(p.problem.find("SECRET") == std::string::npos);
    CHECK_FALSE(p.facts.available);
    CHECK(p.facts.company.empty());
  }
}

TEST_CASE("statuses: 404 is not_found, others outside 2xx http_status, whatever the body", "[account][http]") {
  auto missing = read(lookup::subscription, subscription_body, 404);
  CHECK(missing.failure == account_failure::not_found);
  CHECK(missing.problem == "HTTP 404");
  for (int status : {500, 503, 401, 403, 302, 199}) {
    auto p = read(lookup::subscription, subscription_body, status);
    CHECK(p.failure == account_failure::http_status);
    CHECK(p.problem == "HTTP " + std::to_string(status));
    CHECK(p.facts.company.empty());
  }
  CHECK(read(lookup::subscription, subscription_body, 203).ok());
}

TEST_CASE("a response echoing another tenant or user is rejected whole", "[account][http][tenant]") {
  auto other_tenant = read(lookup::subscription,
                           R"({"tenant": "globex", "company": "Globex Open Source", "plan": "community"})");
  CHECK(other_tenant.failure == account_failure::wrong_account);
  CHECK(other_tenant.problem == "tenant: not the tenant asked for");
  CHECK(other_tenant.facts.company.empty());
  auto other_user = read(lookup::invoices, R"({"tenant": "acme", "user": "carol", "invoices": []})");
  CHECK(other_user.failure == account_failure::wrong_account);
  CHECK(other_user.problem == "user: not the user asked for");
  auto case_differs = read(lookup::invoices, R"({"tenant": "ACME", "invoices": []})");
  CHECK(case_differs.failure == account_failure::wrong_account);
  auto not_a_string = read(lookup::invoices, R"({"tenant": 7, "invoices": []})");
  CHECK(not_a_string.failure == account_failure::bad_response);
  CHECK(read(lookup::invoices, R"({"tenant": "acme", "user": "alice", "invoices": []})").ok());
  CHECK(read(lookup::invoices, R"({"tenant": null, "invoices": []})").ok());
}

TEST_CASE("parts combine into partial facts that say what is missing", "[account][http]") {
  std::array<std::shared_ptr<const account_api::part>, account_api::lookup_count> parts{
    ok_part(lookup::subscription, subscription_body),
    account_api::failed_part(account_failure::timeout, "no answer within 100 ms"),
    ok_part(lookup::usage, usage_body),
    nullptr};  // open tickets not configured
  auto f = account_api::combine(parts);
  CHECK(f.available);
  CHECK(f.failure == account_failure::none);
  CHECK(f.company == "Acme Corporation");
  CHECK(f.usage.size() == 2);
  CHECK(f.invoices.empty());
  REQUIRE(f.missing.size() == 1);
  CHECK(f.missing[0].lookup == "invoices");
  CHECK(f.missing[0].reason == account_failure::timeout);
  CHECK(f.lacks("invoices"));
  CHECK_FALSE(f.lacks("open_tickets"));

  parts = {account_api::failed_part(account_failure::http_status, "HTTP 500"),
           account_api::failed_part(account_failure::timeout, "t"),
           account_api::failed_part(account_failure::bad_response, "b"), nullptr};
  auto none = account_api::combine(parts);
  CHECK_FALSE(none.available);
  CHECK(none.failure == account_failure::http_status);  // the first lookup's reason
  CHECK(none.missing.size() == 3);
}

TEST_CASE("the cache answers within the TTL and forgets after it", "[account][http][cache]") {
  using namespace std::chrono_literals;
  account_cache cache{1000ms, 10};
  account_cache::clock::time_point t0{};
  auto p = ok_part(lookup::invoices, invoices_body);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0) == nullptr);
  cache.put("acme", "alice", lookup::invoices, p, t0);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0 + 999ms) == p);
  CHECK(cache.find("acme", "alice", lookup::subscription, t0 + 1ms) == nullptr);
  CHECK(cache.find("acme", "bob", lookup::invoices, t0 + 1ms) == nullptr);
  CHECK(cache.find("globex", "alice", lookup::invoices, t0 + 1ms) == nullptr);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0 + 1000ms) == nullptr);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0 + 10ms) == nullptr);  // expired means gone
}

TEST_CASE("the cache never stores a failed lookup, and keeps an older good one over it", "[account][http][cache]") {
  using namespace std::chrono_literals;
  account_cache cache{1000ms, 10};
  account_cache::clock::time_point t0{};
  cache.put("acme", "alice", lookup::usage, account_api::failed_part(account_failure::timeout, "t"), t0);
  CHECK(cache.find("acme", "alice", lookup::usage, t0) == nullptr);
  CHECK(cache.size() == 0);
  auto good = ok_part(lookup::usage, usage_body);
  cache.put("acme", "alice", lookup::usage, good, t0);
  cache.put("acme", "alice", lookup::usage, account_api::failed_part(account_failure::http_status, "h"), t0 + 5ms);
  CHECK(cache.find("acme", "alice", lookup::usage, t0 + 10ms) == good);
}

TEST_CASE("the cache keeps at most max_entries pairs, dropping the least recently used", "[account][http][cache]") {
  using namespace std::chrono_literals;
  account_cache cache{60000ms, 2};
  account_cache::clock::time_point t0{};
  auto p = ok_part(lookup::invoices, invoices_body);
  cache.put("acme", "alice", lookup::invoices, p, t0);
  cache.put("acme", "bob", lookup::invoices, p, t0);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0) == p);  // alice is now the most recent
  cache.put("acme", "dana", lookup::invoices, p, t0);
  CHECK(cache.size() == 2);
  CHECK(cache.evictions() == 1);
  CHECK(cache.find("acme", "bob", lookup::invoices, t0) == nullptr);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0) == p);
  CHECK(cache.find("acme", "dana", lookup::invoices, t0) == p);
}

TEST_CASE("a cache with TTL 0 stores nothing", "[account][http][cache]") {
  account_cache cache{std::chrono::milliseconds{0}, 10};
  account_cache::clock::time_point t0{};
  cache.put("acme", "alice", lookup::invoices, ok_part(lookup::invoices, invoices_body), t0);
  CHECK(cache.size() == 0);
  CHECK(cache.find("acme", "alice", lookup::invoices, t0) == nullptr);
}
