// strategies: actors that compose completion actors (providers, the local provider, other strategies)
// and speak the same interface (messages/completion.hpp), so a provider graph is a tree built from config
// (providers/provider_graph.cpp): route_by_intent{billing: hedge(openai, anthropic), default: fallback(...)}.
//
// Common contract of every strategy:
// - each member call gets its own id (next_completion_id()); when the upstream call has a sink, the
//   strategy is the member call's sink and forwards the active member's deltas upstream under the
//   upstream id, numbered from 0 (again from 0 after a completion_reset it sends); deltas of member calls
//   that are no longer active are dropped. Route strategies pass the call through unchanged instead.
// - member calls inherit the upstream deadline; a deadline passed before a member starts fails the call
//   with provider_errc::deadline.
// - completion_cancel{upstream id} cancels every started member call and answers provider_errc::cancelled.
// - members are monitored, not linked: a member that dies (or is down) fails its calls like any error
//   (caf::sec::request_receiver_down or its exit reason) and the strategy lives on.
//
// To add a strategy: a new .cpp next to fallback.cpp using strategy_support.hpp, a spawn function here,
// and a kind in provider_graph.cpp and the config loader.
#pragma once

#include "messages/completion.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa {
struct generator_deps;
class metrics;
}

namespace sa::providers {

/// A member of a strategy: its config name (used in logs, errors and resets) and its handle.
struct member {
  std::string name;
  completion_actor actor;
};

/// What a route strategy picks its member by.
enum class route_key : uint8_t {
  task,   ///< to_string(call.task): "generate", "classify", "judge", "summarize"
  intent, ///< call.intent ("billing", ...)
};

/// Tries `members` in order; a failure moves to the next one (after a completion_reset upstream when the
/// failed member had streamed). All failed: provider_errc::exhausted listing "name: error" per member.
/// `metrics` (optional) counts each move to the next member in sa_provider_fallbacks_total.
completion_actor spawn_fallback(caf::actor_system& sys, std::string name, std::vector<member> members,
                                std::shared_ptr<sa::metrics> metrics = nullptr);

/// Starts members[0]; starts the next member after each `delay` without a delta (and at once when a
/// started member fails before any delta). The first member to stream wins and the others are
/// cancelled; without a sink the first successful reply wins. A winner failing mid-stream resets the
/// stream and falls back to the members not started yet, in order.
completion_actor spawn_hedge(caf::actor_system& sys, std::string name, std::vector<member> members,
                             std::chrono::milliseconds delay);

/// Asks `sampled` for `samples` answers in parallel (temperature 0.7 unless set, no streaming), answers
/// with the medoid (highest mean word-set Jaccard similarity to the other samples) and streams it;
/// completion::agreement is the share of samples with similarity >= 0.6 to it.
completion_actor spawn_self_consistency(caf::actor_system& sys, std::string name, member sampled,
                                        uint32_t samples);

/// Passes each call to routes[key] (the call's task name or intent), else routes["default"], else fails
/// with provider_errc::unsupported. The call keeps its id and sink: deltas and resets flow straight from
/// the member to the caller.
completion_actor spawn_route(caf::actor_system& sys, std::string name, route_key key,
                             std::map<std::string, member> routes);

/// The local provider ("local", model "extractive"): composes an answer from call.grounding with the
/// shared local_composer, without a model, streams it and replies. Only llm_task::generate (else
/// provider_errc::unsupported). The last resort of a chain: it never fails a generate call.
completion_actor spawn_local_provider(caf::actor_system& sys, std::shared_ptr<const generator_deps> deps);

} // namespace sa::providers
