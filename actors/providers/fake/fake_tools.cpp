// fake_tools: tool turns read and checked as the real APIs do (see fake_tools.hpp). Error texts follow the
// providers' own wording where it is known.
#include "actors/providers/fake/fake_tools.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace sa::providers::fake {

using json = nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object())
    return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const json* arr(const json& j, const char* key) {
  if (!j.is_object())
    return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? &*it : nullptr;
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids)
    out += (out.empty() ? "" : ", ") + id;
  return out;
}

const char* json_type(const json& j) {
  if (j.is_object())
    return "an object";
  if (j.is_array())
    return "an array";
  if (j.is_string())
    return "a string";
  if (j.is_number())
    return "a number";
  if (j.is_boolean())
    return "a boolean";
  return "null";
}

/// Text of a tool result's content: a string, or the texts of a list of text blocks.
std::string content_text(const json& content) {
  if (content.is_string())
    return content.get<std::string>();
  std::string out;
  if (content.is_array())
    for (const auto& b : content)
      out += str(b, "text");
  return out;
}

// --- OpenAI ----------------------------------------------------------------------------------------

std::string read_openai(const json& body, answer_request& r) {
  const json* msgs = arr(body, "messages");
  if (!msgs)
    return {};
  std::vector<std::string> pending;           // calls of the last assistant message not answered yet
  std::map<std::string, std::string> names;   // call id -> tool name
  bool answering = false;                     // inside the tool messages after an assistant's calls
  std::vector<tool_output> outputs;
  const std::string unanswered = "An assistant message with 'tool_calls' must be followed by tool messages "
                                 "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                                 "response messages: ";
  for (std::size_t i = 0; i < msgs->size(); ++i) {
    const auto& m = (*msgs)[i];
    auto role = str(m, "role");
    if (role == "tool") {
      auto id = str(m, "tool_call_id");
      auto it = std::find(pending.begin(), pending.end(), id);
      if (!answering || it == pending.end())
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
               "'tool_calls'.";
      pending.erase(it);
      auto content = m.is_object() && m.contains("content") ? content_text(m["content"]) : std::string{};
      outputs.push_back({names[id], content, false});
      continue;
    }
    if (!pending.empty())
      return unanswered + joined(pending);
    answering = false;
    outputs.clear();
    const json* calls = role == "assistant" ? arr(m, "tool_calls") : nullptr;
    if (!calls || calls->empty())
      continue;
    for (std::size_t j = 0; j < calls->size(); ++j) {
      const auto& c = (*calls)[j];
      auto where = "messages[" + std::to_string(i) + "].tool_calls[" + std::to_string(j) + "]";
      auto id = str(c, "id");
      if (id.empty())
        return "Missing required parameter: '" + where + ".id'.";
      const json* fn = c.is_object() && c.contains("function") ? &c["function"] : nullptr;
      if (!fn || !fn->is_object() || str(*fn, "name").empty())
        return "Missing required parameter: '" + where + ".function.name'.";
      if (!fn->contains("arguments") || !(*fn)["arguments"].is_string())
        return "Invalid type for '" + where + ".function.arguments': expected a string, but got " +
               (fn->contains("arguments") ? json_type((*fn)["arguments"]) : "nothing") + " instead.";
      pending.push_back(id);
      names[id] = str(*fn, "name");
    }
    answering = true;
  }
  if (!pending.empty())
    return unanswered + joined(pending);
  if (!msgs->empty() && str(msgs->back(), "role") == "tool") {
    r.follow_up = true;
    r.tool_outputs = std::move(outputs);
  }
  return {};
}

// --- Anthropic -------------------------------------------------------------------------------------

