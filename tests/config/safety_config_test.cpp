// The safety section: defaults, per-tenant off-topic topics, and validation naming the key.
#include "tests/support/temp_file.hpp"
#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace cfg = sa::config;
using Catch::Matchers::Contains;

namespace {

sa::result<cfg::config> load_safety(const std::string& safety_json) {
  sa::test::temp_file f{R"({"safety": )" + safety_json + "}", ".jsonc"};
  return cfg::load({f.path(), {}, {}});
}

} // namespace

TEST_CASE("safety defaults turn every check on with default off-topic topics", "[config][safety]") {
  auto d = cfg::defaults().safety;
  CHECK(d.enabled);
  CHECK(d.pii);
  CHECK(d.harmful);
  CHECK(d.abusive);
  CHECK(d.prompt_injection);
  CHECK(d.off_topic);
  CHECK(d.off_topic_classifier);
  CHECK_FALSE(d.off_topic_topics.empty());
  CHECK(d.tenant_off_topic_topics.empty());
}

TEST_CASE("safety switches and per-tenant topics load", "[config][safety]") {
  auto r = load_safety(R"({"abusive": false, "off_topic_topics": ["weather"],
                           "tenant_off_topic_topics": {"globex": ["crypto", "nft"], "acme": []}})");
  REQUIRE(r.ok());
  CHECK_FALSE(r->safety.abusive);
  CHECK(r->safety.off_topic_topics == std::vector<std::string>{"weather"});
  CHECK(r->safety.tenant_off_topic_topics.at("globex") == std::vector<std::string>{"crypto", "nft"});
  CHECK(r->safety.tenant_off_topic_topics.at("acme").empty());
}

TEST_CASE("a wrongly typed safety setting is refused naming the key", "[config][safety]") {
  auto r = load_safety(R"({"enabled": "yes", "off_topic_topics": "weather", "tenant_off_topic_topics": {"acme": [""]}})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Contains("safety.enabled = \"yes\": expected true or false"));
  CHECK_THAT(r.error(), Contains("safety.off_topic_topics = \"weather\": expected a list of non-empty strings"));
  CHECK_THAT(r.error(), Contains("safety.tenant_off_topic_topics.acme"));
  auto unknown = load_safety(R"({"pii_mode": "strict"})");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error(), Contains("safety.pii_mode"));
}
