// Local generator actor: composes with local_composer (shared, read-only) and streams the text in
// chunks. Deltas are sent before the reply, and CAF keeps the order of messages between two actors,
// so the sink sees every delta before the final generation. LLM providers and strategies (providers
// issue) implement the same generator_actor interface.
#include "actors/generator/generator_actor.hpp"

#include "actors/actions/action_rules.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

generator_actor::behavior_type local_generator(generator_actor::pointer self,
                                               std::shared_ptr<const generator_deps> deps) {
  log_exceptions(self, "generator");
  return {
    [self, deps](const generate_request& r) -> generation {
      auto step = actions::local_tool_step(r, deps->rules.get());
      auto g = step ? std::move(*step) : deps->composer->compose(r);
      if (r.sink) {
        uint32_t seq = 0;
        for (auto& piece : local_composer::stream_chunks(g.text, deps->stream_chunk_chars))
          self->send(r.sink, generation_delta{r.session, r.turn, seq++, std::move(piece)});
      }
      return g;
    },
  };
}

} // namespace sa
