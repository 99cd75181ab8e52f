// anthropic_protocol: see the header. Wire format: docs/llm-provider-protocols.md, "Anthropic Messages".
#include "actors/providers/anthropic/anthropic_protocol.hpp"

#include "actors/providers/json_util.hpp"

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

} // namespace

result<http_request> anthropic_protocol::build_request(const completion_request& r) const {
  if (r.model.empty())
    return failure{"anthropic: request has no model"};
  if (r.messages.empty())
    return failure{"anthropic: request has no messages"};
  if (r.max_tokens == 0)
    return failure{"anthropic: max_tokens is required (got 0)"};
  const bool thinking = r.thinking_budget > 0;
  if (thinking && (r.thinking_budget < min_thinking_budget || r.thinking_budget >= r.max_tokens))
    return failure{"anthropic: thinking budget " + std::to_string(r.thinking_budget) + " must be at least "
                   + std::to_string(min_thinking_budget) + " and below max_tokens ("
                   + std::to_string(r.max_tokens) + ")"};
  ojson body;
  body["model"] = r.model;
  body["max_tokens"] = r.max_tokens;
  if (!r.system.empty())
    body["system"] = r.system;
  auto& msgs = body["messages"] = ojson::array();
  for (const auto& m : r.messages)
    msgs.push_back({{"role", m.role == chat_role::user ? "user" : "assistant"}, {"content", m.text}});
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
    if (block && string_or(*block, "type") == "tool_use") {
      auto& call = tools_[count_at(*j, "index").value_or(0)];
      call.id = string_or(*block, "id");
      call.name = string_or(*block, "name");
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
      if (auto text = string_at(*delta, "thinking"); text && !text->empty())
        out.emplace_back(stream_delta{*text, true});
    } else if (kind == "input_json_delta") {
      auto it = tools_.find(count_at(*j, "index").value_or(0));
      if (it != tools_.end())
        it->second.arguments_json += string_or(*delta, "partial_json");
    }
    // signature_delta and unknown delta types: nothing to show
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
    for (auto& [index, call] : tools_) {
      if (call.arguments_json.empty())
        call.arguments_json = "{}";
      end.tool_calls.push_back(std::move(call));
    }
    tools_.clear();
    out.emplace_back(std::move(end));
  } else if (type == "error") {
    auto e = anthropic_protocol::error_from_body(200, ev.data);
    e.message += " (mid-stream)";
    out.emplace_back(std::move(e));
  }
  // ping, content_block_stop and event types added later: ignored
}

} // namespace sa::providers
