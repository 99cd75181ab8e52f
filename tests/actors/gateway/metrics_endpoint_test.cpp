// GET /metrics over a real socket: a node with its own metrics object behind the gateway on 127.0.0.1
// port 0, one chat turn over WebSocket, then the exposition read with the strict Prometheus text reader.
// Every wait has a deadline; nothing sleeps.
#include "runtime/metrics.hpp"
#include "tests/actors/gateway/gateway_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace sa;
using namespace sa::test;
using namespace std::chrono_literals;

namespace {

/// GET /metrics, checked to be 200 with the exposition's content type and to parse.
prom_exposition scrape(uint16_t port, std::string* body = nullptr, const std::string& bearer = {}) {
  auto reply = http_get(port, "/metrics", 5s, bearer);
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "text/plain; version=0.0.4; charset=utf-8");
  prom_exposition e;
  std::string error;
  INFO(reply.body);
  REQUIRE(parse_prometheus_text(reply.body, e, error));
  if (body)
    *body = reply.body;
  return e;
}

/// Scrapes until `ok` holds or 10 s passed (for figures that follow a socket closing on the io thread).
bool eventually(uint16_t port, const std::function<bool(const prom_exposition&)>& ok) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = http_get(port, "/metrics");
    prom_exposition e;
    std::string error;
    if (reply.status == 200 && parse_prometheus_text(reply.body, e, error) && ok(e))
      return true;
  }
  return false;
}

} // namespace

TEST_CASE("a chat turn over WebSocket shows in GET /metrics, which parses as Prometheus text and carries no user "
          "text", "[gateway][metrics][privacy]") {
  gateway_fixture fx{hs256_keys(), nullptr, {}, services_with_own_metrics()};
  auto before = scrape(fx.port());
  CHECK(before.sum("sa_turns_total") == 0);
  CHECK(before.sum("sa_gateway_connections") == 0);

  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  const std::string message =
    "Hi, this is Dana Canary (dana.canary@example.com, +1 555 0100). How do I add a custom domain?";
  auto x = ask(c, "m1", message);
  REQUIRE(x.final);
  auto intent = (*x.final)["intent"].get<std::string>();
  REQUIRE(c.send_json({{"type", "feedback"}, {"turn", 1}, {"csat", 4}, {"comment", "thanks, Dana Canary"}}));
  REQUIRE(c.read_until("feedback_received"));

  std::string body;
  auto e = scrape(fx.port(), &body);
  CHECK(e.sum("sa_turns_total", {{"tenant", "acme"}, {"intent", intent}}) == 1);
  CHECK(e.sum("sa_ttft_seconds_count", {{"tenant", "acme"}}) == 1);
  CHECK(e.sum("sa_turn_duration_seconds_count", {{"tenant", "acme"}}) == 1);
  CHECK(e.sum("sa_active_sessions") == 1);
  CHECK(e.sum("sa_gateway_connections") == 1);
  CHECK(e.sum("sa_csat_ratings_total", {{"tenant", "acme"}, {"intent", intent}, {"score", "4"}}) == 1);
  // Every family the node has touched is announced with HELP and TYPE (the reader refuses otherwise).
  for (const char* family : {"sa_turns_total", "sa_ttft_seconds", "sa_turn_duration_seconds", "sa_active_sessions",
                             "sa_gateway_connections", "sa_csat_ratings_total"})
    CHECK(e.families.count(family) == 1);
  // No trace of the message, the address, the name or the comment: not in any label, not anywhere.
  for (const char* pii : {"Dana", "dana", "Canary", "example.com", "555 0100", "custom domain", "thanks"})
    CHECK(body.find(pii) == std::string::npos);
  for (const auto& v : e.label_values()) {
    CHECK(v.find('@') == std::string::npos);
    CHECK(v.find(' ') == std::string::npos);
  }

  c.close();
  CHECK(eventually(fx.port(), [](const prom_exposition& now) { return now.sum("sa_gateway_connections") == 0; }));
}

TEST_CASE("with gateway.metrics_token_env set, GET /metrics needs that token as a bearer token",
          "[gateway][metrics][auth]") {
  ::setenv("SA_TEST_METRICS_TOKEN", "scrape-token-0123456789", 1);
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.metrics_token_env = "SA_TEST_METRICS_TOKEN"; }};
  CHECK(http_get(fx.port(), "/metrics").status == 401);
  CHECK(http_get(fx.port(), "/metrics", 5s, "scrape-token-0123456788").status == 401);
  CHECK(http_get(fx.port(), "/metrics", 5s, "scrape-token").status == 401);
  scrape(fx.port(), nullptr, "scrape-token-0123456789");
  CHECK(http_get(fx.port(), "/healthz").status == 200);  // other routes need no token

  config::gateway_config unset;
  unset.metrics_token_env = "SA_TEST_METRICS_TOKEN_UNSET";
  std::string token, error;
  CHECK_FALSE(gateway::load_metrics_token(unset, token, error));
  CHECK(error.find("SA_TEST_METRICS_TOKEN_UNSET") != std::string::npos);
  unset.metrics_enabled = false;  // nothing to read when metrics are off
  CHECK(gateway::load_metrics_token(unset, token, error));
  CHECK(token.empty());
  ::unsetenv("SA_TEST_METRICS_TOKEN");
}

TEST_CASE("with gateway.metrics_enabled false, GET /metrics is not served", "[gateway][metrics]") {
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.metrics_enabled = false; }};
  CHECK(http_get(fx.port(), "/metrics").status == 404);
  CHECK(http_get(fx.port(), "/healthz").status == 200);
}
