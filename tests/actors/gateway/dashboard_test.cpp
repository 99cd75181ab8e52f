// The operator dashboard's figures (actors/gateway/dashboard.hpp): quantiles from histogram buckets, totals
// read from a metrics object, the snapshot ring, and GET /api/dashboard over a real socket agreeing with
// GET /metrics, guarded by the same switch and token. Every wait has a deadline; nothing sleeps.
#include "actors/gateway/dashboard.hpp"
#include "runtime/metrics.hpp"
#include "tests/actors/gateway/gateway_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>

using namespace sa;
using namespace sa::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

json row_of(const json& d, const std::string& key) {
  for (const auto& r : d["table"])
    if (r["key"] == key)
      return r;
  FAIL("no table row " << key);
  return {};
}

} // namespace

TEST_CASE("dashboard quantiles interpolate inside the bucket like histogram_quantile()", "[gateway][dashboard]") {
  gateway::latency_histogram h{{0.1, 0.5, 1.0, inf}, {0, 10, 10, 10}, 10, 3.0};
  CHECK(gateway::histogram_quantile(0.95, h) == Approx(0.1 + 0.4 * 0.95));
  CHECK(gateway::histogram_quantile(0.5, h) == Approx(0.3));
  gateway::latency_histogram slow{{0.1, 0.5, 1.0, inf}, {0, 0, 0, 4}, 4, 40.0};
  CHECK(gateway::histogram_quantile(0.99, slow) == 1.0);  // beyond the last finite bound: that bound
  CHECK(std::isnan(gateway::histogram_quantile(0.95, gateway::latency_histogram{})));
  gateway::latency_histogram before{{0.1, 0.5, 1.0, inf}, {0, 8, 8, 8}, 8, 2.0};
  gateway::latency_histogram now{{0.1, 0.5, 1.0, inf}, {0, 8, 10, 10}, 10, 3.6};
  auto d = gateway::histogram_delta(now, before);
  CHECK(d.count == 2);
  CHECK(gateway::histogram_quantile(0.5, d) == Approx(0.75));  // only the two new, slower turns
}

TEST_CASE("dashboard figures are read from the metrics object: rates, CSAT average and cost per conversation",
          "[gateway][dashboard]") {
  metrics m;
  for (int i = 0; i < 3; ++i)
    m.turn_finished("acme", "billing", "answered", 0.2);
  m.turn_finished("acme", "billing", "escalated", 0.4);
  m.escalated("acme", "user_requested");
  m.first_delta("acme", 0.05);
  m.conversation_closed("acme", false);
  m.conversation_closed("globex", false);
  m.conversation_closed("acme", true);
  m.csat_rated("acme", "billing", "none", 5);
  m.csat_rated("acme", "billing", "user_requested", 3);
  m.component_cost("acme", "generation", "gpt", 1000, 200, 0.02);
  m.component_cost("acme", "retrieval_embeddings", "emb", 30, 0, 0.004);
  m.component_cost("globex", "judging", "gpt", 1500, 40, 0.006);
  m.quality_score("acme", "billing", "local_groundedness", "groundedness", 0.5);
  m.quality_score("acme", "billing", "local_groundedness", "groundedness", 1.0);
  m.quality_score("acme", "billing", "judge-a", "tone", 0.75);
  m.quality_sampled("acme", "billing", "local_groundedness", "scored");

  auto t = gateway::read_totals(m, 1000);
  CHECK(t.turns == 4);
  CHECK(t.escalations == 1);
  CHECK(t.escalations_by_reason.at("user_requested") == 1);
  CHECK(t.ttft.count == 1);
  CHECK(t.turn.count == 4);
  auto p = gateway::point_json(t, nullptr);
  CHECK(p["escalation_rate"].get<double>() == Approx(0.25));
  CHECK(p["resolution_rate"].get<double>() == Approx(2.0 / 3.0));
  CHECK(p["csat_count"].get<double>() == 2);
  CHECK(p["csat_avg"].get<double>() == Approx(4.0));
  CHECK(p["cost_per_conversation_usd"].get<double>() == Approx(0.01));  // (0.02 + 0.004 + 0.006) / 3
  gateway::dashboard_history h{4, 10};
  auto d = h.to_json(t);
  const auto& gen = d["cost_by_component"]["generation"];
  CHECK(gen["usd_per_conversation"].get<double>() == Approx(0.02 / 3));
  CHECK(gen["tokens_per_conversation"].get<double>() == Approx(1200.0 / 3));
  CHECK(d["cost_by_component"]["retrieval_embeddings"]["tokens"].get<double>() == 30);
  const auto& scores = d["quality"]["scores"];
  REQUIRE(scores.size() == 2);
  CHECK(scores[0]["judge"] == "judge-a");
  CHECK_FALSE(scores[0]["local"].get<bool>());
  CHECK(scores[1]["dimension"] == "groundedness");
  CHECK(scores[1]["local"].get<bool>());
  CHECK(scores[1]["mean"].get<double>() == Approx(0.75));
  CHECK(scores[1]["count"].get<double>() == 2);
  CHECK(d["quality"]["samples"][0]["outcome"] == "scored");
  CHECK(p["ttft_p95_s"].get<double>() <= 0.05);
  CHECK(p["window"].is_null());

  // Nothing to divide by: null, never 0 or NaN in the JSON.
  metrics empty;
  auto e = gateway::point_json(gateway::read_totals(empty, 0), nullptr);
  for (const char* key : {"escalation_rate", "resolution_rate", "csat_avg", "cost_per_conversation_usd", "ttft_p95_s"})
    CHECK(e[key].is_null());
}

