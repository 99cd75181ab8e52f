// The cost projection's arithmetic, checked against figures worked out by hand, and its argument errors.
#include "actors/node/cost_command.hpp"
#include "actors/quality/cost_projection.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace sa;
using namespace sa::quality;

namespace {

/// Every component in use: an LLM classifier, embeddings, thinking on an endpoint, a judge at 5%.
config::config priced_config() {
  config::config cfg;
  cfg.providers.prices["m-a"] = {0.15, 0.60};
  cfg.providers.prices["m-b"] = {0.80, 4.00};
  cfg.providers.prices["emb"] = {0.02, 0};
  cfg.providers.endpoints["a"].model = "m-a";
  cfg.providers.endpoints["b"].model = "m-b";
  cfg.providers.endpoints["b"].thinking_budget = 1024;
  cfg.providers.root = "a";
  cfg.classifier.backend = "llm";
  cfg.generator.backend = "llm";
  cfg.retriever.embedding.provider = "a";
  cfg.retriever.embedding.model = "emb";
  cfg.quality.judge = "b";
  cfg.quality.sample_rate = 0.05;
  return cfg;
}

const component_cost_row& row(const projection& p, const std::string& name) {
  for (const auto& r : p.rows)
    if (r.name == name)
      return r;
  FAIL("no row " << name);
  throw 0;
}

} // namespace

SCENARIO("a monthly projection matches the hand-computed figures", "[quality][cost]") {
  GIVEN("500,000 conversations of 4 turns on 80% m-a and 20% m-b") {
    auto cfg = priced_config();
    projection_input in;
    in.conversations = 500000;
    in.turns_per_conversation = 4;
    auto mix = parse_model_mix("m-a=0.8, m-b=0.2");
    REQUIRE(mix);
    in.mix = *mix;
    in.embedding_model = "emb";
    in.prices = cfg.providers.prices;
    in.components = default_components(cfg);
    auto p = project_cost(in);
    REQUIRE(p);
    // Mixed prices: input 0.8 x 0.15 + 0.2 x 0.80 = 0.28 USD/Mtok, output 0.8 x 0.60 + 0.2 x 4.00 = 1.28.
    THEN("each component is turns x occurrences x tokens x price") {
      auto eps = [](double x) { return Approx(x).epsilon(1e-12); };
      // classification: 4 x 1 x (350 x 0.28 + 15 x 1.28) / 1e6 = 4 x 117.2e-6
      CHECK(row(*p, "classification").usd_per_conversation == eps(468.8e-6));
      CHECK(row(*p, "classification").usd_per_month == eps(234.4));
      // embeddings: 4 x 1 x 30 x 0.02 / 1e6
      CHECK(row(*p, "retrieval_embeddings").usd_per_conversation == eps(2.4e-6));
      CHECK(row(*p, "retrieval_embeddings").usd_per_month == eps(1.2));
      // generation: 4 x (1800 x 0.28 + 220 x 1.28) / 1e6 = 4 x 785.6e-6
      CHECK(row(*p, "generation").usd_per_conversation == eps(3142.4e-6));
      CHECK(row(*p, "generation").usd_per_month == eps(1571.2));
      // thinking: 4 x 0.2 x 600 x 1.28 / 1e6
      CHECK(row(*p, "thinking").usd_per_conversation == eps(614.4e-6));
      CHECK(row(*p, "thinking").usd_per_month == eps(307.2));
      // judging: 4 x 0.05 x (1500 x 0.28 + 40 x 1.28) / 1e6 = 0.2 x 471.2e-6
      CHECK(row(*p, "judging").usd_per_conversation == eps(94.24e-6));
      CHECK(row(*p, "judging").usd_per_month == eps(47.12));
      CHECK(p->usd_per_conversation == eps(4322.24e-6));
      CHECK(p->usd_per_month == eps(2161.12));
      CHECK(p->turns_per_month == 2000000);
    }
    THEN("the table and the JSON show the same figures") {
      auto table = format_projection(in, *p);
      CHECK(table.find("500,000 conversations x 4.00 turns = 2,000,000 turns") != std::string::npos);
      CHECK(table.find("m-a 80.0% m-b 20.0%; embeddings: emb") != std::string::npos);
      CHECK(table.find("1,571.20") != std::string::npos);
      CHECK(table.find("2,161.12") != std::string::npos);
      auto j = nlohmann::json::parse(projection_json(in, *p));
      CHECK(j["usd_per_month"].get<double>() == Approx(2161.12).epsilon(1e-12));
      CHECK(j["components"].size() == 6);
    }
  }
  GIVEN("the default configuration: local classifier and generator, no embeddings, no judge") {
    config::config cfg;
    projection_input in;
    in.conversations = 1000;
    in.mix = default_mix(cfg);
    in.prices = cfg.providers.prices;
    in.components = default_components(cfg);
    auto p = project_cost(in);
    REQUIRE(p);
    THEN("only generation is used, on the free local provider") {
      CHECK(in.mix == model_mix{{"local", 1.0}});
      CHECK(row(*p, "generation").per_turn == 1);
      CHECK(row(*p, "classification").per_turn == 0);
      CHECK(row(*p, "judging").per_turn == 0);
      CHECK(row(*p, "moderation").per_turn == 0);
      CHECK(p->usd_per_month == 0);
    }
  }
}

