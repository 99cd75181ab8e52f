// reply_json: JSON-mode calls - the request (instructions, one user message, temperature 0, no streaming)
// and the JSON object in the model's reply. Models sometimes wrap it in a code fence or a sentence, so the
// outermost {...} is taken. Used by the LLM classifier, the quality judge and the moderator; header-only.
#pragma once

#include "actors/providers/provider_types.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sa::providers {

/// A JSON-mode request: `system` as the system prompt, `user` as the one message; temperature 0, not streamed.
inline completion_request json_request(std::string system, std::string user, uint32_t max_tokens) {
  completion_request r;
  r.system = std::move(system);
  r.messages.emplace_back(chat_role::user, std::move(user));
  r.temperature = 0.0;
  r.max_tokens = max_tokens;
  r.json_mode = true;
  r.stream = false;
  return r;
}

/// The object `reply` holds; nullopt when there is none or it is not valid JSON (`error`, when set, says which).
inline std::optional<nlohmann::json> object_in_reply(std::string_view reply, std::string* error = nullptr) {
  auto fail = [error](const char* why) -> std::optional<nlohmann::json> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  auto open = reply.find('{');
  auto close = reply.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return fail("no JSON object in the reply");
  auto j = nlohmann::json::parse(reply.substr(open, close - open + 1), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail("the reply's object is not valid JSON");
  return j;
}

} // namespace sa::providers
