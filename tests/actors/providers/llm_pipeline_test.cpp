// The LLM path end to end on a real node: sessions -> LLM classifier / generator -> strategy -> provider
// actors -> http_client -> the fake provider on a loopback socket. Covers the happy path, a provider that
// fails mid-answer (the client sees a reset and the stored turn is the final answer only), a chain whose
// remote providers are all down (the local provider answers), a crashed provider actor (its supervisor
// restarts it and the next turn succeeds), and the chaos run: 2,000 turns through a three-provider
// fallback chain while faults change at run time.
#include "actors/providers/fake/fault_table.hpp"
#include "runtime/supervisor.hpp"
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/test_node.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using sa::providers::fake::fault_kind;
using sa::providers::fake::fault_spec;
using sa::test::make_fault;
using sa::test::status_fault;

namespace {

sa::config::endpoint_config endpoint(const std::string& kind, const std::string& base_url, const std::string& model) {
  sa::config::endpoint_config e;
  e.kind = kind;
  e.base_url = base_url;
  e.model = model;
  e.max_retries = 1;
  e.backoff_initial_ms = 5;
  e.backoff_max_ms = 20;
  e.connect_timeout_ms = 1000;
  e.first_byte_timeout_ms = 400;
  e.idle_timeout_ms = 400;
  e.breaker_failure_threshold = 5;
  e.breaker_window_s = 10;
  e.breaker_open_ms = 300;
  return e;
}

/// Services of the shared test node, with three endpoints on `fake` behind a fallback chain ending in
/// the local provider, and the LLM generator (and optionally classifier) switched on.
std::shared_ptr<const sa::node_services> llm_services(const sa::test::fake_provider_fixture& fake,
                                                      bool llm_classifier, std::vector<std::string> chain) {
  auto svc = std::make_shared<sa::node_services>(*sa::test::shared_services());
  auto& cfg = svc->cfg;
  cfg.generator.backend = "llm";
  cfg.classifier.backend = llm_classifier ? "llm" : "local";
  cfg.session.turn_timeout_ms = 10000;
  cfg.providers.endpoints["oa"] = endpoint("openai", fake.base_url(), "gpt-4o-mini");
  cfg.providers.endpoints["an"] = endpoint("anthropic", fake.base_url(), "claude-3-5-haiku-latest");
  cfg.providers.endpoints["ge"] = endpoint("gemini", fake.base_url(), "gemini-2.0-flash");
  cfg.providers.prices["gpt-4o-mini"] = {0.15, 0.60};
  cfg.providers.prices["claude-3-5-haiku-latest"] = {0.80, 4.00};
  cfg.providers.prices["gemini-2.0-flash"] = {0.10, 0.40};
  sa::config::strategy_config s;
  s.kind = "fallback";
  s.members = std::move(chain);
  cfg.providers.strategies["chain"] = s;
  cfg.providers.root = "chain";
  auto endpoints = sa::providers::all_endpoint_settings(cfg);
  REQUIRE(endpoints.ok());
  svc->endpoints = std::move(endpoints.value());
  return svc;
}

sa::providers::provider_health health(caf::scoped_actor& self, const sa::test::test_node& node, const std::string& name) {
  sa::providers::provider_health out;
  self->request(node.handles.providers->endpoints.at(name), 10s, sa::providers::provider_health_request{})
    .receive([&](sa::providers::provider_health& h) { out = std::move(h); },
             [&](caf::error& e) { FAIL("provider_health: " << self->system().render(e)); });
  return out;
}

/// Polls `pred` until it holds or 10 s pass.
template <class Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

} // namespace

TEST_CASE("LLM classifier and generator answer through the provider chain", "[llm]") {
  sa::test::fake_provider_fixture fake;
  sa::test::test_node node{{}, llm_services(fake, true, {"oa", "an", "local"})};
  caf::scoped_actor self{*node.sys};
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "llm-1", "Where is my invoice?");
  REQUIRE(r.completed);
  CHECK(r.completed->provider == "oa");
  CHECK(r.completed->intent == sa::intent::billing);   // the fake's JSON classification
  CHECK(r.streamed() == r.completed->text);
  CHECK(r.completed->text.rfind("Answer to: Where is my invoice?", 0) == 0);
  CHECK(r.completed->usage.prompt_tokens > 0);
  CHECK(r.completed->usage.completion_tokens > 0);
  CHECK(r.completed->usage.cost_usd > 0);
  CHECK(fake.requests("openai") == 2);  // one classification, one answer
  // The classification request was JSON mode and the answer request carried the passages.
  auto last = fake.last_request();
  CHECK(last.request.body.find("Knowledge passages") != std::string::npos);
}

