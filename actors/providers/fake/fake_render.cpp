// fake_render: byte-exact provider streams and bodies (see fake_render.hpp).
#include "actors/providers/fake/fake_render.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

namespace sa::providers::fake {

using ojson = nlohmann::ordered_json;

namespace {

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string data_frame(const ojson& j) { return "data: " + dump(j) + "\n\n"; }
std::string named_frame(const char* type, const ojson& j) {
  return std::string("event: ") + type + "\ndata: " + dump(j) + "\n\n";
}
std::string gemini_frame(const ojson& j) { return "data: " + dump(j) + "\r\n\r\n"; }

// --- OpenAI ---------------------------------------------------------------------------------------

ojson openai_chunk(const answer_request& r, const answer& a, ojson choices) {
  return ojson{{"id", "chatcmpl-" + a.id}, {"object", "chat.completion.chunk"}, {"created", fake_created},
               {"model", r.model}, {"choices", std::move(choices)}};
}

ojson openai_choice(ojson delta, ojson finish) {
  return ojson::array({ojson{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}});
}

ojson openai_usage(const answer& a) {
  return ojson{{"prompt_tokens", a.prompt_tokens}, {"completion_tokens", a.output_tokens()},
               {"total_tokens", a.prompt_tokens + a.output_tokens()}};
}

const char* openai_finish(const answer& a) {
  return a.tool ? "tool_calls" : a.truncated ? "length" : "stop";
}

std::vector<sse_frame> openai_stream(const answer_request& r, const answer& a) {
  std::vector<sse_frame> out;
  ojson role{{"role", "assistant"}, {"content", a.tool ? ojson(nullptr) : ojson("")}};
  out.push_back({data_frame(openai_chunk(r, a, openai_choice(role, nullptr))), false, false});
  for (const auto& t : a.text)
    out.push_back({data_frame(openai_chunk(r, a, openai_choice({{"content", t}}, nullptr))), true, false});
  if (a.tool) {
    ojson start{{"index", 0}, {"id", "call_" + a.tool->id}, {"type", "function"},
                {"function", {{"name", a.tool->name}, {"arguments", ""}}}};
    out.push_back({data_frame(openai_chunk(r, a, openai_choice({{"tool_calls", ojson::array({start})}}, nullptr))),
                   false, false});
    for (const auto& frag : a.tool->fragments) {
      ojson piece{{"index", 0}, {"function", {{"arguments", frag}}}};
      out.push_back({data_frame(openai_chunk(r, a, openai_choice({{"tool_calls", ojson::array({piece})}}, nullptr))),
                     true, false});
    }
  }
  out.push_back({data_frame(openai_chunk(r, a, openai_choice(ojson::object(), openai_finish(a)))), false, true});
  if (r.include_usage) {
    auto chunk = openai_chunk(r, a, ojson::array());
    chunk["usage"] = openai_usage(a);
    out.push_back({data_frame(chunk), false, false});
  }
  out.push_back({"data: [DONE]\n\n", false, false});
  return out;
}

// --- Anthropic ------------------------------------------------------------------------------------

const char* anthropic_stop(const answer& a) {
  return a.tool ? "tool_use" : a.truncated ? "max_tokens" : "end_turn";
}

std::vector<sse_frame> anthropic_stream(const answer_request& r, const answer& a) {
  std::vector<sse_frame> out;
  ojson message{{"id", "msg_" + a.id}, {"type", "message"}, {"role", "assistant"}, {"model", r.model},
                {"content", ojson::array()}, {"stop_reason", nullptr}, {"stop_sequence", nullptr},
                {"usage", {{"input_tokens", a.prompt_tokens}, {"output_tokens", 1}}}};
  out.push_back({named_frame("message_start", {{"type", "message_start"}, {"message", message}}), false, false});
  int index = 0;
  if (!a.thinking.empty()) {
    out.push_back({named_frame("content_block_start",
                               {{"type", "content_block_start"}, {"index", index},
                                {"content_block", {{"type", "thinking"}, {"thinking", ""}}}}),
                   false, false});
    for (const auto& t : a.thinking)
      out.push_back({named_frame("content_block_delta",
                                 {{"type", "content_block_delta"}, {"index", index},
                                  {"delta", {{"type", "thinking_delta"}, {"thinking", t}}}}),
                     true, false});
    out.push_back({named_frame("content_block_delta",
                               {{"type", "content_block_delta"}, {"index", index},
                                {"delta", {{"type", "signature_delta"}, {"signature", a.signature}}}}),
                   false, false});
    out.push_back({named_frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}), false,
                   false});
    ++index;
  }
  if (a.tool) {
    ojson block{{"type", "tool_use"}, {"id", "toolu_" + a.tool->id}, {"name", a.tool->name},
                {"input", ojson::object()}};
    out.push_back({named_frame("content_block_start",
                               {{"type", "content_block_start"}, {"index", index}, {"content_block", block}}),
                   false, false});
    out.push_back({named_frame("ping", {{"type", "ping"}}), false, false});
    for (const auto& frag : a.tool->fragments)
      out.push_back({named_frame("content_block_delta",
                                 {{"type", "content_block_delta"}, {"index", index},
                                  {"delta", {{"type", "input_json_delta"}, {"partial_json", frag}}}}),
                     true, false});
  } else {
    out.push_back({named_frame("content_block_start", {{"type", "content_block_start"}, {"index", index},
                                                       {"content_block", {{"type", "text"}, {"text", ""}}}}),
                   false, false});
    out.push_back({named_frame("ping", {{"type", "ping"}}), false, false});
    for (const auto& t : a.text)
      out.push_back({named_frame("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                                         {"delta", {{"type", "text_delta"}, {"text", t}}}}),
                     true, false});
  }
  out.push_back({named_frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}), false,
                 false});
  out.push_back({named_frame("message_delta",
                             {{"type", "message_delta"},
                              {"delta", {{"stop_reason", anthropic_stop(a)},
                                         {"stop_sequence", nullptr}}},
                              {"usage", {{"output_tokens", a.output_tokens()}}}}),
                 false, true});
  out.push_back({named_frame("message_stop", {{"type", "message_stop"}}), false, false});
  return out;
}

