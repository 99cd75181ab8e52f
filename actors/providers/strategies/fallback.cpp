// fallback strategy: tries its members in order until one answers. It owns, per upstream call, the
// member being tried, the upstream stream's numbering and the failures so far. A member that fails after
// streaming voids the stream upstream (completion_reset) before the next member starts. An open
// breaker answers circuit_open at once, so a down provider costs no wait.
#include "actors/providers/strategies/strategies.hpp"
#include "actors/providers/strategies/strategy_support.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/metrics.hpp"

namespace sa::providers {

namespace {

using namespace strategy;

struct fallback_call {
  completion_call call;  ///< the upstream call: the template of every member call
  caf::typed_response_promise<completion> promise;
  upstream_stream up;
  std::size_t next = 0;  ///< the member to try after the active one
  uint64_t active = 0;   ///< the member call in flight (0: none)
  completion spent;      ///< attempts, cost and tokens of the members that finished
  std::vector<std::string> failures;  ///< "member: error", in order
};

struct fallback_state {
  std::string label;
  std::vector<member> members;
  std::unordered_map<uint64_t, fallback_call> calls;  // by upstream call id
  member_calls by_member;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<sa::metrics> metrics;  // null: no figures

  static inline const char* name = "fallback";
};

using fallback_actor = sink_strategy_actor;
using self_ptr = fallback_actor::stateful_pointer<fallback_state>;

void fail_call(self_ptr self, uint64_t id, caf::error err) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto promise = i->second.promise;
  st.calls.erase(i);
  promise.deliver(std::move(err));
}

void on_member_reply(self_ptr self, uint64_t member_id, completion& c);
void on_member_error(self_ptr self, uint64_t member_id, caf::error& err);

/// Starts the next member of call `id`, or ends the call when none is left or its deadline passed.
void try_next(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& c = st.calls.at(id);
  if (c.next >= st.members.size()) {
    st.log->debug("strategy={} kind=fallback call={} event=exhausted members={}", st.label, id, st.members.size());
    fail_call(self, id, make_provider_error(provider_errc::exhausted, "fallback '" + st.label + "': " + join(c.failures)));
    return;
  }
  if (deadline_passed(c.call.deadline)) {
    std::string msg = "fallback '" + st.label + "': deadline passed";
    if (!c.failures.empty())
      msg += " after " + join(c.failures);
    fail_call(self, id, make_provider_error(provider_errc::deadline, std::move(msg)));
    return;
  }
  auto index = c.next++;
  const auto& m = st.members[index];
  // Members are tried in order: any but the first means the one before it failed.
  if (index > 0 && st.metrics)
    st.metrics->provider_fallback(st.label, st.members[index - 1].name, m.name);
  auto call = member_call_for(c.call, caf::actor_cast<completion_sink_actor>(self));
  c.active = call.id;
  st.by_member.emplace(call.id, member_ref{id, index, m.actor.address()});
  ask_member(
    self, m.actor, std::move(call), [self](uint64_t mid, completion& r) { on_member_reply(self, mid, r); },
    [self](uint64_t mid, caf::error& e) { on_member_error(self, mid, e); });
}

void on_member_reply(self_ptr self, uint64_t member_id, completion& r) {
  auto& st = self->state;
  auto ref = st.by_member.find(member_id);
  if (ref == st.by_member.end())
    return; // stale: cancelled or failed already
  auto id = ref->second.upstream;
  st.by_member.erase(ref);
  auto i = st.calls.find(id);
  if (i == st.calls.end() || i->second.active != member_id)
    return;
  auto& c = i->second;
  completion out = std::move(r);
  add_spend(out, c.spent);
  out.resets = c.up.resets;
  auto promise = c.promise;
  st.calls.erase(i);
  promise.deliver(std::move(out));
}

void on_member_error(self_ptr self, uint64_t member_id, caf::error& err) {
  auto& st = self->state;
  auto ref = st.by_member.find(member_id);
  if (ref == st.by_member.end())
    return;
  auto id = ref->second.upstream;
  auto index = ref->second.index;
  st.by_member.erase(ref);
  auto i = st.calls.find(id);
  if (i == st.calls.end() || i->second.active != member_id)
    return;
  auto& c = i->second;
  const auto& failed = st.members[index].name;
  auto kind = error_name(err);
  c.active = 0;
  c.failures.push_back(failed + ": " + kind);
  c.spent.attempts += attempts_of_failure(err);
  if (reset_upstream(self, c.up, failed, kind))
    st.log->info("strategy={} kind=fallback call={} event=reset member={} error={}", st.label, id, failed, kind);
  st.log->debug("strategy={} kind=fallback call={} event=switch from={} error={} next={}", st.label, id, failed, kind,
                c.next < st.members.size() ? st.members[c.next].name : std::string{"none"});
  try_next(self, id);
}

fallback_actor::behavior_type fallback(self_ptr self, std::string label, std::vector<member> members,
                                       std::shared_ptr<sa::metrics> metrics) {
  log_exceptions(self, "strategy");
  auto& st = self->state;
  st.metrics = std::move(metrics);
  st.label = std::move(label);
  st.members = std::move(members);
  st.log = logger();
  std::vector<completion_actor> actors;
  for (const auto& m : st.members)
    actors.push_back(m.actor);
  monitor_all(self, actors);
  on_member_down(self, [self](uint64_t mid, caf::error& e) { on_member_error(self, mid, e); });
  return {
    [self](completion_call& call) -> caf::result<completion> {
      auto& st = self->state;
      auto id = call.id;
      if (st.calls.count(id) != 0)
        return make_provider_error(provider_errc::invalid_request,
                                   "fallback '" + st.label + "': call id " + std::to_string(id) + " already in progress");
      fallback_call c;
      c.up.call = id;
      c.up.sink = call.sink;
      c.call = std::move(call);
      c.spent.attempts = 0;
      c.promise = self->make_response_promise<completion>();
      auto promise = c.promise;
      st.calls.emplace(id, std::move(c));
      try_next(self, id);
      return promise;
    },
    [self](const completion_cancel& cancel) {
      auto& st = self->state;
      auto i = st.calls.find(cancel.call);
      if (i == st.calls.end())
        return;
      auto& c = i->second;
      if (c.active != 0) {
        auto ref = st.by_member.find(c.active);
        if (ref != st.by_member.end()) {
          self->send(st.members[ref->second.index].actor, completion_cancel{c.active});
          st.by_member.erase(ref);
        }
      }
      st.log->debug("strategy={} kind=fallback call={} event=cancelled", st.label, cancel.call);
      fail_call(self, cancel.call,
                make_provider_error(provider_errc::cancelled, "fallback '" + st.label + "': cancelled"));
    },
    [self](completion_delta& d) {
      auto& st = self->state;
      auto ref = st.by_member.find(d.call);
      if (ref == st.by_member.end())
        return;
      auto i = st.calls.find(ref->second.upstream);
      if (i == st.calls.end() || i->second.active != d.call)
        return;
      forward_delta(self, i->second.up, d);
    },
    [self](completion_reset& r) {
      // A member that is itself a strategy restarted its answer: void ours too.
      auto& st = self->state;
      auto ref = st.by_member.find(r.call);
      if (ref == st.by_member.end())
        return;
      auto i = st.calls.find(ref->second.upstream);
      if (i == st.calls.end() || i->second.active != r.call)
        return;
      if (reset_upstream(self, i->second.up, r.failed_provider, r.reason))
        st.log->info("strategy={} kind=fallback call={} event=reset member={} error={}", st.label, i->first,
                     r.failed_provider, r.reason);
    },
  };
}

} // namespace

completion_actor spawn_fallback(caf::actor_system& sys, std::string name, std::vector<member> members,
                                std::shared_ptr<sa::metrics> metrics) {
  return caf::actor_cast<completion_actor>(sys.spawn(fallback, std::move(name), std::move(members), std::move(metrics)));
}

} // namespace sa::providers
