// escalation_policies: one compiled escalation_policy per tenant, built once from config
// (escalation.* with escalation.tenants.<tenant> overrides applied) and shared read-only by every
// session's escalation actor. A tenant without overrides gets the global policy.
// To add a setting: a field in escalation_settings and escalation_tenant_config, and one line in
// settings_for() below.
#pragma once

#include "actors/escalation/escalation_policy.hpp"
#include "config/config.hpp"

#include <map>
#include <memory>
#include <string>

namespace sa {

/// The global settings with `tenant`'s overrides applied.
escalation_settings settings_for(const config::escalation_config& cfg, const std::string& tenant);

class escalation_policies {
public:
  explicit escalation_policies(const config::escalation_config& cfg);

  /// The tenant's policy (the global one when the tenant has no overrides).
  const escalation_policy& for_tenant(const std::string& tenant) const;

private:
  std::shared_ptr<const escalation_policy> global_;
  std::map<std::string, std::shared_ptr<const escalation_policy>, std::less<>> tenants_;
};

} // namespace sa
