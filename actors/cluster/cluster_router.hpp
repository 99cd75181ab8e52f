// cluster router: the node's front door for user turns when clustering is on. It speaks the same
// session_router_actor interface as the local session router it sits in front of, so the gateway does not
// know whether a session lives here or on another node.
//
// - A turn from this node (a gateway connection) goes to its session's owner: rendezvous hashing of the
//   session id over the live member names. Owned here: to the local session router. Owned elsewhere: a
//   turn relay is spawned for it and sends the turn to the owner's cluster router with itself as the
//   listener; the owner's session streams the events back to the relay (CAF proxies it), which hands them
//   to the real listener and ends with the turn's one turn_completed or turn_failed.
// - A turn from another member is for a session this node owns (in the sender's view): it goes to the
//   local session router, never forwarded again (views can differ for a moment; this ends any ping-pong).
//   A turn from a node that is not a member, or without a sender, is dropped and logged.
// - When a member is lost (a new cluster_view without it), every relay whose turn is on that member is
//   re-targeted at the session's new owner: the relay voids what it streamed (turn_reset) and sends the
//   same turn, same client message id, once more. A second loss fails the turn. The session deduplicates
//   by client message id against its memory, so a turn the lost node had already committed (to a shared
//   memory backend) is answered from memory, not run twice.
#pragma once

#include "messages/handoff.hpp"
#include "messages/session.hpp"

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace sa::cluster {

/// The live members other than this node, each with the handle that takes its user turns. Sent by the
/// cluster actor whenever the member set changes (node-local, never crosses nodes).
struct cluster_view {
  struct member {
    std::string name;
    session_actor router;
    handoff_actor handoff;  ///< its handoff router (null when it has none)
  };
  std::vector<member> members;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view::member& x) {
  return f(caf::meta::type_name("sa::cluster::cluster_view::member"), x.name, x.router, x.handoff);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("sa::cluster::cluster_view"), x.members);
}

using cluster_router_actor = session_router_actor::extend<caf::reacts_to<cluster_view>>;

struct cluster_router_options {
  std::string self_name;                    ///< node.name
  std::chrono::milliseconds relay_deadline; ///< backstop for a forwarded turn that never ends
};

/// Spawns the cluster router in front of `local` (this node's session router).
cluster_router_actor spawn_cluster_router(caf::actor_system& sys, session_router_actor local,
                                          cluster_router_options options);

} // namespace sa::cluster