TEST_CASE("the dashboard's snapshot ring keeps the newest points and windows each against the one before",
          "[gateway][dashboard]") {
  metrics m;
  gateway::dashboard_history h{3, 10};
  for (int i = 0; i < 5; ++i) {
    m.turn_finished("acme", "billing", "answered", 0.1 * (i + 1));
    h.record(gateway::read_totals(m, 10000 * (i + 1)));
  }
  CHECK(h.size() == 3);
  auto d = h.to_json(gateway::read_totals(m, 60000));
  REQUIRE(d["history"].size() == 3);
  CHECK(d["history"][0]["t"] == 30000);
  CHECK(d["history"][2]["turns"].get<double>() == 5);
  CHECK(d["history"][2]["window"]["turns"].get<double>() == 1);
  CHECK(d["now"]["window"]["turns"].get<double>() == 0);
  CHECK(d["interval_s"] == 10);
  CHECK(d["table"].size() == 8);
  CHECK(row_of(d, "intent_accuracy")["status"] == "no_data");
  CHECK(row_of(d, "escalation_rate")["status"] == "met");
  CHECK(row_of(d, "resolution_rate")["status"] == "no_data");
}

TEST_CASE("the table's recent figures count only the turns and conversations of the last window",
          "[gateway][dashboard]") {
  metrics m;
  gateway::dashboard_history h{100, 60};
  const int64_t window_ms = int64_t{gateway::dashboard_history::recent_window_s} * 1000;
  // Long ago: 4 turns, all escalated, 2 conversations closed by a human.
  for (int i = 0; i < 4; ++i) {
    m.turn_finished("acme", "billing", "escalated", 0.1);
    m.escalated("acme", "user_request");
  }
  m.conversation_closed("acme", true);
  m.conversation_closed("acme", true);
  h.record(gateway::read_totals(m, 0));
  h.record(gateway::read_totals(m, 2 * window_ms));  // the recent window starts here
  // Recently: 4 turns, none escalated, 1 conversation closed by the bot at 0.01 USD.
  for (int i = 0; i < 4; ++i)
    m.turn_finished("acme", "billing", "answered", 0.1);
  m.conversation_closed("acme", false);
  m.component_cost("acme", "generation", "gpt", 100, 10, 0.01);
  m.csat_rated("acme", "billing", "none", 5);
  auto d = h.to_json(gateway::read_totals(m, 2 * window_ms + 60000));
  CHECK(d["recent"]["seconds"].get<double>() == 60);
  CHECK(d["recent"]["turns"].get<double>() == 4);
  CHECK(row_of(d, "escalation_rate")["actual"].get<double>() == Approx(0.5));  // since start
  CHECK(row_of(d, "escalation_rate")["recent"].get<double>() == 0);          // the window alone
  CHECK(row_of(d, "resolution_rate")["actual"].get<double>() == Approx(1.0 / 3));
  CHECK(row_of(d, "resolution_rate")["recent"].get<double>() == 1);
  CHECK(row_of(d, "cost_per_conversation")["recent"].get<double>() == Approx(0.01));
  CHECK(row_of(d, "csat")["recent"].get<double>() == 5);
  CHECK(row_of(d, "ttft_p95")["recent"].is_null());
}

TEST_CASE("GET /api/dashboard agrees with GET /metrics after a chat turn and a rating", "[gateway][dashboard]") {
  gateway_fixture fx{hs256_keys(), nullptr, {}, services_with_own_metrics()};
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(ask(c, "m1", "How do I add a custom domain?").final);
  REQUIRE(ask(c, "m2", "I want to talk to a human please").final);
  REQUIRE(c.send_json({{"type", "feedback"}, {"turn", 1}, {"csat", 4}}));
  REQUIRE(c.read_until("feedback_received"));

  auto scraped = http_get(fx.port(), "/metrics");
  REQUIRE(scraped.status == 200);
  prom_exposition e;
  std::string error;
  REQUIRE(parse_prometheus_text(scraped.body, e, error));
  auto reply = http_get(fx.port(), "/api/dashboard");
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  auto d = json::parse(reply.body);
  const auto& now = d["now"];
  CHECK(now["turns"].get<double>() == e.sum("sa_turns_total"));
  CHECK(now["turns"].get<double>() == 2);
  CHECK(now["escalations"].get<double>() == e.sum("sa_escalations_total"));
  CHECK(now["escalations"].get<double>() >= 1);
  CHECK(now["csat_count"].get<double>() == 1);
  CHECK(now["csat_avg"].get<double>() == 4);
  CHECK(row_of(d, "csat")["actual"].get<double>() == 4);
  CHECK_FALSE(row_of(d, "ttft_p95")["actual"].is_null());
  CHECK(d["history"].size() >= 1);  // the snapshot taken at start
}

TEST_CASE("GET /api/dashboard follows gateway.metrics_enabled and the metrics token", "[gateway][dashboard][auth]") {
  ::setenv("SA_TEST_DASHBOARD_TOKEN", "dashboard-token-0123456789", 1);
  {
    gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.metrics_token_env = "SA_TEST_DASHBOARD_TOKEN"; }};
    CHECK(http_get(fx.port(), "/api/dashboard").status == 401);
    CHECK(http_get(fx.port(), "/api/dashboard", 5s, "dashboard-token-wrong").status == 401);
    CHECK(http_get(fx.port(), "/api/dashboard", 5s, "dashboard-token-0123456789").status == 200);
  }
  ::unsetenv("SA_TEST_DASHBOARD_TOKEN");
  gateway_fixture off{hs256_keys(), [](config::gateway_config& c) { c.metrics_enabled = false; }};
  CHECK(http_get(off.port(), "/api/dashboard").status == 404);
}
