#include "runtime/service_watch.hpp"

#include "runtime/log.hpp"

#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/stateful_actor.hpp"

#include <unordered_map>

namespace sa {

namespace {

struct watch_state {
  std::unordered_map<caf::actor_addr, std::string> names;  // watched service -> its name
  service_lost_handler on_lost;
  bool reported = false;
};

bool is_shutdown(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::user_shutdown;
}

caf::behavior watcher(caf::stateful_actor<watch_state>* self,
                      std::vector<std::pair<std::string, caf::actor>> services, service_lost_handler on_lost) {
  auto& st = self->state;
  st.on_lost = std::move(on_lost);
  for (auto& [name, handle] : services) {
    if (!handle)
      continue;
    st.names.emplace(handle.address(), name);
    self->monitor(handle);
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.names.find(dm.source);
    if (i == st.names.end())
      return;
    auto name = std::move(i->second);
    st.names.erase(i);
    if (!is_shutdown(dm.reason) && !st.reported) {
      st.reported = true;
      log::get("node")->critical("event=service_lost service={} reason={}", name, to_string(dm.reason));
      if (st.on_lost)
        st.on_lost(name, dm.reason);
    }
    if (st.names.empty())
      self->quit();
  });
  if (st.names.empty())
    self->quit();
  return {[](caf::ok_atom) {}};  // no requests: it only watches
}

} // namespace

caf::actor watch_services(caf::actor_system& sys, std::vector<std::pair<std::string, caf::actor>> services,
                          service_lost_handler on_lost) {
  return sys.spawn(watcher, std::move(services), std::move(on_lost));
}

} // namespace sa
