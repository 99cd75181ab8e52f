// redis_registry: the member registry of cluster.registry = "redis" (issue #5). Every heartbeat refreshes
// this node's key with a TTL (3 x cluster.discovery_interval_ms); a lookup answers the members whose key is
// alive plus the configured seeds (so a fresh cluster still bootstraps). Keys and scripts:
// actors/cluster/redis_registry_layout.hpp. It reuses the node's Redis client (memory.redis_*).
//
// Redis unreachable (down, hung, the client's queue full): a lookup answers an error within the client's
// connect or reply timeout, and the cluster actor keeps its last known member set; heartbeats are not
// queued (a stale heartbeat is worthless) and resume with the connection. Failure detection between
// members is CAF's (down messages), not Redis'. Told to stop (an exit message, e.g. user_shutdown), it
// deletes this node's key, best effort; a node that dies without that leaves a key that expires.
#pragma once

#include "actors/cluster/membership.hpp"
#include "messages/cluster.hpp"

#include "caf/fwd.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sa {
class redis_client;
}

namespace sa::cluster {

struct redis_registry_options {
  std::string key_prefix = "sa";        ///< memory.redis_key_prefix
  std::string cluster_name = "default"; ///< separates clusters that share a Redis and a prefix
  std::vector<host_port> seeds;         ///< cluster.seeds, answered with every successful lookup
};

/// Spawns the registry. `client` is shared (the memory service uses it too). To have the key's DEL sent on
/// shutdown, wait for the registry to stop before draining or stopping the client (main.cpp does).
member_registry_actor spawn_redis_registry(caf::actor_system& sys, std::shared_ptr<redis_client> client,
                                           redis_registry_options options);

} // namespace sa::cluster
