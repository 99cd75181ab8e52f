// Agent connection actor: one per agent console WebSocket. On start it subscribes to the tenant's queue
// (the answer is the snapshot: a `queue` frame); afterwards handoff_changed becomes `handoff_update`,
// handoff_queue_changed (clustered: a member joined or left) a new `queue`, and handoff_customer_said
// `customer_message`. Each action frame is one request to the handoff service,
// answered with `ok` (take also sends `history`) or `error` carrying the refusal code.
// To add an action: parse it in agent_protocol.cpp and, when it needs more than the request, handle it here.
#include "actors/gateway/agent_connection_actor.hpp"

#include "actors/gateway/agent_protocol.hpp"
#include "actors/gateway/protocol.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

namespace sa::gateway {

namespace {

constexpr auto handoff_timeout = std::chrono::seconds(5);

struct agent_connection_state {
  static inline const char* name = "gateway_agent_connection";
  agent_connection_deps deps;
  connection_link link;
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = agent_connection_actor::stateful_pointer<agent_connection_state>;

void list(self_ptr self, const std::string& ref) {
  auto& st = self->state;
  self->request(st.deps.handoff, handoff_timeout, handoff_list_request{tenant_id{st.deps.tenant}, false})
    .then([self](handoff_list& l) { self->state.link.send(queue_frame(l.handoffs)); },
          [self, ref](caf::error&) {
            agent_request r;
            r.ref = ref;
            self->state.link.send(agent_error_frame(handoff_codes::unavailable,
                                                    agent_error_message(handoff_codes::unavailable), r));
          });
}

void act(self_ptr self, agent_request q) {
  auto& st = self->state;
  if (q.op == "list") {
    list(self, q.ref);
    return;
  }
  agent_action a{tenant_id{st.deps.tenant}, st.deps.agent, st.deps.name, q.op, q.handoff, q.text, q.intent,
                 q.bot_could_answer};
  self->request(st.deps.handoff, handoff_timeout, std::move(a))
    .then(
      [self, q](agent_outcome& o) {
        auto& link = self->state.link;
        if (!o.code.empty()) {
          link.send(agent_error_frame(o.code, agent_error_message(o.code), q));
          return;
        }
        if (q.op == handoff_ops::history) {
          link.send(history_frame(o.view));
          return;
        }
        link.send(agent_ok_frame(q, o.delivered));
        if (q.op == handoff_ops::take)
          link.send(history_frame(o.view));
      },
      [self, q](caf::error&) {
        self->state.link.send(
          agent_error_frame(handoff_codes::unavailable, agent_error_message(handoff_codes::unavailable), q));
      });
}

} // namespace

agent_connection_actor spawn_agent_connection(caf::actor_system& sys, agent_connection_deps deps,
                                              connection_link link) {
  auto fn = [](self_ptr self, agent_connection_deps deps,
               connection_link link) -> agent_connection_actor::behavior_type {
    auto& st = self->state;
    st.deps = std::move(deps);
    st.link = std::move(link);
    st.log = log::get("gateway");
    self->monitor(st.deps.gateway);
    self->monitor(st.deps.handoff);
    self->set_down_handler([self](caf::down_msg& m) {
      auto& st = self->state;
      if (m.source == st.deps.handoff.address())
        st.log->error("event=agent_connection_lost_handoff tenant={}", st.deps.tenant);
      st.link.close(1001, "server stopping");
      self->quit();
    });
    agent_subscribe sub{tenant_id{st.deps.tenant}, st.deps.agent, st.deps.name,
                        caf::actor_cast<handoff_agent_listener>(self)};
    self->request(st.deps.handoff, handoff_timeout, std::move(sub))
      .then([self](handoff_list& l) { self->state.link.send(queue_frame(l.handoffs)); },
            [self](caf::error&) {
              self->state.link.send(error_frame(handoff_codes::unavailable,
                                                agent_error_message(handoff_codes::unavailable)));
            });
    return {
      [self](agent_request& q) { act(self, std::move(q)); },
      [self](connection_closed&) { self->quit(); },
      [self](handoff_changed& c) { self->state.link.send(handoff_update_frame(c.view)); },
      [self](handoff_customer_said& m) { self->state.link.send(customer_message_frame(m)); },
      // Clustered: a member joined or left, so its records came into or went out of the queue.
      [self](handoff_queue_changed& q) { self->state.link.send(queue_frame(q.handoffs)); },
    };
  };
  return sys.spawn(fn, std::move(deps), std::move(link));
}

} // namespace sa::gateway
