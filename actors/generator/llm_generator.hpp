// LLM generator actor (one per session, generator.backend = "llm"): turns a generate_request into a
// prompt (actors/generator/prompt.hpp), calls the provider chain (providers.root) with itself as the
// sink, and streams the chain's deltas to the session as generation_delta. A completion_reset from the
// chain (a provider failed mid-answer and another took over) becomes a generation_reset for the session.
//
// The local composition is computed first (tens of microseconds): it scores the evidence (the answer's
// confidence unless self-consistency measured agreement), supplies citations when the model cites none,
// and is the last resort - if the whole chain fails, the customer gets the local answer, so a turn
// never fails only because every remote provider is down.
//
// Tools (issue #6): the request's tools go to the model (providers' tool calling). A model that calls
// tools gets its calls answered as generation::tool_calls (with whatever text it streamed first); the
// generator keeps the calls, the request that made them and the model's reasoning, and when the session
// asks again with their results (it validates every call, runs read-only ones and refuses invalid ones as
// tool errors) the follow-up request carries the calls and results in each provider's shape, tools
// still defined but tool choice none, so the model phrases the answer. Results that answer no call this
// generator remembers (the local rules made it, or the generator was restarted) and a chain that fails
// are answered by the local tool step (actors/actions/action_rules.hpp): the results as they are, or a
// tool call the rules read in the message.
#pragma once

#include "actors/generator/local_composer.hpp"
#include "actors/generator/prompt.hpp"
#include "messages/completion.hpp"
#include "messages/generate.hpp"

#include <chrono>
#include <memory>

namespace sa::actions {
class action_rules;
}

namespace sa {

struct llm_generator_deps {
  completion_actor chain;
  std::shared_ptr<const local_composer> composer;
  prompt_options prompt;
  std::chrono::milliseconds budget{15000};   ///< deadline of one generation call
  std::size_t stream_chunk_chars = 32;       ///< for the local last-resort answer
  /// The local tool step (actors/actions/action_rules.hpp), the last resort when no model answers: an
  /// explicit tool request becomes a tool call, tool results are reported as they are. Null: the rules
  /// read no tool call (results are still reported).
  std::shared_ptr<const actions::action_rules> rules;
};

using llm_generator_actor =
  generator_actor::extend<caf::reacts_to<completion_delta>, caf::reacts_to<completion_reset>>;

/// Spawns it linked to `parent` (the session), as session_children factories must.
generator_actor spawn_llm_generator(caf::local_actor* parent, std::shared_ptr<const llm_generator_deps> deps);

} // namespace sa
