// classify: what is the customer asking for? Intent, calibrated confidence and entities.
#pragma once

#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>
#include <vector>

namespace sa {

/// The five product intents (stable names: protocol, metrics, config routes).
enum class intent : uint8_t { general = 0, billing, technical, account, escalation_request };
const char* to_string(intent x) noexcept;
bool from_string(const std::string& name, intent& out) noexcept;

struct entity_mention {
  std::string kind;   ///< email, invoice_id, ticket_id, plan, amount, date
  std::string value;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_mention& x) {
  return f(caf::meta::type_name("entity_mention"), x.kind, x.value);
}

struct classify_request {
  tenant_id tenant;
  std::string text;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, classify_request& x) {
  return f(caf::meta::type_name("classify_request"), x.tenant, x.text);
}

struct classification {
  sa::intent intent = sa::intent::general;
  double confidence = 0;
  bool out_of_scope = false;
  std::vector<entity_mention> entities;
  double cost_usd = 0;  ///< what an LLM classifier's call cost (0 for the local model)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, classification& x) {
  return f(caf::meta::type_name("classification"), x.intent, x.confidence, x.out_of_scope, x.entities, x.cost_usd);
}

using classifier_actor = caf::typed_actor<caf::replies_to<classify_request>::with<classification>>;

} // namespace sa