TEST_CASE("a provider failing mid-answer: the client sees a reset, the next provider answers, the final answer is stored",
          "[llm]") {
  sa::test::fake_provider_fixture fake;
  auto stall = make_fault(fault_kind::stall_mid_stream, 1, "openai");
  stall.after_tokens = 16; // past the safety check's 64-character hold-back, so the client saw some of it
  stall.stall_ms = 60000;
  fake.set_faults({stall});
  sa::test::test_node node{{}, llm_services(fake, false, {"oa", "an", "local"})};
  caf::scoped_actor self{*node.sys};
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "llm-2", "How do I add a custom domain?");
  REQUIRE(r.completed);
  CHECK(r.completed->provider == "an");
  REQUIRE(r.resets.size() == 1);
  CHECK(r.reset_at.front() >= 1);  // part of the first answer had reached the client
  CHECK(r.streamed() == r.completed->text);
  CHECK(r.final_deltas().front().seq == 0);
  // The stored turn is the final answer: a retry of the same message returns it unchanged.
  auto again = sa::test::run_turn(self, node.handles.router, "acme", "alice", "llm-2", "How do I add a custom domain?",
                                  r.completed->client_message_id);
  REQUIRE(again.completed);
  CHECK(again.completed->text == r.completed->text);
}

TEST_CASE("every remote provider down: the local provider answers, breakers open and later close", "[llm]") {
  sa::test::fake_provider_fixture fake;
  fake.set_faults({status_fault(503)});
  sa::test::test_node node{{}, llm_services(fake, false, {"oa", "an", "ge", "local"})};
  caf::scoped_actor self{*node.sys};
  for (int i = 0; i < 8; ++i) {
    auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "down-" + std::to_string(i),
                                "How do I add a custom domain?");
    REQUIRE(r.completed);
    CHECK(r.completed->provider == "local");
    CHECK_FALSE(r.completed->text.empty());
  }
  auto oa = health(self, node, "oa");
  CHECK(oa.breaker_opened >= 1);
  CHECK(oa.rejected_open >= 1);  // skipped without a request while open
  fake.clear_faults();
  // Open for 300 ms, then a half-open probe succeeds and closes the breaker.
  CHECK(eventually([&] {
    auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "down-after", "How do I add a custom domain?");
    return r.completed && r.completed->provider == "oa";
  }));
  CHECK(health(self, node, "oa").breaker == "closed");
}

TEST_CASE("a crashed provider actor is restarted by its supervisor and the next turn succeeds", "[llm]") {
  sa::test::fake_provider_fixture fake;
  sa::test::test_node node{{}, llm_services(fake, false, {"oa", "local"})};
  caf::scoped_actor self{*node.sys};
  auto supervisor = caf::actor_cast<caf::actor>(node.handles.providers->endpoints.at("oa"));
  caf::actor child;
  self->request(supervisor, 10s, sa::supervisor_child_atom::value).receive([&](caf::actor& a) { child = a; },
                                                                            [&](caf::error&) {});
  REQUIRE(child);
  self->monitor(child);
  self->send_exit(child, caf::exit_reason::kill);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(10s) >> [] {});
  REQUIRE(down);
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "crash-1", "How do I add a custom domain?");
  REQUIRE(r.completed);
  CHECK(r.completed->provider == "oa");
  caf::actor restarted;
  self->request(supervisor, 10s, sa::supervisor_child_atom::value).receive([&](caf::actor& a) { restarted = a; },
                                                                            [&](caf::error&) {});
  CHECK(restarted);
  CHECK(restarted != child);
}

