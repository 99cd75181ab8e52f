// service_watch: the top of the supervision tree. A node's long-lived services (session router, memory,
// account context, audit, actions, ...) each sit under a restarting supervisor (runtime/supervisor.hpp);
// when one of those gives up - its child failed more often than its restart budget allows - the failure
// escalates here. The watcher monitors the services and reports the first one that ends abnormally, so the
// process can stop and let its own supervisor (systemd, Kubernetes) start it afresh instead of serving
// half-alive. A service that ends with `normal` or `user_shutdown` (a node stopping) is not a failure.
#pragma once

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sa {

/// Called once, from the watcher actor, for the first service that fails. Must not block.
using service_lost_handler = std::function<void(const std::string& service, const caf::error& reason)>;

/// Spawns a watcher over `services` (name, handle). It logs `event=service_lost` and calls `on_lost` for the
/// first abnormal exit, and quits once every watched service has ended. Keep the returned handle while the
/// node runs (the watcher ends when nothing refers to it); stopping the node is not reported.
caf::actor watch_services(caf::actor_system& sys, std::vector<std::pair<std::string, caf::actor>> services,
                          service_lost_handler on_lost);

} // namespace sa
