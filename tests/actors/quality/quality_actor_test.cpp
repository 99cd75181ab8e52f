// The quality actor: local scoring and CSAT storage on a real actor system, and the judge path through a
// provider actor against the fake provider on a loopback socket. Waits poll the actor's stats against a
// deadline; no sleeps.
#include "actors/providers/provider_actor.hpp"
#include "actors/quality/quality_actor.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/metrics.hpp"
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

using namespace sa;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr auto wait_limit = 15s;

struct env {
  env() {
    register_message_types(cfg);
    providers::register_provider_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    dir = fs::temp_directory_path() / ("sa-quality-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
    fs::remove_all(dir);
  }
  ~env() {
    sys.reset();
    fs::remove_all(dir);
  }

  std::shared_ptr<quality_deps> deps(double rate) {
    auto d = std::make_shared<quality_deps>();
    d->sampler = quality::sampler{rate, 42};
    d->pii = std::make_shared<const safety::pii_scanner>();
    d->metrics = metrics;
    d->judge_name = local_judge_name;
    d->judge_timeout = 5s;
    d->samples_path = (dir / "n.samples.jsonl").string();
    d->csat_path = (dir / "n.csat.jsonl").string();
    return d;
  }

  /// Polls the actor's stats until `done` holds (or the deadline passes) and returns the last ones.
  quality_stats wait_for(const quality_actor& q, const std::function<bool(const quality_stats&)>& done) {
    caf::scoped_actor self{*sys};
    quality_stats last;
    auto until = std::chrono::steady_clock::now() + wait_limit;
    while (std::chrono::steady_clock::now() < until) {
      self->request(q, 5s, quality_stats_request{})
        .receive([&](const quality_stats& s) { last = s; }, [&](caf::error& e) { FAIL(to_string(e)); });
      if (done(last))
        break;
    }
    return last;
  }

  test::prom_exposition scrape() {
    test::prom_exposition e;
    std::string error;
    REQUIRE(test::parse_prometheus_text(metrics->render(), e, error));
    return e;
  }

  static inline int serial = 0;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<sa::metrics> metrics = std::make_shared<sa::metrics>();
  fs::path dir;
};

std::vector<json> read_lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    out.push_back(json::parse(line));
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

quality_sample domain_sample(uint32_t turn, bool with_context = true) {
  quality_sample s;
  s.tenant = tenant_id{"acme"};
  s.session = session_id{"s-1"};
  s.turn = turn;
  s.intent = intent::technical;
  s.question = "How do I add a custom domain? Mail me at jane.doe@example.com";
  s.answer = "Create a CNAME record pointing to proxy.example.com. Refunds arrive within fourteen business days.";
  if (with_context) {
    passage p;
    p.source_id = "domains.md#1";
    p.text = "To add a custom domain, create a CNAME record pointing to proxy.example.com.";
    s.passages = {p};
    s.cited = {"domains.md#1"};
  }
  s.provider = "local";
  return s;
}

} // namespace

