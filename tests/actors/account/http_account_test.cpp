// The HTTP account backend over a real loopback HTTP server (tests/support/fake_account_api): the four
// lookups, timeouts and partial facts, failures that degrade, the auth header from the environment, the
// cache and coalescing, and tenant isolation under 1,000 attempts. Every wait has a deadline; nothing
// sleeps.
#include "tests/support/fake_account_api.hpp"

#include "actors/account/http_account_actor.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace sa;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sa::test::fake_account_api;

namespace {

const auto no_env = [](const char*) -> const char* { return nullptr; };

account_api::http_settings settings_for(const std::string& base_url, int timeout_ms = 2000, int ttl_ms = 0) {
  config::account_config c;
  c.backend = "http";
  c.http.base_url = base_url;
  c.http.timeout_ms = timeout_ms;
  c.http.cache_ttl_ms = ttl_ms;
  auto s = account_http_settings_from(c, no_env);
  REQUIRE(s.ok());
  return *s;
}

/// An actor system with the product's types, an http client and the HTTP account actor.
struct backend {
  explicit backend(account_api::http_settings s) {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    client = std::make_shared<http_client>();
    accounts = spawn_http_accounts(*sys, std::make_shared<const account_api::http_settings>(std::move(s)), client, stats);
  }
  ~backend() {
    caf::anon_send_exit(accounts, caf::exit_reason::user_shutdown);
    accounts = nullptr;
    sys.reset();  // waits for the actor
    client->stop();
  }

  account_facts ask(const std::string& tenant, const std::string& user) {
    caf::scoped_actor self{*sys};
    account_facts out;
    self->request(accounts, 20s, account_request{tenant_id{tenant}, user_id{user}})
      .receive([&](account_facts& f) { out = std::move(f); },
               [&](caf::error& e) { FAIL("account request failed: " << sys->render(e)); });
    return out;
  }

