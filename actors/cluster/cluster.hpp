// Clustering (issue #5): nodes join over CAF's middleman, watch each other, and route every session's
// turns to its owner. Off by default (cluster.port = 0): a single node runs exactly as before.
//
//   gateway ──user_turn──▶ cluster router ──(owner here)──▶ session router ──▶ session
//                              │ (owner elsewhere: a turn relay per turn)
//                              └──────────▶ owner's cluster router ──▶ its session router ──▶ session
//                                             events stream back to the relay ──▶ gateway connection
//   handoff router (handoff_router.hpp): the gateway's agent and customer connections reach the handoff
//   records of every member through it; members learn each other's handoff routers in the join handshake.
//   cluster actor: publishes itself on cluster.port, joins the addresses the member registry names
//   (cluster.registry: the seeds, or Redis heartbeat keys plus the seeds), authenticates every join
//   (cluster_auth.hpp), monitors every member, and tells the cluster router the live member set.
//
// To plug in another member registry: spawn an actor of member_registry_actor (messages/cluster.hpp), as
// spawn_redis_registry (redis_registry.hpp) does, and pass it to start_cluster in place of the seed registry.
#pragma once

#include "actors/cluster/handoff_router.hpp"
#include "actors/cluster/membership.hpp"
#include "config/config.hpp"
#include "messages/cluster.hpp"
#include "runtime/result.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sa::cluster {

struct cluster_settings {
  std::string name;                 ///< node.name
  std::string listen_address;       ///< cluster.listen_address
  std::string advertise_host;       ///< what other nodes connect to
  uint16_t port = 0;                ///< cluster.port (non-zero)
  std::vector<host_port> seeds;     ///< cluster.seeds
  std::string secret;               ///< from the variable cluster.secret_env names; never logged
  std::chrono::milliseconds join_timeout{2000};
  std::chrono::milliseconds discovery_interval{1000};
  std::chrono::milliseconds relay_deadline{35000};  ///< backstop for one forwarded turn
};

/// The shortest cluster secret accepted, in bytes.
constexpr std::size_t min_secret_bytes = 16;

/// Settings from the config and the environment (`getenv` looks a variable up; nullptr when unset).
/// Fails, naming the key or variable, on a missing or short secret or a malformed seed.
result<cluster_settings> settings_from(const config::config& cfg,
                                       const std::function<const char*(const char*)>& getenv);

/// Called (from an actor) when this node cannot go on as a member: a member refused it for a wrong secret
/// or a duplicate node name before it ever joined anyone (exit code 2: configuration), or the cluster
/// actor or router died (exit code 1). The message is for the operator.
using fatal_fn = std::function<void(int exit_code, const std::string& message)>;

struct cluster_handles {
  cluster_control_actor control;
  session_router_actor router;      ///< the cluster router: give this to the gateway
  handoff_actor handoff;            ///< the handoff router (when start_cluster got a handoff service): give
                                    ///< this to the gateway in place of the local handoff service
  member_registry_actor registry;
  uint16_t port = 0;                ///< the bound cluster port
};

/// The configured seeds as a member registry.
member_registry_actor spawn_seed_registry(caf::actor_system& sys, std::vector<host_port> seeds);

/// Spawns the cluster router in front of `local`, the cluster actor, and publishes the cluster actor on
/// settings.listen_address:settings.port. `registry` defaults to the seed registry. With `handoff_router`
/// (spawn_handoff_router in front of this node's handoff service, spawned before the node's sessions so
/// they can use it) it keeps the router informed of the members and hands it to them; stop_cluster stops
/// it. The actor system must have loaded the middleman (configure_actor_system does when cluster.port != 0).
result<cluster_handles> start_cluster(caf::actor_system& sys, session_router_actor local, cluster_settings settings,
                                      fatal_fn on_fatal, member_registry_actor registry = {},
                                      handoff_router_actor handoff_router = {});

/// Stops the cluster actor, router and registry.
void stop_cluster(const cluster_handles& h);

} // namespace sa::cluster
