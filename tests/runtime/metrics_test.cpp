// The node's metrics object on its own: label sanitising, the families and their types, histogram
// buckets, sampled figures, and an exposition that parses as Prometheus text (tests/support/prometheus_text).
#include "runtime/metrics.hpp"
#include "tests/support/scrape_metrics.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

using sa::metrics;
using sa::metric_label;
using sa::test::parse_prometheus_text;
using sa::test::prom_exposition;

namespace {

prom_exposition parsed(const metrics& m) {
  return sa::test::scrape(m);
}

/// One update of every family, as the node makes them.
void touch_everything(metrics& m) {
  m.turn_finished("acme", "billing", "answered", 0.12);
  m.first_delta("acme", 0.03);
  m.escalated("acme", "low_confidence");
  m.conversation_closed("acme", false);
  m.csat_rated("acme", "billing", "none", 5);
  m.provider_call("openai-main", "ok");
  m.provider_retry("openai-main");
  m.provider_fallback("chain", "openai-main", "local");
  m.provider_breaker("openai-main", sa::breaker_gauge::half_open);
  m.tokens("acme", "gpt-4o-mini", 120, 40, 8);
  m.cost("acme", "gpt-4o-mini", 0.0021);
  m.session_activated();
  m.connection_opened();
  m.actor_restarted("memory");
  m.memory_backend_error("redis", "load_fallback");
  m.handoff_event("acme", "queued");
  m.handoff_taken("acme", 42);
}

} // namespace

TEST_CASE("metric_label keeps identifiers and turns anything else into invalid", "[runtime][metrics]") {
  for (const char* ok : {"acme", "openai-main", "gpt-4o-mini", "claude-3.5-sonnet", "provider:openai-main",
                         "low_confidence", "A_b.c:d-e", "5"})
    CHECK(metric_label(ok) == ok);
  CHECK(metric_label(std::string(64, 'x')) == std::string(64, 'x'));
  CHECK(metric_label(std::string(65, 'x')) == "invalid");
  for (const char* bad : {"", "alice@example.com", "how do I add a domain", "a\"b", "line\nbreak", "tab\t",
                          "caf\xc3\xa9", "{x}", "a=b", "path/to", "50%"})
    CHECK(metric_label(bad) == "invalid");
}

TEST_CASE("the exposition parses as Prometheus text and names every family with its type", "[runtime][metrics]") {
  metrics m;
  touch_everything(m);
  auto e = parsed(m);
  const std::map<std::string, std::string> expected{
    {"sa_turns_total", "counter"},
    {"sa_ttft_seconds", "histogram"},
    {"sa_turn_duration_seconds", "histogram"},
    {"sa_escalations_total", "counter"},
    {"sa_conversations_closed_total", "counter"},
    {"sa_csat_ratings_total", "counter"},
    {"sa_provider_requests_total", "counter"},
    {"sa_provider_retries_total", "counter"},
    {"sa_provider_fallbacks_total", "counter"},
    {"sa_provider_breaker_state", "gauge"},
    {"sa_tokens_total", "counter"},
    {"sa_cost_usd_total", "counter"},
    {"sa_active_sessions", "gauge"},
    {"sa_gateway_connections", "gauge"},
    {"sa_actor_restarts_total", "counter"},
    {"sa_memory_backend_errors_total", "counter"},
    {"sa_handoffs_total", "counter"},
    {"sa_handoff_time_to_take_seconds", "histogram"},
  };
  for (const auto& [name, type] : expected) {
    INFO(name);
    REQUIRE(e.families.count(name) == 1);
    CHECK(e.families.at(name).type == type);
    CHECK_FALSE(e.families.at(name).help.empty());
  }
  CHECK(e.families.size() == expected.size());
  CHECK(e.sum("sa_turns_total", {{"tenant", "acme"}, {"intent", "billing"}, {"outcome", "answered"}}) == 1);
  CHECK(e.sum("sa_escalations_total", {{"reason", "low_confidence"}}) == 1);
  CHECK(e.sum("sa_handoffs_total", {{"tenant", "acme"}, {"event", "queued"}}) == 1);
  CHECK(e.sum("sa_conversations_closed_total", {{"resolved_by", "bot"}}) == 1);
  CHECK(e.sum("sa_csat_ratings_total", {{"intent", "billing"}, {"escalation_reason", "none"}, {"score", "5"}}) == 1);
  CHECK(e.sum("sa_provider_requests_total", {{"provider", "openai-main"}, {"outcome", "ok"}}) == 1);
  CHECK(e.sum("sa_provider_fallbacks_total", {{"strategy", "chain"}, {"from", "openai-main"}, {"to", "local"}}) == 1);
  CHECK(e.sum("sa_provider_breaker_state", {{"provider", "openai-main"}}) == 1);
  CHECK(e.sum("sa_tokens_total", {{"model", "gpt-4o-mini"}, {"kind", "input"}}) == 120);
  CHECK(e.sum("sa_tokens_total", {{"model", "gpt-4o-mini"}, {"kind", "output"}}) == 40);
  CHECK(e.sum("sa_tokens_total", {{"model", "gpt-4o-mini"}, {"kind", "thinking"}}) == 8);
  CHECK(e.sum("sa_cost_usd_total", {{"tenant", "acme"}}) == Approx(0.0021));
  CHECK(e.sum("sa_active_sessions") == 1);
  CHECK(e.sum("sa_gateway_connections") == 1);
  CHECK(e.sum("sa_actor_restarts_total", {{"kind", "memory"}}) == 1);
  CHECK(e.sum("sa_memory_backend_errors_total", {{"backend", "redis"}, {"kind", "load_fallback"}}) == 1);
}

