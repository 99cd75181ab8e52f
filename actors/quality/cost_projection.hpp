// cost_projection: the arithmetic behind `support-agent cost`: what a month of conversations costs at the
// configured prices (providers.prices), by component, from token counts per turn.
//
//   USD/conversation(component) = turns/conversation x occurrences/turn x
//                                 sum over the model mix (share x (input x in_price + output x out_price) / 1e6)
//   USD/month = USD/conversation x conversations/month
//
// Components: classification (an LLM classifier: once a turn when classifier.backend = llm), retrieval
// embeddings (the query's embedding when retriever.embedding.provider is set, at the embedding model's
// input price), generation, thinking (output tokens at the output price) and judging (quality.sample_rate
// of turns when quality.judge is set). Token counts are assumptions (defaults below, from the demo
// prompts) unless given (`--tokens component=IN:OUT`): classification 350:15, embeddings 30:0, generation
// 1800:220, thinking 0:600 on 20% of turns (when an endpoint has a thinking_budget and generator.backend =
// llm), judging 1500:40, or measured by a node (`--from-metrics`, measured_usage.hpp). A model priced
// nowhere is an error, except "local"
// (the built-in provider: free, its tokens still counted). To add a component: default_components() and
// the test (tests/actors/quality/cost_projection_test.cpp).
#pragma once

#include "config/config.hpp"
#include "runtime/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sa::quality {

struct component_tokens {
  double input = 0;   ///< prompt tokens per occurrence
  double output = 0;  ///< completion tokens per occurrence
};

struct cost_component {
  std::string name;            ///< classification, retrieval_embeddings, generation, thinking, judging
  double per_turn = 1;         ///< occurrences per turn (0: not used with this config)
  component_tokens tokens;
  bool embedding = false;      ///< priced by the embedding model, not the model mix
  bool given = false;          ///< tokens given on the command line, not assumed
  bool measured = false;       ///< tokens per turn measured by a node (measured_usage.hpp), not assumed
};

using model_mix = std::vector<std::pair<std::string, double>>;  ///< model -> share; shares sum to 1

struct projection_input {
  uint64_t conversations = 0;           ///< per month
  double turns_per_conversation = 4;
  model_mix mix;                        ///< chat models (classification, generation, thinking, judging)
  std::string embedding_model;          ///< "" = no embeddings priced
  std::map<std::string, config::price_config> prices;
  std::vector<cost_component> components;
};

struct component_cost_row {
  std::string name;
  double per_turn = 0;
  component_tokens tokens;              ///< per occurrence
  double usd_per_conversation = 0;
  double usd_per_month = 0;
  bool given = false;
  bool measured = false;
};

struct projection {
  std::vector<component_cost_row> rows;
  double turns_per_month = 0;
  double usd_per_conversation = 0;
  double usd_per_month = 0;
};

/// The components with this config's defaults (which are used, how often, assumed tokens).
std::vector<cost_component> default_components(const config::config& cfg);

/// The model mix when none is given: providers.root's model when it is an endpoint, else "local".
model_mix default_mix(const config::config& cfg);

/// "gpt-4o-mini=0.8,claude-3-5-haiku-latest=0.2" (shares in (0, 1], summing to 1 within 1e-6; a single
/// model may omit "=1"). Fails naming the bad entry.
result<model_mix> parse_model_mix(const std::string& text);

/// "generation=1800:220,thinking=0:600" applied to `components` (names must exist); a given component
/// that the config does not use is used once a turn (judging keeps quality.sample_rate, or 1 without it).
status apply_token_overrides(const std::string& text, std::vector<cost_component>& components);

/// The projection; fails on no conversations, turns <= 0, or a model without a price.
result<projection> project_cost(const projection_input& in);

/// The table `support-agent cost` prints.
std::string format_projection(const projection_input& in, const projection& p);

/// The same as one JSON object (text).
std::string projection_json(const projection_input& in, const projection& p);

} // namespace sa::quality
