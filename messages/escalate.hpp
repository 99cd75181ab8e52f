// escalate: should a human take this turn over, and why?
#pragma once

#include "messages/classify.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>

namespace sa {

/// Why a turn escalated. Stable names: protocol, audit, metrics labels ("CSAT by escalation reason").
enum class escalation_reason : uint8_t {
  none = 0,
  low_confidence,
  user_requested,
  sensitive_topic,
  knowledge_unavailable,
  component_failure,
};
const char* to_string(escalation_reason x) noexcept;

struct escalation_request {
  tenant_id tenant;
  std::string text;                 ///< the user's message
  classification intent;
  double answer_confidence = 0;     ///< the generator's confidence
  bool knowledge_available = true;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, escalation_request& x) {
  return f(caf::meta::type_name("escalation_request"), x.tenant, x.text, x.intent, x.answer_confidence,
           x.knowledge_available);
}

struct escalation_decision {
  bool escalate = false;
  escalation_reason reason = escalation_reason::none;
  std::string detail;  ///< e.g. the matched topic ("lawsuit") or "confidence 0.41 < 0.70"; no user text
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, escalation_decision& x) {
  return f(caf::meta::type_name("escalation_decision"), x.escalate, x.reason, x.detail);
}

using escalation_actor =
  caf::typed_actor<caf::replies_to<escalation_request>::with<escalation_decision>>;

} // namespace sa
