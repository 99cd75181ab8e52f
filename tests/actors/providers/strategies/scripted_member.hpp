// A completion actor that plays a script, standing in for a provider (or a whole strategy) in strategy
// tests: stream N deltas then reply; fail at once; stream K deltas then fail; never answer until
// cancelled; answer after a delay (delayed_send); or answer each call with the next of a list of texts.
// It records every call and cancel it receives and tells an observer actor about them, so tests wait for
// events instead of sleeping.
#pragma once

#include "messages/completion.hpp"

#include "caf/all.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sa::test {

using got_call_atom = caf::atom_constant<caf::atom("gotcall")>;
using got_cancel_atom = caf::atom_constant<caf::atom("gotcancel")>;
using reply_due_atom = caf::atom_constant<caf::atom("replydue")>;

struct member_script {
  enum class mode { stream_then_reply, fail_now, stream_then_fail, hang, reply_after_delay, answers };
  std::string name;
  mode how = mode::stream_then_reply;
  std::vector<std::string> deltas;     ///< streamed to the call's sink (if any), in order
  provider_errc error = provider_errc::server;
  std::chrono::milliseconds delay{0};  ///< reply_after_delay
  std::vector<std::string> texts;      ///< answers: one per call, in order (then the last again)
  double cost_usd = 0.01;
  uint32_t attempts = 1;
};

/// What a scripted member saw; shared with the test thread.
struct member_record {
  mutable std::mutex mtx;
  std::vector<completion_call> calls;
  std::vector<uint64_t> cancels;

  std::size_t call_count() const {
    std::lock_guard<std::mutex> guard{mtx};
    return calls.size();
  }
  std::vector<completion_call> all_calls() const {
    std::lock_guard<std::mutex> guard{mtx};
    return calls;
  }
  std::vector<uint64_t> all_cancels() const {
    std::lock_guard<std::mutex> guard{mtx};
    return cancels;
  }
};

using scripted_member_actor = completion_actor::extend<caf::reacts_to<reply_due_atom, uint64_t>>;

struct scripted_member_state {
  struct pending {
    completion_call call;
    caf::typed_response_promise<completion> promise;
  };
  std::map<uint64_t, pending> waiting;
  std::size_t answered = 0;
  static inline const char* name = "scripted_member";
};

inline std::string concat(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += p;
  return out;
}

inline scripted_member_actor::behavior_type
scripted_member(scripted_member_actor::stateful_pointer<scripted_member_state> self,
                std::shared_ptr<const member_script> script, std::shared_ptr<member_record> record,
                caf::actor observer) {
  using mode = member_script::mode;
  auto stream = [self, script](const completion_call& call, std::size_t n) {
    if (!call.sink)
      return;
    for (std::size_t k = 0; k < n && k < script->deltas.size(); ++k)
      self->send(call.sink, completion_delta{call.id, static_cast<uint32_t>(k), script->deltas[k], false});
  };
  auto answer = [script](const std::string& text) {
    completion c;
    c.text = text;
    c.provider = script->name;
    c.model = "scripted";
    c.finish_reason = "stop";
    c.tokens.prompt_tokens = 10;
    c.tokens.completion_tokens = 5;
    c.tokens.reported = true;
    c.cost_usd = script->cost_usd;
    c.spent_prompt_tokens = 10;
    c.spent_completion_tokens = 5;
    c.attempts = script->attempts;
    return c;
  };
  auto failure = [script] { return make_provider_error(script->error, script->name + ": scripted failure"); };
  return {
    [=](completion_call& call) -> caf::result<completion> {
      {
        std::lock_guard<std::mutex> guard{record->mtx};
        record->calls.push_back(call);
      }
      if (observer)
        caf::anon_send(observer, got_call_atom::value, script->name, call.id);
      switch (script->how) {
        case mode::stream_then_reply:
          stream(call, script->deltas.size());
          return answer(concat(script->deltas));
        case mode::fail_now: return failure();
        case mode::stream_then_fail:
          stream(call, script->deltas.size());
          return failure();
        case mode::answers: {
          auto k = std::min(self->state.answered++, script->texts.size() - 1);
          return answer(script->texts[k]);
        }
        case mode::hang:
        case mode::reply_after_delay: {
          auto id = call.id;
          auto promise = self->make_response_promise<completion>();
          self->state.waiting.emplace(id, scripted_member_state::pending{std::move(call), promise});
          if (script->how == mode::reply_after_delay)
            self->delayed_send(self, script->delay, reply_due_atom::value, id);
          return promise;
        }
      }
      return failure();
    },
    [=](const completion_cancel& cancel) {
      {
        std::lock_guard<std::mutex> guard{record->mtx};
        record->cancels.push_back(cancel.call);
      }
      if (observer)
        caf::anon_send(observer, got_cancel_atom::value, script->name, cancel.call);
      auto i = self->state.waiting.find(cancel.call);
      if (i == self->state.waiting.end())
        return;
      auto promise = i->second.promise;
      self->state.waiting.erase(i);
      promise.deliver(make_provider_error(provider_errc::cancelled, script->name + ": cancelled"));
    },
    [=](reply_due_atom, uint64_t id) {
      auto i = self->state.waiting.find(id);
      if (i == self->state.waiting.end())
        return;
      auto p = std::move(i->second);
      self->state.waiting.erase(i);
      stream(p.call, script->deltas.size());
      p.promise.deliver(answer(concat(script->deltas)));
    },
  };
}

} // namespace sa::test
