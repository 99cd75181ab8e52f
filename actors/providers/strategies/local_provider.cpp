// local provider: the last resort of a provider chain, speaking completion_actor. It composes an
// extractive answer from the call's grounding with the shared, read-only local_composer (as the local
// generator does), streams it to the call's sink and replies at once - no model, no network, no state,
// so a cancel has nothing to stop. It only generates; other tasks answer provider_errc::unsupported.
#include "actors/generator/generator_actor.hpp"
#include "actors/providers/strategies/strategies.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <exception>
#include <typeinfo>

namespace sa::providers {

namespace {

/// The evidence to compose from: the call's grounding, or - without a grounding question - the last
/// user message as the question, with no passages.
generate_request grounding_of(const completion_call& call) {
  generate_request r = call.grounding;
  r.sink = nullptr;
  if (!r.question.empty())
    return r;
  for (auto m = call.request.messages.rbegin(); m != call.request.messages.rend(); ++m)
    if (m->role == chat_role::user) {
      r.question = m->text;
      break;
    }
  r.passages.clear();
  return r;
}

completion_actor::behavior_type local_provider(completion_actor::pointer self,
                                               std::shared_ptr<const generator_deps> deps) {
  log_exceptions(self, "local_provider");
  return {
    [self, deps](const completion_call& call) -> caf::result<completion> {
      if (call.task != llm_task::generate)
        return make_provider_error(provider_errc::unsupported,
                                   std::string{"local: cannot "} + to_string(call.task) + ", only generate");
      generation g;
      try {
        g = deps->composer->compose(grounding_of(call));
      } catch (const std::exception& e) {
        // Not expected: composing is pure string work. Answer with an error rather than die, so the
        // chain (and the turn) can still end cleanly.
        log::get("local_provider")->error("event=compose_failed exception_type={}", typeid(e).name());
        return make_provider_error(provider_errc::server, "local: composing failed");
      }
      if (call.sink) {
        uint32_t seq = 0;
        for (auto& piece : local_composer::stream_chunks(g.text, deps->stream_chunk_chars))
          self->send(call.sink, completion_delta{call.id, seq++, std::move(piece), false});
      }
      completion out;
      out.text = std::move(g.text);
      out.provider = "local";
      out.model = "extractive";
      out.finish_reason = "stop";
      out.finish = "stop";
      out.tokens.reported = false;
      out.cost_usd = 0;
      out.attempts = 1;
      return out;
    },
    [](const completion_cancel&) {
      // Every call is answered within its handler: nothing is ever in flight to cancel.
    },
  };
}

} // namespace

completion_actor spawn_local_provider(caf::actor_system& sys, std::shared_ptr<const generator_deps> deps) {
  return sys.spawn(local_provider, std::move(deps));
}

} // namespace sa::providers
