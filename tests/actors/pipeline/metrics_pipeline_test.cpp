// The node's metrics as real turns move them: a node whose services have their own metrics object, turns
// through the router, then the exposition read with the strict Prometheus text reader. The session
// updates the figures before it sends turn_completed, so once a turn's answer is in, its figures are too.
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/scrape_metrics.hpp"
#include "tests/support/test_node.hpp"

#include "actors/providers/provider_graph.hpp"
#include "actors/retriever/retriever_actor.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/metrics.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::test;

namespace {

router_stats stats_of(caf::scoped_actor& self, const session_router_actor& router) {
  router_stats out;
  self->request(router, std::chrono::seconds(5), router_stats_request{})
    .receive([&](router_stats& s) { out = s; }, [&](caf::error& e) { FAIL(to_string(e)); });
  return out;
}

} // namespace

TEST_CASE("turns through the pipeline count in sa_turns_total and observe time to first text and duration",
          "[pipeline][metrics]") {
  auto svc = services_with_own_metrics();
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  const std::string question = "How do I add a custom domain to my documentation? Reply to alice@example.com";
  auto answered = run_turn(self, node.handles.router, "acme", "alice", "s-metrics-1", question);
  REQUIRE(answered.completed);
  REQUIRE_FALSE(answered.completed->escalation.escalate);
  auto human = run_turn(self, node.handles.router, "acme", "bob", "s-metrics-2", "let me talk to a human");
  REQUIRE(human.completed);
  REQUIRE(human.completed->escalation.reason == escalation_reason::user_requested);

  auto e = scrape(*svc->metrics);
  auto intent = to_string(answered.completed->intent);
  CHECK(e.sum("sa_turns_total", {{"tenant", "acme"}, {"intent", intent}, {"outcome", "answered"}}) == 1);
  CHECK(e.sum("sa_turns_total", {{"tenant", "acme"}, {"outcome", "escalated"}}) == 1);
  CHECK(e.sum("sa_turns_total") == 2);
  CHECK(e.sum("sa_escalations_total", {{"tenant", "acme"}, {"reason", "user_requested"}}) == 1);
  // Both answers streamed text: one time to first text each, and one duration each.
  CHECK(e.sum("sa_ttft_seconds_count", {{"tenant", "acme"}}) == 2);
  CHECK(e.sum("sa_turn_duration_seconds_count", {{"tenant", "acme"}}) == 2);
  CHECK(e.sum("sa_ttft_seconds_sum") <= e.sum("sa_turn_duration_seconds_sum"));
  CHECK(e.sum("sa_turn_duration_seconds_sum")
        == Approx((answered.completed->latency_us + human.completed->latency_us) / 1e6).margin(1e-6));
  CHECK(e.sum("sa_active_sessions") == 2);
  // The question's text and address are nowhere in the exposition.
  auto text = svc->metrics->render();
  CHECK(text.find("alice@example.com") == std::string::npos);
  CHECK(text.find("custom domain") == std::string::npos);
}

TEST_CASE("an idle conversation closes as resolved by the bot, or by a human when a turn escalated",
          "[pipeline][metrics]") {
  auto svc = services_with_own_metrics([](config::config& c) { c.session.idle_timeout_s = 1; });
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  REQUIRE(run_turn(self, node.handles.router, "acme", "alice", "s-bot", "How do I add a custom domain?").completed);
  auto h = run_turn(self, node.handles.router, "acme", "bob", "s-human", "let me talk to a human");
  REQUIRE(h.completed);
  REQUIRE(h.completed->escalation.escalate);
  // A session counts its conversation as closed before it quits, and the router counts the passivation
  // after that: polling the router (deadline 10 s) is enough.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stats_of(self, node.handles.router).passivations < 2 && std::chrono::steady_clock::now() < deadline)
    self->receive(caf::after(std::chrono::milliseconds(50)) >> [] {});
  REQUIRE(stats_of(self, node.handles.router).passivations == 2);
  auto e = scrape(*svc->metrics);
  CHECK(e.sum("sa_conversations_closed_total", {{"tenant", "acme"}, {"resolved_by", "bot"}}) == 1);
  CHECK(e.sum("sa_conversations_closed_total", {{"tenant", "acme"}, {"resolved_by", "human"}}) == 1);
  CHECK(e.sum("sa_active_sessions") == 0);
}

