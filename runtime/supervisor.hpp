// supervise(): a restarting, delegating supervisor for one long-lived service actor.
//
// CAF 0.17 has links and monitors but no supervisor. This one spawns its child, monitors it and forwards
// (delegates) every message to it, so clients hold the supervisor's handle and never see a restart.
// A child that dies abnormally is restarted at once while the budget allows (`max_restarts` within
// `window`); when the budget is exhausted the supervisor quits with the child's exit reason, which
// escalates to whoever monitors or links the supervisor. A request in flight when the child died gets an
// error (CAF answers it with the child's exit reason); requests after the restart reach the new child.
#pragma once

#include "caf/actor.hpp"
#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/atom.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace caf {
class local_actor;
}

namespace sa {

class metrics;

/// Asks a supervisor (through an untyped handle: caf::actor_cast<caf::actor>) for its current child, a
/// caf::actor. For operators' tools and tests (e.g. crash the child and watch the restart); every other
/// message goes to the child.
using supervisor_child_atom = caf::atom_constant<caf::atom("svchild")>;

/// Spawns the child in the context of its supervisor (use self->spawn, not a system spawn).
using child_spawner = std::function<caf::actor(caf::local_actor* supervisor)>;

struct supervision_policy {
  int max_restarts = 3;
  std::chrono::milliseconds window{std::chrono::seconds(10)};
  /// Counts each restart in sa_actor_restarts_total{kind=<the supervisor's name>}; null: not counted.
  std::shared_ptr<sa::metrics> metrics;
};

/// Spawns a supervisor for the child made by `spawn_child`; returns the supervisor's (untyped) handle.
caf::actor spawn_supervisor(caf::actor_system& sys, std::string name, child_spawner spawn_child,
                            supervision_policy policy);

/// The same, typed: the supervisor answers exactly what its child answers.
template <class Handle>
Handle spawn_supervised(caf::actor_system& sys, std::string name,
                        std::function<Handle(caf::local_actor*)> spawn_child, supervision_policy policy) {
  auto untyped = spawn_supervisor(
    sys, std::move(name),
    [f = std::move(spawn_child)](caf::local_actor* self) { return caf::actor_cast<caf::actor>(f(self)); },
    policy);
  return caf::actor_cast<Handle>(untyped);
}

} // namespace sa
