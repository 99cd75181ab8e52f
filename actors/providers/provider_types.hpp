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

struct chat_message {
  chat_role role = chat_role::user;
  std::string text;
};

/// A function the model may call. `parameters_json` is a JSON Schema object, as text.
struct tool_spec {
  std::string name;
  std::string description;
  std::string parameters_json = R"({"type":"object","properties":{}})";
};

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
};

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

/// A tool call assembled from the stream; `arguments_json` is the JSON text of the arguments object.
struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_json;
};

/// The stream completed normally.
struct stream_end {
  std::string finish_reason;           ///< the provider's own word ("stop", "end_turn", "STOP", ...)
  finish_kind finish = finish_kind::other;
  usage tokens;
  std::vector<tool_call> tool_calls;
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
