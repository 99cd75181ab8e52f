// The embedded account store: the shipped demo tenants, tenant-scoped lookups, and every rejection of a
// malformed file (the message names the file and the field).
#include "tests/support/temp_file.hpp"
#include "actors/account/account_store.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using Catch::Matchers::Contains;
using strings = std::vector<std::string>;

namespace {

const std::string shipped_file = std::string(SA_SOURCE_DIR) + "/data/tenants/accounts.json";

/// Files written by the tests (removed at scope exit).
class temp_file : public sa::test::temp_file {
public:
  explicit temp_file(const std::string& text) : sa::test::temp_file(text, ".json") {}
};

const sa::account_store& shipped() {
  static const auto store = [] {
    auto r = sa::account_store::load(shipped_file);
    if (!r.ok())
      FAIL(r.error());
    return *r;
  }();
  return *store;
}

/// Loads `text` from a temp file; returns the error (the load must fail) and the file's path.
std::pair<std::string, std::string> load_error(const std::string& text) {
  temp_file f{text};
  auto r = sa::account_store::load(f.path());
  REQUIRE_FALSE(r.ok());
  return {r.error(), f.path()};
}

const std::string valid_tenant = R"({
  "id": "t1", "name": "T One", "plan": "pro", "status": "active",
  "seats": {"purchased": 5, "used": 2},
  "billing": {"cycle": "yearly", "price": {"amount": 120.5, "currency": "EUR"}},
  "users": [{"id": "u1", "name": "User One", "role": "owner"}, {"id": "u2"}],
  "invoices": [{"id": "I-1", "date": "2026-01-01", "amount": 1, "currency": "EUR", "status": "paid"},
               {"id": "I-3", "date": "2026-03-01", "amount": 3, "currency": "EUR", "status": "open"},
               {"id": "I-2", "date": "2026-02-01", "amount": 2, "currency": "EUR", "status": "paid"}],
  "open_tickets": [{"id": "T-1", "subject": "Help"}]
})";

} // namespace

TEST_CASE("the shipped file lists the demo tenants and their users in file order", "[account]") {
  const auto& s = shipped();
  CHECK(s.tenants() == strings{"acme", "globex"});
  CHECK(s.users("acme") == strings{"alice", "bob", "dana"});
  CHECK(s.users("globex") == strings{"carol"});
  CHECK(s.users("initech").empty());
  CHECK(s.has_tenant("acme"));
  CHECK_FALSE(s.has_tenant("ACME"));
  CHECK(s.has_user("acme", "alice"));
  CHECK(s.has_user("globex", "carol"));
}

TEST_CASE("acme's alice sees the business plan, billing details and invoices newest first", "[account]") {
  auto a = shipped().lookup("acme", "alice");
  REQUIRE(a.available);
  CHECK(a.company == "Acme Corporation");
  CHECK(a.user_name == "Alice Nguyen");
  CHECK(a.user_role == "owner");
  CHECK(a.plan == "business");
  CHECK(a.plan_status == "active");
  CHECK(a.seats_purchased == 25);
  CHECK(a.seats_used == 18);
  CHECK(a.billing_cycle == "monthly");
  CHECK(a.price == Approx(250.0));
  CHECK(a.currency == "USD");
  CHECK(a.next_renewal == "2026-12-01");
  CHECK(a.payment_method == "Visa ending 4242");

  REQUIRE(a.invoices.size() == 6);
  for (std::size_t i = 1; i < a.invoices.size(); ++i)
    CHECK(a.invoices[i - 1].date >= a.invoices[i].date);
  // Same-date invoices keep their file order (stable sort).
  CHECK(a.invoices[0].id == "INV-2026-0142");
  CHECK(a.invoices[1].id == "INV-2026-0143");
  CHECK(a.invoices[1].status == "refunded");
  CHECK(a.invoices.back().id == "INV-2026-0071");
  CHECK(a.invoices[4].status == "failed");
  CHECK(a.invoices[4].amount == Approx(250.0));
  CHECK(a.invoices[4].currency == "USD");
  CHECK_THAT(a.invoices[4].description, Contains("card declined"));

  REQUIRE(a.open_tickets.size() == 2);
  CHECK(a.open_tickets[0].id == "TCK-5012");
  CHECK(a.open_tickets[0].status == "open");
  CHECK(a.open_tickets[0].opened == "2026-11-20");
}

TEST_CASE("another acme user shares the account facts but has their own name and role", "[account]") {
  auto b = shipped().lookup("acme", "bob");
  REQUIRE(b.available);
  CHECK(b.user_name == "Bob Martin");
  CHECK(b.user_role == "member");
  CHECK(b.plan == "business");
  CHECK(b.invoices.size() == 6);
}

TEST_CASE("globex's carol sees the free community plan without invoices", "[account]") {
  auto c = shipped().lookup("globex", "carol");
  REQUIRE(c.available);
  CHECK(c.company == "Globex Open Source");
  CHECK(c.user_name == "Carol Diaz");
  CHECK(c.user_role == "owner");
  CHECK(c.plan == "community");
  CHECK(c.price == Approx(0.0));
  CHECK(c.next_renewal.empty());
  CHECK(c.payment_method == "none on file (free plan)");
  CHECK(c.invoices.empty());
  REQUIRE(c.open_tickets.size() == 1);
  CHECK(c.open_tickets[0].id == "TCK-5021");
}