std::string read_anthropic(const json& body, answer_request& r) {
  const json* msgs = arr(body, "messages");
  if (!msgs)
    return {};
  std::vector<std::string> pending;           // tool_use ids of the previous assistant message
  std::map<std::string, std::string> names;
  std::size_t pending_at = 0;
  bool any_tool_blocks = false;
  std::size_t last_assistant = msgs->size();
  std::vector<tool_output> outputs;
  auto unanswered = [&] {
    return "messages." + std::to_string(pending_at) + ": `tool_use` ids were found without `tool_result` blocks "
           "immediately after: " + joined(pending) + ". Each `tool_use` block must have a corresponding "
           "`tool_result` block in the next message.";
  };
  for (std::size_t i = 0; i < msgs->size(); ++i) {
    const auto& m = (*msgs)[i];
    auto role = str(m, "role");
    const json* blocks = arr(m, "content");
    outputs.clear();
    if (role == "assistant") {
      if (!pending.empty())
        return unanswered();
      last_assistant = i;
      if (!blocks)
        continue;
      for (std::size_t j = 0; j < blocks->size(); ++j) {
        const auto& b = (*blocks)[j];
        if (str(b, "type") != "tool_use")
          continue;
        any_tool_blocks = true;
        if (!b.contains("input") || !b["input"].is_object())
          return "messages." + std::to_string(i) + ".content." + std::to_string(j) +
                 ".tool_use.input: Input should be a valid dictionary";
        pending.push_back(str(b, "id"));
        names[str(b, "id")] = str(b, "name");
      }
      pending_at = i;
      continue;
    }
    // a user message: it answers the previous message's tool_use blocks, tool_result blocks first
    std::vector<std::string> answered;
    bool other_content = false;
    for (std::size_t j = 0; blocks && j < blocks->size(); ++j) {
      const auto& b = (*blocks)[j];
      if (str(b, "type") != "tool_result") {
        other_content = true;
        continue;
      }
      any_tool_blocks = true;
      auto where = "messages." + std::to_string(i) + ".content." + std::to_string(j);
      auto id = str(b, "tool_use_id");
      if (std::find(pending.begin(), pending.end(), id) == pending.end())
        return where + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id +
               ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
      if (other_content)
        return where + ": `tool_result` blocks must come before any other content in a user message";
      answered.push_back(id);
      bool error = b.contains("is_error") && b["is_error"].is_boolean() && b["is_error"].get<bool>();
      outputs.push_back({names[id], b.contains("content") ? content_text(b["content"]) : std::string{}, error});
    }
    for (const auto& id : answered)
      pending.erase(std::remove(pending.begin(), pending.end(), id), pending.end());
    if (!pending.empty())
      return unanswered();
  }
  if (!pending.empty())
    return unanswered();
  if (any_tool_blocks && !arr(body, "tools"))
    return "Requests which include `tool_use` or `tool_result` blocks must define tools.";
  if (r.thinking && last_assistant < msgs->size()) {
    // The final assistant message of a tool-use exchange must start with its thinking, unchanged.
    const json* blocks = arr((*msgs)[last_assistant], "content");
    bool uses_tools = blocks && std::any_of(blocks->begin(), blocks->end(),
                                            [](const json& b) { return str(b, "type") == "tool_use"; });
    if (uses_tools) {
      auto first = str((*blocks)[0], "type");
      auto where = "messages." + std::to_string(last_assistant) + ".content.";
      if (first != "thinking" && first != "redacted_thinking")
        return where + "0.type: Expected `thinking` or `redacted_thinking`, but found `" + first +
               "`. When `thinking` is enabled, a final `assistant` message must start with a thinking block "
               "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
               "thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult "
               "our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking";
      auto expected = fake_signature(r.model, r.last_user_text);
      for (std::size_t j = 0; j < blocks->size(); ++j)
        if (str((*blocks)[j], "type") == "thinking" && str((*blocks)[j], "signature") != expected)
          return where + std::to_string(j) + ": Invalid `signature` in `thinking` block";
    }
  }
  if (!msgs->empty() && str(msgs->back(), "role") == "user" && !outputs.empty()) {
    r.follow_up = true;
    r.tool_outputs = std::move(outputs);
  }
  return {};
}

// --- Gemini ----------------------------------------------------------------------------------------

std::string read_gemini(const json& body, answer_request& r) {
  const json* contents = arr(body, "contents");
  if (!contents)
    return {};
  const std::string out_of_turn = "Please ensure that function response turn comes immediately after a function "
                                  "call turn.";
  std::vector<std::string> pending;  // functions called by the previous model turn
  std::vector<tool_output> outputs;
  for (std::size_t i = 0; i < contents->size(); ++i) {
    const auto& c = (*contents)[i];
    const json* parts = arr(c, "parts");
    std::vector<std::string> calls;
    std::vector<std::size_t> responses;
    for (std::size_t j = 0; parts && j < parts->size(); ++j) {
      const auto& p = (*parts)[j];
      if (!p.is_object())
        continue;
      if (p.contains("functionCall")) {
        const auto& fc = p["functionCall"];
        if (fc.contains("args") && !fc["args"].is_object())
          return "Invalid value at 'contents[" + std::to_string(i) + "].parts[" + std::to_string(j) +
                 "].function_call.args' (type.googleapis.com/google.protobuf.Struct)";
        calls.push_back(str(fc, "name"));
      } else if (p.contains("functionResponse")) {
        responses.push_back(j);
      }
    }
    outputs.clear();
    if (str(c, "role") == "model") {
      if (!pending.empty())
        return out_of_turn;
      pending = std::move(calls);
      continue;
    }
    if (responses.empty()) {
      if (!pending.empty())
        return out_of_turn;
      continue;
    }
    if (pending.empty())
      return out_of_turn;
    if (responses.size() != pending.size())
      return "Please ensure that the number of function response parts is equal to the number of function call "
             "parts of the function call turn.";
    for (auto j : responses) {
      const auto& fr = (*parts)[j]["functionResponse"];
      auto where = "contents[" + std::to_string(i) + "].parts[" + std::to_string(j) + "].function_response";
      auto name = str(fr, "name");
      auto it = std::find(pending.begin(), pending.end(), name);
      if (it == pending.end())
        return where + ".name: '" + name + "' does not answer a function call of the previous turn";
      pending.erase(it);
      if (!fr.contains("response") || !fr["response"].is_object())
        return "Invalid value at '" + where + ".response' (type.googleapis.com/google.protobuf.Struct)";
      const auto& resp = fr["response"];
      bool error = resp.contains("error");
      // {"output": x} / {"error": x} (Google's keys): the output is x; any other object is the output itself
      const auto& shown = error ? resp["error"] : resp.contains("output") ? resp["output"] : resp;
      auto content = shown.is_string() ? shown.get<std::string>()
                                       : shown.dump(-1, ' ', false, json::error_handler_t::replace);
      outputs.push_back({name, std::move(content), error});
    }
  }
  if (!pending.empty())
    return out_of_turn;
  if (!outputs.empty()) {
    r.follow_up = true;
    r.tool_outputs = std::move(outputs);
  }
  return {};
}

} // namespace

void read_tool_turns(provider_kind p, const json& body, answer_request& r) {
  switch (p) {
    case provider_kind::openai: r.tool_turn_error = read_openai(body, r); break;
    case provider_kind::anthropic: r.tool_turn_error = read_anthropic(body, r); break;
    case provider_kind::gemini: r.tool_turn_error = read_gemini(body, r); break;
  }
  if (!r.tool_turn_error.empty()) {
    r.follow_up = false;
    r.tool_outputs.clear();
  }
}

} // namespace sa::providers::fake
