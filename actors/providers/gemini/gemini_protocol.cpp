// gemini_protocol: see the header. Wire format: docs/llm-provider-protocols.md, "Google Gemini".
#include "actors/providers/gemini/gemini_protocol.hpp"

#include "actors/providers/json_util.hpp"

#include <cctype>

namespace sa::providers {

using namespace json_util;
using ojson = nlohmann::ordered_json;

namespace {

bool plain_model_id(std::string_view m) {
  if (m.empty())
    return false;
  for (char c : m)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  return true;
}

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The keywords of Gemini's Schema (a subset of OpenAPI 3.0); anything else in a JSON Schema - e.g.
/// additionalProperties, $schema, const - is refused by the API as an unknown field, so it is left out.
constexpr const char* schema_keywords[] = {
  "type", "format", "title", "description", "nullable", "enum", "items", "minItems", "maxItems", "properties",
  "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "minimum", "maximum",
  "default", "example", "anyOf", "propertyOrdering",
};

/// A JSON Schema as Gemini's Schema: known keywords only, type names in upper case ("OBJECT", "STRING"), a
/// type list with "null" as the type plus nullable. Property names are kept whatever they are.
ojson to_gemini_schema(const ojson& schema) {
  if (!schema.is_object())
    return schema;
  ojson out = ojson::object();
  for (const auto& [key, value] : schema.items()) {
    bool known = false;
    for (const char* k : schema_keywords)
      known = known || key == k;
    if (!known)
      continue;
    if (key == "type" && value.is_string()) {
      out["type"] = upper(value.get<std::string>());
    } else if (key == "type" && value.is_array()) {
      for (const auto& t : value)
        if (t.is_string() && t.get<std::string>() == "null")
          out["nullable"] = true;
        else if (t.is_string() && !out.contains("type"))
          out["type"] = upper(t.get<std::string>());
    } else if (key == "properties" && value.is_object()) {
      ojson props = ojson::object();
      for (const auto& [name, sub] : value.items())
        props[name] = to_gemini_schema(sub);
      out["properties"] = std::move(props);
    } else if (key == "items") {
      out["items"] = to_gemini_schema(value);
    } else if (key == "anyOf" && value.is_array()) {
      ojson alts = ojson::array();
      for (const auto& sub : value)
        alts.push_back(to_gemini_schema(sub));
      out["anyOf"] = std::move(alts);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/// A tool result as FunctionResponse.response (a JSON object): {"output": ...} or, for a refused or
/// failed call, {"error": ...} - the keys Google's documentation uses - holding the result's JSON when it
/// is JSON, else its text.
ojson function_response(const tool_result& t) {
  auto parsed = ojson::parse(t.content, nullptr, false);
  ojson value = parsed.is_discarded() ? ojson(t.content) : std::move(parsed);
  return ojson{{t.is_error ? "error" : "output", std::move(value)}};
}

/// A message's parts: function responses first (a user turn answering calls), then text, then function
/// calls (a model turn) with their thought signatures.
result<ojson> message_parts(const chat_message& m) {
  ojson parts = ojson::array();
  for (const auto& t : m.tool_results) {
    ojson fr{{"name", t.name}};
    if (!t.call_id.empty())
      fr["id"] = t.call_id;
    fr["response"] = function_response(t);
    parts.push_back({{"functionResponse", std::move(fr)}});
  }
  if (!m.text.empty() || (m.tool_results.empty() && m.tool_calls.empty()))
    parts.push_back({{"text", m.text}});
  for (const auto& c : m.tool_calls) {
    auto args = c.arguments_json.empty() ? ojson::object() : ojson::parse(c.arguments_json, nullptr, false);
    if (args.is_discarded() || !args.is_object())
      return failure{"gemini: the arguments of tool call '" + c.name + "' are not a JSON object"};
    ojson fc{{"name", c.name}, {"args", std::move(args)}};
    if (!c.id.empty())
      fc["id"] = c.id;
    ojson part{{"functionCall", std::move(fc)}};
    if (!c.signature.empty())
      part["thoughtSignature"] = c.signature;
    parts.push_back(std::move(part));
  }
  return parts;
}

struct status_rule {
  const char* status;
  error_kind kind;
  bool retryable;
};
constexpr status_rule status_rules[] = {
  {"INVALID_ARGUMENT", error_kind::invalid_request, false},
  {"FAILED_PRECONDITION", error_kind::invalid_request, false},
  {"UNAUTHENTICATED", error_kind::auth, false},
  {"PERMISSION_DENIED", error_kind::auth, false},
  {"NOT_FOUND", error_kind::not_found, false},
  {"RESOURCE_EXHAUSTED", error_kind::rate_limited, true},
  {"INTERNAL", error_kind::server, true},
  {"UNAVAILABLE", error_kind::overloaded, true},
  {"DEADLINE_EXCEEDED", error_kind::timeout, true},
};

} // namespace

result<http_request> gemini_protocol::build_request(const completion_request& r) const {
  std::string_view model = r.model;
  if (model.substr(0, 7) == "models/")
    model.remove_prefix(7);
  if (!plain_model_id(model))
    return failure{"gemini: model '" + r.model + "' is not a model id (letters, digits, '-', '.', '_')"};
  if (r.messages.empty())
    return failure{"gemini: request has no messages"};
  ojson body;
  if (!r.system.empty())
    body["systemInstruction"] = {{"parts", ojson::array({{{"text", r.system}}})}};
  auto& contents = body["contents"] = ojson::array();
  for (const auto& m : r.messages) {
    auto parts = message_parts(m);
    if (!parts.ok())
      return failure{parts.error()};
    contents.push_back({{"role", m.role == chat_role::user ? "user" : "model"}, {"parts", std::move(*parts)}});
  }
  ojson config = ojson::object();
  if (r.temperature)
    config["temperature"] = *r.temperature;
  if (r.max_tokens > 0)
    config["maxOutputTokens"] = r.max_tokens;
  if (r.json_mode)
    config["responseMimeType"] = "application/json";
  if (r.thinking_budget > 0)
    config["thinkingConfig"] = {{"thinkingBudget", r.thinking_budget}};
  if (!config.empty())
    body["generationConfig"] = std::move(config);
  if (!r.tools.empty()) {
    ojson decls = ojson::array();
    for (const auto& t : r.tools) {
      auto schema = ojson::parse(t.parameters_json, nullptr, false);
      if (schema.is_discarded() || !schema.is_object())
        return failure{"gemini: tool '" + t.name + "' parameters_json is not a JSON object"};
      decls.push_back({{"name", t.name}, {"description", t.description}, {"parameters", to_gemini_schema(schema)}});
    }
    body["tools"] = ojson::array({{{"functionDeclarations", decls}}});
    if (r.tool_choice == tool_choice_mode::none) // AUTO is the default
      body["toolConfig"] = {{"functionCallingConfig", {{"mode", "NONE"}}}};
  }
  http_request req;
  req.path = opts_.path_prefix + std::string(model)
             + (r.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  req.headers = {{"Content-Type", "application/json"}};
  req.api_key_header = "x-goog-api-key";
  req.body = body.dump();
  return req;
}

finish_kind gemini_protocol::finish_of(std::string_view reason) noexcept {
  if (reason == "STOP")
    return finish_kind::stop;
  if (reason == "MAX_TOKENS")
    return finish_kind::length;
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" || reason == "PROHIBITED_CONTENT"
      || reason == "SPII")
    return finish_kind::content_filter;
  return finish_kind::other;
}

provider_error gemini_protocol::error_from_body(int http_status, std::string_view body) {
  provider_error e;
  e.http_status = http_status;
  e.kind = kind_for_status(http_status);
  e.retryable = status_is_retryable(http_status);
  auto j = parse(body);
  // errors sometimes come wrapped in a one-element array
  const json* root = j ? &*j : nullptr;
  if (root && root->is_array() && root->size() == 1)
    root = &(*root)[0];
  const json* err = root ? object_at(*root, "error") : nullptr;
  if (!err) {
    e.message = "gemini: HTTP " + std::to_string(http_status) + " with a body that is not a Google error: "
                + excerpt(body);
    return e;
  }
  e.provider_code = string_or(*err, "status");
  e.message = "gemini: HTTP " + std::to_string(http_status) + " " + e.provider_code + ": "
              + string_or(*err, "message");
  for (const auto& rule : status_rules) {
    if (e.provider_code != rule.status)
      continue;
    if (http_status / 100 == 2 || e.kind == error_kind::invalid_request || e.kind == error_kind::server)
      e.kind = rule.kind; // the status word refines a generic HTTP status
    if (http_status / 100 == 2)
      e.retryable = rule.retryable;
    break;
  }
  return e;
}

provider_error gemini_protocol::parse_error(int http_status, const header_list& headers,
                                            std::string_view body) const {
  auto e = error_from_body(http_status, body);
  apply_headers(e, headers, "x-request-id");
  return e;
}

void gemini_stream_decoder::on_event(const sse_event& ev, std::vector<stream_event>& out) {
  auto j = parse(ev.data);
  if (!j || !j->is_object()) {
    out.emplace_back(make_error(error_kind::malformed, "gemini: a stream chunk is not a JSON object"));
    return;
  }
  if (object_at(*j, "error")) {
    auto e = gemini_protocol::error_from_body(200, ev.data);
    e.message += " (mid-stream)";
    out.emplace_back(std::move(e));
    return;
  }
  if (const json* u = object_at(*j, "usageMetadata")) {
    usage_.reported = true;
    usage_.prompt_tokens = count_at(*u, "promptTokenCount").value_or(0);
    usage_.thinking_tokens = count_at(*u, "thoughtsTokenCount").value_or(0);
    // candidatesTokenCount excludes thoughts, which are billed as output too
    usage_.completion_tokens = count_at(*u, "candidatesTokenCount").value_or(0) + usage_.thinking_tokens;
  }
  if (const json* feedback = object_at(*j, "promptFeedback")) {
    if (auto reason = string_at(*feedback, "blockReason")) {
      auto e = make_error(error_kind::blocked, "gemini: the prompt was blocked: " + *reason);
      e.http_status = 200;
      e.provider_code = *reason;
      out.emplace_back(std::move(e));
      return;
    }
  }
  const json* candidates = array_at(*j, "candidates");
  if (!candidates || candidates->empty())
    return;
  const json& cand = (*candidates)[0];
  if (const json* content = object_at(cand, "content"))
    if (const json* parts = array_at(*content, "parts"))
      for (const auto& part : *parts) {
        if (auto text = string_at(part, "text"); text && !text->empty()) {
          const json* thought = member(part, "thought");
          out.emplace_back(stream_delta{*text, thought && thought->is_boolean() && thought->get<bool>()});
        } else if (const json* call = object_at(part, "functionCall")) {
          tool_call tc;
          tc.id = string_or(*call, "id");
          tc.name = string_or(*call, "name");
          const json* args = member(*call, "args");
          // no args: a call without arguments; args that are not an object: check_tool_calls refuses it
          tc.arguments_json = !args || args->is_null() ? "{}" : args->dump();
          tc.signature = string_or(part, "thoughtSignature");
          tools_.push_back(std::move(tc));
        }
      }
  if (auto reason = string_at(cand, "finishReason"); reason && !reason->empty()) {
    if (*reason == "MALFORMED_FUNCTION_CALL" || *reason == "UNEXPECTED_TOOL_CALL") {
      // The model produced a call the API could not parse (or one it was not offered): no usable answer.
      auto e = make_error(error_kind::malformed, "gemini: the model's function call was unusable (finishReason "
                                                   + *reason + ")");
      e.http_status = 200;
      e.provider_code = *reason;
      out.emplace_back(std::move(e));
      return;
    }
    stream_end end;
    end.finish_reason = *reason;
    end.finish = tools_.empty() ? gemini_protocol::finish_of(*reason) : finish_kind::tool_use;
    end.tokens = usage_;
    end.tool_calls = std::move(tools_);
    tools_.clear();
    if (auto bad = check_tool_calls(end.tool_calls, end.finish)) {
      out.emplace_back(std::move(*bad));
      return;
    }
    out.emplace_back(std::move(end));
  }
}

} // namespace sa::providers
