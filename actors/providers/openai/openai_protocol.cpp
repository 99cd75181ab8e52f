// openai_protocol: see the header. Wire format: docs/llm-provider-protocols.md, "OpenAI Chat Completions".
#include "actors/providers/openai/openai_protocol.hpp"

#include "actors/providers/json_util.hpp"

namespace sa::providers {

using namespace json_util;
using ojson = nlohmann::ordered_json;

result<http_request> openai_protocol::build_request(const completion_request& r) const {
  if (r.model.empty())
    return failure{"openai: request has no model"};
  if (r.messages.empty())
    return failure{"openai: request has no messages"};
  ojson body;
  body["model"] = r.model;
  auto& msgs = body["messages"] = ojson::array();
  if (!r.system.empty())
    msgs.push_back({{"role", "system"}, {"content", r.system}});
  for (const auto& m : r.messages) {
    if (m.role == chat_role::assistant && !m.tool_calls.empty()) {
      // The calls go back as the model made them: arguments stay a JSON string.
      ojson calls = ojson::array();
      for (const auto& c : m.tool_calls) {
        auto args = c.arguments_json.empty() ? std::string{"{}"} : c.arguments_json;
        calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", args}}}});
      }
      msgs.push_back({{"role", "assistant"}, {"content", m.text.empty() ? ojson(nullptr) : ojson(m.text)},
                      {"tool_calls", std::move(calls)}});
      continue;
    }
    // One "tool" message per result, right after the assistant message that called them. The API has no
    // error flag: a failed call says so in its content.
    for (const auto& t : m.tool_results)
      msgs.push_back({{"role", "tool"}, {"tool_call_id", t.call_id},
                      {"content", t.is_error ? "Error: " + t.content : t.content}});
    if (m.tool_results.empty() || !m.text.empty())
      msgs.push_back({{"role", m.role == chat_role::user ? "user" : "assistant"}, {"content", m.text}});
  }
  if (r.temperature)
    body["temperature"] = *r.temperature;
  if (r.max_tokens > 0)
    body[opts_.use_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = r.max_tokens;
  body["stream"] = r.stream;
  if (r.stream && opts_.include_usage)
    body["stream_options"] = {{"include_usage", true}};
  if (r.json_mode)
    body["response_format"] = {{"type", "json_object"}};
  if (!r.tools.empty()) {
    auto& tools = body["tools"] = ojson::array();
    for (const auto& t : r.tools) {
      auto params = ojson::parse(t.parameters_json, nullptr, false);
      if (params.is_discarded() || !params.is_object())
        return failure{"openai: tool '" + t.name + "' parameters_json is not a JSON object"};
      tools.push_back({{"type", "function"},
                       {"function", {{"name", t.name}, {"description", t.description}, {"parameters", params}}}});
    }
    body["tool_choice"] = r.tool_choice == tool_choice_mode::none ? "none" : "auto";
  }
  http_request req;
  req.path = opts_.path;
  req.headers = {{"Content-Type", "application/json"}};
  req.api_key_header = "Authorization";
  req.api_key_prefix = "Bearer ";
  req.body = body.dump();
  return req;
}

finish_kind openai_protocol::finish_of(std::string_view reason) noexcept {
  if (reason == "stop")
    return finish_kind::stop;
  if (reason == "length")
    return finish_kind::length;
  if (reason == "tool_calls" || reason == "function_call")
    return finish_kind::tool_use;
  if (reason == "content_filter")
    return finish_kind::content_filter;
  return finish_kind::other;
}

provider_error openai_protocol::error_from_body(int http_status, std::string_view body) {
  provider_error e;
  e.http_status = http_status;
  e.kind = kind_for_status(http_status);
  e.retryable = status_is_retryable(http_status);
  auto j = parse(body);
  const json* err = j ? object_at(*j, "error") : nullptr;
  if (!err) {
    e.message = "openai: HTTP " + std::to_string(http_status) + " with a body that is not an OpenAI error: "
                + excerpt(body);
    return e;
  }
  auto type = string_or(*err, "type");
  auto code = string_or(*err, "code");
  e.provider_code = !code.empty() ? code : type;
  e.message = "openai: HTTP " + std::to_string(http_status) + " " + e.provider_code + ": "
              + string_or(*err, "message");
  if (code == "insufficient_quota" || type == "insufficient_quota") {
    e.kind = error_kind::quota;
    e.retryable = false;
  } else if (http_status / 100 == 2) {
    // an error object inside a 200 stream (vLLM, proxies): classify by its words
    if (code == "rate_limit_exceeded" || type == "rate_limit_error") {
      e.kind = error_kind::rate_limited;
      e.retryable = true;
    } else if (type == "server_error" || type == "internal_error") {
      e.kind = error_kind::server;
      e.retryable = true;
    } else if (type == "invalid_request_error") {
      e.kind = error_kind::invalid_request;
    } else {
      e.kind = error_kind::server;
    }
  }
  return e;
}

provider_error openai_protocol::parse_error(int http_status, const header_list& headers, std::string_view body) const {
  auto e = error_from_body(http_status, body);
  apply_headers(e, headers, "x-request-id");
  return e;
}

stream_end openai_stream_decoder::finished() {
  stream_end end;
  end.finish_reason = finish_reason_;
  end.finish = openai_protocol::finish_of(finish_reason_);
  end.tokens = usage_;
  for (auto& [index, call] : tools_) {
    if (call.id.empty()) // some compatible servers send no id; the follow-up needs one to answer the call
      call.id = "call_" + std::to_string(index);
    end.tool_calls.push_back(std::move(call));
  }
  tools_.clear();
  return end;
}

void openai_stream_decoder::finish_with(std::vector<stream_event>& out) {
  auto end = finished();
  if (auto bad = check_tool_calls(end.tool_calls, end.finish)) {
    out.emplace_back(std::move(*bad));
    return;
  }
  if (!end.tool_calls.empty())
    end.finish = finish_kind::tool_use; // some compatible servers say "stop" after a call
  out.emplace_back(std::move(end));
}

void openai_stream_decoder::on_event(const sse_event& ev, std::vector<stream_event>& out) {
  if (ev.data == "[DONE]") {
    finish_with(out);
    return;
  }
  auto j = parse(ev.data);
  if (!j || !j->is_object()) {
    out.emplace_back(make_error(error_kind::malformed, "openai: a stream chunk is not a JSON object"));
    return;
  }
  if (object_at(*j, "error")) {
    auto e = openai_protocol::error_from_body(200, ev.data);
    e.message += " (mid-stream)";
    out.emplace_back(std::move(e));
    return;
  }
  if (const json* u = object_at(*j, "usage")) {
    usage_.reported = true;
    usage_.prompt_tokens = count_at(*u, "prompt_tokens").value_or(0);
    usage_.completion_tokens = count_at(*u, "completion_tokens").value_or(0);
    if (const json* details = object_at(*u, "completion_tokens_details"))
      usage_.thinking_tokens = count_at(*details, "reasoning_tokens").value_or(0);
  }
  const json* choices = array_at(*j, "choices");
  if (!choices)
    return;
  for (const auto& choice : *choices) {
    if (count_at(choice, "index").value_or(0) != 0)
      continue; // n > 1 is not used by the product
    if (auto reason = string_at(choice, "finish_reason"))
      finish_reason_ = *reason;
    const json* delta = object_at(choice, "delta");
    if (!delta)
      continue;
    // vLLM / DeepSeek / llama.cpp send the reasoning as reasoning_content (or reasoning)
    for (const char* key : {"reasoning_content", "reasoning"})
      if (auto thinking = string_at(*delta, key); thinking && !thinking->empty())
        out.emplace_back(stream_delta{*thinking, true});
    if (auto text = string_at(*delta, "content"); text && !text->empty())
      out.emplace_back(stream_delta{*text, false});
    if (const json* calls = array_at(*delta, "tool_calls")) {
      for (const auto& c : *calls) {
        auto& call = tools_[count_at(c, "index").value_or(0)];
        if (auto id = string_at(c, "id"))
          call.id = *id;
        if (const json* fn = object_at(c, "function")) {
          if (auto name = string_at(*fn, "name"))
            call.name += *name;
          if (auto args = string_at(*fn, "arguments"))
            call.arguments_json += *args;
        }
      }
    }
  }
}

void openai_stream_decoder::on_close(std::vector<stream_event>& out) {
  // Some OpenAI-compatible servers close without [DONE]; a finish_reason is then enough.
  if (!finish_reason_.empty())
    finish_with(out);
}

} // namespace sa::providers
