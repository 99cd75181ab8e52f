// Handoff router: the node's front door to the handoff service when clustering is on (issue #7 across nodes).
// It speaks handoff_actor (messages/handoff.hpp), so the gateway's customer and agent connections do not
// know whether a record lives here or on another member. Handoff records live where their session runs: the
// session's owner (the session opens them with its own node's service directly, as before), so:
//
// - customer_attach (a customer connection on this node) goes to every member, this node included: the
//   session's record may be on its owner or on the member where the session ran before it moved, and a
//   customer who reconnects must still get the agent's frames from there. A member that joins, or restarts,
//   gets this node's connections once it is greeted; the service holding no record of the session only
//   remembers the connection.
// - agent_subscribe and handoff_list_request go to every member and the answers are merged (an agent sees its
//   tenant's whole queue); the members' services then send their queue changes straight to the agent's
//   connection. When a member joins, this node's agents are subscribed there too; when the member set
//   changes, every agent here gets the merged queue again (handoff_queue_changed).
// - agent_action goes to the member holding the record: known from earlier snapshots and probes (a cache),
//   else found by a `history` probe to every member (read-only, not audited), then sent there.
// - handoff_open (a session's escalation) goes where the session's open record is, as a route request finds
//   it: to the local service when it has one or no member does, else to the member that has it (the session
//   moved here after it was opened there), so the escalation joins the record an agent holds there, or
//   replaces its queued one, as on one node, instead of opening a second record here.
// - handoff_route_request (a session asking whether an agent holds its conversation; the node's sessions use
//   this router) goes to the local service, and when that knows no open record of the session, to the members
//   too: a session that moved here left its open record on the member where it ran before, and that member's
//   agent keeps the conversation (the message is stored there and shown to them; the bot stays quiet). The
//   members are probed first (read-only, answered at once, route_timeout); the one whose answer ranks highest
//   (held, open, had an agent), if above this node's, is then asked for real (store_timeout).
// - From another member (its router fanning out): served by the local service, never forwarded again. A
//   message from a node that is not a member is refused (requests: cluster_errc::bad_member) or dropped.
// A member is used once it answered one request from this router ("greeted"): a joiner may hear from us
// before it has processed its own welcome, and would refuse us as a stranger until then.
// To route a new handoff request: decide whether it is keyed by session (owner), by record (locate) or
// per tenant (fan out and merge in handoff_fanout.hpp), and add its handler in handoff_router.cpp.
#pragma once

#include "actors/cluster/cluster_router.hpp"
#include "messages/handoff.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <string>

namespace sa::cluster {

using handoff_router_actor = handoff_actor::extend<caf::reacts_to<cluster_view>>;

struct handoff_router_options {
  std::string self_name;                                ///< node.name
  std::chrono::milliseconds member_timeout{2000};       ///< one member's answer to a fanned-out request
  /// A member's answer to a probe about a customer message's session (asked only when this node knows no
  /// open record of it; the customer waits for it, so shorter than member_timeout). A probe is read from the
  /// member's records in memory: only a member that is down or hung takes this long.
  std::chrono::milliseconds route_timeout{500};
  /// The answer of the service that stores the message for an agent (this node's, or the member the probes
  /// found): its memory writes. As long as the session waits for the router (session.child_timeout_ms): a
  /// router giving up earlier would let the bot answer a message the agent still receives.
  std::chrono::milliseconds store_timeout{5000};
  std::chrono::milliseconds greet_interval{100};        ///< between attempts to greet a new member
  int greet_attempts = 50;                              ///< then the member is left out until it rejoins
};

/// Spawns the router in front of `local` (this node's handoff service). The cluster actor sends it the
/// member set (cluster_view) whenever it changes.
handoff_router_actor spawn_handoff_router(caf::actor_system& sys, handoff_actor local, handoff_router_options options);

} // namespace sa::cluster
