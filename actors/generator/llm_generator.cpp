#include "actors/generator/llm_generator.hpp"

#include "messages/errors.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

namespace sa {

struct llm_generator_state {
  completion_actor chain;
  uint64_t call = 0;                      ///< the call in progress; 0: none
  generate_request request;               ///< its request (sink, session, turn, passages)
  generation local;                       ///< the local composition for it
  uint32_t seq = 0;                       ///< deltas forwarded since the last reset
  caf::typed_response_promise<generation> promise;

  static inline const char* name = "llm_generator";

  llm_generator_state() = default;
  llm_generator_state(const llm_generator_state&) = delete;
  llm_generator_state& operator=(const llm_generator_state&) = delete;
  /// A session that goes away (passivated, restarted child) frees the provider request at once.
  ~llm_generator_state() {
    if (call != 0 && chain)
      caf::anon_send(chain, completion_cancel{call});
  }
};

namespace {

using self_ptr = llm_generator_actor::stateful_pointer<llm_generator_state>;

void stream_text(self_ptr self, const std::string& text, std::size_t chunk_chars) {
  auto& st = self->state;
  if (!st.request.sink)
    return;
  for (auto& piece : local_composer::stream_chunks(text, chunk_chars))
    self->send(st.request.sink, generation_delta{st.request.session, st.request.turn, st.seq++, std::move(piece)});
}

void finish(self_ptr self, generation g) {
  auto& st = self->state;
  auto promise = st.promise;
  st.call = 0;
  st.request = generate_request{};
  st.local = generation{};
  st.promise = {};
  promise.deliver(std::move(g));
}

/// The chain failed or answered nothing usable: the local composition answers, restarting the stream if
/// the customer already saw part of a remote answer.
void answer_locally(self_ptr self, const std::shared_ptr<const llm_generator_deps>& deps, const std::string& why) {
  auto& st = self->state;
  log::get("generator")->warn("provider chain gave no answer ({}); the local provider answers", why);
  if (st.seq > 0 && st.request.sink) {
    self->send(st.request.sink, generation_reset{st.request.session, st.request.turn, "providers_failed"});
    st.seq = 0;
  }
  auto g = st.local;
  stream_text(self, g.text, deps->stream_chunk_chars);
  finish(self, std::move(g));
}

llm_generator_actor::behavior_type llm_generator(self_ptr self, std::shared_ptr<const llm_generator_deps> deps) {
  log_exceptions(self, "generator");
  self->state.chain = deps->chain;
  return {
    [self, deps](generate_request& r) -> caf::result<generation> {
      auto& st = self->state;
      if (st.call != 0) {
        // The session gave up on the previous attempt (its deadline or a retry): free its request.
        self->send(st.chain, completion_cancel{st.call});
        st.promise.deliver(make_error(support_errc::timeout));
        st.call = 0;
      }
      st.local = deps->composer->compose(r);
      st.seq = 0;
      completion_call call;
      call.id = next_completion_id();
      call.tenant = r.tenant;
      call.task = llm_task::generate;
      call.intent = to_string(r.intent.intent);
      call.request = answer_prompt(r, deps->prompt);
      call.deadline = deadline_in(deps->budget);
      if (r.sink)
        call.sink = caf::actor_cast<completion_sink_actor>(self);
      call.grounding = r;
      call.grounding.sink = nullptr;
      st.call = call.id;
      st.request = std::move(r);
      st.promise = self->make_response_promise<generation>();
      auto promise = st.promise;
      auto id = call.id;
      self->request(st.chain, caf::infinite, std::move(call))
        .then(
          [self, deps, id](completion& c) {
            auto& st = self->state;
            if (st.call != id)
              return; // superseded
            if (c.text.empty())
              return answer_locally(self, deps, "empty answer");
            generation g;
            if (c.provider == "local") {
              g = st.local; // composed from the same evidence; keep its citations and confidence
            } else {
              g.sources = cited_passages(c.text, st.request.passages, deps->prompt.max_passages);
              if (g.sources.empty())
                g.sources = st.local.sources;
              g.confidence = st.local.confidence;
            }
            g.text = std::move(c.text);
            if (c.agreement >= 0)
              g.confidence = c.agreement; // self-consistency: agreement between samples sets it
            g.provider = c.provider;
            g.usage.prompt_tokens = static_cast<uint32_t>(c.spent_prompt_tokens);
            g.usage.completion_tokens = static_cast<uint32_t>(c.spent_completion_tokens);
            g.usage.cost_usd = c.cost_usd;
            finish(self, std::move(g));
          },
          [self, deps, id](caf::error& err) {
            if (self->state.call != id)
              return;
            auto code = provider_code(err);
            answer_locally(self, deps, code ? to_string(*code) : self->system().render(err));
          });
      return promise;
    },
    [self](completion_delta& d) {
      auto& st = self->state;
      if (d.call != st.call || d.thinking || !st.request.sink)
        return;
      self->send(st.request.sink, generation_delta{st.request.session, st.request.turn, st.seq++, std::move(d.text)});
    },
    [self](completion_reset& r) {
      auto& st = self->state;
      if (r.call != st.call || !st.request.sink)
        return;
      st.seq = 0;
      self->send(st.request.sink, generation_reset{st.request.session, st.request.turn, "provider_failed"});
    },
  };
}

} // namespace

generator_actor spawn_llm_generator(caf::local_actor* parent, std::shared_ptr<const llm_generator_deps> deps) {
  return parent->spawn<caf::linked>(llm_generator, std::move(deps));
}

} // namespace sa
