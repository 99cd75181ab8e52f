// The audit actor: the node's audit service (messages/audit.hpp). One per node, under a supervisor. It checks
// and redacts each event, hands it to the store (a file or a Redis stream, audit_store.hpp) and answers with
// the record's seq and hash once the store has it durably. It never touches a file or a socket itself: the
// store's own thread (file) or the Redis client's loop does, and reports back by message. The store outlives
// restarts of the actor, so records queued before a crash are still written.
#pragma once

#include "actors/audit/audit_redact.hpp"
#include "actors/audit/audit_store.hpp"
#include "messages/audit.hpp"

#include "caf/fwd.hpp"

#include <memory>

namespace sa {

struct audit_deps {
  std::shared_ptr<audit::store> store;
  std::shared_ptr<const audit::redactor> redactor;
};

/// Spawns the actor in `parent`'s context (a supervisor).
audit_actor spawn_audit(caf::local_actor* parent, std::shared_ptr<const audit_deps> deps);

/// The same, spawned by the system (tests, benches).
audit_actor spawn_audit(caf::actor_system& sys, std::shared_ptr<const audit_deps> deps);

} // namespace sa
