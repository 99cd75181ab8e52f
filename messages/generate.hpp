// generate: compose the answer from evidence, streamed as deltas, then one final generation.
// Local provider by default; LLM providers and strategies speak this same interface. A generator that
// switches providers after streaming part of an answer sends generation_reset before the new deltas;
// the final generation's text is then the answer streamed after the last reset.
#pragma once

#include "messages/account.hpp"
#include "messages/actions.hpp"
#include "messages/classify.hpp"
#include "messages/ids.hpp"
#include "messages/memory.hpp"
#include "messages/retrieve.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// A piece of the answer, in order; `seq` starts at 0 for each request.
struct generation_delta {
  session_id session;
  uint64_t turn = 0;   ///< the request's `turn` token, echoed
  uint32_t seq = 0;
  std::string text;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_delta& x) {
  return f(caf::meta::type_name("generation_delta"), x.session, x.turn, x.seq, x.text);
}

/// Everything streamed for this request so far is void; deltas restart at seq 0 (a provider failed
/// mid-answer and another one took over).
struct generation_reset {
  session_id session;
  uint64_t turn = 0;   ///< the request's `turn` token, echoed
  std::string reason;  ///< why the answer restarted (the failed provider's error kind); no user text
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_reset& x) {
  return f(caf::meta::type_name("generation_reset"), x.session, x.turn, x.reason);
}

/// Receives a generation's deltas as they are produced, and a reset when the answer restarts.
using generation_sink_actor =
  caf::typed_actor<caf::reacts_to<generation_delta>, caf::reacts_to<generation_reset>>;

struct generate_request {
  tenant_id tenant;
  session_id session;
  uint64_t turn = 0;                 ///< the session's token for this attempt, echoed in deltas
  std::string question;
  classification intent;
  std::vector<passage> passages;     ///< best first
  account_facts account;             ///< available=false when not fetched or failed
  std::vector<turn_record> history;  ///< recent turns, oldest first
  std::string summary;               ///< of older turns
  generation_sink_actor sink;        ///< deltas go here; may be null (no streaming)
  /// Tools the generator may ask for this turn (answering with generation::tool_calls instead of text);
  /// empty: answer in text only.
  std::vector<action_tool> tools;
  /// Results of the tools the previous generation asked for this turn: answer the question with them.
  std::vector<action_result> tool_results;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_request& x) {
  return f(caf::meta::type_name("generate_request"), x.tenant, x.session, x.turn, x.question, x.intent,
           x.passages, x.account, x.history, x.summary, x.sink, x.tools, x.tool_results);
}

struct citation {
  std::string source_id;
  std::string title;
  std::string url;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, citation& x) {
  return f(caf::meta::type_name("citation"), x.source_id, x.title, x.url);
}

struct token_usage {
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  double cost_usd = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_usage& x) {
  return f(caf::meta::type_name("token_usage"), x.prompt_tokens, x.completion_tokens, x.cost_usd);
}

struct generation {
  std::string text;                ///< the full answer (equals the concatenated deltas)
  std::vector<citation> sources;   ///< what the answer cites, in citation order
  double confidence = 0;           ///< how well the evidence supports the answer, in [0, 1]
  std::string provider;            ///< "local", "openai", ...
  token_usage usage;
  /// Tools the generator asks to run (from generate_request::tools; the local rules or a model's tool
  /// calls). The session validates them, runs read-only ones and asks again with their results, and
  /// proposes the others to the customer; `text` may then be empty.
  std::vector<action_call> tool_calls;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation& x) {
  return f(caf::meta::type_name("generation"), x.text, x.sources, x.confidence, x.provider, x.usage, x.tool_calls);
}

using generator_actor = caf::typed_actor<caf::replies_to<generate_request>::with<generation>>;

} // namespace sa
