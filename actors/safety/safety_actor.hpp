// safety actor: answers safety_check_request with safety_verdict (messages/safety.hpp) using the node's
// compiled checks (safety_checks.hpp), shared read-only by every instance. Each session spawns one as a
// linked child (session_children::safety) and replaces it like its other children.
//
// With LLM moderation configured (safety.moderation, actors/safety/moderation.hpp), a customer's message that
// the rules let through (allow or redact) is also put to the moderator, redacted, under
// safety.moderation_timeout_ms; the reply comes when it answers. Its verdict is merged in (the more severe
// wins); a failed, late or unparsable call leaves the rules' verdict, logged and counted. The call's cost is
// in the verdict (cost_usd). Other checks (passages, answers, the off-topic re-check) are the rules' alone.
#pragma once

#include "actors/safety/safety_checks.hpp"
#include "config/config.hpp"
#include "messages/completion.hpp"
#include "messages/safety.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace sa {

class metrics;

/// The node's compiled checks for `cfg` (RE2 patterns and per-tenant topics, built once).
std::shared_ptr<const safety::safety_checks> make_safety_checks(const config::safety_config& cfg);

/// The moderator a safety actor consults (safety.moderation). Null `moderator`: the rules alone.
struct moderation_deps {
  completion_actor moderator;
  std::string name;                          ///< the providers member, for logs
  std::chrono::milliseconds timeout{1500};   ///< safety.moderation_timeout_ms
  std::shared_ptr<sa::metrics> metrics;      ///< sa_moderation_calls_total; null: not counted
};

safety_actor::behavior_type safety_checker(safety_actor::pointer self,
                                           std::shared_ptr<const safety::safety_checks> checks,
                                           std::shared_ptr<const moderation_deps> moderation);

} // namespace sa
