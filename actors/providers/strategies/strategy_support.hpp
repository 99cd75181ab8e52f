// strategy_support: what the strategy actors (fallback, hedge, self_consistency, route) share - the
// bookkeeping of member calls, forwarding a member's stream upstream under the upstream call id, error
// names for logs and messages, and spend accounting. Internal to actors/providers/strategies/: only
// their .cpp files include it (it pulls in caf/all.hpp, which they need anyway).
#pragma once

#include "actors/providers/strategies/strategies.hpp"
#include "messages/completion.hpp"

#include "caf/all.hpp"

#include <spdlog/logger.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sa::providers::strategy {

/// The actor type of a strategy that is the sink of its member calls; handed out as completion_actor.
using sink_strategy_actor =
  completion_actor::extend<caf::reacts_to<completion_delta>, caf::reacts_to<completion_reset>>;

/// The logger of every strategy ("strategy"): names, error kinds and counts only, never text.
std::shared_ptr<spdlog::logger> logger();

/// A short name of an error's kind for messages, resets and logs: the provider_errc name ("timeout",
/// "circuit_open", ...), else the CAF name ("request_receiver_down", "kill", ...), else "error".
std::string error_name(const caf::error& e);

/// Requests a failed member call is counted as (0 when it was refused without one: circuit open,
/// unsupported, deadline passed, cancelled; else 1 - a failed member does not report its retries).
uint32_t attempts_of_failure(const caf::error& e);

/// Adds `part`'s spend (cost, spent tokens, attempts) to `total`.
void add_spend(completion& total, const completion& part);

/// `parts` joined with "; ".
std::string join(const std::vector<std::string>& parts);

/// True when `d` has passed (0 counts as passed, as it does for provider actors).
bool deadline_passed(steady_deadline d) noexcept;

/// A member call for `upstream`: a fresh id, the same task, intent, request, deadline and grounding;
/// its sink is `strategy_sink` when the upstream call streams, else none.
completion_call member_call_for(const completion_call& upstream, const completion_sink_actor& strategy_sink);

/// The deltas forwarded upstream for one call: renumbered from 0, and from 0 again after a reset.
struct upstream_stream {
  uint64_t call = 0;
  completion_sink_actor sink;
  uint32_t seq = 0;     ///< deltas forwarded since the last reset
  uint32_t resets = 0;  ///< completion_reset messages sent

  bool streamed() const noexcept { return seq > 0; }
};

template <class Self>
void forward_delta(Self* self, upstream_stream& up, completion_delta& d) {
  if (up.sink)
    self->send(up.sink, completion_delta{up.call, up.seq++, std::move(d.text), d.thinking});
}

/// Voids what was streamed upstream (if anything); true when a reset was sent.
template <class Self>
bool reset_upstream(Self* self, upstream_stream& up, const std::string& failed_member, const std::string& reason) {
  if (!up.sink || !up.streamed())
    return false;
  self->send(up.sink, completion_reset{up.call, failed_member, reason});
  up.seq = 0;
  ++up.resets;
  return true;
}

/// A member call in flight: which upstream call it serves, which member, and that member's address (to
/// fail it when the member goes down).
struct member_ref {
  uint64_t upstream = 0;
  std::size_t index = 0;
  caf::actor_addr addr;
};

/// Member calls in flight by member call id. Deltas, replies and errors of ids not in here are stale.
using member_calls = std::unordered_map<uint64_t, member_ref>;

/// Ids of the calls in flight to the actor at `addr`.
std::vector<uint64_t> calls_to(const member_calls& calls, const caf::actor_addr& addr);

/// Sends `call` to `who` and routes its answer to on_reply(id, completion&) or on_error(id, error&).
template <class Self, class OnReply, class OnError>
void ask_member(Self* self, const completion_actor& who, completion_call call, OnReply on_reply, OnError on_error) {
  auto id = call.id;
  self->request(who, caf::infinite, std::move(call))
    .then([id, on_reply](completion& c) { on_reply(id, c); },
          [id, on_error](caf::error& e) { on_error(id, e); });
}

/// Monitors each distinct actor once, so a member that dies fails its calls (see on_member_down).
template <class Self>
void monitor_all(Self* self, const std::vector<completion_actor>& actors) {
  std::vector<caf::actor_addr> seen;
  for (const auto& a : actors) {
    if (!a)
      continue;
    auto addr = a.address();
    bool known = false;
    for (const auto& s : seen)
      known = known || s == addr;
    if (known)
      continue;
    seen.push_back(addr);
    self->monitor(a);
  }
}

/// Installs the down handler: every call in flight to the actor that went down fails with
/// sec::request_receiver_down through `on_error(id, error&)`. A late answer of such a call is stale.
template <class Self, class OnError>
void on_member_down(Self* self, OnError on_error) {
  self->set_down_handler([self, on_error](caf::down_msg& dm) {
    for (auto id : calls_to(self->state.by_member, dm.source)) {
      auto err = caf::make_error(caf::sec::request_receiver_down);
      on_error(id, err);
    }
  });
}

} // namespace sa::providers::strategy
