// escalate: should a human take this turn over, and why?
#pragma once

#include "messages/classify.hpp"
#include "messages/ids.hpp"
#include "messages/safety.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>
#include <vector>

namespace sa {

/// Why a turn escalated. Stable names: protocol, audit, metrics labels ("CSAT by escalation reason").
enum class escalation_reason : uint8_t {
  none = 0,
  low_confidence,
  user_requested,
  sensitive_topic,
  knowledge_unavailable,
  component_failure,
  safety,              ///< the safety check's verdict was escalate (harmful content, repeated injection, ...)
  repeated_failure,    ///< the customer rephrased the same question or said the answer did not help
  negative_sentiment,  ///< strongly negative, frustrated or angry messages
  agent_requested,     ///< a human agent took the conversation from the queue or the console
};
const char* to_string(escalation_reason x) noexcept;

struct escalation_request {
  tenant_id tenant;
  std::string text;                 ///< the user's message
  classification intent;
  double answer_confidence = 0;     ///< the generator's confidence
  bool knowledge_available = true;
  safety_verdict safety;            ///< the turn's safety verdict (most severe of its checks)
  std::vector<std::string> recent_user_texts;  ///< earlier user messages of this conversation, oldest first
  std::vector<bool> recent_escalated;          ///< per earlier turn (same order): did it go to a human
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, escalation_request& x) {
  return f(caf::meta::type_name("escalation_request"), x.tenant, x.text, x.intent, x.answer_confidence,
           x.knowledge_available, x.safety, x.recent_user_texts, x.recent_escalated);
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
