// session actor: one per conversation, activated on its first message and passivated when idle.
//
// It owns the conversation's turn pipeline and its children (classifier, retriever, generator,
// escalation), which it spawns linked and restarts within a budget. Node services (memory, account
// context) are shared and supervised elsewhere; the session reaches them through their handles.
#pragma once

#include "actors/actions/actions_settings.hpp"
#include "actors/safety/output_filter.hpp"
#include "actors/safety/safety_checks.hpp"
#include "config/config.hpp"
#include "messages/account.hpp"
#include "messages/actions.hpp"
#include "messages/audit.hpp"
#include "messages/classify.hpp"
#include "messages/escalate.hpp"
#include "messages/generate.hpp"
#include "messages/handoff.hpp"
#include "messages/memory.hpp"
#include "messages/quality.hpp"
#include "messages/retrieve.hpp"
#include "messages/session.hpp"

#include <functional>
#include <memory>

namespace caf {
class local_actor;
}

namespace sa {

class metrics;

/// How a session makes each child. Each factory must spawn *linked* to the given actor
/// (`self->spawn<caf::linked>(...)`). Tests replace one to inject faults.
struct session_children {
  std::function<classifier_actor(caf::local_actor*)> classifier;
  std::function<retriever_actor(caf::local_actor*)> retriever;
  std::function<generator_actor(caf::local_actor*)> generator;
  std::function<escalation_actor(caf::local_actor*)> escalation;
  std::function<safety_actor(caf::local_actor*)> safety;  ///< empty: the session checks in-line
};

/// Everything a session needs, shared read-only by all sessions of a node.
struct session_deps {
  config::config cfg;
  std::shared_ptr<const safety::pii_scanner> pii;  ///< the safety check on every answer
  /// The compiled safety checks (messages, passages, off topic); null: PII redaction of answers only.
  std::shared_ptr<const safety::safety_checks> safety;
  memory_actor memory;
  account_actor account;
  session_children children;
  std::shared_ptr<sa::metrics> metrics;  ///< the node's figures (turns, latency, escalations); null: none
  audit_actor audit;                     ///< the node's audit trail (escalations are recorded); null: none
  quality_actor quality;                 ///< offered every completed turn (sampled quality scores); null: none
  /// The actions service (tickets, workflows, lookups) and the tools' settings (registry, rules,
  /// confirmation TTL). Either null: the generator is offered no tools.
  actions_actor actions;
  std::shared_ptr<const actions::actions_settings> action_settings;
  /// The node's handoff service: escalations open a record there, and while an agent holds the conversation
  /// the customer's messages go to the agent instead of the bot. Null: escalations only say so.
  handoff_actor handoff;
};

/// Spawns a session for (tenant, user, id) as a monitored child of `parent` (the router).
session_actor spawn_session(caf::local_actor* parent, tenant_id tenant, user_id user, session_id id,
                            std::shared_ptr<const session_deps> deps);

/// What the customer reads when a turn is handed to a person, by reason.
std::string handoff_message(escalation_reason reason);

} // namespace sa