TEST_CASE("LLM moderation adds one call a turn to the projection", "[quality][cost]") {
  config::config cfg;
  cfg.providers.prices["m"] = {1, 2};
  cfg.safety.moderation = "mod";
  projection_input in{10, 2, {{"m", 1.0}}, "", cfg.providers.prices, default_components(cfg)};
  auto p = project_cost(in);
  REQUIRE(p);
  // moderation: 2 turns x (300 x 1 + 25 x 2) / 1e6 = 0.7e-3
  CHECK(row(*p, "moderation").per_turn == 1);
  CHECK(row(*p, "moderation").usd_per_conversation == Approx(0.7e-3).epsilon(1e-12));
}

TEST_CASE("token overrides replace the assumptions and switch a component on", "[quality][cost]") {
  config::config cfg;
  cfg.providers.prices["m"] = {1, 2};
  auto components = default_components(cfg);
  REQUIRE(apply_token_overrides("generation=1000:100, thinking=0:500", components));
  projection_input in{10, 2, {{"m", 1.0}}, "", cfg.providers.prices, components};
  auto p = project_cost(in);
  REQUIRE(p);
  // generation: 2 x (1000 x 1 + 100 x 2) / 1e6 = 2.4e-3; thinking: 2 x 500 x 2 / 1e6 = 2e-3
  CHECK(row(*p, "generation").usd_per_conversation == Approx(2.4e-3).epsilon(1e-12));
  CHECK(row(*p, "thinking").usd_per_conversation == Approx(2e-3).epsilon(1e-12));
  CHECK(row(*p, "thinking").given);
  CHECK(p->usd_per_month == Approx(10 * 4.4e-3).epsilon(1e-12));
  CHECK(format_projection(in, *p).find("given") != std::string::npos);
}

TEST_CASE("bad cost arguments fail with a message naming the problem", "[quality][cost]") {
  CHECK(parse_model_mix("a=0.5,b=0.4").error() == "--model-mix: the shares add up to 0.900000; they must add up to 1");
  CHECK(parse_model_mix("a=x").error() == "--model-mix: \"a=x\": the share must be a number in (0, 1]");
  CHECK(parse_model_mix("a=0.5,a=0.5").error() == "--model-mix: model \"a\" is listed twice");
  CHECK_FALSE(parse_model_mix(",a"));
  CHECK(parse_model_mix("solo"));
  auto components = default_components(config::config{});
  CHECK(apply_token_overrides("embeddings=1:2", components).error() ==
        "--tokens: unknown component \"embeddings\" (components: classification, retrieval_embeddings, generation, "
        "thinking, judging, moderation)");
  CHECK_FALSE(apply_token_overrides("generation=1800", components));
  CHECK_FALSE(apply_token_overrides("generation=-1:2", components));
  projection_input in{1, 4, {{"gpt-x", 1.0}}, "", {}, components};
  CHECK(project_cost(in).error() ==
        "model \"gpt-x\" has no price in providers.prices (priced: none); add providers.prices.gpt-x.input_per_mtok "
        "and .output_per_mtok");
  in.conversations = 0;
  CHECK_FALSE(project_cost(in));

  auto cfg = priced_config();
  auto run = [&](cost_cli_options o, std::string& out, std::string& err) {
    std::ostringstream o_out, o_err;
    int rc = run_cost_command(cfg, o, o_out, o_err);
    out = o_out.str();
    err = o_err.str();
    return rc;
  };
  std::string out, err;
  CHECK(run({"", "", "", "", "", ""}, out, err) == 2);
  CHECK(err.find("cost needs --conversations N") != std::string::npos);
  CHECK(run({"5e5", "", "", "", "", ""}, out, err) == 2);
  CHECK(err.find("(got \"5e5\")") != std::string::npos);
  CHECK(run({"500000", "0", "", "", "", ""}, out, err) == 2);
  CHECK(err.find("--turns-per-conversation") != std::string::npos);
  CHECK(run({"500000", "", "m-a=0.8,nope=0.2", "", "", ""}, out, err) == 2);
  CHECK(err.find("model \"nope\" has no price") != std::string::npos);
  REQUIRE(run({"500000", "4", "m-a=0.8,m-b=0.2", "", "", ""}, out, err) == 0);
  CHECK(out.find("2,161.12") != std::string::npos);
  REQUIRE(run({"500000", "4", "m-a=0.8,m-b=0.2", "", "-", ""}, out, err) == 0);
  CHECK(nlohmann::json::parse(out)["usd_per_month"].get<double>() == Approx(2161.12).epsilon(1e-12));
  REQUIRE(run({"500000", "", "", "", "", ""}, out, err) == 0);  // default mix: providers.root's model (m-a)
  CHECK(out.find("Model mix: m-a 100.0%") != std::string::npos);
}
