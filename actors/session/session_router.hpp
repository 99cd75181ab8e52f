// session router: the node's entry point for user turns. Validates input, activates the session actor
// for (tenant, session id) on its first message, forwards turns to it, and forgets it when it
// passivates or dies. Clients (terminal chat, gateway connections) send user_turn here.
#pragma once

#include "actors/account/account_store.hpp"
#include "actors/session/session_actor.hpp"
#include "messages/errors.hpp"

#include <memory>

namespace sa {

struct router_deps {
  std::shared_ptr<const session_deps> session;
  std::shared_ptr<const account_store> tenants;  ///< which tenants and users exist on this node
};

/// Checks a user turn before any session sees it; ok or the error code with a message for the user.
support_errc validate_turn(const user_turn& t, const router_deps& deps, std::string* message);

session_router_actor spawn_session_router(caf::actor_system& sys, std::shared_ptr<const router_deps> deps);

} // namespace sa
