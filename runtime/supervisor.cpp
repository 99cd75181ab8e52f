#include "runtime/supervisor.hpp"

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/restart_budget.hpp"

#include "caf/all.hpp"

namespace sa {

namespace {

struct supervisor_state {
  static inline const char* name = "supervisor";
  caf::actor child;
  std::unique_ptr<restart_budget> budget;
  std::string role;
  int restarts = 0;
  std::shared_ptr<sa::metrics> metrics;
};

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::string role,
                         child_spawner spawn_child, supervision_policy policy) {
  auto& st = self->state;
  st.role = std::move(role);
  st.budget = std::make_unique<restart_budget>(policy.max_restarts, policy.window);
  st.metrics = policy.metrics;
  auto start_child = [self, spawn_child] {
    self->state.child = spawn_child(self);
    self->monitor(self->state.child);
  };
  start_child();
  self->set_down_handler([self, start_child](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.child.address())
      return;
    if (!dm.reason) {  // a normal exit ends the service
      self->quit();
      return;
    }
    auto log = log::get("supervisor");
    if (!st.budget->try_consume(std::chrono::steady_clock::now())) {
      log->error("event=restart_budget_exhausted role={} restarts={} reason={}", st.role, st.restarts,
                 to_string(dm.reason));
      self->quit(dm.reason);
      return;
    }
    ++st.restarts;
    if (st.metrics)
      st.metrics->actor_restarted(st.role);
    log->warn("event=child_restarted role={} restarts={} reason={}", st.role, st.restarts,
              to_string(dm.reason));
    start_child();
  });
  // Stopping the supervisor stops its child too (they are not linked, so say it explicitly).
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.child)
      self->send_exit(self->state.child, em.reason);
    self->quit(em.reason);
  });
  // Everything else goes to the child, keeping the original sender and request id.
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
    auto rp = self->make_response_promise();
    rp.delegate(self->state.child, x.move_content_to_message());
    return caf::delegated<caf::message>{};
  });
  // Exits of the child are handled as down messages; a supervisor is not linked to it.
  return {[self](supervisor_child_atom) -> caf::actor { return self->state.child; }};
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, std::string name, child_spawner spawn_child,
                            supervision_policy policy) {
  return sys.spawn(supervisor, std::move(name), std::move(spawn_child), policy);
}

} // namespace sa
