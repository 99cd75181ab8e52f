// route strategy (by_task, by_intent): sends each call to the member its task or intent names, else to
// "default". The call passes through unchanged - same id, same sink - so deltas and resets flow from the
// member straight to the caller; the route only keeps, per call in flight, the member it went to (to
// forward a cancel, and to answer when that member goes down). To route by something new: a route_key
// value and a case in key_of.
#include "actors/providers/strategies/strategies.hpp"
#include "actors/providers/strategies/strategy_support.hpp"
#include "runtime/exceptions.hpp"

namespace sa::providers {

namespace {

using namespace strategy;

struct routed_call {
  caf::typed_response_promise<completion> promise;
  completion_actor member;
  caf::actor_addr addr;
};

struct route_state {
  std::string label;
  route_key key = route_key::intent;
  std::map<std::string, member> routes;
  std::unordered_map<uint64_t, routed_call> calls;  // by call id (the caller's own)
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "route";
};

using self_ptr = completion_actor::stateful_pointer<route_state>;

const char* key_name(route_key k) {
  return k == route_key::task ? "task" : "intent";
}

std::string key_of(route_key k, const completion_call& call) {
  return k == route_key::task ? std::string{to_string(call.task)} : call.intent;
}

void finish(self_ptr self, uint64_t id, caf::expected<completion> outcome) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return; // cancelled already
  auto promise = i->second.promise;
  st.calls.erase(i);
  if (outcome)
    promise.deliver(std::move(*outcome));
  else
    promise.deliver(std::move(outcome.error()));
}

completion_actor::behavior_type route(self_ptr self, std::string label, route_key key,
                                      std::map<std::string, member> routes) {
  log_exceptions(self, "strategy");
  auto& st = self->state;
  st.label = std::move(label);
  st.key = key;
  st.routes = std::move(routes);
  st.log = logger();
  std::vector<completion_actor> actors;
  for (const auto& r : st.routes)
    actors.push_back(r.second.actor);
  monitor_all(self, actors);
  self->set_down_handler([self](caf::down_msg& dm) {
    std::vector<uint64_t> gone;
    for (const auto& entry : self->state.calls)
      if (entry.second.addr == dm.source)
        gone.push_back(entry.first);
    for (auto id : gone)
      finish(self, id, caf::make_error(caf::sec::request_receiver_down));
  });
  return {
    [self](completion_call& call) -> caf::result<completion> {
      auto& st = self->state;
      auto id = call.id;
      auto k = key_of(st.key, call);
      auto it = st.routes.find(k);
      if (it == st.routes.end())
        it = st.routes.find("default");
      if (it == st.routes.end()) {
        st.log->debug("strategy={} kind=route call={} event=unsupported by={} key={}", st.label, id, key_name(st.key),
                      k);
        return make_provider_error(provider_errc::unsupported, "route '" + st.label + "': no route for "
                                                                 + key_name(st.key) + " '" + k + "' and no default");
      }
      if (deadline_passed(call.deadline))
        return make_provider_error(provider_errc::deadline, "route '" + st.label + "': deadline passed");
      if (st.calls.count(id) != 0)
        return make_provider_error(provider_errc::invalid_request,
                                   "route '" + st.label + "': call id " + std::to_string(id) + " already in progress");
      const auto& m = it->second;
      st.log->debug("strategy={} kind=route call={} event=route by={} member={}", st.label, id, key_name(st.key),
                    m.name);
      routed_call r;
      r.promise = self->make_response_promise<completion>();
      r.member = m.actor;
      r.addr = m.actor.address();
      auto promise = r.promise;
      st.calls.emplace(id, std::move(r));
      self->request(m.actor, caf::infinite, std::move(call))
        .then([self, id](completion& c) { finish(self, id, std::move(c)); },
              [self, id](caf::error& e) { finish(self, id, std::move(e)); });
      return promise;
    },
    [self](const completion_cancel& cancel) {
      auto& st = self->state;
      auto i = st.calls.find(cancel.call);
      if (i == st.calls.end())
        return;
      self->send(i->second.member, cancel);
      finish(self, cancel.call,
             make_provider_error(provider_errc::cancelled, "route '" + st.label + "': cancelled"));
    },
  };
}

} // namespace

completion_actor spawn_route(caf::actor_system& sys, std::string name, route_key key,
                             std::map<std::string, member> routes) {
  return sys.spawn(route, std::move(name), key, std::move(routes));
}

} // namespace sa::providers
