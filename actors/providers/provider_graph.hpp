// provider_graph: builds the node's provider actors from the `providers` config section - one supervised
// provider actor per endpoint, the local provider, and the strategies composed of them - and resolves
// `providers.root`, the one handle the LLM classifier and generator call. Built once per node and shared
// by every session (breakers and retry budgets must see all traffic to a provider).
#pragma once

#include "actors/generator/generator_actor.hpp"
#include "actors/providers/provider_actor.hpp"
#include "config/config.hpp"
#include "messages/completion.hpp"
#include "runtime/http_client.hpp"
#include "runtime/result.hpp"

#include "caf/fwd.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace sa::providers {

/// Reads an environment variable; nullptr when unset. Replaceable in tests.
using env_lookup = std::function<const char*(const char*)>;

/// The settings of endpoint `name`: its config, its model's price, and its API key read from the
/// environment variable named by api_key_env (a failure names the variable when it is unset or empty).
result<endpoint_settings> endpoint_settings_from(const std::string& name, const config::config& cfg,
                                                 const env_lookup& env);

struct provider_graph {
  completion_actor root;                           ///< providers.root; null when not configured
  std::map<std::string, completion_actor> members; ///< every endpoint, strategy and "local", by name
  std::map<std::string, provider_actor> endpoints; ///< the supervised endpoints (health, metrics)
  std::shared_ptr<http_client> http;               ///< shared by every endpoint; stopped on destruction
};

struct graph_options {
  int restart_budget = 3;                         ///< provider actor restarts per window
  std::chrono::milliseconds restart_window{10'000};
  std::shared_ptr<sa::metrics> metrics;           ///< the node's figures (providers, fallbacks, restarts); optional
};

/// Settings of every configured endpoint, by name; fails on the first missing API key.
result<std::map<std::string, endpoint_settings>> all_endpoint_settings(const config::config& cfg,
                                                                       const env_lookup& env = {});

/// Spawns everything `cfg.providers` names, with `endpoints` from all_endpoint_settings (so a missing
/// key failed earlier, before the node started). `local` composes the local provider's answers. Fails
/// only on a graph the config loader would have refused (unknown names, cycles).
result<provider_graph> build_provider_graph(caf::actor_system& sys, const config::config& cfg,
                                            const std::map<std::string, endpoint_settings>& endpoints,
                                            std::shared_ptr<const generator_deps> local, graph_options opts = {});

} // namespace sa::providers