// --- Gemini ---------------------------------------------------------------------------------------

ojson gemini_usage(const answer& a) {
  return ojson{{"promptTokenCount", a.prompt_tokens},
               {"candidatesTokenCount", a.output_tokens() - a.thinking.size()},
               {"totalTokenCount", a.prompt_tokens + a.output_tokens()},
               {"thoughtsTokenCount", a.thinking.size()}};
}

ojson gemini_response(const answer_request& r, const answer& a, ojson parts, bool last) {
  ojson candidate{{"content", {{"role", "model"}, {"parts", std::move(parts)}}}};
  if (last)
    candidate["finishReason"] = a.truncated ? "MAX_TOKENS" : "STOP";
  candidate["index"] = 0;
  ojson j{{"candidates", ojson::array({candidate})}};
  if (last)
    j["usageMetadata"] = gemini_usage(a);
  j["modelVersion"] = r.model;
  return j;
}

std::vector<sse_frame> gemini_stream(const answer_request& r, const answer& a) {
  std::vector<sse_frame> out;
  for (const auto& t : a.thinking)
    out.push_back({gemini_frame(gemini_response(r, a, ojson::array({{{"text", t}, {"thought", true}}}), false)),
                   true, false});
  if (a.tool) { // Gemini sends a function call whole, in one chunk
    auto part = ojson{{"functionCall", {{"name", a.tool->name}, {"args", ojson::parse(a.tool->arguments_json)}}}};
    out.push_back({gemini_frame(gemini_response(r, a, ojson::array({part}), true)), true, true});
    return out;
  }
  if (a.text.empty()) {
    out.push_back({gemini_frame(gemini_response(r, a, ojson::array({{{"text", ""}}}), true)), false, true});
    return out;
  }
  for (std::size_t i = 0; i < a.text.size(); ++i) {
    bool last = i + 1 == a.text.size();
    out.push_back({gemini_frame(gemini_response(r, a, ojson::array({{{"text", a.text[i]}}}), last)), true, last});
  }
  return out;
}

const char* openai_type(int status, const std::string& code) {
  if (code == "insufficient_quota")
    return "insufficient_quota";
  if (status == 429)
    return "requests";
  if (status >= 500)
    return "server_error";
  return "invalid_request_error";
}

const char* openai_code(int status) {
  switch (status) {
    case 401: return "invalid_api_key";
    case 404: return "model_not_found";
    case 429: return "rate_limit_exceeded";
    case 500: return "server_error";
    case 503: return "service_unavailable";
    default: return "";
  }
}

const char* anthropic_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

const char* gemini_status(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "RESOURCE_EXHAUSTED";
    case 500: return "INTERNAL";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

} // namespace

std::vector<sse_frame> render_stream(const answer_request& r, const answer& a) {
  switch (r.provider) {
    case provider_kind::openai: return openai_stream(r, a);
    case provider_kind::anthropic: return anthropic_stream(r, a);
    case provider_kind::gemini: return gemini_stream(r, a);
  }
  return {};
}

