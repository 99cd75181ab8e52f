// fake_tools: the tool turns of a chat request, read and checked the way the real APIs check them, so the
// fake provider answers a malformed follow-up with the 400 the real one would send. Per provider:
//   OpenAI     an assistant message with `tool_calls` (arguments a JSON *string*) must be followed by one
//              {"role":"tool","tool_call_id"} message per call; a tool message must answer such a call.
//   Anthropic  tool_use blocks (input an object) must be answered by tool_result blocks in the next, user,
//              message - first in it; a tool_result must answer a tool_use of the previous message; the
//              request must define tools; with thinking on, the final assistant message that used tools must
//              start with its thinking block, signature unchanged.
//   Gemini     a model turn with functionCall parts must be followed by a turn with as many
//              functionResponse parts, each naming a called function, each response a JSON object.
//
// Plain functions over a parsed body. To check another rule: add it to the provider's reader below.
#pragma once

#include "actors/providers/fake/fake_answer.hpp"

#include <nlohmann/json_fwd.hpp>

namespace sa::providers::fake {

/// Reads the tool calls and results of `body`, a request body of provider `p`, into `r`: follow_up and
/// tool_outputs (the results the last message carries), and tool_turn_error - the real API's 400 message -
/// when a rule above is broken. Uses r.model, r.last_user_text and r.thinking (the signature check).
void read_tool_turns(provider_kind p, const nlohmann::json& body, answer_request& r);

} // namespace sa::providers::fake