TEST_CASE("the quality actor scores sampled turns locally and stores them redacted", "[quality][actor]") {
  env e;
  auto q = spawn_quality(*e.sys, e.deps(1.0));
  caf::anon_send(q, domain_sample(1));
  auto greeting = domain_sample(2);
  greeting.answer = "Hi!";
  caf::anon_send(q, greeting);
  auto s = e.wait_for(q, [](const quality_stats& s) { return s.scored == 2; });
  CHECK(s.offered == 2);
  CHECK(s.sampled == 2);
  REQUIRE(s.scored == 2);
  auto lines = read_lines(e.dir / "n.samples.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["judge"] == "local_groundedness");
  CHECK(lines[0]["intent"] == "technical");
  CHECK(lines[0]["scores"]["groundedness"].get<double>() == Approx(0.5));  // the refund sentence is invented
  CHECK(lines[0]["counts"]["sentences"] == 2);
  CHECK(lines[1]["scores"].is_null());  // "Hi!": nothing to check
  auto text = read_all(e.dir / "n.samples.jsonl");
  CHECK(text.find("jane.doe@example.com") == std::string::npos);
  CHECK(text.find("[redacted") != std::string::npos);
  auto m = e.scrape();
  CHECK(m.sum("sa_quality_samples_total", {{"judge", "local_groundedness"}, {"outcome", "scored"}}) == 1);
  CHECK(m.sum("sa_quality_samples_total", {{"judge", "local_groundedness"}, {"outcome", "not_applicable"}}) == 1);
  CHECK(m.sum("sa_quality_score_sum", {{"dimension", "groundedness"}, {"intent", "technical"}}) == Approx(0.5));
  CHECK(m.sum("sa_quality_score_count", {{"dimension", "groundedness"}}) == 1);
  // The local provider's answers are counted in tokens (estimated), at no cost.
  CHECK(m.sum("sa_component_tokens_total", {{"component", "generation"}, {"model", "local"}}) > 0);
  CHECK(m.sum("sa_component_cost_usd_total", {{"component", "generation"}}) == 0);
  caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
}

TEST_CASE("the quality actor samples what the sampler picks", "[quality][actor]") {
  env e;
  auto d = e.deps(0.05);
  auto q = spawn_quality(*e.sys, d);
  uint64_t expected = 0;
  for (uint32_t i = 0; i < 2000; ++i) {
    quality_sample s;
    s.tenant = tenant_id{"acme"};
    s.session = session_id{"s-" + std::to_string(i / 4)};
    s.turn = i % 4 + 1;
    s.answer = "Open Settings.";
    expected += d->sampler.should_sample(s.tenant.value, s.session.value, s.turn) ? 1 : 0;
    caf::anon_send(q, std::move(s));
  }
  // A sample counts as scored once its line is written (on the actor's lane, after it was offered).
  auto s = e.wait_for(q, [](const quality_stats& s) { return s.offered == 2000 && s.scored == s.sampled; });
  CHECK(s.offered == 2000);
  CHECK(s.sampled == expected);
  CHECK(s.scored == expected);
  CHECK(expected > 60);
  CHECK(expected < 140);
  caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
}

TEST_CASE("CSAT ratings and surveys are stored per conversation with redacted comments", "[quality][csat]") {
  env e;
  auto q = spawn_quality(*e.sys, e.deps(0));
  caf::anon_send(q, csat_record{tenant_id{"acme"}, session_id{"s-9"}, false, 3, 4, false, "", intent::billing,
                                escalation_reason::none, true});
  caf::anon_send(q, csat_record{tenant_id{"acme"}, session_id{"s-9"}, true, 0, 2, false,
                                "call me on +1 415 555 0100 or bob@example.org", intent::billing,
                                escalation_reason::negative_sentiment, true});
  auto s = e.wait_for(q, [](const quality_stats& s) { return s.csat_stored == 2; });
  REQUIRE(s.csat_stored == 2);
  auto lines = read_lines(e.dir / "n.csat.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["kind"] == "rating");
  CHECK(lines[0]["turn"] == 3);
  CHECK(lines[0]["csat"] == 4);
  CHECK(lines[0]["session"] == "s-9");
  CHECK_FALSE(lines[0].contains("comment"));
  CHECK(lines[1]["kind"] == "survey");
  CHECK(lines[1]["resolved"] == false);
  CHECK(lines[1]["escalation_reason"] == "negative_sentiment");
  auto comment = lines[1]["comment"].get<std::string>();
  CHECK(comment.find("bob@example.org") == std::string::npos);
  CHECK(comment.find("555") == std::string::npos);
  CHECK(comment.find("call me on") != std::string::npos);
  caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
}

SCENARIO("a configured judge scores samples through the provider actors", "[quality][judge]") {
  env e;
  test::fake_provider_fixture fake;
  auto http = std::make_shared<http_client>();
  providers::endpoint_settings ep;
  ep.name = "judge-ep";
  ep.kind = providers::wire_kind::openai;
  ep.base_url = fake.base_url();
  ep.model = "gpt-judge";
  ep.api_key = "test-key";
  ep.max_retries = 0;
  ep.breaker.failure_threshold = 1000;
  ep.price = {1.0, 2.0};
  ep.seed = 3;
  auto provider = providers::spawn_provider(*e.sys, ep, http, e.metrics);
  auto d = e.deps(1.0);
  d->judge = caf::actor_cast<completion_actor>(provider);
  d->judge_name = "judge-ep";
  auto q = spawn_quality(*e.sys, d);

  WHEN("the judge answers") {
    caf::scoped_actor conversation{*e.sys};  // stands in for the session that offered the samples
    for (uint32_t turn : {1u, 2u}) {
      auto sample = domain_sample(turn, turn == 1);
      sample.cost_sink = caf::actor_cast<judging_cost_sink_actor>(conversation);
      caf::anon_send(q, std::move(sample));
    }
    auto s = e.wait_for(q, [](const quality_stats& s) { return s.scored == 2; });
    REQUIRE(s.scored == 2);
    CHECK(s.judge_failures == 0);
    CHECK(fake.requests("openai") == 2);
    THEN("its rubric scores are stored and exported under the judge's name") {
      auto lines = read_lines(e.dir / "n.samples.jsonl");
      REQUIRE(lines.size() == 2);
      std::map<uint32_t, json> by_turn;
      for (auto& l : lines)
        by_turn[l["turn"].get<uint32_t>()] = l;
      CHECK(by_turn[1]["judge"] == "judge-ep");
      CHECK(by_turn[1]["judge_model"] == "gpt-judge");
      CHECK(by_turn[1]["scores"] == json{{"relevance", 4}, {"accuracy", 4}, {"helpfulness", 3}, {"tone", 5}});
      CHECK(by_turn[2]["scores"]["accuracy"] == 2);  // no retrieved context
      auto m = e.scrape();
      CHECK(m.sum("sa_quality_samples_total", {{"judge", "judge-ep"}, {"outcome", "scored"}}) == 2);
      // accuracy normalised: (4 - 1) / 4 + (2 - 1) / 4
      CHECK(m.sum("sa_quality_score_sum", {{"judge", "judge-ep"}, {"dimension", "accuracy"}}) == Approx(1.0));
      CHECK(m.sum("sa_quality_score_count", {{"judge", "judge-ep"}, {"dimension", "tone"}}) == 2);
      CHECK(m.sum("sa_component_cost_usd_total", {{"component", "judging"}, {"model", "gpt-judge"}}) > 0);
      CHECK(m.sum("sa_component_tokens_total", {{"component", "judging"}}) > 0);
    }
    THEN("the conversation is told what each judgement cost, which is what the judging component spent") {
      double told = 0;
      std::set<uint32_t> turns;
      for (int i = 0; i < 2; ++i)
        conversation->receive(
          [&](const judging_cost& c) {
            CHECK(c.session.value == "s-1");
            turns.insert(c.turn);
            told += c.usd;
          },
          caf::after(wait_limit) >> [] { FAIL("no judging_cost within the deadline"); });
      CHECK(turns == std::set<uint32_t>{1, 2});
      CHECK(told > 0);
      CHECK(told == Approx(e.scrape().sum("sa_component_cost_usd_total", {{"component", "judging"}})));
      auto lines = read_lines(e.dir / "n.samples.jsonl");
      double stored = 0;
      for (auto& l : lines)
        stored += l["judge_cost_usd"].get<double>();
      CHECK(stored == Approx(told));
    }
    THEN("the judge saw the redacted question, in JSON mode") {
      auto body = json::parse(fake.last_request().request.body);
      CHECK(body["response_format"]["type"] == "json_object");
      CHECK(body.dump().find("jane.doe@example.com") == std::string::npos);
    }
  }
  WHEN("the judge fails") {
    fake.set_faults({test::status_fault(500)});
    caf::anon_send(q, domain_sample(1, true));
    auto s = e.wait_for(q, [](const quality_stats& s) { return s.scored == 1; });
    REQUIRE(s.scored == 1);
    THEN("the sample is scored locally, labelled as such, and the failure counted") {
      CHECK(s.judge_failures == 1);
      auto lines = read_lines(e.dir / "n.samples.jsonl");
      REQUIRE(lines.size() == 1);
      CHECK(lines[0]["judge"] == "local_groundedness");
      CHECK(lines[0].contains("judge_error"));
      CHECK(lines[0]["scores"]["groundedness"].get<double>() == Approx(0.5));
      auto m = e.scrape();
      CHECK(m.sum("sa_quality_samples_total", {{"judge", "local_groundedness"}, {"outcome", "judge_failed"}}) == 1);
    }
  }
  caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(provider, caf::exit_reason::user_shutdown);
  http->stop();
}
