// The escalation section: the new rules' settings, per-tenant overrides and their validation.
#include "tests/support/temp_file.hpp"
#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace cfg = sa::config;
using Catch::Matchers::Contains;

namespace {

sa::result<cfg::config> load_escalation(const std::string& escalation_json) {
  sa::test::temp_file f{R"({"escalation": )" + escalation_json + "}", ".jsonc"};
  return cfg::load({f.path(), {}, {}});
}

} // namespace

TEST_CASE("escalation tenants override only the settings they name", "[config][escalation]") {
  auto r = load_escalation(R"({
    "negative_sentiment": {"threshold": 4},
    "tenants": {"globex": {"confidence_threshold": 0.85, "sensitive_topics": ["chargeback"],
                           "repeated_failure": {"enabled": false, "window": 5},
                           "negative_sentiment": {"threshold": 6.5}}}})");
  REQUIRE(r.ok());
  const auto& e = r->escalation;
  CHECK(e.negative_sentiment.threshold == Approx(4));
  REQUIRE(e.tenants.count("globex") == 1);
  const auto& g = e.tenants.at("globex");
  CHECK(g.confidence_threshold == 0.85);
  CHECK(g.sensitive_topics == std::vector<std::string>{"chargeback"});
  CHECK(g.repeated_failure_enabled == false);
  CHECK(g.repeated_failure_window == 5);
  CHECK_FALSE(g.repeated_failure_similarity.has_value());  // unset: the global value applies
  CHECK(g.negative_sentiment_threshold == 6.5);
  CHECK_FALSE(g.negative_sentiment_enabled.has_value());
  // The dump shows exactly the overrides.
  auto text = cfg::to_json_text(*r);
  CHECK_THAT(text, Contains("\"globex\""));
  CHECK_THAT(text, Contains("\"threshold\": 6.5"));
}

TEST_CASE("escalation settings out of range, bad tenant names and topics without words are rejected with the "
          "key named",
          "[config][escalation]") {
  auto r = load_escalation(R"({
    "repeated_failure": {"similarity": 1.5, "window": 0},
    "negative_sentiment": {"threshold": "high"},
    "sensitive_topics": ["legal", "!!!"],
    "tenants": {"bad/tenant": {"confidence_threshold": 0.5},
                "acme": {"confidence_threshold": 2, "sensitive_topics": ["--"], "nonsense": 1}}})");
  REQUIRE_FALSE(r.ok());
  const auto& e = r.error();
  CHECK_THAT(e, Contains("escalation.repeated_failure.similarity = 1.5: expected a number in [0.1, 1]"));
  CHECK_THAT(e, Contains("escalation.repeated_failure.window = 0: expected an integer in [1, 20]"));
  CHECK_THAT(e, Contains("escalation.negative_sentiment.threshold = \"high\": expected a number in [0.5, 100]"));
  CHECK_THAT(e, Contains("escalation.sensitive_topics: topic \"!!!\" has no letter or digit"));
  CHECK_THAT(e, Contains("escalation.tenants.bad/tenant: expected a tenant id"));
  CHECK_THAT(e, Contains("escalation.tenants.acme.confidence_threshold = 2: expected a number in [0, 1]"));
  CHECK_THAT(e, Contains("escalation.tenants.acme.sensitive_topics: topic \"--\" has no letter or digit"));
  CHECK_THAT(e, Contains("escalation.tenants.acme.nonsense: unknown key"));
}
