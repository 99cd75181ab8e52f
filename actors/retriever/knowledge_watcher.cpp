// knowledge watcher: an actor with a timer over knowledge_reloader, whose passes run on a blocking_lane (see
// knowledge_watcher.hpp). It owns nothing but the reloader; the catalog slot it publishes to belongs to the node.
#include "actors/retriever/knowledge_watcher.hpp"

#include "runtime/blocking_lane.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

namespace sa {

std::vector<std::string> knowledge_reloader::check() {
  std::vector<std::string> reloaded;
  auto log = log::get("knowledge");
  for (const auto& [tenant, file] : settings_.index_files) {
    knowledge::file_stamp stamp;
    if (!knowledge::stat_file(file, stamp))
      continue; // not ingested (yet), or removed: keep what the tenant has
    auto current = settings_.slot->load();
    if (auto* from = current->origin_of(tenant); from && from->ingested && from->index_file == file && from->stamp == stamp)
      continue;
    if (auto f = failed_.find(tenant); f != failed_.end() && f->second == stamp)
      continue;
    const auto t0 = std::chrono::steady_clock::now();
    auto index = knowledge::knowledge_index::open(file);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!index) {
      failed_[tenant] = stamp;
      log->error("event=knowledge_reload_failed tenant={} problem=\"{}\" (still serving the previous index)", tenant,
                 index.error());
      continue;
    }
    failed_.erase(tenant);
    knowledge_catalog::origin from;
    from.ingested = true;
    from.index_file = file;
    from.stamp = stamp;
    const auto chunks = (*index)->chunk_count();
    const auto generation = (*index)->generation();
    // The watcher is the slot's only writer, so load-modify-store cannot lose another update.
    settings_.slot->store(current->with_index(tenant, std::move(*index), std::move(from)));
    log->info("event=knowledge_reloaded tenant={} generation={} chunks={} load_ms={:.1f}", tenant, generation, chunks, ms);
    reloaded.push_back(tenant);
  }
  return reloaded;
}

namespace {

using reload_tick_atom = caf::atom_constant<caf::atom("kb_reload")>;
using reload_done_atom = caf::atom_constant<caf::atom("kb_rl_done")>;

struct watcher_state {
  static inline const char* name = "knowledge_watcher";
  std::shared_ptr<knowledge_reloader> reloader;  // used on the lane only, one pass at a time
  std::shared_ptr<blocking_lane> lane;           // destroyed with the state, at the actor's exit
};

caf::behavior knowledge_watcher(caf::stateful_actor<watcher_state>* self, std::shared_ptr<knowledge_reloader> reloader,
                                std::shared_ptr<blocking_lane> lane) {
  log_exceptions(self, "knowledge_watcher");
  const auto interval = reloader->settings().interval;
  self->state.lane = std::move(lane);
  self->state.reloader = std::move(reloader);
  self->delayed_send(self, interval, reload_tick_atom::value);
  return {
    [self](reload_tick_atom) {
      // The job holds the reloader and a handle, never the lane (a lane must not own itself).
      self->state.lane->post([reloader = self->state.reloader, who = caf::actor{self}] {
        try {
          reloader->check();
        } catch (...) {  // logged by type; the tenants keep the indexes they have, and the timer goes on
          log::get("knowledge")->error("event=knowledge_reload_failed exception_type={}",
                                       exception_type(std::current_exception()));
        }
        caf::anon_send(who, reload_done_atom::value);  // always: see blocking_lane.hpp
      });
    },
    [self, interval](reload_done_atom) { self->delayed_send(self, interval, reload_tick_atom::value); },
  };
}

} // namespace

caf::actor spawn_knowledge_watcher(caf::actor_system& sys, knowledge_watch_settings settings) {
  // The reloader travels in the lane's jobs, so it must not hold the lane (a lane must not own itself).
  auto lane = std::move(settings.lane);
  settings.lane = nullptr;
  if (!lane)
    lane = std::make_shared<blocking_lane>("sa-kb-reload");
  return sys.spawn(knowledge_watcher, std::make_shared<knowledge_reloader>(std::move(settings)), std::move(lane));
}

} // namespace sa
