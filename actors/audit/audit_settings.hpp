// From the product's config to an audit store: which backend (audit.backend, "auto" resolved against
// memory.backend), which file, which fsync policy. Used by the node at start-up and by the command line.
#pragma once

#include "actors/audit/audit_store.hpp"
#include "config/config.hpp"
#include "runtime/result.hpp"

#include <memory>
#include <string>

namespace sa {
class redis_client;
}

namespace sa::audit {

/// "file" or "redis": audit.backend with "auto" resolved (redis when memory.backend is redis).
std::string resolved_backend(const config::config& cfg);

/// audit.path, or <node.state_dir>/audit/<node.name>.jsonl when it is empty.
std::string file_path(const config::config& cfg);

/// Opens the configured store: the file (its tail checked; a corrupt one is refused naming file and line)
/// or the node's Redis stream over `redis` (required for the redis backend, which the loader allows only
/// with memory.backend = redis).
result<std::shared_ptr<store>> open_store(const config::config& cfg, std::shared_ptr<redis_client> redis);

} // namespace sa::audit
