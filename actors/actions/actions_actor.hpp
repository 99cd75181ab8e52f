// actions service (one per node, supervised): runs validated tool calls for the authenticated tenant and
// user - tickets into the embedded ticket store or a helpdesk webhook, workflows through signed webhooks
// (retried with backoff and jitter, one idempotency key per action), lookups through the account service -
// and audits every run. Always answers an action_request with an action_result by its deadline.
#pragma once

#include "actors/actions/actions_settings.hpp"
#include "actors/actions/ticket_store.hpp"
#include "messages/account.hpp"
#include "messages/actions.hpp"
#include "messages/audit.hpp"

#include <chrono>
#include <memory>

namespace caf {
class local_actor;
}

namespace sa {

class http_client;

namespace actions {

struct actions_deps {
  std::shared_ptr<const actions_settings> settings;
  /// The embedded ticket store. Mutable, and used by one actor at a time: the supervisor gives each
  /// restarted incarnation the same store, so a crash loses no ticket.
  std::shared_ptr<ticket_store> tickets;
  std::shared_ptr<http_client> http;       ///< null when no webhook is configured
  account_actor account;                   ///< lookups read the caller's account facts here
  audit_actor audit;                       ///< every run is recorded here; null: not audited (tests)
  std::chrono::milliseconds account_timeout{5000};
};

/// Spawns the actions service in the context of `parent` (its supervisor).
actions_actor spawn_actions(caf::local_actor* parent, std::shared_ptr<const actions_deps> deps);

} // namespace actions
} // namespace sa