std::string render_json(const answer_request& r, const answer& a) {
  switch (r.provider) {
    case provider_kind::openai: {
      ojson j{{"id", "chatcmpl-" + a.id}, {"object", "chat.completion"}, {"created", fake_created},
              {"model", r.model},
              {"choices", ojson::array({{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", a.joined_text()}}},
                                          {"finish_reason", openai_finish(a)}}})},
              {"usage", openai_usage(a)}};
      if (a.tool) {
        auto& msg = j["choices"][0]["message"];
        msg["content"] = nullptr;
        msg["tool_calls"] = ojson::array({{{"id", "call_" + a.tool->id}, {"type", "function"},
                                           {"function", {{"name", a.tool->name},
                                                         {"arguments", a.tool->arguments_json}}}}});
      }
      return dump(j);
    }
    case provider_kind::anthropic: {
      ojson content = ojson::array();
      if (!a.thinking.empty())
        content.push_back({{"type", "thinking"}, {"thinking", a.joined_thinking()}, {"signature", a.signature}});
      if (a.tool)
        content.push_back({{"type", "tool_use"}, {"id", "toolu_" + a.tool->id}, {"name", a.tool->name},
                           {"input", ojson::parse(a.tool->arguments_json)}});
      else
        content.push_back({{"type", "text"}, {"text", a.joined_text()}});
      ojson j{{"id", "msg_" + a.id}, {"type", "message"}, {"role", "assistant"}, {"model", r.model},
              {"content", content}, {"stop_reason", anthropic_stop(a)},
              {"stop_sequence", nullptr},
              {"usage", {{"input_tokens", a.prompt_tokens}, {"output_tokens", a.output_tokens()},
                         {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0}}}};
      return dump(j);
    }
    case provider_kind::gemini: {
      ojson parts = ojson::array();
      if (!a.thinking.empty())
        parts.push_back({{"text", a.joined_thinking()}, {"thought", true}});
      if (a.tool)
        parts.push_back({{"functionCall", {{"name", a.tool->name}, {"args", ojson::parse(a.tool->arguments_json)}}}});
      else
        parts.push_back({{"text", a.joined_text()}});
      return dump(gemini_response(r, a, parts, true));
    }
  }
  return {};
}

std::string render_error_body(provider_kind p, int status, std::string code, std::string message) {
  switch (p) {
    case provider_kind::openai: {
      if (code.empty())
        code = openai_code(status);
      if (message.empty())
        message = code == "insufficient_quota"
                      ? "You exceeded your current quota, please check your plan and billing details."
                      : "fake-provider: injected error " + std::to_string(status);
      ojson err{{"message", message}, {"type", openai_type(status, code)}, {"param", nullptr},
                {"code", code.empty() ? ojson(nullptr) : ojson(code)}};
      return dump(ojson{{"error", err}});
    }
    case provider_kind::anthropic: {
      if (code.empty())
        code = anthropic_type(status);
      if (message.empty())
        message = code == "overloaded_error" ? "Overloaded" : "fake-provider: injected error " + std::to_string(status);
      return dump(ojson{{"type", "error"}, {"error", {{"type", code}, {"message", message}}}});
    }
    case provider_kind::gemini: {
      if (code.empty())
        code = gemini_status(status);
      if (message.empty())
        message = "fake-provider: injected error " + std::to_string(status);
      return dump(ojson{{"error", {{"code", status}, {"message", message}, {"status", code}}}});
    }
  }
  return {};
}

std::string render_error_event(provider_kind p) {
  switch (p) {
    case provider_kind::openai:
      return data_frame(ojson{{"error", {{"message", "fake-provider: injected mid-stream error"},
                                         {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}});
    case provider_kind::anthropic:
      return named_frame("error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
    case provider_kind::gemini:
      return gemini_frame(ojson{{"error", {{"code", 503}, {"message", "fake-provider: injected mid-stream error"},
                                           {"status", "UNAVAILABLE"}}}});
  }
  return {};
}

std::string render_bad_json_event(provider_kind p) {
  switch (p) {
    case provider_kind::openai: return "data: {\"id\":\"chatcmpl-bad\",\"choices\":[{\"delta\":{\"content\":\"oops}\n\n";
    case provider_kind::anthropic:
      return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\"\n\n";
    case provider_kind::gemini: return "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\r\n\r\n";
  }
  return {};
}

result<std::string> render_embeddings(std::string_view body, unsigned dim) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("input"))
    return failure{"fake-provider: the embeddings body needs an \"input\" string or array of strings"};
  std::vector<std::string> inputs;
  const auto& in = j["input"];
  if (in.is_string()) {
    inputs.push_back(in.get<std::string>());
  } else if (in.is_array()) {
    for (const auto& s : in) {
      if (!s.is_string())
        return failure{"fake-provider: every embeddings input must be a string"};
      inputs.push_back(s.get<std::string>());
    }
  } else {
    return failure{"fake-provider: the embeddings body needs an \"input\" string or array of strings"};
  }
  std::string model = j.value("model", std::string("text-embedding-3-small"));
  ojson data = ojson::array();
  uint64_t tokens = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tokens += estimate_tokens(inputs[i]);
    std::mt19937_64 rng(fnv1a(inputs[i]));
    std::vector<double> v(dim);
    double norm = 0;
    for (auto& x : v) {
      x = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
      norm += x * x;
    }
    norm = norm > 0 ? std::sqrt(norm) : 1.0;
    ojson vec = ojson::array();
    for (double x : v)
      vec.push_back(std::round(x / norm * 1e6) / 1e6);
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vec}});
  }
  return dump(ojson{{"object", "list"}, {"data", data}, {"model", model},
                    {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

const char* request_id_header(provider_kind p) noexcept {
  return p == provider_kind::anthropic ? "request-id" : "x-request-id";
}

} // namespace sa::providers::fake
