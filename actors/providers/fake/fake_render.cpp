// fake_render: byte-exact provider streams and bodies (see fake_render.hpp).
#include "actors/providers/fake/fake_render.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

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
  ojson role{{"role", "assistant"}, {"content", a.tool && a.text.empty() ? ojson(nullptr) : ojson("")}};
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
  bool pinged = false;
  if (!a.tool || !a.text.empty()) { // a text block (the text before a tool call, when there is one)
    out.push_back({named_frame("content_block_start", {{"type", "content_block_start"}, {"index", index},
                                                       {"content_block", {{"type", "text"}, {"text", ""}}}}),
                   false, false});
    out.push_back({named_frame("ping", {{"type", "ping"}}), false, false});
    pinged = true;
    for (const auto& t : a.text)
      out.push_back({named_frame("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                                         {"delta", {{"type", "text_delta"}, {"text", t}}}}),
                     true, false});
    if (a.tool) {
      out.push_back({named_frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}), false,
                     false});
      ++index;
    }
  }
  if (a.tool) {
    ojson block{{"type", "tool_use"}, {"id", "toolu_" + a.tool->id}, {"name", a.tool->name},
                {"input", ojson::object()}};
    out.push_back({named_frame("content_block_start",
                               {{"type", "content_block_start"}, {"index", index}, {"content_block", block}}),
                   false, false});
    if (!pinged)
      out.push_back({named_frame("ping", {{"type", "ping"}}), false, false});
    for (const auto& frag : a.tool->fragments)
      out.push_back({named_frame("content_block_delta",
                                 {{"type", "content_block_delta"}, {"index", index},
                                  {"delta", {{"type", "input_json_delta"}, {"partial_json", frag}}}}),
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

const char* gemini_finish(const answer& a) {
  if (a.tool && a.tool->malformed)
    return "MALFORMED_FUNCTION_CALL";
  return a.truncated ? "MAX_TOKENS" : "STOP";
}

/// The functionCall part of a tool answer (with the thought signature a thinking model adds), or nullopt
/// when the call is malformed (Gemini then sends no call, only the finish reason).
std::optional<ojson> gemini_call_part(const answer& a) {
  if (!a.tool || a.tool->malformed)
    return std::nullopt;
  auto args = ojson::parse(a.tool->arguments_json, nullptr, false);
  ojson part{{"functionCall", {{"name", a.tool->name}, {"args", args.is_discarded() ? ojson::object() : args}}}};
  if (!a.signature.empty())
    part["thoughtSignature"] = a.signature;
  return part;
}

ojson gemini_response(const answer_request& r, const answer& a, ojson parts, bool last) {
  ojson candidate{{"content", {{"role", "model"}, {"parts", std::move(parts)}}}};
  if (last)
    candidate["finishReason"] = gemini_finish(a);
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
  if (a.tool) { // the text before it, then the function call whole, in one chunk
    for (const auto& t : a.text)
      out.push_back({gemini_frame(gemini_response(r, a, ojson::array({{{"text", t}}}), false)), true, false});
    auto part = gemini_call_part(a);
    out.push_back({gemini_frame(gemini_response(r, a, part ? ojson::array({*part}) : ojson::array(), true)),
                   part.has_value(), true});
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
        if (a.text.empty())
          msg["content"] = nullptr;
        std::string args;
        for (const auto& f : a.tool->fragments)
          args += f;
        msg["tool_calls"] = ojson::array({{{"id", "call_" + a.tool->id}, {"type", "function"},
                                           {"function", {{"name", a.tool->name}, {"arguments", args}}}}});
      }
      return dump(j);
    }
    case provider_kind::anthropic: {
      ojson content = ojson::array();
      if (!a.thinking.empty())
        content.push_back({{"type", "thinking"}, {"thinking", a.joined_thinking()}, {"signature", a.signature}});
      if (!a.tool || !a.text.empty())
        content.push_back({{"type", "text"}, {"text", a.joined_text()}});
      if (a.tool) {
        auto input = ojson::parse(a.tool->arguments_json, nullptr, false);
        content.push_back({{"type", "tool_use"}, {"id", "toolu_" + a.tool->id}, {"name", a.tool->name},
                           {"input", input.is_discarded() || a.tool->malformed ? ojson::object() : input}});
      }
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
      if (!a.tool || !a.text.empty())
        parts.push_back({{"text", a.joined_text()}});
      if (auto part = gemini_call_part(a))
        parts.push_back(std::move(*part));
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

namespace {

bool stop_word(std::string_view w) {
  static const char* const words[] = {"a",    "an",   "the",  "and", "or",   "of",   "to",   "in",   "on",  "for",
                                      "is",   "are",  "be",   "i",   "my",   "we",   "our",  "you",  "your", "it",
                                      "this", "that", "with", "can", "how",  "do",   "does", "what", "when", "why",
                                      "where", "at",  "as",   "by",  "from", "me",   "us",   "was",  "were", "if"};
  for (const char* s : words)
    if (w == s)
      return true;
  return false;
}

void add_feature(std::vector<double>& v, const std::string& feature, double weight) {
  uint64_t h = fnv1a(feature);
  double sign = (h >> 63) != 0 ? -1.0 : 1.0;
  v[static_cast<std::size_t>((h >> 1) % v.size())] += sign * weight;
}

ojson rounded(const std::vector<double>& v) {
  ojson out = ojson::array();
  for (double x : v)
    out.push_back(std::round(x * 1e6) / 1e6);
  return out;
}

} // namespace

std::vector<double> fake_embedding(std::string_view text, unsigned dim) {
  std::vector<double> v(std::max(dim, 1u), 0.0);
  std::string word;
  auto flush = [&] {
    if (word.size() > 3 && word.back() == 's' && word[word.size() - 2] != 's')
      word.pop_back(); // "builds" and "build" are one word
    if (!word.empty() && !stop_word(word)) {
      add_feature(v, "w:" + word, 1.0);
      std::string padded = "^" + word + "$";
      for (std::size_t i = 0; i + 3 <= padded.size(); ++i)
        add_feature(v, "t:" + padded.substr(i, 3), 0.3);
    }
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c >= 0x80)
      word += static_cast<char>(std::tolower(c));
    else
      flush();
  }
  flush();
  double norm = 0;
  for (double x : v)
    norm += x * x;
  if (norm == 0) {
    v[0] = 1.0;
    return v;
  }
  norm = std::sqrt(norm);
  for (auto& x : v)
    x /= norm;
  return v;
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
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", rounded(fake_embedding(inputs[i], dim))}});
  }
  return dump(ojson{{"object", "list"}, {"data", data}, {"model", model},
                    {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

result<std::string> render_gemini_embeddings(std::string_view body, unsigned dim, bool batch) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return failure{"fake-provider: the embedding body is not a JSON object"};
  auto content_text = [](const nlohmann::json& req) -> result<std::string> {
    if (!req.is_object() || !req.contains("content") || !req["content"].is_object()
        || !req["content"].contains("parts") || !req["content"]["parts"].is_array())
      return failure{"fake-provider: an embedding request needs \"content\": {\"parts\": [{\"text\": ...}]}"};
    std::string text;
    for (const auto& part : req["content"]["parts"]) {
      if (!part.is_object() || !part.contains("text") || !part["text"].is_string())
        return failure{"fake-provider: every content part must have a \"text\" string"};
      text += (text.empty() ? "" : "\n") + part["text"].get<std::string>();
    }
    return text;
  };
  if (!batch) {
    auto text = content_text(j);
    if (!text)
      return failure{text.error()};
    return dump(ojson{{"embedding", {{"values", rounded(fake_embedding(*text, dim))}}}});
  }
  if (!j.contains("requests") || !j["requests"].is_array())
    return failure{"fake-provider: batchEmbedContents needs a \"requests\" array"};
  ojson embeddings = ojson::array();
  for (const auto& req : j["requests"]) {
    auto text = content_text(req);
    if (!text)
      return failure{text.error()};
    embeddings.push_back({{"values", rounded(fake_embedding(*text, dim))}});
  }
  return dump(ojson{{"embeddings", embeddings}});
}

const char* request_id_header(provider_kind p) noexcept {
  return p == provider_kind::anthropic ? "request-id" : "x-request-id";
}

} // namespace sa::providers::fake
