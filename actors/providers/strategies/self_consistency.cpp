// self_consistency strategy: asks one member for several answers at once (no streaming, a temperature
// so they can differ), answers with the medoid (consensus.hpp) and reports how much the samples agree.
// It owns, per upstream call, the samples in flight and the answers so far; the chosen answer streams
// upstream in chunks only once every sample is in, so a reset is never needed.
#include "actors/generator/local_composer.hpp"
#include "actors/providers/strategies/consensus.hpp"
#include "actors/providers/strategies/strategies.hpp"
#include "actors/providers/strategies/strategy_support.hpp"
#include "runtime/exceptions.hpp"

#include <optional>

namespace sa::providers {

namespace {

using namespace strategy;

constexpr double sample_temperature = 0.7;
constexpr std::size_t stream_chunk_chars = 32;

struct sampling_call {
  completion_call call;
  caf::typed_response_promise<completion> promise;
  std::vector<uint64_t> running;                  ///< sample call in flight per sample (0: answered)
  std::vector<std::optional<completion>> answers; ///< per sample; empty when it failed or is running
  uint32_t outstanding = 0;
  completion spent;                               ///< attempts, cost and tokens of every sample
  std::vector<std::string> failures;
};

struct sampling_state {
  std::string label;
  member sampled;
  uint32_t samples = 1;
  std::unordered_map<uint64_t, sampling_call> calls;  // by upstream call id
  member_calls by_member;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "self_consistency";
};

using sampling_actor = sink_strategy_actor;
using self_ptr = sampling_actor::stateful_pointer<sampling_state>;

void fail_call(self_ptr self, uint64_t id, caf::error err) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  for (auto mid : i->second.running) {
    if (mid == 0)
      continue;
    self->send(st.sampled.actor, completion_cancel{mid});
    st.by_member.erase(mid);
  }
  auto promise = i->second.promise;
  st.calls.erase(i);
  promise.deliver(std::move(err));
}

/// Every sample is in: pick, stream and answer.
void conclude(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  std::vector<std::string> texts;
  std::vector<std::size_t> which;
  for (std::size_t k = 0; k < c.answers.size(); ++k)
    if (c.answers[k]) {
      texts.push_back(c.answers[k]->text);
      which.push_back(k);
    }
  if (texts.empty()) {
    st.log->debug("strategy={} kind=self_consistency call={} event=exhausted samples={}", st.label, id, st.samples);
    fail_call(self, id,
              make_provider_error(provider_errc::exhausted, "self_consistency '" + st.label + "': " + join(c.failures)));
    return;
  }
  auto picked = pick_medoid(texts, st.samples);
  completion out = std::move(*c.answers[which[picked.chosen]]);
  out.cost_usd = c.spent.cost_usd;
  out.spent_prompt_tokens = c.spent.spent_prompt_tokens;
  out.spent_completion_tokens = c.spent.spent_completion_tokens;
  out.attempts = c.spent.attempts;
  out.agreement = picked.agreement;
  out.resets = 0;
  st.log->debug("strategy={} kind=self_consistency call={} event=picked answered={} samples={} agreement={:.2f}",
                st.label, id, texts.size(), st.samples, picked.agreement);
  if (c.call.sink) {
    uint32_t seq = 0;
    for (auto& piece : local_composer::stream_chunks(out.text, stream_chunk_chars))
      self->send(c.call.sink, completion_delta{id, seq++, std::move(piece), false});
  }
  auto promise = c.promise;
  st.calls.erase(i);
  promise.deliver(std::move(out));
}

/// Takes a sample's outcome off the books: its call (nullptr when stale), upstream id and sample index.
sampling_call* settle(self_ptr self, uint64_t member_id, uint64_t& id, std::size_t& index) {
  auto& st = self->state;
  auto ref = st.by_member.find(member_id);
  if (ref == st.by_member.end())
    return nullptr;
  id = ref->second.upstream;
  index = ref->second.index;
  st.by_member.erase(ref);
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return nullptr;
  i->second.running[index] = 0;
  --i->second.outstanding;
  return &i->second;
}

void on_sample_reply(self_ptr self, uint64_t member_id, completion& r) {
  uint64_t id = 0;
  std::size_t index = 0;
  auto* c = settle(self, member_id, id, index);
  if (c == nullptr)
    return;
  add_spend(c->spent, r);
  c->answers[index] = std::move(r);
  if (c->outstanding == 0)
    conclude(self, id);
}

void on_sample_error(self_ptr self, uint64_t member_id, caf::error& err) {
  uint64_t id = 0;
  std::size_t index = 0;
  auto* c = settle(self, member_id, id, index);
  if (c == nullptr)
    return;
  auto& st = self->state;
  auto kind = error_name(err);
  c->failures.push_back(st.sampled.name + ": " + kind);
  c->spent.attempts += attempts_of_failure(err);
  st.log->debug("strategy={} kind=self_consistency call={} event=sample_failed sample={} error={}", st.label, id,
                index, kind);
  if (c->outstanding == 0)
    conclude(self, id);
}

sampling_actor::behavior_type self_consistency(self_ptr self, std::string label, member sampled, uint32_t samples) {
  log_exceptions(self, "strategy");
  auto& st = self->state;
  st.label = std::move(label);
  st.sampled = std::move(sampled);
  st.samples = std::max<uint32_t>(samples, 1);
  st.log = logger();
  monitor_all(self, {st.sampled.actor});
  on_member_down(self, [self](uint64_t mid, caf::error& e) { on_sample_error(self, mid, e); });
  return {
    [self](completion_call& call) -> caf::result<completion> {
      auto& st = self->state;
      auto id = call.id;
      if (st.calls.count(id) != 0)
        return make_provider_error(provider_errc::invalid_request, "self_consistency '" + st.label + "': call id "
                                                                     + std::to_string(id) + " already in progress");
      if (deadline_passed(call.deadline))
        return make_provider_error(provider_errc::deadline, "self_consistency '" + st.label + "': deadline passed");
      sampling_call c;
      c.call = std::move(call);
      c.running.assign(st.samples, 0);
      c.answers.resize(st.samples);
      c.outstanding = st.samples;
      c.spent.attempts = 0;
      c.promise = self->make_response_promise<completion>();
      auto promise = c.promise;
      auto& placed = st.calls.emplace(id, std::move(c)).first->second;
      for (uint32_t k = 0; k < st.samples; ++k) {
        // Samples never stream: only the chosen answer goes upstream.
        auto sample = member_call_for(placed.call, completion_sink_actor{});
        if (!sample.request.temperature)
          sample.request.temperature = sample_temperature;
        placed.running[k] = sample.id;
        st.by_member.emplace(sample.id, member_ref{id, k, st.sampled.actor.address()});
        ask_member(
          self, st.sampled.actor, std::move(sample), [self](uint64_t r, completion& x) { on_sample_reply(self, r, x); },
          [self](uint64_t r, caf::error& e) { on_sample_error(self, r, e); });
      }
      return promise;
    },
    [self](const completion_cancel& cancel) {
      auto& st = self->state;
      if (st.calls.count(cancel.call) == 0)
        return;
      st.log->debug("strategy={} kind=self_consistency call={} event=cancelled", st.label, cancel.call);
      fail_call(self, cancel.call,
                make_provider_error(provider_errc::cancelled, "self_consistency '" + st.label + "': cancelled"));
    },
    // Samples are asked without a sink: a delta or reset here is stale or misdirected.
    [](completion_delta&) {},
    [](completion_reset&) {},
  };
}

} // namespace

completion_actor spawn_self_consistency(caf::actor_system& sys, std::string name, member sampled, uint32_t samples) {
  return caf::actor_cast<completion_actor>(sys.spawn(self_consistency, std::move(name), std::move(sampled), samples));
}

} // namespace sa::providers