TEST_CASE("chaos: 2,000 turns through a three-provider fallback chain while faults change", "[llm][chaos]") {
  sa::test::fake_provider_fixture fake{sa::test::fake_provider_options{0, 0, 7}};
  auto svc = llm_services(fake, false, {"oa", "an", "ge", "local"});
  const auto turn_timeout_us = static_cast<uint32_t>(svc->cfg.session.turn_timeout_ms) * 1000u;
  sa::test::test_node node{{}, svc};

  // About 30% of requests fail, across every provider and every kind of failure.
  auto chaos = [] {
    auto with_p = [](fault_spec f, double p) {
      f.probability = p;
      return f;
    };
    auto mid = [](fault_kind k) {
      auto f = make_fault(k);
      f.after_tokens = 2;
      f.stall_ms = 60000;
      return f;
    };
    auto retry_after = status_fault(429);
    retry_after.retry_after_ms = 10;
    return std::vector<fault_spec>{
      with_p(status_fault(500), 0.08),
      with_p(status_fault(503), 0.04),
      with_p(retry_after, 0.04),
      with_p(status_fault(529, -1, "anthropic"), 0.04),
      with_p(mid(fault_kind::reset), 0.04),
      with_p(mid(fault_kind::stall_mid_stream), 0.02),
      with_p(make_fault(fault_kind::stall_before_headers), 0.02),
      with_p(mid(fault_kind::error_event), 0.03),
      with_p(mid(fault_kind::bad_json), 0.02),
      with_p(make_fault(fault_kind::cut_line), 0.02),
    };
  };
  auto hard_down = [&] {
    auto faults = chaos();
    faults.insert(faults.begin(), status_fault(503, -1, "openai")); // openai answers nothing but 503
    return faults;
  };
  fake.set_faults(chaos());

  constexpr int total = 2000;
  constexpr int threads = 8;
  std::atomic<int> issued{0};
  std::mutex m;
  std::vector<std::string> problems;
  std::map<std::string, int> by_provider;
  int resets = 0, escalations = 0;
  double cost = 0;
  uint64_t max_latency_us = 0;
  bool opened_while_down = false;
  auto worker = [&](int t) {
    caf::scoped_actor self{*node.sys};
    for (int n = issued++; n < total; n = issued++) {
      if (n == 600)
        fake.set_faults(hard_down());
      if (n == 1300) {
        opened_while_down = health(self, node, "oa").breaker_opened >= 1;
        fake.set_faults(chaos());
      }
      auto session = "chaos-" + std::to_string(t) + "-" + std::to_string(n % 25);
      auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", session,
                                  n % 2 ? "How do I add a custom domain?" : "Where can I download my invoices?",
                                  "m-" + std::to_string(n), 30s);
      std::lock_guard<std::mutex> guard{m};
      if (!r.completed) {
        problems.push_back("turn " + std::to_string(n) + (r.timed_out ? ": no answer within 30 s" : ": failed"));
        continue;
      }
      if (r.completed->latency_us > turn_timeout_us)
        problems.push_back("turn " + std::to_string(n) + " exceeded its deadline");
      if (r.streamed() != r.completed->text)
        problems.push_back("turn " + std::to_string(n) + ": streamed text differs from the final answer");
      max_latency_us = std::max<uint64_t>(max_latency_us, r.completed->latency_us);
      ++by_provider[r.completed->provider];
      resets += static_cast<int>(r.resets.size());
      escalations += r.completed->escalation.escalate ? 1 : 0;
      cost += r.completed->usage.cost_usd;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(worker, t);
  for (auto& th : pool)
    th.join();

  INFO("answers by provider: oa " << by_provider["oa"] << ", an " << by_provider["an"] << ", ge " << by_provider["ge"]
                                  << ", local " << by_provider["local"] << "; resets " << resets << "; escalations "
                                  << escalations << "; slowest turn " << max_latency_us / 1000 << " ms");
  CHECK(problems.empty());
  for (std::size_t i = 0; i < std::min<std::size_t>(problems.size(), 10); ++i)
    UNSCOPED_INFO(problems[i]);
  int answered = 0;
  for (auto& [name, n] : by_provider)
    answered += n;
  CHECK(answered == total);
  CHECK(by_provider["oa"] > 0);
  CHECK(by_provider["an"] > 0);  // the fallback carried the load while openai was down
  CHECK(resets > 0);             // mid-stream failures restarted answers
  CHECK(opened_while_down);

  caf::scoped_actor self{*node.sys};
  // Usage and cost are accounted: what the turns report equals what the providers billed.
  double billed = 0;
  for (auto& name : {"oa", "an", "ge"})
    billed += health(self, node, name).cost_usd;
  CHECK(cost > 0);
  CHECK(cost == Approx(billed).epsilon(1e-9));

  // Without faults no breaker stays open (after 300 ms they turn half-open), and the primary, which gets
  // the traffic, closes again after one successful probe.
  fake.clear_faults();
  CHECK(eventually([&] {
    sa::test::run_turn(self, node.handles.router, "acme", "alice", "chaos-after", "Where can I download my invoices?");
    if (health(self, node, "oa").breaker != "closed")
      return false;
    for (auto& name : {"an", "ge"})
      if (health(self, node, name).breaker == "open")
        return false;
    return true;
  }));
}
