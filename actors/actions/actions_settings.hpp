// actions_settings: the `actions` config section resolved for a running node - webhook targets with their
// signing secrets read from the environment (a missing one stops start-up, naming the variable), the tool
// registry and the local rules. Built once per node and shared read-only. Secrets live only here and in the
// actions actor's requests; they are never logged or put in an error message.
#pragma once

#include "actors/actions/action_rules.hpp"
#include "actors/actions/tool_registry.hpp"
#include "config/config.hpp"
#include "runtime/result.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace sa::actions {

/// Where a webhook goes and how it is signed.
struct webhook_target {
  std::string url;
  std::string secret;      ///< the value of secret_env (never logged)
  std::string secret_env;  ///< for messages
};

struct workflow_target {
  std::string name;
  std::vector<std::string> tenants;  ///< empty = every tenant
  webhook_target target;
};

/// Retries of one webhook action.
struct webhook_policy {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds attempt_timeout{5000};
  uint32_t max_attempts = 4;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{2000};
};

struct actions_settings {
  bool enabled = true;
  std::chrono::seconds confirmation_ttl{300};
  webhook_target helpdesk;                         ///< url empty: the embedded ticket store
  std::map<std::string, workflow_target> workflows;
  webhook_policy policy;
  std::size_t max_tickets_per_tenant = 10000;
  std::shared_ptr<const tool_registry> registry;
  std::shared_ptr<const action_rules> rules;

  /// True when any action calls out over HTTP (the node then starts an HTTP client for them).
  bool uses_webhooks() const { return !helpdesk.url.empty() || !workflows.empty(); }
  /// The workflow `name` if `tenant` may start it.
  const workflow_target* workflow_for(const std::string& tenant, const std::string& name) const;
};

/// Reads an environment variable; nullptr when unset. Replaceable in tests.
using env_lookup = std::function<const char*(const char*)>;

/// Resolves cfg.actions. Fails naming the variable when a secret_env is unset or empty.
result<std::shared_ptr<const actions_settings>> settings_from(const config::config& cfg, const env_lookup& env = {});

} // namespace sa::actions
