// anthropic_protocol: see the header. Wire format: docs/llm-provider-protocols.md, "Anthropic Messages".
#include "actors/providers/anthropic/anthropic_protocol.hpp"

#include "actors/providers/json_util.hpp"

#include <algorithm>

namespace sa::providers {

using namespace json_util;
using ojson = nlohmann::ordered_json;

namespace {

constexpr uint32_t min_thinking_budget = 1024;

/// error.type -> kind and whether the SDKs retry it (used when the status does not decide, mid-stream).
struct type_rule {
  const char* type;
  error_kind kind;
  bool retryable;
};
constexpr type_rule type_rules[] = {
  {"invalid_request_error", error_kind::invalid_request, false},
  {"authentication_error", error_kind::auth, false},
  {"permission_error", error_kind::auth, false},
  {"not_found_error", error_kind::not_found, false},
  {"request_too_large", error_kind::invalid_request, false},
  {"rate_limit_error", error_kind::rate_limited, true},
  {"api_error", error_kind::server, true},
  {"overloaded_error", error_kind::overloaded, true},
  {"timeout_error", error_kind::timeout, true},
  {"billing_error", error_kind::quota, false},
};

/// With thinking on, the final assistant message of a tool-use exchange must start with the thinking block
/// that led to its calls, or the API answers 400. When that message's calls came without one (another
/// endpoint made them, or thinking was off then), the request goes without thinking instead.
bool final_tool_turn_keeps_thinking(const completion_request& r) {
  for (auto m = r.messages.rbegin(); m != r.messages.rend(); ++m)
    if (m->role == chat_role::assistant)
      return m->tool_calls.empty() || !m->thinking.empty();
  return true;
}

/// A message's `content`: a plain string, or blocks when it carries reasoning, tool calls or tool results
/// (thinking first, unchanged; then text; then tool_use - or, in a user message, tool_result first).
result<ojson> message_content(const chat_message& m) {
  if (m.thinking.empty() && m.tool_calls.empty() && m.tool_results.empty())
    return ojson(m.text);
  ojson blocks = ojson::array();
  for (const auto& t : m.tool_results) {
    ojson block{{"type", "tool_result"}, {"tool_use_id", t.call_id}, {"content", t.content}};
    if (t.is_error)
      block["is_error"] = true;
    blocks.push_back(std::move(block));
  }
  for (const auto& b : m.thinking) {
    if (b.redacted)
      blocks.push_back({{"type", "redacted_thinking"}, {"data", b.signature}});
    else
      blocks.push_back({{"type", "thinking"}, {"thinking", b.text}, {"signature", b.signature}});
  }
  if (!m.text.empty())
    blocks.push_back({{"type", "text"}, {"text", m.text}});
  for (const auto& c : m.tool_calls) {
    auto input = c.arguments_json.empty() ? ojson::object() : ojson::parse(c.arguments_json, nullptr, false);
    if (input.is_discarded() || !input.is_object())
      return failure{"anthropic: the arguments of tool call '" + c.id + "' are not a JSON object"};
    blocks.push_back({{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", std::move(input)}});
  }
  return blocks;
}

} // namespace

result<http_request> anthropic_protocol::build_request(const completion_request& r) const {
  if (r.model.empty())
    return failure{"anthropic: request has no model"};
  if (r.messages.empty())
    return failure{"anthropic: request has no messages"};
  if (r.max_tokens == 0)
    return failure{"anthropic: max_tokens is required (got 0)"};
  if (r.thinking_budget > 0 && (r.thinking_budget < min_thinking_budget || r.thinking_budget >= r.max_tokens))
    return failure{"anthropic: thinking budget " + std::to_string(r.thinking_budget) + " must be at least "
                   + std::to_string(min_thinking_budget) + " and below max_tokens ("
                   + std::to_string(r.max_tokens) + ")"};
  const bool thinking = r.thinking_budget > 0 && final_tool_turn_keeps_thinking(r);
  ojson body;
  body["model"] = r.model;
  body["max_tokens"] = r.max_tokens;
  if (!r.system.empty())
    body["system"] = r.system;
  auto& msgs = body["messages"] = ojson::array();
  for (const auto& m : r.messages) {
    auto content = message_content(m);
    if (!content.ok())
      return failure{content.error()};
    msgs.push_back({{"role", m.role == chat_role::user ? "user" : "assistant"}, {"content", std::move(*content)}});
  }
  if (r.temperature && !thinking) // thinking allows only the default temperature: leave it unset
    body["temperature"] = *r.temperature;
  if (thinking)
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", r.thinking_budget}};
  body["stream"] = r.stream;
  if (!r.tools.empty()) {
    auto& tools = body["tools"] = ojson::array();
    for (const auto& t : r.tools) {
      auto schema = ojson::parse(t.parameters_json, nullptr, false);
      if (schema.is_discarded() || !schema.is_object())
        return failure{"anthropic: tool '" + t.name + "' parameters_json is not a JSON object"};
      tools.push_back({{"name", t.name}, {"description", t.description}, {"input_schema", schema}});
    }
    // "auto" is the default; thinking allows only auto or none (never a forced tool).
    if (r.tool_choice == tool_choice_mode::none)
      body["tool_choice"] = {{"type", "none"}};
  }
  http_request req;
  req.path = opts_.path;
  req.headers = {{"anthropic-version", opts_.version}, {"content-type", "application/json"}};
  req.api_key_header = "x-api-key";
  req.body = body.dump();
  return req;
}

finish_kind anthropic_protocol::finish_of(std::string_view reason) noexcept {
  if (reason == "end_turn" || reason == "stop_sequence")
    return finish_kind::stop;
  if (reason == "max_tokens")
    return finish_kind::length;
  if (reason == "tool_use")
    return finish_kind::tool_use;
  if (reason == "refusal")
    return finish_kind::content_filter;
  return finish_kind::other;
}

provider_error anthropic_protocol::error_from_body(int http_status, std::string_view body) {
  provider_error e;
  e.http_status = http_status;
  e.kind = kind_for_status(http_status);
  e.retryable = status_is_retryable(http_status);
  auto j = parse(body);
  const json* err = j ? object_at(*j, "error") : nullptr;
  if (!err) {
    e.message = "anthropic: HTTP " + std::to_string(http_status)
                + " with a body that is not an Anthropic error: " + excerpt(body);
    return e;
  }
  e.provider_code = string_or(*err, "type");
  e.message = "anthropic: HTTP " + std::to_string(http_status) + " " + e.provider_code + ": "
              + string_or(*err, "message");
  for (const auto& rule : type_rules) {
    if (e.provider_code != rule.type)
      continue;
    e.kind = rule.kind;
    if (http_status / 100 == 2) // mid-stream: the status says nothing, the type decides
      e.retryable = rule.retryable;
    break;
  }
  return e;
}

provider_error anthropic_protocol::parse_error(int http_status, const header_list& headers,
                                               std::string_view body) const {
  auto e = error_from_body(http_status, body);
  apply_headers(e, headers, "request-id");
  return e;
}

void anthropic_stream_decoder::on_event(const sse_event& ev, std::vector<stream_event>& out) {
  auto j = parse(ev.data);
  if (!j || !j->is_object()) {
    out.emplace_back(make_error(error_kind::malformed,
                                "anthropic: the data of a '" + ev.type + "' event is not a JSON object"));
    return;
  }
  // The event name and the JSON "type" agree; prefer the JSON, fall back to the SSE event name.
  std::string type = string_or(*j, "type", ev.type);
  if (type == "message_start") {
    if (const json* msg = object_at(*j, "message"))
      if (const json* u = object_at(*msg, "usage")) {
        usage_.reported = true;
        usage_.prompt_tokens = count_at(*u, "input_tokens").value_or(0);
        usage_.completion_tokens = count_at(*u, "output_tokens").value_or(0);
      }
  } else if (type == "content_block_start") {
    const json* block = object_at(*j, "content_block");
    auto index = count_at(*j, "index").value_or(0);
    auto kind = block ? string_or(*block, "type") : std::string{};
    if (kind == "tool_use") {
      auto& call = tools_[index];
      call.id = string_or(*block, "id");
      call.name = string_or(*block, "name");
      // Streamed input arrives as input_json_delta; a start block that already holds it (proxies that
      // replay a whole message) is taken as is.
      if (const json* input = object_at(*block, "input"); input && !input->empty())
        call.arguments_json = input->dump();
      partial_input_.erase(index);
    } else if (kind == "thinking") {
      thinking_[index] = thinking_block{string_or(*block, "thinking"), string_or(*block, "signature"), false};
    } else if (kind == "redacted_thinking") {
      thinking_[index] = thinking_block{{}, string_or(*block, "data"), true};
    }
  } else if (type == "content_block_delta") {
    const json* delta = object_at(*j, "delta");
    if (!delta)
      return;
    auto kind = string_or(*delta, "type");
    if (kind == "text_delta") {
      if (auto text = string_at(*delta, "text"); text && !text->empty())
        out.emplace_back(stream_delta{*text, false});
    } else if (kind == "thinking_delta") {
      if (auto text = string_at(*delta, "thinking"); text && !text->empty()) {
        if (auto it = thinking_.find(count_at(*j, "index").value_or(0)); it != thinking_.end())
          it->second.text += *text;
        out.emplace_back(stream_delta{*text, true});
      }
    } else if (kind == "signature_delta") {
      if (auto it = thinking_.find(count_at(*j, "index").value_or(0)); it != thinking_.end())
        it->second.signature += string_or(*delta, "signature");
    } else if (kind == "input_json_delta") {
      auto index = count_at(*j, "index").value_or(0);
      auto it = tools_.find(index);
      if (it != tools_.end()) {
        if (partial_input_.insert(index).second)
          it->second.arguments_json.clear(); // the deltas replace an empty (or replayed) start input
        it->second.arguments_json += string_or(*delta, "partial_json");
      }
    }
    // unknown delta types: nothing to show
  } else if (type == "message_delta") {
    if (const json* delta = object_at(*j, "delta"))
      if (auto reason = string_at(*delta, "stop_reason"))
        stop_reason_ = *reason;
    if (const json* u = object_at(*j, "usage")) {
      usage_.reported = true;
      if (auto out_tokens = count_at(*u, "output_tokens")) // cumulative
        usage_.completion_tokens = *out_tokens;
      if (auto in_tokens = count_at(*u, "input_tokens"))
        usage_.prompt_tokens = *in_tokens;
    }
  } else if (type == "message_stop") {
    stream_end end;
    end.finish_reason = stop_reason_;
    end.finish = anthropic_protocol::finish_of(stop_reason_);
    end.tokens = usage_;
    // Anthropic bills thinking as output but reports no count of it: estimate it from the thinking text
    // streamed (4 characters a token; redacted blocks add nothing), never above the output it is part of.
    uint64_t thinking_chars = 0;
    for (const auto& [index, block] : thinking_)
      thinking_chars += block.text.size();
    end.tokens.thinking_tokens = std::min<uint64_t>((thinking_chars + 3) / 4, end.tokens.completion_tokens);
    for (auto& [index, call] : tools_)
      end.tool_calls.push_back(std::move(call));
    tools_.clear();
    if (auto bad = check_tool_calls(end.tool_calls, end.finish)) {
      out.emplace_back(std::move(*bad));
      return;
    }
    if (!end.tool_calls.empty()) // the reasoning behind the calls goes back with them, in block order
      for (auto& [index, block] : thinking_)
        end.thinking.push_back(std::move(block));
    thinking_.clear();
    out.emplace_back(std::move(end));
  } else if (type == "error") {
    auto e = anthropic_protocol::error_from_body(200, ev.data);
    e.message += " (mid-stream)";
    out.emplace_back(std::move(e));
  }
  // ping, content_block_stop and event types added later: ignored
}

} // namespace sa::providers
