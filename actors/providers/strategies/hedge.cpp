// hedge strategy: cuts tail latency by starting a backup member when the primary stays silent. It owns,
// per upstream call, the member calls in flight, the hedge timer (one delayed hedge_tick at a time) and
// the winner: the first member to stream (without a sink: the first to reply) wins and the others are
// cancelled. A winner that breaks mid-stream is replaced like in a fallback chain, by the members not
// started yet, after a completion_reset upstream.
#include "actors/providers/strategies/strategies.hpp"
#include "actors/providers/strategies/strategy_support.hpp"
#include "runtime/exceptions.hpp"

namespace sa::providers {

namespace {

using namespace strategy;
using clock = std::chrono::steady_clock;

/// Private timer message: the hedge delay of upstream call `call` may have run out. Only ever sent by a
/// hedge actor to itself, so it is not registered with the actor system (inspectable for printing).
struct hedge_tick {
  uint64_t call = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hedge_tick& x) {
  return f(caf::meta::type_name("sa::providers::hedge_tick"), x.call);
}

struct hedge_call {
  completion_call call;  ///< the upstream call: the template of every member call
  caf::typed_response_promise<completion> promise;
  upstream_stream up;
  std::vector<uint64_t> running;  ///< member call in flight per member index (0: none)
  std::size_t next = 0;           ///< the first member not started yet
  uint64_t winner = 0;            ///< the member call whose answer is the answer (0: none yet)
  bool hedging = true;            ///< false once a winner exists: no more hedge starts
  clock::time_point next_start;   ///< when the next member is due while hedging
  bool timer_armed = false;       ///< a hedge_tick for this call is on its way
  completion spent;               ///< attempts, cost and tokens outside the winner's answer
  std::vector<std::string> failures;
};

struct hedge_state {
  std::string label;
  std::vector<member> members;
  std::chrono::milliseconds delay{0};
  std::unordered_map<uint64_t, hedge_call> calls;  // by upstream call id
  member_calls by_member;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "hedge";
};

using hedge_actor = sink_strategy_actor::extend<caf::reacts_to<hedge_tick>>;
using self_ptr = hedge_actor::stateful_pointer<hedge_state>;

void on_member_reply(self_ptr self, uint64_t member_id, completion& c);
void on_member_error(self_ptr self, uint64_t member_id, caf::error& err);

/// Cancels every member call of `c` in flight except `keep`; each counts as one attempt.
void cancel_running(self_ptr self, hedge_call& c, uint64_t keep) {
  auto& st = self->state;
  for (std::size_t index = 0; index < c.running.size(); ++index) {
    auto mid = c.running[index];
    if (mid == 0 || mid == keep)
      continue;
    self->send(st.members[index].actor, completion_cancel{mid});
    st.by_member.erase(mid);
    c.running[index] = 0;
    c.spent.attempts += 1;
  }
}

void fail_call(self_ptr self, uint64_t id, caf::error err) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  cancel_running(self, i->second, 0);
  auto promise = i->second.promise;
  st.calls.erase(i);
  promise.deliver(std::move(err));
}

bool any_running(const hedge_call& c) {
  for (auto mid : c.running)
    if (mid != 0)
      return true;
  return false;
}

void arm_timer(self_ptr self, uint64_t id, hedge_call& c, clock::duration after) {
  if (c.timer_armed)
    return;
  c.timer_armed = true;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(after) + std::chrono::milliseconds{1};
  self->delayed_send(self, ms, hedge_tick{id});
}

/// Starts the next member not started yet (a hedge, or a replacement when `as_winner`). False when the
/// call ended instead (deadline passed).
bool start_next(self_ptr self, uint64_t id, bool as_winner) {
  auto& st = self->state;
  auto& c = st.calls.at(id);
  if (deadline_passed(c.call.deadline)) {
    std::string msg = "hedge '" + st.label + "': deadline passed";
    if (!c.failures.empty())
      msg += " after " + join(c.failures);
    fail_call(self, id, make_provider_error(provider_errc::deadline, std::move(msg)));
    return false;
  }
  auto index = c.next++;
  const auto& m = st.members[index];
  auto call = member_call_for(c.call, caf::actor_cast<completion_sink_actor>(self));
  auto mid = call.id;
  c.running[index] = mid;
  if (as_winner)
    c.winner = mid;
  st.by_member.emplace(mid, member_ref{id, index, m.actor.address()});
  if (index > 0)
    st.log->debug("strategy={} kind=hedge call={} event=start member={} index={} as={}", st.label, id, m.name, index,
                  as_winner ? "replacement" : "hedge");
  ask_member(
    self, m.actor, std::move(call), [self](uint64_t r, completion& x) { on_member_reply(self, r, x); },
    [self](uint64_t r, caf::error& e) { on_member_error(self, r, e); });
  if (c.hedging && c.next < st.members.size()) {
    c.next_start = clock::now() + st.delay;
    arm_timer(self, id, c, st.delay);
  }
  return true;
}

/// `mid` won call `c`: every other member call is cancelled and no member starts any more.
void crown(self_ptr self, uint64_t id, hedge_call& c, uint64_t mid) {
  auto& st = self->state;
  c.winner = mid;
  c.hedging = false;
  cancel_running(self, c, mid);
  if (auto ref = st.by_member.find(mid); ref != st.by_member.end())
    st.log->debug("strategy={} kind=hedge call={} event=winner member={}", st.label, id,
                  st.members[ref->second.index].name);
}

void on_member_reply(self_ptr self, uint64_t member_id, completion& r) {
  auto& st = self->state;
  auto ref = st.by_member.find(member_id);
  if (ref == st.by_member.end())
    return; // stale: a cancelled loser, or failed already
  auto id = ref->second.upstream;
  auto index = ref->second.index;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  if (c.winner == 0)
    crown(self, id, c, member_id); // nothing streamed: the first reply wins
  if (c.winner != member_id)
    return;
  st.by_member.erase(member_id);
  c.running[index] = 0;
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
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  c.running[index] = 0;
  const auto& failed = st.members[index].name;
  auto kind = error_name(err);
  c.failures.push_back(failed + ": " + kind);
  c.spent.attempts += attempts_of_failure(err);
  auto next_name = c.next < st.members.size() ? st.members[c.next].name : std::string{"none"};
  if (c.winner == member_id) {
    // The winner broke: void its stream, then fall back to the members not started yet, in order.
    c.winner = 0;
    if (reset_upstream(self, c.up, failed, kind))
      st.log->info("strategy={} kind=hedge call={} event=reset member={} error={}", st.label, id, failed, kind);
    st.log->debug("strategy={} kind=hedge call={} event=switch from={} error={} next={}", st.label, id, failed, kind,
                  next_name);
    if (c.next >= st.members.size()) {
      fail_call(self, id, make_provider_error(provider_errc::exhausted, "hedge '" + st.label + "': " + join(c.failures)));
      return;
    }
    start_next(self, id, true);
    return;
  }
  if (c.winner != 0)
    return; // a loser (cancelled already; cannot happen)
  st.log->debug("strategy={} kind=hedge call={} event=switch from={} error={} next={}", st.label, id, failed, kind,
                next_name);
  if (c.next < st.members.size()) {
    start_next(self, id, false); // failed before anyone streamed: hedge at once
    return;
  }
  if (!any_running(c))
    fail_call(self, id, make_provider_error(provider_errc::exhausted, "hedge '" + st.label + "': " + join(c.failures)));
}

hedge_actor::behavior_type hedge(self_ptr self, std::string label, std::vector<member> members,
                                 std::chrono::milliseconds delay) {
  log_exceptions(self, "strategy");
  auto& st = self->state;
  st.label = std::move(label);
  st.members = std::move(members);
  st.delay = delay;
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
      if (st.members.empty())
        return make_provider_error(provider_errc::exhausted, "hedge '" + st.label + "': no members");
      if (st.calls.count(id) != 0)
        return make_provider_error(provider_errc::invalid_request,
                                   "hedge '" + st.label + "': call id " + std::to_string(id) + " already in progress");
      hedge_call c;
      c.up.call = id;
      c.up.sink = call.sink;
      c.call = std::move(call);
      c.running.assign(st.members.size(), 0);
      c.spent.attempts = 0;
      c.promise = self->make_response_promise<completion>();
      auto promise = c.promise;
      st.calls.emplace(id, std::move(c));
      start_next(self, id, false);
      return promise;
    },
    [self](const completion_cancel& cancel) {
      auto& st = self->state;
      if (st.calls.count(cancel.call) == 0)
        return;
      st.log->debug("strategy={} kind=hedge call={} event=cancelled", st.label, cancel.call);
      fail_call(self, cancel.call, make_provider_error(provider_errc::cancelled, "hedge '" + st.label + "': cancelled"));
    },
    [self](const hedge_tick& tick) {
      auto& st = self->state;
      auto i = st.calls.find(tick.call);
      if (i == st.calls.end())
        return;
      auto& c = i->second;
      c.timer_armed = false;
      if (!c.hedging || c.winner != 0 || c.next >= st.members.size())
        return;
      auto now = clock::now();
      if (now < c.next_start) {
        // The schedule moved (a failure started a member early): wait for the rest of the delay.
        arm_timer(self, tick.call, c, c.next_start - now);
        return;
      }
      st.log->debug("strategy={} kind=hedge call={} event=delay_passed next={}", st.label, tick.call,
                    st.members[c.next].name);
      start_next(self, tick.call, false);
    },
    [self](completion_delta& d) {
      auto& st = self->state;
      auto ref = st.by_member.find(d.call);
      if (ref == st.by_member.end())
        return;
      auto i = st.calls.find(ref->second.upstream);
      if (i == st.calls.end())
        return;
      auto& c = i->second;
      if (c.winner == 0)
        crown(self, i->first, c, d.call); // the first to stream wins
      if (c.winner != d.call)
        return;
      forward_delta(self, c.up, d);
    },
    [self](completion_reset& r) {
      auto& st = self->state;
      auto ref = st.by_member.find(r.call);
      if (ref == st.by_member.end())
        return;
      auto i = st.calls.find(ref->second.upstream);
      if (i == st.calls.end() || i->second.winner != r.call)
        return;
      if (reset_upstream(self, i->second.up, r.failed_provider, r.reason))
        st.log->info("strategy={} kind=hedge call={} event=reset member={} error={}", st.label, i->first,
                     r.failed_provider, r.reason);
    },
  };
}

} // namespace

completion_actor spawn_hedge(caf::actor_system& sys, std::string name, std::vector<member> members,
                             std::chrono::milliseconds delay) {
  return caf::actor_cast<completion_actor>(sys.spawn(hedge, std::move(name), std::move(members), delay));
}

} // namespace sa::providers
