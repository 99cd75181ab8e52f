// completion: the interface every LLM provider actor and every strategy actor speaks, so strategies
// compose (a fallback chain can hold a hedge that holds two providers). A caller sends a
// completion_call and gets one completion (or an error in the provider category below); when the call
// has a sink, the answer streams to it first as completion_delta messages, in order.
//
// A strategy that has already streamed deltas from one member and then switches to another sends
// completion_reset to its sink: everything streamed so far under that call id is void, and the deltas
// that follow start again at seq 0. Cancelling a call (completion_cancel, sent to the actor that got the
// call) frees its HTTP request at once; the call then answers with provider_errc::cancelled.
#pragma once

#include "actors/providers/provider_types.hpp"
#include "messages/generate.hpp"

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The plain data of providers/provider_types.hpp, made inspectable for messages.
namespace sa::providers {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("tool_call"), x.id, x.name, x.arguments_json, x.signature);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, thinking_block& x) {
  return f(caf::meta::type_name("thinking_block"), x.text, x.signature, x.redacted);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_result& x) {
  return f(caf::meta::type_name("tool_result"), x.call_id, x.name, x.content, x.is_error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_message& x) {
  return f(caf::meta::type_name("chat_message"), x.role, x.text, x.tool_calls, x.thinking, x.tool_results,
           x.origin);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_spec& x) {
  return f(caf::meta::type_name("tool_spec"), x.name, x.description, x.parameters_json);
}
/// CAF 0.17 cannot inspect std::optional: the temperature travels as a flag and a value.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion_request& x) {
  bool has_temperature = x.temperature.has_value();
  double temperature = x.temperature.value_or(0.0);
  auto restore = caf::meta::load_callback([&]() -> caf::error {
    x.temperature = has_temperature ? std::optional<double>{temperature} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("completion_request"), x.model, x.system, x.messages, has_temperature,
           temperature, x.max_tokens, x.json_mode, x.thinking_budget, x.stream, x.tools, x.tool_choice, restore);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage& x) {
  return f(caf::meta::type_name("usage"), x.prompt_tokens, x.completion_tokens, x.thinking_tokens,
           x.reported);
}

} // namespace sa::providers