  /// Sends every request at once, then collects the answers (in order).
  std::vector<account_facts> ask_all(const std::vector<std::pair<std::string, std::string>>& who) {
    caf::scoped_actor self{*sys};
    using handle = decltype(self->request(accounts, 20s, account_request{}));
    std::vector<handle> pending;
    for (const auto& [tenant, user] : who)
      pending.push_back(self->request(accounts, 20s, account_request{tenant_id{tenant}, user_id{user}}));
    std::vector<account_facts> out;
    for (auto& h : pending)
      h.receive([&](account_facts& f) { out.push_back(std::move(f)); },
                [&](caf::error& e) { FAIL("account request failed: " << sys->render(e)); });
    return out;
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<http_client> client;
  std::shared_ptr<account_http_stats> stats = std::make_shared<account_http_stats>();
  account_actor accounts;
};

bool lacks(const account_facts& f, const std::string& lookup, account_failure why) {
  for (const auto& g : f.missing)
    if (g.lookup == lookup)
      return g.reason == why;
  return false;
}

/// Nothing of globex's data (fake_account_api) in facts answered for anyone else.
bool has_globex_data(const account_facts& f) {
  if (f.company.find("Globex") != std::string::npos)
    return true;
  for (const auto& i : f.invoices)
    if (i.id.find("GLOBEX") != std::string::npos)
      return true;
  for (const auto& t : f.open_tickets)
    if (t.id.find("GLOBEX") != std::string::npos)
      return true;
  for (const auto& m : f.usage)
    if (m.name.find("globex") != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("the four lookups answer one account_facts from the API", "[account][http]") {
  fake_account_api api;
  backend b{settings_for(api.base_url())};
  auto f = b.ask("acme", "alice");
  REQUIRE(f.available);
  CHECK(f.missing.empty());
  CHECK(f.failure == account_failure::none);
  CHECK(f.company == "Acme Corp (via API)");
  CHECK(f.user_name == "Alice Nguyen");
  CHECK(f.user_role == "owner");
  CHECK(f.seats_purchased == 30);
  CHECK(f.price == Approx(300.0));
  REQUIRE(f.invoices.size() == 2);
  CHECK(f.invoices[0].id == "API-INV-7");
  REQUIRE(f.usage.size() == 2);
  CHECK(f.usage[0].limit == Approx(2000));
  CHECK(f.usage_period_start == "2026-11-15");
  REQUIRE(f.open_tickets.size() == 1);
  CHECK(f.open_tickets[0].status == "open");
  // One GET per lookup, with the session's tenant and user in the URL and JSON asked for.
  auto seen = api.server().requests();
  REQUIRE(seen.size() == 4);
  std::vector<std::string> targets;
  for (const auto& r : seen) {
    CHECK(r.method == "GET");
    CHECK(r.header("Accept") == "application/json");
    CHECK(r.header("Authorization").empty());  // no auth_header_env configured
    targets.push_back(r.target);
  }
  std::sort(targets.begin(), targets.end());
  CHECK(targets == std::vector<std::string>{"/v1/tenants/acme/users/alice/invoices",
                                            "/v1/tenants/acme/users/alice/subscription",
                                            "/v1/tenants/acme/users/alice/tickets?status=open",
                                            "/v1/tenants/acme/users/alice/usage"});
  CHECK(b.stats->lookups == 4);
  CHECK(b.stats->lookup_failures == 0);
}

TEST_CASE("a lookup not configured is not made", "[account][http]") {
  fake_account_api api;
  config::account_config c;
  c.backend = "http";
  c.http.base_url = api.base_url();
  c.http.usage_url = "";
  c.http.open_tickets_url = "";
  auto s = account_http_settings_from(c, no_env);
  REQUIRE(s.ok());
  backend b{*s};
  auto f = b.ask("acme", "bob");
  REQUIRE(f.available);
  CHECK(f.missing.empty());
  CHECK(f.user_name == "Bob Martin");
  CHECK(f.usage.empty());
  CHECK(api.count() == 2);
  CHECK(api.count("usage") == 0);
}

TEST_CASE("a slow endpoint times out and the others still answer, flagged as partial", "[account][http][timeout]") {
  fake_account_api api;
  api.delay("invoices", 5000ms);
  backend b{settings_for(api.base_url(), 300)};
  auto start = std::chrono::steady_clock::now();
  auto f = b.ask("acme", "alice");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 290ms);
  CHECK(took < 3000ms);  // joined under the timeout, not the slow endpoint's 5 s
  REQUIRE(f.available);
  CHECK(f.company == "Acme Corp (via API)");
  CHECK(f.usage.size() == 2);
  CHECK(f.invoices.empty());
  REQUIRE(f.missing.size() == 1);
  CHECK(lacks(f, "invoices", account_failure::timeout));
  CHECK(f.lacks("invoices"));
  CHECK(b.stats->partial == 1);
  CHECK(b.stats->lookup_failures == 1);
}

TEST_CASE("every endpoint too slow: no account facts, reason timeout", "[account][http][timeout]") {
  fake_account_api api;
  for (auto lookup : {"subscription", "invoices", "usage", "tickets"})
    api.delay(lookup, 5000ms);
  backend b{settings_for(api.base_url(), 200)};
  auto f = b.ask("acme", "alice");
  CHECK_FALSE(f.available);
  CHECK(f.failure == account_failure::timeout);
  CHECK(f.missing.size() == 4);
  CHECK(f.company.empty());
  CHECK(b.stats->unavailable == 1);
}

TEST_CASE("a 500 and a body that is not JSON fail their lookups and the rest is used", "[account][http]") {
  fake_account_api api;
  api.replace("usage", 500, R"({"error": "internal"})");
  api.replace("invoices", 200, "<html>oops</html>");
  backend b{settings_for(api.base_url())};
  auto f = b.ask("acme", "alice");
  REQUIRE(f.available);
  CHECK(f.company == "Acme Corp (via API)");
  CHECK(f.open_tickets.size() == 1);
  CHECK(f.missing.size() == 2);
  CHECK(lacks(f, "usage", account_failure::http_status));
  CHECK(lacks(f, "invoices", account_failure::bad_response));
}

TEST_CASE("a response of the wrong shape or too large fails its lookup", "[account][http]") {
  fake_account_api api;
  api.replace("tickets", 200, R"({"tickets": [{"id": 42, "subject": "x"}]})");
  api.replace("usage", 200, R"({"metrics": [)" + std::string(4000, ' ') + R"(]})");
  auto s = settings_for(api.base_url());
  s.max_response_bytes = 1024;
  backend b{s};
  auto f = b.ask("acme", "alice");
  REQUIRE(f.available);
  CHECK(lacks(f, "open_tickets", account_failure::bad_response));
  CHECK(lacks(f, "usage", account_failure::bad_response));
  CHECK(f.invoices.size() == 2);
}

TEST_CASE("every lookup failing gives no account facts with the first lookup's reason", "[account][http]") {
  fake_account_api api;
  for (auto lookup : {"subscription", "invoices", "usage", "tickets"})
    api.replace(lookup, 503, "{}");
  backend b{settings_for(api.base_url())};
  auto f = b.ask("acme", "alice");
  CHECK_FALSE(f.available);
  CHECK(f.failure == account_failure::http_status);
  CHECK(f.missing.size() == 4);
}

TEST_CASE("an API that cannot be reached gives no account facts, reason unreachable", "[account][http]") {
  std::string base_url;
  {
    sa::test::loopback_http_server gone{[](const sa::test::received_request&) { return sa::test::scripted_reply{}; }};
    base_url = gone.base_url();
  }  // closed: its port now refuses connections
  backend b{settings_for(base_url)};
  auto f = b.ask("acme", "alice");
  CHECK_FALSE(f.available);
  CHECK(f.failure == account_failure::unreachable);
}

TEST_CASE("a user the API does not know is not_found, ids a URL cannot carry are refused without a request",
          "[account][http]") {
  fake_account_api api;
  backend b{settings_for(api.base_url())};
  auto f = b.ask("acme", "mallory");
  CHECK_FALSE(f.available);
  CHECK(f.failure == account_failure::not_found);
  CHECK(api.count() == 4);
  for (auto user : {"", ".", ".."}) {
    auto g = b.ask("acme", user);
    CHECK_FALSE(g.available);
    CHECK(g.failure == account_failure::not_found);
  }
  CHECK_FALSE(b.ask("..", "alice").available);
  CHECK(api.count() == 4);
}

TEST_CASE("the auth header carries the value of the environment variable, which no error quotes",
          "[account][http][auth]") {
  fake_account_api api;
  auto var = "SA_TEST_ACCOUNT_TOKEN_" + std::to_string(::getpid());
  ::setenv(var.c_str(), "Bearer tok-7f3a9c", 1);
  config::account_config c;
  c.backend = "http";
  c.http.base_url = api.base_url();
  c.http.auth_header_env = var;
  auto s = account_http_settings_from(c);  // the real environment
  REQUIRE(s.ok());
  {
    backend b{*s};
    REQUIRE(b.ask("acme", "alice").available);
  }
  auto seen = api.server().requests();
  REQUIRE(seen.size() == 4);
  for (const auto& r : seen)
    CHECK(r.header("Authorization") == "Bearer tok-7f3a9c");

  c.http.auth_header = "X-Api-Key";
  s = account_http_settings_from(c);
  REQUIRE(s.ok());
  {
    backend b{*s};
    REQUIRE(b.ask("acme", "bob").available);
  }
  seen = api.server().requests();
  REQUIRE(seen.size() == 8);
  CHECK(seen.back().header("X-Api-Key") == "Bearer tok-7f3a9c");

  ::setenv(var.c_str(), "Bearer tok-7f3a9c\r\nX-Evil: 1", 1);
  auto bad = account_http_settings_from(c);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Contains(var + " (account.http.auth_header_env) holds a line break"));
  CHECK(bad.error().find("tok-7f3a9c") == std::string::npos);
  ::unsetenv(var.c_str());
  auto unset = account_http_settings_from(c);
  REQUIRE_FALSE(unset.ok());
  CHECK_THAT(unset.error(), Contains("account.http.auth_header_env names " + var +
                                     ", which is not set in the environment (it holds the value of the X-Api-Key header"));
}

TEST_CASE("a second request within the TTL is answered from the cache", "[account][http][cache]") {
  fake_account_api api;
  backend b{settings_for(api.base_url(), 2000, 60000)};
  auto first = b.ask("acme", "alice");
  auto second = b.ask("acme", "alice");
  CHECK(api.count() == 4);
  CHECK(b.stats->cache_hits == 1);
  CHECK(second.company == first.company);
  CHECK(second.invoices.size() == first.invoices.size());
  // Another user of the same tenant, and the same user id in another tenant, are other entries.
  b.ask("acme", "bob");
  CHECK(api.count() == 8);
}

TEST_CASE("after the TTL the lookups are made again", "[account][http][cache]") {
  fake_account_api api;
  backend b{settings_for(api.base_url(), 2000, 50)};
  REQUIRE(b.ask("acme", "alice").available);
  REQUIRE(api.count() == 4);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (api.count() < 8 && std::chrono::steady_clock::now() < deadline)
    REQUIRE(b.ask("acme", "alice").available);
  CHECK(api.count() == 8);
}

TEST_CASE("a failed lookup is not cached: the next request asks for it again, and only for it",
          "[account][http][cache]") {
  fake_account_api api;
  api.replace("invoices", 500, "{}");
  backend b{settings_for(api.base_url(), 2000, 60000)};
  auto first = b.ask("acme", "alice");
  REQUIRE(first.available);
  CHECK(first.lacks("invoices"));
  api.reset();
  auto second = b.ask("acme", "alice");
  REQUIRE(second.available);
  CHECK(second.missing.empty());
  CHECK(second.invoices.size() == 2);
  CHECK(api.count("invoices") == 2);
  CHECK(api.count("subscription") == 1);
  CHECK(api.count("usage") == 1);
  CHECK(api.count("tickets") == 1);
  CHECK(b.ask("acme", "alice").available);
  CHECK(api.count() == 5);
}

TEST_CASE("identical requests in flight share one fetch", "[account][http][coalesce]") {
  fake_account_api api;
  for (auto lookup : {"subscription", "invoices", "usage", "tickets"})
    api.delay(lookup, 300ms);
  backend b{settings_for(api.base_url(), 5000, 0)};  // no cache: only coalescing can save requests
  std::vector<std::pair<std::string, std::string>> who(20, {"acme", "alice"});
  who.emplace_back("acme", "bob");
  auto answers = b.ask_all(who);
  REQUIRE(answers.size() == 21);
  for (std::size_t i = 0; i < 20; ++i) {
    CHECK(answers[i].available);
    CHECK(answers[i].user_name == "Alice Nguyen");
    CHECK(answers[i].invoices.size() == 2);
  }
  CHECK(answers[20].user_name == "Bob Martin");
  CHECK(api.count() == 8);  // alice's four lookups once, bob's once
  CHECK(b.stats->coalesced == 19);
}

TEST_CASE("an API echoing another tenant's data is not believed", "[account][http][tenant]") {
  fake_account_api api;
  api.replace("invoices", 200, R"({"tenant": "globex", "user": "carol", "invoices": [{"id": "GLOBEX-INV-9",
    "date": "2026-11-02", "amount": 9, "currency": "USD", "status": "paid"}]})");
  backend b{settings_for(api.base_url())};
  auto f = b.ask("acme", "alice");
  REQUIRE(f.available);
  CHECK(lacks(f, "invoices", account_failure::wrong_account));
  CHECK(f.invoices.empty());
  CHECK_FALSE(has_globex_data(f));
}

