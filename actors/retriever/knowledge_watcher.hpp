// knowledge_watcher: picks up re-ingested tenants without a restart (hot reload).
//
// `support-agent ingest` renames a new generation over <state_dir>/knowledge/<tenant>/index.sqlite. Every
// retriever.reload_interval_ms the watcher stats each tenant's index file; one whose stamp (inode, size,
// mtime) differs from the file the tenant's current index was read from is opened (read into memory) and
// published as a new catalog through the node's knowledge_catalog_slot. New retrievals use it; retrievals
// in flight finish on the catalog they hold, and the old index is freed when the last of them lets go.
// The watcher is an actor with a timer; each pass runs on a blocking_lane (a thread of its own), so reading
// an index file never blocks a scheduler thread. The next pass is timed from the end of the one before.
#pragma once

#include "actors/retriever/knowledge_catalog.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class blocking_lane;

struct knowledge_watch_settings {
  std::shared_ptr<knowledge_catalog_slot> slot;
  std::map<std::string, std::string> index_files; ///< tenant -> its ingested index file (watched even while missing)
  std::chrono::milliseconds interval{2000};
  /// Where the passes run; null: a lane of the watcher's own. The node passes one it also holds, so the
  /// lane (and a pass still running) is waited for on the main thread at shutdown.
  std::shared_ptr<blocking_lane> lane;
};

/// One watcher pass as a plain class (the actor calls it on a timer; tests call it directly).
class knowledge_reloader {
public:
  explicit knowledge_reloader(knowledge_watch_settings settings) : settings_(std::move(settings)) {}

  /// Stats every watched file; opens and publishes the changed ones. Returns the tenants reloaded. A file
  /// that fails to open is logged once and retried only when it changes again; its tenant keeps serving
  /// the index it has. A file that disappears changes nothing.
  std::vector<std::string> check();

  const knowledge_watch_settings& settings() const noexcept { return settings_; }

private:
  knowledge_watch_settings settings_;
  std::map<std::string, knowledge::file_stamp> failed_; ///< tenant -> the file version that failed to open
};

/// Spawns the watcher running `check()` on its lane every `settings.interval`. Stop it with an exit message.
caf::actor spawn_knowledge_watcher(caf::actor_system& sys, knowledge_watch_settings settings);

} // namespace sa
