// safety actor: answers safety_check_request with safety_verdict (messages/safety.hpp) using the node's
// compiled checks (safety_checks.hpp), shared read-only by every instance. Stateless: each session spawns
// one as a linked child (session_children::safety) and replaces it like its other children.
#pragma once

#include "actors/safety/safety_checks.hpp"
#include "config/config.hpp"
#include "messages/safety.hpp"

#include <memory>

namespace sa {

/// The node's compiled checks for `cfg` (RE2 patterns and per-tenant topics, built once).
std::shared_ptr<const safety::safety_checks> make_safety_checks(const config::safety_config& cfg);

safety_actor::behavior_type safety_checker(safety_actor::pointer self,
                                           std::shared_ptr<const safety::safety_checks> checks);

} // namespace sa