TEST_CASE("a user is never found under another tenant", "[account][tenant]") {
  const auto& s = shipped();
  CHECK_FALSE(s.lookup("acme", "carol").available);
  CHECK_FALSE(s.lookup("globex", "alice").available);
  CHECK_FALSE(s.has_user("acme", "carol"));
  CHECK_FALSE(s.has_user("globex", "alice"));
  CHECK_FALSE(s.lookup("initech", "alice").available);
  CHECK_FALSE(s.lookup("", "alice").available);
  CHECK_FALSE(s.lookup("acme", "").available);
  auto none = s.lookup("acme", "carol");
  CHECK(none.company.empty());
  CHECK(none.invoices.empty());
}

TEST_CASE("a minimal valid file loads, with defaults for optional fields", "[account]") {
  temp_file f{R"({"tenants": [)" + valid_tenant + "]}"};
  auto r = sa::account_store::load(f.path());
  REQUIRE(r.ok());
  auto u1 = (*r)->lookup("t1", "u1");
  REQUIRE(u1.available);
  CHECK(u1.billing_cycle == "yearly");
  CHECK(u1.price == Approx(120.5));
  CHECK(u1.currency == "EUR");
  CHECK(u1.next_renewal.empty());
  CHECK(u1.payment_method.empty());
  REQUIRE(u1.invoices.size() == 3);
  CHECK(u1.invoices[0].id == "I-3");
  CHECK(u1.invoices[1].id == "I-2");
  CHECK(u1.invoices[2].id == "I-1");
  REQUIRE(u1.open_tickets.size() == 1);
  CHECK(u1.open_tickets[0].status == "open");  // default
  auto u2 = (*r)->lookup("t1", "u2");
  CHECK(u2.user_name == "u2");      // defaults to the id
  CHECK(u2.user_role == "member");  // default role
}

TEST_CASE("an empty tenants array is a valid, empty store", "[account]") {
  temp_file f{R"({"tenants": []})"};
  auto r = sa::account_store::load(f.path());
  REQUIRE(r.ok());
  CHECK((*r)->tenants().empty());
  CHECK_FALSE((*r)->lookup("acme", "alice").available);
}

TEST_CASE("a missing file is rejected, naming the file", "[account][errors]") {
  auto r = sa::account_store::load("/nonexistent/dir/accounts.json");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Contains("cannot read '/nonexistent/dir/accounts.json'"));
}

TEST_CASE("a file that is not JSON is rejected, naming the file", "[account][errors]") {
  auto [error, path] = load_error("{\"tenants\": [ this is not json");
  CHECK_THAT(error, Contains("'" + path + "' is not valid JSON"));
}

TEST_CASE("a file without a tenants array is rejected, naming the file", "[account][errors]") {
  for (auto text : {R"({})", R"({"tenants": {}})", R"({"tenants": "acme"})", R"([])", R"("tenants")"}) {
    INFO(text);
    auto [error, path] = load_error(text);
    CHECK_THAT(error, Contains("'" + path + "'"));
    CHECK_THAT(error, Contains("expected an object with a 'tenants' array"));
  }
}

TEST_CASE("a missing or mistyped field is rejected, naming the file and the field path", "[account][errors]") {
  struct example {
    std::string from, to, expected;
  };
  const std::vector<example> examples{
    {R"("plan": "pro", )", "", "tenants[t1].plan: missing"},
    {R"("name": "T One")", R"("name": 7)", "tenants[t1].name: wrong type (number)"},
    {R"("purchased": 5)", R"("purchased": "five")", "tenants[t1].seats.purchased: wrong type (string)"},
    {R"("cycle": "yearly", )", "", "tenants[t1].billing.cycle: missing"},
    {R"("amount": 120.5, )", "", "tenants[t1].billing.price.amount: missing"},
    {R"("date": "2026-03-01", )", "", "tenants[t1].invoices.date: missing"},
    {R"("subject": "Help")", R"("subject": null)", "tenants[t1].open_tickets.subject: wrong type (null)"},
    {R"("users": [{"id": "u1", "name": "User One", "role": "owner"}, {"id": "u2"}],)", "",
     "tenants[t1].users: missing or not an array"},
    {R"({"id": "u2"})", R"({"name": "no id"})", "tenants[t1].users.id: missing"},
  };
  for (const auto& e : examples) {
    auto tenant = valid_tenant;
    auto at = tenant.find(e.from);
    REQUIRE(at != std::string::npos);
    tenant.replace(at, e.from.size(), e.to);
    INFO(tenant);
    auto [error, path] = load_error(R"({"tenants": [)" + tenant + "]}");
    CHECK_THAT(error, Contains("account store: '" + path + "':"));
    CHECK_THAT(error, Contains(e.expected));
  }
}

TEST_CASE("a tenant without an id is rejected by its index", "[account][errors]") {
  auto [error, path] = load_error(R"({"tenants": [{"name": "Nameless"}, 42]})");
  CHECK_THAT(error, Contains("'" + path + "'"));
  CHECK_THAT(error, Contains("tenants[0].id: missing"));
  CHECK_THAT(error, Contains("tenants[1]: expected an object"));
}

TEST_CASE("every error in a file is reported, one per line", "[account][errors]") {
  auto tenant = valid_tenant;
  tenant.replace(tenant.find(R"("plan": "pro", )"), 15, "");
  tenant.replace(tenant.find(R"("status": "active",)"), 19, "");
  auto [error, path] = load_error(R"({"tenants": [)" + tenant + "]}");
  CHECK_THAT(error, Contains("\n  tenants[t1].plan: missing"));
  CHECK_THAT(error, Contains("\n  tenants[t1].status: missing"));
}

TEST_CASE("a duplicate tenant id is rejected", "[account][errors]") {
  auto [error, path] = load_error(R"({"tenants": [)" + valid_tenant + "," + valid_tenant + "]}");
  CHECK_THAT(error, Contains("tenants[t1]: duplicate tenant id"));
}