namespace sa {

/// What a call is for. Route strategies pick a chain by it (classifier, generator, judge and moderator each
/// get their own chain); cost figures count it by component; the local provider only knows how to
/// `generate`. `moderate`: the safety check's LLM moderation of a customer's message (actors/safety/moderation.hpp).
enum class llm_task : uint8_t { generate = 0, classify, judge, summarize, moderate };
const char* to_string(llm_task x) noexcept;
bool from_string(const std::string& name, llm_task& out) noexcept;

/// Process-wide unique call id (never 0). Ids only need to be unique on one node: calls never cross nodes.
uint64_t next_completion_id() noexcept;

/// A point on this node's steady clock, as nanoseconds since its epoch (inspectable, comparable).
using steady_deadline = int64_t;
steady_deadline deadline_in(std::chrono::milliseconds budget) noexcept;
/// Time left until `d`; zero or negative when it has passed.
std::chrono::milliseconds time_left(steady_deadline d) noexcept;

struct completion_delta {
  uint64_t call = 0;   ///< the completion_call's id
  uint32_t seq = 0;    ///< 0, 1, 2, ... restarting at 0 after a completion_reset
  std::string text;
  bool thinking = false;  ///< the model's reasoning: accounted, never shown to the customer
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion_delta& x) {
  return f(caf::meta::type_name("completion_delta"), x.call, x.seq, x.text, x.thinking);
}

/// Everything streamed under `call` so far is void; the answer restarts (on another provider).
struct completion_reset {
  uint64_t call = 0;
  std::string failed_provider;  ///< the member whose stream broke
  std::string reason;           ///< its error kind ("connection", "timeout", ...)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion_reset& x) {
  return f(caf::meta::type_name("completion_reset"), x.call, x.failed_provider, x.reason);
}

using completion_sink_actor =
  caf::typed_actor<caf::reacts_to<completion_delta>, caf::reacts_to<completion_reset>>;

struct completion_call {
  uint64_t id = 0;               ///< from next_completion_id(); strategies give each member call its own
  tenant_id tenant;              ///< whose turn this serves (token and cost figures); empty: no tenant
  llm_task task = llm_task::generate;
  std::string intent;            ///< the classified intent ("billing", ...) or empty; route strategies use it
  providers::completion_request request;  ///< `model` empty: the provider's configured model
  steady_deadline deadline = 0;  ///< the whole call, retries and fallbacks included
  completion_sink_actor sink;    ///< null: no streaming, only the final completion
  /// The structured evidence behind the prompt (question, passages, account facts, history) so the
  /// local provider can compose an answer without a model. `grounding.question` empty: none.
  generate_request grounding;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion_call& x) {
  return f(caf::meta::type_name("completion_call"), x.id, x.tenant, x.task, x.intent, x.request, x.deadline,
           x.sink, x.grounding);
}

/// Stops a call and frees its HTTP request. Sent to the actor that received the call.
struct completion_cancel {
  uint64_t call = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion_cancel& x) {
  return f(caf::meta::type_name("completion_cancel"), x.call);
}

struct completion {
  std::string text;                 ///< the answer (thinking excluded); equals the streamed deltas
  std::string provider;             ///< the endpoint that produced it ("openai-main", "local", ...)
  std::string model;
  std::string finish_reason;        ///< the provider's word
  /// The provider-neutral finish (providers::to_string(finish_kind)): "stop", "length", "tool_call",
  /// "content_filter" or "other".
  std::string finish;
  providers::usage tokens;          ///< of the answer that won
  double cost_usd = 0;              ///< every attempt of this call, failed and losing ones included
  uint64_t spent_prompt_tokens = 0; ///< every attempt, as cost_usd
  uint64_t spent_completion_tokens = 0;
  /// Tools the model asks to run (finish "tool_call"), each with a name and a JSON object of arguments;
  /// `text` is what it said before them (often empty). Answer them with a follow-up request: this
  /// conversation + an assistant message with these calls, `thinking` and `origin` = `provider` + a user
  /// message with one tool_result per call.
  std::vector<providers::tool_call> tool_calls;
  /// With tool calls: the reasoning blocks that must go back unchanged with them (Anthropic).
  std::vector<providers::thinking_block> thinking;
  double agreement = -1;            ///< self-consistency: share of samples agreeing, in [0, 1]; -1 unset
  uint32_t attempts = 1;            ///< requests made (retries, fallbacks, hedges, samples)
  uint32_t resets = 0;              ///< completion_reset messages sent for this call
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion& x) {
  return f(caf::meta::type_name("completion"), x.text, x.provider, x.model, x.finish_reason, x.finish, x.tokens,
           x.cost_usd, x.spent_prompt_tokens, x.spent_completion_tokens, x.tool_calls, x.thinking, x.agreement,
           x.attempts, x.resets);
}

/// A provider or a strategy. Errors come in the provider category (provider_errc below), with a
/// message naming the member(s) and the problem.
using completion_actor =
  caf::typed_actor<caf::replies_to<completion_call>::with<completion>, caf::reacts_to<completion_cancel>>;

// --- errors ---------------------------------------------------------------------------------------------

/// Stable codes; values 1..12 mirror providers::error_kind + 1. Never renumber; append at the end.
enum class provider_errc : uint8_t {
  rate_limited = 1,
  overloaded,
  server,
  auth,
  invalid_request,
  not_found,
  quota,
  timeout,
  connection,
  malformed,
  truncated,
  blocked,
  circuit_open = 20,   ///< the provider's breaker is open: skipped without a request
  exhausted,           ///< a strategy ran out of members; the message lists each member's error
  cancelled,           ///< completion_cancel, or the caller went away
  deadline,            ///< the call's deadline passed
  retry_budget,        ///< a retry was due but the provider's retry budget was spent
  unsupported,         ///< the member cannot do this task (e.g. the local provider asked to classify)
};
const char* to_string(provider_errc x) noexcept;

using provider_error_atom = caf::atom_constant<caf::atom("provider")>;

provider_errc to_errc(providers::error_kind kind) noexcept;

/// A caf::error in the provider category whose context carries `message` (never an API key or a body).
caf::error make_provider_error(provider_errc code, std::string message);

/// The code of `e` if it is a provider error; nullopt otherwise.
std::optional<provider_errc> provider_code(const caf::error& e) noexcept;

/// The message given to make_provider_error ("" when none).
std::string provider_message(const caf::error& e);

} // namespace sa
