// LLM generator: see the header. One call to the provider chain at a time; a model's tool calls are kept
// (with the request that made them) until the session asks again with their results, and the follow-up
// request then carries the calls and results in the providers' tool-calling shapes.
#include "actors/generator/llm_generator.hpp"

#include "actors/actions/action_rules.hpp"

#include "messages/errors.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

namespace sa {

namespace {

/// A model's tool calls waiting for their results, with what led to them.
struct tool_exchange {
  providers::completion_request request;  ///< the request that made the calls (its tools included)
  providers::chat_message reply;          ///< the model's turn: text, calls (ids never empty), thinking, origin
  token_usage spent;                      ///< of the call that made them (added to the follow-up's)
};

} // namespace

struct llm_generator_state {
  completion_actor chain;
  uint64_t call = 0;                      ///< the call in progress; 0: none
  generate_request request;               ///< its request (sink, session, turn, passages, tools)
  providers::completion_request sent;     ///< what it asked the chain (kept for a tool exchange)
  generation local;                       ///< the local composition for it (confidence, citations)
  std::optional<generation> step;         ///< the local tool step for it: a tool call the rules read, or the
                                          ///< tool results as they are; answers instead of `local`
  std::optional<tool_exchange> exchange;  ///< the call answers these tool calls' results (follow-up)
  std::optional<tool_exchange> pending;   ///< tool calls of the last answer, until the next request
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
using nlohmann::json;

constexpr const char* not_run = "not run: only one tool call is handled per turn; ask the customer first";

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
  st.sent = providers::completion_request{};
  st.local = generation{};
  st.step.reset();
  st.exchange.reset();
  st.promise = {};
  promise.deliver(std::move(g));
}

/// The chain failed or answered nothing usable: the local tool step (a tool call the rules read, or the
/// tool results as they are) or else the local composition answers, restarting the stream if the customer
/// already saw part of a remote answer.
void answer_locally(self_ptr self, const std::shared_ptr<const llm_generator_deps>& deps, const std::string& why) {
  auto& st = self->state;
  log::get("generator")->warn("provider chain gave no answer ({}); the local provider answers", why);
  if (st.seq > 0 && st.request.sink) {
    self->send(st.request.sink, generation_reset{st.request.session, st.request.turn, "providers_failed"});
    st.seq = 0;
  }
  auto g = st.step ? *st.step : st.local;
  if (st.exchange) // the follow-up failed: its first call's tokens were still spent
    g.usage = st.exchange->spent;
  stream_text(self, g.text, deps->stream_chunk_chars);
  finish(self, std::move(g));
}

/// What the model reads for an action result: a JSON object with the outcome, the record and the data.
std::string result_content(const action_result& r) {
  nlohmann::ordered_json j{{"status", to_string(r.status)}};  // outcome first: a model reads it first
  if (!r.reference.empty())
    j["reference"] = r.reference;
  if (!r.summary.empty())
    j["summary"] = r.summary;
  if (r.status != action_status::ok && !r.detail.empty())
    j["error"] = r.detail;
  if (!r.data_json.empty()) {
    auto data = json::parse(r.data_json, nullptr, false);
    if (!data.is_discarded())
      j["data"] = std::move(data);
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

/// True when `results` answer calls of `x` (the session ran or refused the first call it was asked for).
bool answers(const tool_exchange& x, const std::vector<action_result>& results) {
  for (const auto& r : results)
    for (const auto& c : x.reply.tool_calls)
      if (c.id == r.call_id)
        return true;
  return false;
}

/// The follow-up: the request that made the calls, the model's turn, and one result per call (a call the
/// session did not run is answered as not run: every call needs an answer). No more calls: tool choice none.
providers::completion_request follow_up(const tool_exchange& x, const std::vector<action_result>& results) {
  auto req = x.request;
  req.messages.push_back(x.reply);
  providers::chat_message answer;
  answer.role = providers::chat_role::user;
  for (const auto& c : x.reply.tool_calls) {
    auto r = std::find_if(results.begin(), results.end(), [&](const action_result& a) { return a.call_id == c.id; });
    if (r == results.end())
      answer.tool_results.push_back({c.id, c.name, json{{"status", "not_run"}, {"error", not_run}}.dump(), true});
    else
      answer.tool_results.push_back({c.id, c.name, result_content(*r), r->status != action_status::ok});
  }
  req.messages.push_back(std::move(answer));
  req.tool_choice = providers::tool_choice_mode::none;
  return req;
}

/// The model's tool calls, kept for the follow-up, and offered to the session as action calls.
generation tool_step(self_ptr self, completion& c) {
  auto& st = self->state;
  tool_exchange x;
  x.request = st.sent;
  x.reply.role = providers::chat_role::assistant;
  x.reply.text = c.text;
  x.reply.thinking = std::move(c.thinking);
  x.reply.origin = c.provider;
  x.spent.prompt_tokens = static_cast<uint32_t>(c.spent_prompt_tokens);
  x.spent.completion_tokens = static_cast<uint32_t>(c.spent_completion_tokens);
  x.spent.cost_usd = c.cost_usd;
  generation g;
  for (std::size_t i = 0; i < c.tool_calls.size(); ++i) {
    auto call = std::move(c.tool_calls[i]);
    if (call.id.empty()) // Gemini may send none; the results must name their call
      call.id = "call_" + std::to_string(i + 1);
    g.tool_calls.push_back(action_call{call.id, call.name, call.arguments_json});
    x.reply.tool_calls.push_back(std::move(call));
  }
  g.text = c.text;
  g.provider = c.provider;
  g.confidence = st.local.confidence;
  g.usage = x.spent;
  st.pending = std::move(x);
  return g;
}

void on_completion(self_ptr self, const std::shared_ptr<const llm_generator_deps>& deps, completion& c) {
  auto& st = self->state;
  bool offered = !st.request.tools.empty() && !st.exchange;
  if (c.provider == "local" && st.step)
    return answer_locally(self, deps, "local provider"); // it composes from passages: the local step knows tools
  if (offered && !c.tool_calls.empty())
    return finish(self, tool_step(self, c));
  if (c.text.empty())
    return answer_locally(self, deps, c.tool_calls.empty() ? "empty answer" : "tool calls after the tool results");
  generation g;
  if (c.provider == "local") {
    g = st.local; // composed from the same evidence; keep its citations and confidence
  } else {
    g.sources = cited_passages(c.text, st.request.passages, deps->prompt.max_passages);
    if (g.sources.empty() && !st.exchange)
      g.sources = st.local.sources;
    // An answer from tool results is as sure as the local report of them; else the evidence's score.
    g.confidence = st.exchange && st.step ? st.step->confidence : st.local.confidence;
  }
  g.text = std::move(c.text);
  if (c.agreement >= 0)
    g.confidence = c.agreement; // self-consistency: agreement between samples sets it
  g.provider = c.provider;
  g.usage.prompt_tokens = static_cast<uint32_t>(c.spent_prompt_tokens);
  g.usage.completion_tokens = static_cast<uint32_t>(c.spent_completion_tokens);
  g.usage.cost_usd = c.cost_usd;
  if (st.exchange) { // the turn spent both calls
    g.usage.prompt_tokens += st.exchange->spent.prompt_tokens;
    g.usage.completion_tokens += st.exchange->spent.completion_tokens;
    g.usage.cost_usd += st.exchange->spent.cost_usd;
  }
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
        st.exchange.reset();
      }
      // Tool calls of the previous answer are answered by this request, or never.
      auto pending = std::move(st.pending);
      st.pending.reset();
      // The local answers, for when no model can: the tool results as they are, or a tool call the local
      // rules read in the message; else the composition (also the confidence and citations of a model's).
      st.step = actions::local_tool_step(r, deps->rules.get());
      st.seq = 0;
      if (!r.tool_results.empty() && !(pending && answers(*pending, r.tool_results))) {
        // Results of calls no model made here (the local rules', or a restarted generator's): as they are.
        st.request = std::move(r);
        auto g = std::move(*st.step);
        stream_text(self, g.text, deps->stream_chunk_chars);
        st.request = generate_request{};
        st.step.reset();
        return g;
      }
      st.local = deps->composer->compose(r);
      completion_call call;
      call.id = next_completion_id();
      call.tenant = r.tenant;
      call.task = llm_task::generate;
      call.intent = to_string(r.intent.intent);
      if (!r.tool_results.empty()) {
        call.request = follow_up(*pending, r.tool_results);
        st.exchange = std::move(pending);
      } else {
        call.request = answer_prompt(r, deps->prompt);
      }
      call.deadline = deadline_in(deps->budget);
      if (r.sink)
        call.sink = caf::actor_cast<completion_sink_actor>(self);
      call.grounding = r;
      call.grounding.sink = nullptr;
      st.call = call.id;
      st.sent = call.request;
      st.request = std::move(r);
      st.promise = self->make_response_promise<generation>();
      auto promise = st.promise;
      auto id = call.id;
      self->request(st.chain, caf::infinite, std::move(call))
        .then(
          [self, deps, id](completion& c) {
            if (self->state.call == id)
              on_completion(self, deps, c);
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
