// The account section: embedded by default, the http backend's keys, and every cross-check of them
// (placeholders, base URL, auth header and its variable, what backend http needs, the timeout warning).
#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

namespace cfg = sa::config;
using Catch::Matchers::Contains;

namespace {

std::string error_of(const sa::result<cfg::config>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error();
}

sa::result<cfg::config> load_set(std::vector<std::string> overrides, std::vector<std::string> env = {}) {
  return cfg::load({"", std::move(overrides), std::move(env)});
}

} // namespace

TEST_CASE("account.backend is embedded by default, with the http keys at their documented defaults") {
  auto d = cfg::defaults();
  CHECK(d.account.backend == "embedded");
  CHECK(d.account.http.base_url.empty());
  CHECK(d.account.http.subscription_url == "/v1/tenants/{tenant}/users/{user}/subscription");
  CHECK(d.account.http.open_tickets_url == "/v1/tenants/{tenant}/users/{user}/tickets?status=open");
  CHECK(d.account.http.auth_header == "Authorization");
  CHECK(d.account.http.auth_header_env.empty());
  CHECK(d.account.http.timeout_ms == 2000);
  CHECK(d.account.http.cache_ttl_ms == 30000);
  CHECK(d.account.http.cache_max_entries == 10000);
  CHECK(d.account.http.max_response_bytes == 1048576);
  CHECK(d.tenants.accounts_file == "data/tenants/accounts.json");
  auto text = cfg::describe();
  CHECK_THAT(text, Contains("\naccount.backend\n    type: string, one of: embedded, http\n    default: \"embedded\"\n"));
  CHECK_THAT(text, Contains("\naccount.http.timeout_ms\n    type: integer, [10, 600000]\n    default: 2000\n"));
}

TEST_CASE("the http backend loads from the file, the environment and --set") {
  auto r = cfg::load({"",
                      {"account.backend=http", "account.http.base_url=https://api.example.com/support",
                       "account.http.usage_url=", "account.http.cache_ttl_ms=0"},
                      {"SUPPORT_AGENT_ACCOUNT__HTTP__TIMEOUT_MS=750",
                       "SUPPORT_AGENT_ACCOUNT__HTTP__AUTH_HEADER_ENV=ACME_API_TOKEN"}});
  REQUIRE(r.ok());
  CHECK(r->account.backend == "http");
  CHECK(r->account.http.base_url == "https://api.example.com/support");
  CHECK(r->account.http.usage_url.empty());  // that lookup is off
  CHECK(r->account.http.cache_ttl_ms == 0);
  CHECK(r->account.http.timeout_ms == 750);
  CHECK(r->account.http.auth_header_env == "ACME_API_TOKEN");
}

TEST_CASE("backend http needs a base URL and at least one lookup") {
  auto e = error_of(load_set({"account.backend=http"}));
  CHECK_THAT(e, Contains("config error: account.backend = \"http\": needs account.http.base_url"));
  auto none = error_of(load_set({"account.backend=http", "account.http.base_url=http://127.0.0.1:9000",
                                 "account.http.subscription_url=", "account.http.invoices_url=",
                                 "account.http.usage_url=", "account.http.open_tickets_url="}));
  CHECK_THAT(none, Contains("are all empty; set at least one lookup's URL template"));
  CHECK(load_set({"account.backend=http", "account.http.base_url=http://127.0.0.1:9000"}).ok());
  CHECK_THAT(error_of(load_set({"account.backend=rest"})),
             Contains("account.backend = \"rest\": expected one of embedded, http"));
}

TEST_CASE("an unknown placeholder is refused naming the key, the template and the placeholder") {
  auto e = error_of(load_set({"account.http.invoices_url=/v1/{tenant}/{customer}/invoices"}));
  CHECK_THAT(e, Contains("config error: account.http.invoices_url = \"/v1/{tenant}/{customer}/invoices\": "
                         "unknown placeholder {customer} (known: {tenant}, {user})"));
  auto no_tenant = error_of(load_set({"account.http.subscription_url=/v1/users/{user}"}));
  CHECK_THAT(no_tenant, Contains("account.http.subscription_url = \"/v1/users/{user}\": expected the placeholder {tenant}"));
}