TEST_CASE("1,000 attempts from tenant acme to reach tenant globex's account data all fail",
          "[account][http][tenant][isolation]") {
  fake_account_api api;
  backend b{settings_for(api.base_url(), 5000, 0)};
  // Sanity: globex's data is there for globex's own user.
  REQUIRE(has_globex_data(b.ask("globex", "carol")));
  auto before = api.server().request_count();
  // The session context is acme's; what an attacker controls is at most the user part of a request.
  const std::vector<std::string> patterns{
    "carol", "../../globex/users/carol", "carol/../../../globex/users/carol", "%2e%2e/%2e%2e/globex/users/carol",
    "carol?tenant=globex", "carol#globex", "..%2F..%2Fglobex%2Fusers%2Fcarol", "carol/subscription?x=",
    "globex/users/carol", "./carol"};
  std::vector<std::pair<std::string, std::string>> attempts;
  for (int i = 0; i < 1000; ++i) {
    auto user = patterns[static_cast<std::size_t>(i) % patterns.size()];
    if (i >= static_cast<int>(patterns.size()))
      user += (i % 2 ? "/" : "&n=") + std::to_string(i);  // distinct: nothing is cached or coalesced
    attempts.emplace_back("acme", user);
  }
  std::size_t answered = 0;
  for (std::size_t at = 0; at < attempts.size(); at += 50) {
    std::vector<std::pair<std::string, std::string>> batch(attempts.begin() + static_cast<std::ptrdiff_t>(at),
                                                           attempts.begin() + static_cast<std::ptrdiff_t>(at + 50));
    for (const auto& f : b.ask_all(batch)) {
      ++answered;
      CHECK_FALSE(f.available);
      CHECK_FALSE(has_globex_data(f));
    }
  }
  CHECK(answered == 1000);
  // The API saw acme, and only acme, in the tenant segment of every URL; each user id stayed one segment.
  auto seen = api.server().requests();
  REQUIRE(seen.size() == before + 4000);
  std::size_t acme_only = 0;
  for (std::size_t i = before; i < seen.size(); ++i) {
    auto t = fake_account_api::parse(seen[i].target);
    REQUIRE(t);
    CHECK(t->tenant == "acme");
    CHECK(seen[i].target.rfind("/v1/tenants/acme/users/", 0) == 0);
    acme_only += t->tenant == "acme" ? 1 : 0;
  }
  CHECK(acme_only == 4000);
}

