// fake_answer: the deterministic answer of the fake provider. Reads what matters from an OpenAI, Anthropic
// or Gemini request body (last user text, model, stream flags, thinking, max tokens, tools, the tool calls
// and results of the conversation) and derives the answer from it: "Answer to: <last user message,
// truncated>" plus two sentences chosen by a hash of the request, split into word tokens; or a tool call -
// the one a `tool_call` script names (fault_table.hpp), or the tool the last user message names - with
// its arguments streamed in small fragments; or, after tool results, "The <tool> tool returned: <result>"
// plus a sentence; or, for a JSON-mode request, a JSON classification. Same request, same answer, same
// usage, on every run. The tool turns of a request are checked as the real APIs check them
// (fake_tools.hpp): a follow-up that does not answer each call in the provider's shape is a 400.
//
// Plain functions, no sockets. To support another provider: a parse branch here and a renderer in fake_render.
#pragma once

#include "runtime/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa::providers::fake {

enum class provider_kind { openai, anthropic, gemini };

/// "openai", "anthropic", "gemini".
const char* to_string(provider_kind p) noexcept;
std::optional<provider_kind> provider_from_string(std::string_view name) noexcept;

/// A scripted tool call (the `tool_call` fault): which tool, with which arguments, after which text.
struct tool_script {
  std::string tool;              ///< the tool to call (offered or not: an unknown tool tests the caller)
  std::string arguments_json;    ///< a JSON object; empty: every string property of the schema = the question
  std::string text;              ///< streamed before the call ("" : none)
  bool malformed = false;        ///< the arguments stream stops halfway (Gemini: MALFORMED_FUNCTION_CALL)
  uint32_t fragment_bytes = 8;   ///< the arguments stream in pieces of at most this many bytes
};

/// One tool result of the request's last turn, as the fake read it.
struct tool_output {
  std::string name;              ///< the tool (Gemini: functionResponse.name; else the matching call's name)
  std::string content;           ///< its content as text (Gemini: the response object as JSON)
  bool is_error = false;         ///< Anthropic is_error, or Gemini's response holds "error"
};

/// What the fake needs from a request body.
struct answer_request {
  provider_kind provider = provider_kind::openai;
  std::string model;
  std::string last_user_text;   ///< the text of the last user message ("" when none)
  uint64_t prompt_tokens = 0;   ///< estimate over system + every message: ceil(bytes / 4), at least 1
  bool stream = false;          ///< OpenAI/Anthropic: body "stream"; Gemini: the route
  bool include_usage = false;   ///< OpenAI stream_options.include_usage
  bool thinking = false;        ///< Anthropic thinking.type == "enabled"; Gemini thinkingBudget > 0
  uint32_t max_tokens = 0;      ///< 0: no limit
  bool json_mode = false;       ///< OpenAI response_format json_object, Gemini responseMimeType
                                ///< application/json, or (Anthropic) a system prompt asking for a "JSON object"
  std::vector<std::string> tool_names;            ///< the request's tools, in order
  std::vector<std::string> tool_schemas;          ///< their parameter schemas (JSON text), same order
  bool follow_up = false;                         ///< the last message answers tool calls
  std::vector<tool_output> tool_outputs;          ///< those answers, in order
  std::string tool_turn_error;                    ///< non-empty: the tool turns break the API's rules (400)
  std::optional<tool_script> script;              ///< set by the `tool_call` fault for this request
};

/// The signature the fake gives a thinking block: derived from the model and the question, so a follow-up
/// can be checked to send it back unchanged.
std::string fake_signature(std::string_view model, std::string_view last_user_text);

/// The JSON answer to a JSON-mode request: a support-intent classification of the last user message by
/// keywords, {"intent": ..., "confidence": 0.9, "out_of_scope": false}, so an LLM classifier can be
/// tested end to end. A quality judge request ("QUESTION:\n...\nANSWER:\n...") gets rubric scores instead:
/// {"relevance": 4, "accuracy": 4 (2 without retrieved context), "helpfulness": 3, "tone": 5}.
std::string json_answer(std::string_view last_user_text);

/// A tool call answer: scripted, or made when the last user message names one of the request's tools.
struct tool_answer {
  std::string id;                       ///< "call_<hash>" / "toolu_<hash>"
  std::string name;
  std::string arguments_json;           ///< scripted, or every string property of the schema = the question
  std::vector<std::string> fragments;   ///< what streams of arguments_json, one piece per streamed token
  bool malformed = false;               ///< fragments stop halfway through arguments_json
};

/// Parses a request body. `gemini_model` and `gemini_stream` come from the Gemini route (the body has
/// neither). Fails with an operator-readable message when the body is not a JSON object.
result<answer_request> parse_answer_request(provider_kind provider, std::string_view body,
                                            std::string_view gemini_model = {}, bool gemini_stream = false);

struct answer {
  std::vector<std::string> thinking;   ///< thinking tokens (empty unless requested)
  std::vector<std::string> text;       ///< answer tokens; joined they make the text
  uint64_t prompt_tokens = 0;
  bool truncated = false;              ///< max_tokens cut the answer (finish "length")
  std::string id;                      ///< hex hash of the request, used in message ids
  std::string signature;               ///< deterministic thinking signature
  std::optional<tool_answer> tool;     ///< set: the answer is this call, after `text` (scripted; else empty)

  uint64_t output_tokens() const noexcept {
    return thinking.size() + text.size() + (tool ? tool->fragments.size() : 0);
  }
  std::string joined_text() const;
  std::string joined_thinking() const;
};

answer make_answer(const answer_request& r);

/// Splits on spaces; every token but the first keeps its leading space, so joining restores the text.
std::vector<std::string> split_tokens(std::string_view text);

/// Prompt token estimate: ceil(bytes / 4), at least 1.
uint64_t estimate_tokens(std::string_view text) noexcept;

/// 64-bit FNV-1a.
uint64_t fnv1a(std::string_view text) noexcept;

/// At most `max_bytes` bytes of `text`, never cutting a UTF-8 character; "..." appended when cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

} // namespace sa::providers::fake
