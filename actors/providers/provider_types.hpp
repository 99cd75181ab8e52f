// provider_types: the common model every wire protocol (openai/, anthropic/, gemini/) speaks: what to ask
// (completion_request), what goes on the wire (http_request), what comes back from a stream
// (stream_delta, stream_end, provider_error) and the HTTP-level retry rules shared by the official SDKs.
//
// Plain data, no JSON library in this header. To add a protocol: build_request, a stream_decoder
// subclass and parse_error, all mapping into these types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sa::providers {

enum class chat_role { user, assistant };

/// A function the model may call. `parameters_json` is a JSON Schema object, as text.
struct tool_spec {
  std::string name;
  std::string description;
  std::string parameters_json = R"({"type":"object","properties":{}})";
};

/// A tool call assembled from the stream; `arguments_json` is the JSON text of the arguments object.
struct tool_call {
  std::string id;              ///< the provider's call id ("call_...", "toolu_...", Gemini's optional id)
  std::string name;
  std::string arguments_json;
  std::string signature;       ///< Gemini: the part's thoughtSignature, sent back with the call; else empty
};

/// A block of the model's reasoning that must go back unchanged with the tool calls it led to (Anthropic:
/// a `thinking` block with its signature, or a `redacted_thinking` block with its opaque data).
struct thinking_block {
  std::string text;            ///< the thinking text; empty for a redacted block
  std::string signature;       ///< thinking: its signature; redacted: the block's `data`
  bool redacted = false;
};

/// The outcome of one tool call, answered to the model in the follow-up request.
struct tool_result {
  std::string call_id;         ///< the tool_call's id
  std::string name;            ///< the tool's name (Gemini matches responses by name)
  std::string content;         ///< a JSON object as text (preferred), or plain text
  bool is_error = false;       ///< refused (invalid call) or failed: the model should not trust a result
};

/// One message of the conversation. Plain text for most; an assistant message that called tools carries
/// its calls (and the reasoning that led to them), and the user message after it carries their results.
struct chat_message {
  chat_message() = default;
  chat_message(chat_role r, std::string t) : role(r), text(std::move(t)) {}

  chat_role role = chat_role::user;
  std::string text;                        ///< may be empty next to tool calls or results
  std::vector<tool_call> tool_calls;       ///< assistant: the calls the model made after `text`
  std::vector<thinking_block> thinking;    ///< assistant: reasoning to send back before `text` (Anthropic)
  std::vector<tool_result> tool_results;   ///< user: results of the previous message's calls, before `text`
  /// assistant: the endpoint that produced it. Opaque parts (thinking blocks, call signatures) are valid
  /// only there; drop_foreign_reasoning() removes them before another endpoint sees the conversation.
  std::string origin;
};

/// Whether the model may call the offered tools. `none`: answer in text (the follow-up after tool results:
/// Anthropic and Gemini need the tools defined while the conversation holds tool calls).
enum class tool_choice_mode : uint8_t { automatic = 0, none = 1 };

struct completion_request {
  std::string model;
  std::string system;                  ///< empty: no system prompt
  std::vector<chat_message> messages;  ///< oldest first; must not be empty
  std::optional<double> temperature;   ///< unset: the provider's default
  uint32_t max_tokens = 0;             ///< 0: provider default (Anthropic requires > 0)
  bool json_mode = false;              ///< ask for a JSON object answer (OpenAI, Gemini)
  uint32_t thinking_budget = 0;        ///< 0: thinking off (Anthropic, Gemini)
  bool stream = true;
  std::vector<tool_spec> tools;
  tool_choice_mode tool_choice = tool_choice_mode::automatic;  ///< only sent when `tools` is not empty
};

/// Removes the thinking blocks and call signatures of assistant messages that `endpoint` did not produce:
/// they are signed by (and only valid at) the endpoint that made them.
void drop_foreign_reasoning(completion_request& r, const std::string& endpoint);

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Case-insensitive header lookup; nullptr when absent.
const std::string* find_header(const header_list& headers, std::string_view name);

