#include "actors/providers/provider_graph.hpp"

#include "actors/providers/strategies/strategies.hpp"
#include "runtime/supervisor.hpp"

#include "caf/all.hpp"

#include <cstdlib>
#include <set>

namespace sa::providers {

namespace {

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  return url;
}

} // namespace

result<endpoint_settings> endpoint_settings_from(const std::string& name, const config::config& cfg,
                                                 const env_lookup& env) {
  auto it = cfg.providers.endpoints.find(name);
  if (it == cfg.providers.endpoints.end())
    return failure{"providers: no endpoint named '" + name + "'"};
  const auto& e = it->second;
  endpoint_settings s;
  s.name = name;
  if (!wire_kind_from_string(e.kind, s.kind))
    return failure{"providers.endpoints." + name + ".kind: unknown provider kind '" + e.kind + "'"};
  s.base_url = strip_trailing_slashes(e.base_url);
  s.model = e.model;
  if (!e.api_key_env.empty()) {
    const char* key = env ? env(e.api_key_env.c_str()) : std::getenv(e.api_key_env.c_str());
    if (key == nullptr || *key == '\0')
      return failure{"providers.endpoints." + name + ".api_key_env: environment variable " + e.api_key_env
                     + " is not set (it must hold the API key of this endpoint)"};
    s.api_key = key;
  }
  s.max_tokens = static_cast<uint32_t>(e.max_tokens);
  s.temperature = e.temperature;
  s.thinking_budget = static_cast<uint32_t>(e.thinking_budget);
  s.use_max_completion_tokens = e.use_max_completion_tokens;
  s.connect_timeout = std::chrono::milliseconds{e.connect_timeout_ms};
  s.first_byte_timeout = std::chrono::milliseconds{e.first_byte_timeout_ms};
  s.idle_timeout = std::chrono::milliseconds{e.idle_timeout_ms};
  s.max_retries = static_cast<uint32_t>(e.max_retries);
  s.backoff.initial = std::chrono::milliseconds{e.backoff_initial_ms};
  s.backoff.max = std::chrono::milliseconds{e.backoff_max_ms};
  s.backoff.max_retry_after = std::chrono::milliseconds{e.max_retry_after_ms};
  s.budget.ratio = e.retry_budget_ratio;
  s.budget.min_concurrent = static_cast<uint32_t>(e.retry_budget_min);
  s.breaker.failure_threshold = static_cast<uint32_t>(e.breaker_failure_threshold);
  s.breaker.failure_rate = e.breaker_failure_rate;
  s.breaker.window = std::chrono::seconds{e.breaker_window_s};
  s.breaker.open_for = std::chrono::milliseconds{e.breaker_open_ms};
  s.breaker.half_open_probes = static_cast<uint32_t>(e.breaker_half_open_probes);
  if (auto p = cfg.providers.prices.find(e.model); p != cfg.providers.prices.end())
    s.price = model_price{p->second.input_per_mtok, p->second.output_per_mtok};
  return s;
}

result<std::map<std::string, endpoint_settings>> all_endpoint_settings(const config::config& cfg,
                                                                       const env_lookup& env) {
  std::map<std::string, endpoint_settings> out;
  for (const auto& entry : cfg.providers.endpoints) {
    auto s = endpoint_settings_from(entry.first, cfg, env);
    if (!s.ok())
      return failure{s.error()};
    out.emplace(entry.first, std::move(s.value()));
  }
  return out;
}

result<provider_graph> build_provider_graph(caf::actor_system& sys, const config::config& cfg,
                                            const std::map<std::string, endpoint_settings>& settings,
                                            std::shared_ptr<const generator_deps> local, graph_options opts) {
  const auto& pc = cfg.providers;
  provider_graph g;
  http_client_options hopts;
  hopts.max_host_connections = pc.max_host_connections;
  hopts.max_cached_connections = pc.max_host_connections;
  hopts.thread_name = "sa-providers";
  g.http = std::make_shared<http_client>(hopts);
  supervision_policy policy{opts.restart_budget, opts.restart_window, opts.metrics};
  for (const auto& [name, s] : settings) {
    auto handle = spawn_supervised<provider_actor>(
      sys, "provider:" + name,
      [s = s, http = g.http, m = opts.metrics](caf::local_actor* sup) { return spawn_provider(sup, s, http, m); },
      policy);
    g.endpoints.emplace(name, handle);
    g.members.emplace(name, handle);
  }
  g.members.emplace("local", spawn_local_provider(sys, std::move(local)));
  // Strategies, members first (the loader rejected cycles; `visiting` guards anyway).
  std::set<std::string> visiting;
  std::function<result<completion_actor>(const std::string&)> resolve;
  resolve = [&](const std::string& name) -> result<completion_actor> {
    if (auto it = g.members.find(name); it != g.members.end())
      return it->second;
    auto st = pc.strategies.find(name);
    if (st == pc.strategies.end())
      return failure{"providers: '" + name + "' names no endpoint, strategy or local"};
    if (!visiting.insert(name).second)
      return failure{"providers.strategies." + name + ": part of a cycle"};
    const auto& sc = st->second;
    std::vector<member> members;
    for (const auto& m : sc.members) {
      auto h = resolve(m);
      if (!h.ok())
        return failure{h.error()};
      members.push_back(member{m, h.value()});
    }
    completion_actor made;
    if (sc.kind == "fallback") {
      made = spawn_fallback(sys, name, std::move(members), opts.metrics);
    } else if (sc.kind == "hedge") {
      made = spawn_hedge(sys, name, std::move(members), std::chrono::milliseconds{sc.hedge_delay_ms});
    } else if (sc.kind == "self_consistency") {
      if (members.size() != 1)
        return failure{"providers.strategies." + name + ".members: self_consistency samples exactly one member"};
      made = spawn_self_consistency(sys, name, members.front(), static_cast<uint32_t>(sc.samples));
    } else if (sc.kind == "by_task" || sc.kind == "by_intent") {
      std::map<std::string, member> routes;
      for (const auto& [key, target] : sc.routes) {
        auto h = resolve(target);
        if (!h.ok())
          return failure{h.error()};
        routes.emplace(key, member{target, h.value()});
      }
      made = spawn_route(sys, name, sc.kind == "by_task" ? route_key::task : route_key::intent, std::move(routes));
    } else {
      return failure{"providers.strategies." + name + ".kind: unknown strategy '" + sc.kind + "'"};
    }
    visiting.erase(name);
    g.members.emplace(name, made);
    return made;
  };
  for (const auto& [name, unused] : pc.strategies) {
    auto h = resolve(name);
    if (!h.ok())
      return failure{h.error()};
  }
  if (!pc.root.empty()) {
    auto it = g.members.find(pc.root);
    if (it == g.members.end())
      return failure{"providers.root: '" + pc.root + "' names no endpoint, strategy or local"};
    g.root = it->second;
  }
  return g;
}

} // namespace sa::providers
