#include "actors/safety/safety_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

std::shared_ptr<const safety::safety_checks> make_safety_checks(const config::safety_config& cfg) {
  safety::content_policy policy;
  auto& d = policy.defaults;
  d.harmful = cfg.harmful;
  d.abusive = cfg.abusive;
  d.prompt_injection = cfg.prompt_injection;
  d.off_topic = cfg.off_topic;
  d.off_topic_classifier = cfg.off_topic_classifier;
  d.off_topic_topics = cfg.off_topic_topics;
  for (const auto& [tenant, topics] : cfg.tenant_off_topic_topics) {
    auto own = d;
    own.off_topic_topics = topics;
    policy.tenants.emplace(tenant, std::move(own));
  }
  return std::make_shared<const safety::safety_checks>(std::make_shared<const safety::pii_scanner>(),
                                                       std::make_shared<const safety::content_checks>(std::move(policy)),
                                                       cfg.enabled, cfg.pii);
}

safety_actor::behavior_type safety_checker(safety_actor::pointer self,
                                           std::shared_ptr<const safety::safety_checks> checks) {
  log_exceptions(self, "safety");
  return {
    [checks](const safety_check_request& req) -> safety_verdict { return checks->check(req); },
  };
}

} // namespace sa
