// escalation actor (one per session): applies the request's tenant's escalation_policy.
#pragma once

#include "actors/escalation/escalation_policies.hpp"
#include "messages/escalate.hpp"

#include <memory>

namespace sa {

escalation_actor::behavior_type rule_escalation(escalation_actor::pointer self,
                                                std::shared_ptr<const escalation_policies> policies);

} // namespace sa