/// What to send. The API key is not here: the caller adds header `api_key_header` with the value
/// `api_key_prefix + key` (e.g. "Authorization: Bearer sk-..."), so request dumps never hold secrets.
struct http_request {
  std::string method = "POST";
  std::string path;                    ///< appended to the configured base URL
  header_list headers;
  std::string api_key_header;
  std::string api_key_prefix;
  std::string body;                    ///< JSON
};

/// A piece of the answer, in order. `thinking` pieces are the model's reasoning, not for the customer.
struct stream_delta {
  std::string text;
  bool thinking = false;
};

/// Token counts. `completion_tokens` is every billed output token, thinking included; `thinking_tokens`
/// is the part of it spent thinking (0 when the provider does not say). `reported` is false when the
/// provider sent no usage at all (counts then are 0, not a failure).
struct usage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t thinking_tokens = 0;
  bool reported = false;
};

enum class finish_kind { stop, length, tool_use, content_filter, other };

/// The provider-neutral word: "stop", "length", "tool_call", "content_filter", "other".
const char* to_string(finish_kind kind) noexcept;

/// The stream completed normally.
struct stream_end {
  std::string finish_reason;           ///< the provider's own word ("stop", "end_turn", "STOP", ...)
  finish_kind finish = finish_kind::other;
  usage tokens;
  std::vector<tool_call> tool_calls;   ///< each with a name and arguments that are one JSON object
  std::vector<thinking_block> thinking;///< with tool calls only: reasoning to send back with them (Anthropic)
};

enum class error_kind {
  rate_limited,    ///< 429 rate limit
  overloaded,      ///< 503 / 529 / overloaded_error
  server,          ///< other 5xx, 409, api_error
  auth,            ///< 401, 403
  invalid_request, ///< 400, 413, 422, or rejected before sending (e.g. thinking budget)
  not_found,       ///< 404 (model or path)
  quota,           ///< quota or billing exhausted: retrying does not help
  timeout,         ///< 408, 504, or a local deadline
  connection,      ///< reset, refused, TLS: set by the transport
  malformed,       ///< the provider sent bytes we cannot understand
  truncated,       ///< the stream ended before its terminal event
  blocked,         ///< the provider refused the prompt (Gemini promptFeedback.blockReason)
};

/// Stable lower-case name, usable as a metric label.
const char* to_string(error_kind kind) noexcept;

struct provider_error {
  error_kind kind = error_kind::server;
  int http_status = 0;                       ///< 0 when none (transport, decoding); 200 for mid-stream errors
  std::string message;                       ///< for the operator; never holds the API key
  std::optional<int64_t> retry_after_ms;     ///< the server's retry-after-ms / retry-after, if any
  bool retryable = false;
  std::string provider_code;                 ///< e.g. "insufficient_quota", "overloaded_error", "RESOURCE_EXHAUSTED"
  std::string request_id;                    ///< x-request-id / request-id header, for the logs
};

/// Exactly one of these ends a stream: a stream_end or a provider_error; deltas come before it.
using stream_event = std::variant<stream_delta, stream_end, provider_error>;

// --- retry rules shared by the official SDKs (docs/llm-provider-protocols.md) ----------------------

/// Retried: 408, 409, 429 and every 5xx. Not retried: the rest.
bool status_is_retryable(int http_status) noexcept;

/// The default kind for a status, before the body refines it.
error_kind kind_for_status(int http_status) noexcept;

/// `retry-after-ms` (milliseconds, may be fractional) wins over `retry-after` (seconds, may be
/// fractional; an HTTP-date is not parsed and yields nullopt). Negative or unparsable values: nullopt.
std::optional<int64_t> retry_after_from(const header_list& headers);

/// Fills retry_after_ms and request_id from the headers, then applies `x-should-retry: true|false`,
/// which overrides whatever the status and body said.
void apply_headers(provider_error& e, const header_list& headers, std::string_view request_id_header);

/// An error for a failure of the transport (kind connection or timeout); always retryable.
provider_error transport_error(error_kind kind, std::string message);

} // namespace sa::providers