TEST_CASE("account.http.base_url is scheme://host[:port][/prefix]") {
  for (auto ok : {"https://api.example.com", "http://127.0.0.1:8080", "https://api.example.com/support/v2",
                  "http://[::1]:9000/x"}) {
    INFO(ok);
    CHECK(load_set({std::string{"account.http.base_url="} + ok}).ok());
  }
  struct example {
    std::string url, problem;
  };
  const std::vector<example> bad{
    {"api.example.com", "expected it to start with http:// or https://"},
    {"https://api.example.com/", "expected no trailing slash"},
    {"https://api.example.com/x?key=1", "expected no query or fragment"},
    {"https://user:pw@api.example.com", "expected no user or password"},
    {"https://api.example.com:99999", "expected a port in [1, 65535]"},
  };
  for (const auto& b : bad) {
    INFO(b.url);
    auto e = error_of(load_set({"account.http.base_url=" + b.url}));
    CHECK_THAT(e, Contains("config error: account.http.base_url = "));
    CHECK_THAT(e, Contains(b.problem));
  }
}

TEST_CASE("the auth header is a header name, and its variable is not a config override") {
  CHECK_THAT(error_of(load_set({"account.http.auth_header=X Api: Key"})),
             Contains("account.http.auth_header = \"X Api: Key\": expected an HTTP header name"));
  CHECK_THAT(error_of(load_set({"account.http.auth_header=", "account.http.auth_header_env=API_TOKEN"})),
             Contains("account.http.auth_header_env = \"API_TOKEN\": account.http.auth_header is empty"));
  CHECK_THAT(error_of(load_set({"account.http.auth_header_env=SUPPORT_AGENT_TOKEN"})),
             Contains("account.http.auth_header_env = \"SUPPORT_AGENT_TOKEN\": SUPPORT_AGENT_* variables are "
                      "configuration overrides"));
  CHECK(load_set({"account.http.auth_header=X-Api-Key", "account.http.auth_header_env=API_TOKEN"}).ok());
}

TEST_CASE("account.http ranges are enforced") {
  CHECK_THAT(error_of(load_set({"account.http.timeout_ms=5"})),
             Contains("account.http.timeout_ms = 5: expected an integer in [10, 600000]"));
  CHECK_THAT(error_of(load_set({"account.http.cache_max_entries=0"})),
             Contains("account.http.cache_max_entries = 0: expected an integer in [1, 10000000]"));
  CHECK_THAT(error_of(load_set({"account.http.max_response_bytes=10"})),
             Contains("account.http.max_response_bytes = 10: expected an integer in [1024, 67108864]"));
  CHECK_THAT(error_of(load_set({"account.http.cache_ttl_ms=-1"})),
             Contains("account.http.cache_ttl_ms = -1: expected an integer in [0, 86400000]"));
  CHECK_THAT(error_of(load_set({"account.http.verbose=true"})), Contains("account.http.verbose: unknown key"));
}

TEST_CASE("warnings: an account timeout not below the session's, an API configured but not used") {
  auto slow = load_set({"account.backend=http", "account.http.base_url=http://127.0.0.1:9000",
                        "account.http.timeout_ms=5000"});
  REQUIRE(slow.ok());
  auto w = cfg::warnings(*slow);
  CHECK(std::any_of(w.begin(), w.end(), [](const std::string& line) {
    return line.rfind("account.http.timeout_ms (5000) is not below session.child_timeout_ms (5000)", 0) == 0;
  }));
  auto unused = load_set({"account.http.base_url=http://127.0.0.1:9000"});
  REQUIRE(unused.ok());
  w = cfg::warnings(*unused);
  CHECK(std::any_of(w.begin(), w.end(), [](const std::string& line) {
    return line.find("account.http.base_url is set but account.backend is \"embedded\"") != std::string::npos;
  }));
  CHECK(cfg::warnings(cfg::defaults()).empty());
}
