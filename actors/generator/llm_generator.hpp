// LLM generator actor (one per session, generator.backend = "llm"): turns a generate_request into a
// prompt (actors/generator/prompt.hpp), calls the provider chain (providers.root) with itself as the
// sink, and streams the chain's deltas to the session as generation_delta. A completion_reset from the
// chain (a provider failed mid-answer and another took over) becomes a generation_reset for the session.
//
// The local composition is computed first (tens of microseconds): it scores the evidence (the answer's
// confidence unless self-consistency measured agreement), supplies citations when the model cites none,
// and is the last resort - if the whole chain fails, the customer gets the local answer, so a turn
// never fails only because every remote provider is down.
#pragma once

#include "actors/generator/local_composer.hpp"
#include "actors/generator/prompt.hpp"
#include "messages/completion.hpp"
#include "messages/generate.hpp"

#include <chrono>
#include <memory>

namespace sa {

struct llm_generator_deps {
  completion_actor chain;
  std::shared_ptr<const local_composer> composer;
  prompt_options prompt;
  std::chrono::milliseconds budget{15000};   ///< deadline of one generation call
  std::size_t stream_chunk_chars = 32;       ///< for the local last-resort answer
};

using llm_generator_actor =
  generator_actor::extend<caf::reacts_to<completion_delta>, caf::reacts_to<completion_reset>>;

/// Spawns it linked to `parent` (the session), as session_children factories must.
generator_actor spawn_llm_generator(caf::local_actor* parent, std::shared_ptr<const llm_generator_deps> deps);

} // namespace sa
