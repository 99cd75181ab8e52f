// Rule-based escalation actor. A request with answer_confidence < 0 asks only the rules that apply
// before an answer exists (the session uses that to skip generation for explicit requests and
// sensitive topics); otherwise every rule runs.
#include "actors/escalation/escalation_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

escalation_actor::behavior_type rule_escalation(escalation_actor::pointer self,
                                                std::shared_ptr<const escalation_policies> policies) {
  log_exceptions(self, "escalation");
  return {
    [policies](const escalation_request& r) -> escalation_decision {
      const auto& policy = policies->for_tenant(r.tenant.value);
      return r.answer_confidence < 0 ? policy.before_answer(r) : policy.after_answer(r);
    },
  };
}

} // namespace sa
