// redis_memory: the Redis backend of the memory service (memory.backend = "redis"). Same interface as the
// in-process one (messages/memory.hpp); keeps a memory_store as the node's working copy and writes every
// committed turn through to Redis (actors/memory/redis_layout.hpp: keys, Lua scripts).
//
// Acknowledgement: an append is answered after Redis confirmed it, or, while Redis is unreachable, once it
// waits in the Redis client's bounded queue (it is written, in order, when Redis is back; idempotent, so a
// write whose reply was lost is simply sent again). A full queue refuses the append with `busy`: it is not
// stored and not acknowledged. Loads read Redis (the shared truth after a failover) and fall back to the
// working copy when Redis does not answer within load_timeout.
#pragma once

#include "actors/memory/memory_store.hpp"
#include "messages/memory.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace sa {

class metrics;
class redis_client;

struct redis_memory_options {
  memory_store::limits limits;   ///< window, TTL, summary length; max_sessions bounds the working copy
  std::string key_prefix = "sa"; ///< keys are <prefix>:<tenant>:{<session>}:...
  /// A load waits this long for Redis, then the working copy answers (an unknown session: empty memory).
  std::chrono::milliseconds load_timeout{2'000};
  /// Counts sa_memory_backend_errors_total{backend="redis",kind}: load_fallback (answered from the working
  /// copy: Redis away, slow or answering garbage), append_refused (queue full, client stopped), append_failed
  /// (Redis refused an append not yet acknowledged), write_lost (one already acknowledged). Optional.
  std::shared_ptr<sa::metrics> metrics;
};

/// Spawns the service in `parent`'s context (a supervisor). `client` is shared (it may serve other users
/// too) and outlives restarts of the actor, so writes queued before a crash are still flushed.
memory_actor spawn_redis_memory(caf::local_actor* parent, std::shared_ptr<redis_client> client,
                                redis_memory_options options);

/// The same, spawned by the system (tests, benches).
memory_actor spawn_redis_memory(caf::actor_system& sys, std::shared_ptr<redis_client> client,
                                redis_memory_options options);

} // namespace sa
