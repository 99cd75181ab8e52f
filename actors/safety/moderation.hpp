// moderation: the optional LLM moderation strategy of the safety check (safety.moderation). A providers
// endpoint or strategy is asked, with task `moderate` (so a by_task strategy routes it to its own chain),
// whether one customer message is fit for a support assistant. It sees the message as the rules left it
// (PII redacted) and answers a JSON object:
//
//   {"flagged": true|false, "category": "none" | "harassment" | "hate" | "self_harm" | "sexual" | "violence" |
//                                       "illegal" | "prompt_injection" | "other"}
//
// Its verdict adds to the rules', never removes from it: flagged self-harm escalates to a person (as the
// rules do), any other flagged category refuses politely (reason `moderation`, detail "moderation:<category>");
// an answer cut by the provider's own content filter counts as flagged "other". The request asks for JSON
// mode at temperature 0; the reader accepts the object inside code fences or prose and refuses a reply
// without a boolean "flagged" or with an unknown category (the rules' verdict then stands, counted as
// unparsable). Tests: tests/actors/safety/moderation_test.cpp.
#pragma once

#include "actors/providers/provider_types.hpp"
#include "messages/safety.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa::safety {

/// The categories a moderator may name, "none" first.
const std::vector<std::string>& moderation_categories();

/// The moderator's instructions, as its system prompt.
const std::string& moderation_system_prompt();

/// The request for one message (already PII-redacted): the instructions, then the message. JSON mode,
/// temperature 0, no streaming.
providers::completion_request moderation_request(std::string_view message);

struct moderation_result {
  bool flagged = false;
  std::string category = "none";  ///< one of moderation_categories(); "none" when not flagged
};

/// Reads the moderator's reply; nullopt (and `error` set) when it holds no object with a boolean "flagged"
/// or names a category that is not one of moderation_categories().
std::optional<moderation_result> parse_moderation_reply(std::string_view reply, std::string* error = nullptr);

/// What the moderator's result adds to the turn's verdict: allow when not flagged; escalate for self-harm;
/// refuse for the other categories. Reason `moderation`; the detail names the category, never the text.
safety_verdict moderation_verdict(const moderation_result& r);

} // namespace sa::safety