TEST_CASE("a closed conversation's cost includes judging its sampled turns", "[pipeline][metrics][quality]") {
  fake_provider_fixture fake;
  auto svc = services_with_own_metrics([](config::config& c) {
    c.session.idle_timeout_s = 3;  // a judgement (milliseconds on loopback) lands well before the session closes
    c.quality.sample_rate = 1.0;   // every answer judged
  });
  // Only the judge is an LLM (priced): classification and generation stay local and free, so the
  // conversation's whole cost is its judgements.
  config::endpoint_config judge;
  judge.kind = "openai";
  judge.base_url = fake.base_url();
  judge.model = "gpt-judge";
  judge.max_retries = 0;
  svc->cfg.providers.endpoints["judge-ep"] = judge;
  svc->cfg.providers.prices["gpt-judge"] = {1.0, 2.0};
  svc->cfg.quality.judge = "judge-ep";
  auto endpoints = providers::all_endpoint_settings(svc->cfg);
  REQUIRE(endpoints.ok());
  svc->endpoints = std::move(endpoints.value());
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  REQUIRE(run_turn(self, node.handles.router, "acme", "alice", "s-judged", "How do I add a custom domain?").completed);
  REQUIRE(run_turn(self, node.handles.router, "acme", "alice", "s-judged", "And how long does DNS take?").completed);
  // Both judgements are told to the session within seconds; it closes three idle seconds after the last message.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (stats_of(self, node.handles.router).passivations < 1 && std::chrono::steady_clock::now() < deadline)
    self->receive(caf::after(std::chrono::milliseconds(50)) >> [] {});
  REQUIRE(stats_of(self, node.handles.router).passivations == 1);
  CHECK(fake.requests("openai") == 2);
  auto e = scrape(*svc->metrics);
  auto judging = e.sum("sa_component_cost_usd_total", {{"component", "judging"}});
  CHECK(judging > 0);
  CHECK(e.sum("sa_conversation_cost_usd_count", {{"tenant", "acme"}}) == 1);
  CHECK(e.sum("sa_conversation_cost_usd_sum", {{"tenant", "acme"}}) == Approx(judging));
}

TEST_CASE("a crashed session child is counted in sa_actor_restarts_total by its role", "[pipeline][metrics]") {
  auto svc = services_with_own_metrics();
  auto spawned = std::make_shared<std::atomic<int>>(0);
  auto children = default_children(svc);
  children.retriever = [svc, spawned](caf::local_actor* self) -> retriever_actor {
    if ((*spawned)++ == 0)  // the first retriever crashes on its first request
      // (an argument, not a capture: CAF 0.17 dereferences a null argument tuple for argument-less spawns)
      return self->spawn<caf::linked>(
        [](retriever_actor::pointer self, std::string why) -> retriever_actor::behavior_type {
          log_exceptions(self, "retriever");
          return {[why](const retrieve_request&) -> retrieval { throw std::runtime_error(why); }};
        },
        std::string{"injected crash"});
    return self->spawn<caf::linked>(bm25_retriever, svc->retriever);
  };
  test_node node{children, svc};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-crash", "How do I add a custom domain?");
  REQUIRE(r.completed);
  auto e = scrape(*svc->metrics);
  CHECK(e.sum("sa_actor_restarts_total", {{"kind", "retriever"}}) == 1);
  CHECK(e.sum("sa_turns_total", {{"outcome", "answered"}}) == 1);
}
