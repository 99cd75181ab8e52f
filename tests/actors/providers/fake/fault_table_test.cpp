// Fault rules: parsing, provider matching, count, seeded probability, and the counters.
#include "actors/providers/fake/fault_table.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers::fake;

TEST_CASE("a fault parses from the documented JSON and rejects what it cannot honour") {
  auto f = parse_fault(R"({"provider":"openai","fault":"status","status":429,"retry_after_s":2,"probability":1.0,"count":3})");
  REQUIRE(f.ok());
  CHECK(f->provider == "openai");
  CHECK(f->kind == fault_kind::status);
  CHECK(f->status == 429);
  CHECK(f->retry_after_s == 2.0);
  CHECK(f->count == 3);
  CHECK_FALSE(parse_fault(R"({"fault":"explode"})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"status","provider":"cohere"})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"status","probability":1.5})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"status","status":"429"})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"status","status":99})").ok());
  CHECK_FALSE(parse_fault("not json").ok());
  auto many = parse_faults(R"([{"fault":"reset","after_tokens":2},{"fault":"timing","ttft_ms":50,"tokens_per_s":20}])");
  REQUIRE(many.ok());
  REQUIRE(many->size() == 2);
  CHECK((*many)[1].ttft_ms == 50u);
  CHECK((*many)[1].tokens_per_s == 20.0);
}

TEST_CASE("a fault applies only to its provider, and count limits how many requests get it") {
  fault_table t;
  t.add(*parse_fault(R"({"provider":"anthropic","fault":"status","status":529,"count":2})"));
  CHECK_FALSE(t.pick(provider_kind::openai));
  CHECK(t.pick(provider_kind::anthropic));
  CHECK(t.pick(provider_kind::anthropic));
  CHECK_FALSE(t.pick(provider_kind::anthropic));
  auto listed = nlohmann::json::parse(t.faults_json());
  CHECK(listed[0]["count"] == 0);
}

TEST_CASE("rules match in order and '*' matches every provider") {
  fault_table t;
  t.replace(*parse_faults(R"([{"provider":"gemini","fault":"reset"},{"provider":"*","fault":"drip"}])"));
  CHECK(t.pick(provider_kind::gemini)->kind == fault_kind::reset);
  CHECK(t.pick(provider_kind::openai)->kind == fault_kind::drip);
  t.clear();
  CHECK_FALSE(t.pick(provider_kind::openai));
}

TEST_CASE("probability rolls are reproducible for a seed") {
  auto run = [](uint64_t seed) {
    fault_table t(seed);
    t.add(*parse_fault(R"({"fault":"status","probability":0.5})"));
    std::string hits;
    for (int i = 0; i < 200; ++i)
      hits += t.pick(provider_kind::openai) ? '1' : '0';
    return hits;
  };
  auto a = run(42);
  CHECK(a == run(42));
  CHECK(a != run(43));
  auto ones = std::count(a.begin(), a.end(), '1');
  CHECK(ones > 60);
  CHECK(ones < 140);
}

TEST_CASE("stats count requests per route and per applied fault") {
  fault_table t;
  t.record("openai", fault_kind::none);
  t.record("openai", fault_kind::status);
  t.record("gemini", fault_kind::reset);
  CHECK(t.total() == 3);
  CHECK(t.requests("openai") == 2);
  CHECK(t.faults(fault_kind::status) == 1);
  auto j = nlohmann::json::parse(t.stats_json());
  CHECK(j["requests"]["gemini"] == 1);
  CHECK(j["faults"]["none"] == 1);
  CHECK(j["by_route"]["openai"]["status"] == 1);
  t.reset_stats();
  CHECK(t.total() == 0);
}
