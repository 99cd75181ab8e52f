#include "actors/audit/audit_settings.hpp"

#include "actors/audit/audit_file_store.hpp"
#include "actors/audit/audit_redis_store.hpp"

#include <filesystem>

namespace sa::audit {

std::string resolved_backend(const config::config& cfg) {
  if (cfg.audit.backend == "auto")
    return cfg.memory.backend == "redis" ? "redis" : "file";
  return cfg.audit.backend;
}

std::string file_path(const config::config& cfg) {
  if (!cfg.audit.path.empty())
    return cfg.audit.path;
  return (std::filesystem::path(cfg.node.state_dir) / "audit" / (cfg.node.name + ".jsonl")).string();
}

result<std::shared_ptr<store>> open_store(const config::config& cfg, std::shared_ptr<redis_client> redis) {
  if (resolved_backend(cfg) == "redis") {
    if (!redis)
      return failure{"audit.backend = redis needs the Redis connection of memory.redis_* (memory.backend = redis)"};
    redis_store_options o;
    o.key_prefix = cfg.memory.redis_key_prefix;
    o.node = cfg.node.name;
    o.max_queued = static_cast<std::size_t>(cfg.audit.max_queued);
    return std::shared_ptr<store>{std::make_shared<redis_store>(std::move(redis), std::move(o))};
  }
  file_store_options o;
  o.path = file_path(cfg);
  o.node = cfg.node.name;
  o.fsync = cfg.audit.fsync == "batched" ? fsync_policy::batched : fsync_policy::every_record;
  o.fsync_interval = std::chrono::milliseconds{cfg.audit.fsync_interval_ms};
  o.max_queued = static_cast<std::size_t>(cfg.audit.max_queued);
  auto opened = file_store::open(std::move(o));
  if (!opened)
    return failure{opened.error()};
  return std::shared_ptr<store>{std::move(*opened)};
}

} // namespace sa::audit
