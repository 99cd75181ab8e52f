#include "actors/escalation/escalation_policies.hpp"

namespace sa {

escalation_settings settings_for(const config::escalation_config& cfg, const std::string& tenant) {
  escalation_settings s;
  s.confidence_threshold = cfg.confidence_threshold;
  s.sensitive_topics = cfg.sensitive_topics;
  s.repeated_failure = cfg.repeated_failure.enabled;
  s.rephrase_similarity = cfg.repeated_failure.similarity;
  s.rephrase_window = cfg.repeated_failure.window;
  s.negative_sentiment = cfg.negative_sentiment.enabled;
  s.sentiment_threshold = cfg.negative_sentiment.threshold;
  auto it = cfg.tenants.find(tenant);
  if (it == cfg.tenants.end())
    return s;
  const auto& o = it->second;
  s.confidence_threshold = o.confidence_threshold.value_or(s.confidence_threshold);
  s.sensitive_topics = o.sensitive_topics.value_or(s.sensitive_topics);
  s.repeated_failure = o.repeated_failure_enabled.value_or(s.repeated_failure);
  s.rephrase_similarity = o.repeated_failure_similarity.value_or(s.rephrase_similarity);
  s.rephrase_window = o.repeated_failure_window.value_or(s.rephrase_window);
  s.negative_sentiment = o.negative_sentiment_enabled.value_or(s.negative_sentiment);
  s.sentiment_threshold = o.negative_sentiment_threshold.value_or(s.sentiment_threshold);
  return s;
}

escalation_policies::escalation_policies(const config::escalation_config& cfg)
  : global_(std::make_shared<const escalation_policy>(settings_for(cfg, {}))) {
  for (const auto& [tenant, overrides] : cfg.tenants)
    tenants_.emplace(tenant, std::make_shared<const escalation_policy>(settings_for(cfg, tenant)));
}

const escalation_policy& escalation_policies::for_tenant(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? *global_ : *it->second;
}

} // namespace sa