TEST_CASE("gauges go back down: sessions, connections and the breaker state", "[runtime][metrics]") {
  metrics m;
  CHECK(parsed(m).sum("sa_active_sessions") == 0);  // label-less gauges are there from the start
  m.session_activated();
  m.session_activated();
  m.session_activated();
  m.sessions_ended();
  m.sessions_ended(2);
  m.connection_opened();
  m.connection_closed();
  m.provider_breaker("p", sa::breaker_gauge::open);
  CHECK(parsed(m).sum("sa_provider_breaker_state", {{"provider", "p"}}) == 2);
  m.provider_breaker("p", sa::breaker_gauge::closed);
  auto e = parsed(m);
  CHECK(e.sum("sa_active_sessions") == 0);
  CHECK(e.sum("sa_gateway_connections") == 0);
  CHECK(e.sum("sa_provider_breaker_state", {{"provider", "p"}}) == 0);
}

TEST_CASE("latency histograms have buckets from 1 ms to 30 s and count each observation once",
          "[runtime][metrics]") {
  const auto& b = metrics::latency_buckets();
  REQUIRE_FALSE(b.empty());
  CHECK(b.front() == 0.001);
  CHECK(b.back() == 30);
  CHECK(std::is_sorted(b.begin(), b.end()));

  metrics m;
  for (double s : {0.0007, 0.004, 0.2, 45.0})
    m.first_delta("acme", s);
  auto e = parsed(m);
  auto bucket = [&](const std::string& le) {
    return e.sum("sa_ttft_seconds_bucket", {{"tenant", "acme"}, {"le", le}});
  };
  CHECK(bucket("0.001") == 1);
  CHECK(bucket("0.005") == 2);
  CHECK(bucket("0.25") == 3);
  CHECK(bucket("30") == 3);
  CHECK(bucket("+Inf") == 4);
  CHECK(e.sum("sa_ttft_seconds_count", {{"tenant", "acme"}}) == 4);
  CHECK(e.sum("sa_ttft_seconds_sum", {{"tenant", "acme"}}) == Approx(45.2047));
  // One bucket line per boundary plus +Inf.
  size_t lines = 0;
  for (const auto& s : e.samples)
    lines += s.name == "sa_ttft_seconds_bucket" ? 1 : 0;
  CHECK(lines == b.size() + 1);
}

TEST_CASE("free text passed as a label value is exported as invalid, never as itself", "[runtime][metrics][privacy]") {
  metrics m;
  const std::string message = "my email is alice@example.com and my card 4111 1111";
  m.turn_finished(message, message, "answered", 1);
  m.csat_rated("acme", "alice@example.com", "none", 4);
  m.tokens("acme", "gpt\"4\nmodel", 1, 1, 0);
  auto text = m.render();
  CHECK(text.find("alice") == std::string::npos);
  CHECK(text.find("4111") == std::string::npos);
  CHECK(text.find("gpt") == std::string::npos);
  auto e = parsed(m);
  CHECK(e.sum("sa_turns_total", {{"tenant", "invalid"}, {"intent", "invalid"}}) == 1);
  for (const auto& sample : e.samples)
    for (const auto& [name, v] : sample.labels)
      if (name != "le")  // histogram bounds are the library's numbers
        CHECK(metric_label(v) == v);
}

TEST_CASE("a rating outside 1..5 is labelled invalid", "[runtime][metrics]") {
  metrics m;
  m.csat_rated("acme", "billing", "none", 0);
  m.csat_rated("acme", "billing", "none", 9);
  CHECK(parsed(m).sum("sa_csat_ratings_total", {{"score", "invalid"}}) == 2);
}

