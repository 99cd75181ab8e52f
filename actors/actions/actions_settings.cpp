// actions_settings: see actions_settings.hpp.
#include "actors/actions/actions_settings.hpp"

#include <algorithm>
#include <cstdlib>

namespace sa::actions {

const workflow_target* actions_settings::workflow_for(const std::string& tenant, const std::string& name) const {
  auto i = workflows.find(name);
  if (i == workflows.end())
    return nullptr;
  const auto& allowed = i->second.tenants;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), tenant) == allowed.end())
    return nullptr;
  return &i->second;
}

result<std::shared_ptr<const actions_settings>> settings_from(const config::config& cfg, const env_lookup& env) {
  auto lookup = env ? env : env_lookup{[](const char* name) { return std::getenv(name); }};
  auto secret = [&](const std::string& key, const std::string& var) -> result<std::string> {
    const char* value = var.empty() ? nullptr : lookup(var.c_str());
    if (!value || !*value)
      return failure{key + " names " + (var.empty() ? std::string("no variable") : var) +
                     ", which is not set in the environment (it holds the webhook signing secret)"};
    return std::string(value);
  };
  const auto& a = cfg.actions;
  auto s = std::make_shared<actions_settings>();
  s->enabled = a.enabled;
  s->confirmation_ttl = std::chrono::seconds{a.confirmation_ttl_s};
  s->max_tickets_per_tenant = static_cast<std::size_t>(a.max_tickets_per_tenant);
  s->policy.connect_timeout = std::chrono::milliseconds{a.webhook_connect_timeout_ms};
  s->policy.attempt_timeout = std::chrono::milliseconds{a.webhook_timeout_ms};
  s->policy.max_attempts = static_cast<uint32_t>(a.webhook_max_attempts);
  s->policy.backoff_initial = std::chrono::milliseconds{a.webhook_backoff_initial_ms};
  s->policy.backoff_max = std::chrono::milliseconds{a.webhook_backoff_max_ms};
  if (!a.ticket_webhook_url.empty()) {
    auto value = secret("actions.ticket_webhook_secret_env", a.ticket_webhook_secret_env);
    if (!value)
      return failure{value.error()};
    s->helpdesk = webhook_target{a.ticket_webhook_url, std::move(*value), a.ticket_webhook_secret_env};
  }
  std::vector<workflow_offer> offers;
  std::vector<workflow_phrases> phrases;
  for (const auto& [name, w] : a.workflows) {
    auto value = secret("actions.workflows." + name + ".secret_env", w.secret_env);
    if (!value)
      return failure{value.error()};
    s->workflows[name] = workflow_target{name, w.tenants, webhook_target{w.url, std::move(*value), w.secret_env}};
    offers.push_back(workflow_offer{name, w.description, w.tenants});
    phrases.push_back(workflow_phrases{name, w.phrases});
  }
  s->registry = std::make_shared<const tool_registry>(std::move(offers));
  s->rules = std::make_shared<const action_rules>(std::move(phrases));
  return std::shared_ptr<const actions_settings>{std::move(s)};
}

} // namespace sa::actions