TEST_CASE("neither the auth header's value nor the user id reaches the logs, whatever fails",
          "[account][http][logs]") {
  auto dir = std::filesystem::temp_directory_path() / ("sa-account-logs-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "log.txt").string();
  REQUIRE(sa::log::init("debug", file));
  auto var = "SA_TEST_ACCOUNT_SECRET_" + std::to_string(::getpid());
  ::setenv(var.c_str(), "Bearer secret-canary-9d2e", 1);
  const std::string user = "user-canary-4711";
  {
    fake_account_api api;
    api.replace("subscription", 500, "{}");
    api.replace("invoices", 200, R"({"invoices": [{"id": "x"}]})");
    api.replace("usage", 200, "not json user-canary-4711");
    api.delay("tickets", 3000ms);
    config::account_config c;
    c.backend = "http";
    c.http.base_url = api.base_url();
    c.http.timeout_ms = 300;
    c.http.auth_header_env = var;
    auto s = account_http_settings_from(c);
    REQUIRE(s.ok());
    backend b{*s};
    CHECK_FALSE(b.ask("acme", user).available);
    std::string closed;
    {
      sa::test::loopback_http_server gone{[](const sa::test::received_request&) { return sa::test::scripted_reply{}; }};
      closed = gone.base_url();
    }
    c.http.base_url = closed;
    auto refused = account_http_settings_from(c);
    REQUIRE(refused.ok());
    backend b2{*refused};
    CHECK(b2.ask("acme", user).failure == account_failure::unreachable);
  }
  ::unsetenv(var.c_str());
  REQUIRE(sa::log::init("warn", ""));  // releases (and flushes) the file
  std::ifstream in{file};
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove_all(dir);
  auto logs = text.str();
  CHECK_THAT(logs, Contains("event=account_lookup_failed tenant=acme lookup=usage reason=bad_response"));
  CHECK_THAT(logs, Contains("event=failed"));  // the http client's own line for the refused connection
  CHECK_THAT(logs, Contains("/v1/tenants/{tenant}/users/{user}/subscription"));
  CHECK(logs.find("secret-canary") == std::string::npos);
  CHECK(logs.find("user-canary") == std::string::npos);
}