TEST_CASE("sampled figures are read at scrape time, and their names must be new and well formed", "[runtime][metrics]") {
  metrics m;
  auto value = std::make_shared<std::atomic<int>>(3);
  REQUIRE(m.add_sampled({{"sa_redis_pending_commands", "Pending.", false, [value] { return double(*value); }},
                         {"sa_redis_commands_total", "Commands.", true, [] { return 42.0; }}}));
  auto e = parsed(m);
  CHECK(e.families.at("sa_redis_pending_commands").type == "gauge");
  CHECK(e.families.at("sa_redis_commands_total").type == "counter");
  CHECK(e.sum("sa_redis_pending_commands") == 3);
  *value = 7;
  CHECK(parsed(m).sum("sa_redis_pending_commands") == 7);

  auto one = [] { return 1.0; };
  CHECK_FALSE(m.add_sampled({{"sa_redis_commands_total", "again", true, one}}));
  CHECK_FALSE(m.add_sampled({{"sa_turns_total", "a registry family", true, one}}));
  CHECK_FALSE(m.add_sampled({{"sa_ttft_seconds_count", "a histogram's series", true, one}}));
  CHECK_FALSE(m.add_sampled({{"sa-bad-name", "malformed", false, one}}));
  CHECK_FALSE(m.add_sampled({{"sa_no_reader", "no function", false, {}}}));
  CHECK_FALSE(m.add_sampled({{"sa_x", "twice in one call", false, one}, {"sa_x", "twice", false, one}}));
  CHECK(parsed(m).families.count("sa_x") == 0);  // a refused call adds nothing
}

TEST_CASE("updates from many threads at once are all counted", "[runtime][metrics]") {
  metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) {
        m.turn_finished("acme", "general", "answered", 0.01);
        m.connection_opened();
      }
    });
  for (auto& t : threads)
    t.join();
  auto e = parsed(m);
  CHECK(e.sum("sa_turns_total") == 4000);
  CHECK(e.sum("sa_gateway_connections") == 4000);
  CHECK(e.sum("sa_turn_duration_seconds_count") == 4000);
}

TEST_CASE("quality, survey and cost-by-component figures parse and add up", "[runtime][metrics][quality]") {
  metrics m;
  m.csat_survey("acme", "billing", "none", 4, true);
  m.csat_survey("acme", "billing", "none", 9, false);
  m.quality_sampled("acme", "billing", "local_groundedness", "scored");
  m.quality_score("acme", "billing", "local_groundedness", "groundedness", 0.75);
  m.quality_score("acme", "billing", "local_groundedness", "groundedness", 1.5);  // clamped to 1
  m.component_cost("acme", "judging", "gpt-4o-mini", 1500, 40, 0.000249);
  m.component_cost("acme", "generation", "local", 250, 50, 0);
  m.conversation_cost("acme", 0.004);
  auto e = parsed(m);
  CHECK(e.families.at("sa_csat_surveys_total").type == "counter");
  CHECK(e.sum("sa_csat_surveys_total", {{"score", "4"}, {"resolved", "true"}}) == 1);
  CHECK(e.sum("sa_csat_surveys_total", {{"score", "invalid"}, {"resolved", "false"}}) == 1);
  CHECK(e.sum("sa_quality_samples_total", {{"judge", "local_groundedness"}, {"outcome", "scored"}}) == 1);
  CHECK(e.families.at("sa_quality_score").type == "histogram");
  CHECK(e.sum("sa_quality_score_sum", {{"dimension", "groundedness"}}) == Approx(1.75));
  CHECK(e.sum("sa_quality_score_bucket", {{"dimension", "groundedness"}, {"le", "0.8"}}) == 1);
  CHECK(e.sum("sa_component_tokens_total", {{"component", "judging"}, {"model", "gpt-4o-mini"}}) == 1540);
  CHECK(e.sum("sa_component_tokens_total", {{"component", "judging"}, {"kind", "input"}}) == 1500);
  CHECK(e.sum("sa_component_tokens_total", {{"component", "judging"}, {"kind", "output"}}) == 40);
  CHECK(e.sum("sa_component_cost_usd_total", {{"component", "judging"}}) == Approx(0.000249));
  CHECK(e.sum("sa_component_tokens_total", {{"model", "local"}}) == 300);
  CHECK(e.sum("sa_conversation_cost_usd_count") == 1);
  CHECK(e.sum("sa_conversation_cost_usd_bucket", {{"le", "0.005"}}) == 1);
}
