// escalation actor (one per session): applies the node's escalation_policy.
#pragma once

#include "actors/escalation/escalation_policy.hpp"
#include "messages/escalate.hpp"

#include <memory>

namespace sa {

escalation_actor::behavior_type rule_escalation(escalation_actor::pointer self,
                                                std::shared_ptr<const escalation_policy> policy);

} // namespace sa
