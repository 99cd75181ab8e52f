// `support-agent cost --from-metrics`: a node's /metrics text read back into tokens per turn by component,
// the projection priced from them (arithmetic worked out by hand), the assumptions kept and named for what
// was not measured, and the errors for a text that is not a node's metrics.
#include "actors/node/cost_command.hpp"
#include "actors/quality/measured_usage.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace sa;
using namespace sa::quality;

namespace {

/// What a node's /metrics says after 40 turns and 10 closed conversations: generation and embeddings
/// measured on two tenants, judging once; classification never ran (a local classifier).
const char* node_metrics = R"(# HELP sa_turns_total Turns a session ran.
# TYPE sa_turns_total counter
sa_turns_total{intent="billing",outcome="answered",tenant="acme"} 30
sa_turns_total{intent="general",outcome="escalated",tenant="globex"} 10
# HELP sa_conversations_closed_total Conversations closed.
# TYPE sa_conversations_closed_total counter
sa_conversations_closed_total{resolved_by="bot",tenant="acme"} 8
sa_conversations_closed_total{resolved_by="human",tenant="globex"} 2
# HELP sa_component_tokens_total LLM tokens.
# TYPE sa_component_tokens_total counter
sa_component_tokens_total{component="generation",kind="input",model="m-a",tenant="acme"} 60000
sa_component_tokens_total{component="generation",kind="output",model="m-a",tenant="acme"} 6000
sa_component_tokens_total{component="generation",kind="input",model="m-a",tenant="globex"} 20000
sa_component_tokens_total{component="generation",kind="output",model="m-a",tenant="globex"} 2000
sa_component_tokens_total{component="retrieval_embeddings",kind="input",model="emb",tenant="acme"} 800
sa_component_tokens_total{component="retrieval_embeddings",kind="output",model="emb",tenant="acme"} 0
sa_component_tokens_total{component="judging",kind="input",model="m-a",tenant="acme"} 1500
sa_component_tokens_total{component="judging",kind="output",model="m-a",tenant="acme"} 40
sa_conversation_cost_usd_bucket{tenant="acme",le="+Inf"} 10
)";

config::config priced_config() {
  config::config cfg;
  cfg.providers.prices["m-a"] = {0.15, 0.60};
  cfg.providers.prices["emb"] = {0.02, 0};
  cfg.providers.endpoints["a"].model = "m-a";
  cfg.providers.root = "a";
  cfg.classifier.backend = "llm";  // used by the config, but nothing measured: stays assumed
  cfg.generator.backend = "llm";
  cfg.retriever.embedding.provider = "a";
  cfg.retriever.embedding.model = "emb";
  return cfg;
}

} // namespace

TEST_CASE("a node's /metrics text gives the measured turns, conversations and tokens by component",
          "[quality][cost]") {
  auto m = parse_measured_usage(node_metrics);
  REQUIRE(m);
  CHECK(m->turns == 40);
  CHECK(m->conversations == 10);
  CHECK(m->tokens.at("generation").input == 80000);
  CHECK(m->tokens.at("generation").output == 8000);
  CHECK(m->tokens.at("retrieval_embeddings").input == 800);
  CHECK(m->tokens.count("classification") == 0);

  auto components = default_components(priced_config());
  auto assumed = apply_measured(*m, components);
  REQUIRE(assumed);
  CHECK(*assumed == std::vector<std::string>{"classification"});
  for (const auto& c : components) {
    if (c.name == "generation") {
      CHECK(c.measured);
      CHECK(c.per_turn == 1);
      CHECK(c.tokens.input == 2000);  // 80,000 / 40 turns
      CHECK(c.tokens.output == 200);
    }
    if (c.name == "judging") {
      CHECK(c.measured);  // ran at run time although this config has no judge
      CHECK(c.tokens.input == Approx(37.5));
    }
    if (c.name == "classification")
      CHECK_FALSE(c.measured);
  }
}

TEST_CASE("cost --from-metrics prices the measured tokens per turn and names what stayed assumed",
          "[quality][cost]") {
  sa::test::temp_file file(node_metrics);
  cost_cli_options o;
  o.conversations = "1000";
  o.from_metrics = file.path();
  o.json_file = "-";
  std::ostringstream out, err;
  REQUIRE(run_cost_command(priced_config(), o, out, err) == 0);
  auto j = nlohmann::json::parse(out.str());
  // Turns per conversation measured: 40 / 10 = 4.
  CHECK(j["turns_per_conversation"] == 4.0);
  auto row = [&](const std::string& name) {
    for (const auto& r : j["components"])
      if (r["component"] == name)
        return r;
    FAIL("no row " << name);
    return nlohmann::json{};
  };
  // generation: 4 turns x (2000 x 0.15 + 200 x 0.60) / 1e6 = 4 x 0.00042 = 0.00168 USD a conversation.
  CHECK(row("generation")["usd_per_conversation"].get<double>() == Approx(0.00168).epsilon(1e-12));
  CHECK(row("generation")["tokens"] == "measured");
  // embeddings: 4 x 20 tokens x 0.02 / 1e6 = 1.6e-6.
  CHECK(row("retrieval_embeddings")["usd_per_conversation"].get<double>() == Approx(1.6e-6).epsilon(1e-12));
  // classification: assumed 350:15 once a turn: 4 x (350 x 0.15 + 15 x 0.60) / 1e6 = 0.000246.
  CHECK(row("classification")["usd_per_conversation"].get<double>() == Approx(0.000246).epsilon(1e-12));
  CHECK(row("classification")["tokens"] == "assumed");
  CHECK(j["usd_per_month"].get<double>() == Approx(1000 * j["usd_per_conversation"].get<double>()));

  o.json_file.clear();
  std::ostringstream text, terr;
  REQUIRE(run_cost_command(priced_config(), o, text, terr) == 0);
  CHECK_THAT(text.str(), Catch::Contains("measured over 40 turns"));
  CHECK_THAT(text.str(), Catch::Contains("Assumed (nothing measured for them): classification"));

  // Given tokens still win over measured ones.
  o.tokens = "generation=1000:100";
  o.json_file = "-";
  std::ostringstream given, gerr;
  REQUIRE(run_cost_command(priced_config(), o, given, gerr) == 0);
  CHECK_THAT(given.str(), Catch::Contains("\"tokens\":\"given\""));
}

TEST_CASE("cost --from-metrics refuses what is not a node's metrics, naming the problem", "[quality][cost]") {
  CHECK_FALSE(parse_measured_usage("# just a comment\n"));
  auto bad = parse_measured_usage("sa_turns_total{tenant=\"acme\" 3\n");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("metrics line 1"));
  auto none = parse_measured_usage("sa_turns_total 0\n");
  REQUIRE(none);
  std::vector<cost_component> components = default_components(priced_config());
  CHECK_FALSE(apply_measured(*none, components));

  cost_cli_options o;
  o.conversations = "10";
  o.from_metrics = "/nonexistent/metrics.txt";
  std::ostringstream out, err;
  CHECK(run_cost_command(priced_config(), o, out, err) == 2);
  CHECK_THAT(err.str(), Catch::Contains("cannot read the file"));
  o.from_metrics = "http://127.0.0.1:1/metrics";
  std::ostringstream out2, err2;
  CHECK(run_cost_command(priced_config(), o, out2, err2) == 2);
  CHECK_THAT(err2.str(), Catch::Contains("--from-metrics http://127.0.0.1:1/metrics"));
}
