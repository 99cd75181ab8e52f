// webhook: how the actions service calls the company's endpoints (a helpdesk for create_ticket, workflow
// URLs for trigger_workflow) - the signature, the headers, and when to retry. Plain functions, no I/O;
// the actions actor sends the requests through the node's http_client. docs/actions.md documents the
// scheme for receivers:
//
//   X-Support-Agent-Timestamp: <unix seconds>
//   X-Support-Agent-Signature: v1=<lower-case hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   Idempotency-Key: <the same key on every retry of one action>
//
// Each attempt is signed afresh (new timestamp, same body and key), so a receiver can refuse timestamps
// older than a few minutes and still accept a retry.
#pragma once

#include "runtime/http_client.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sa::actions {

namespace webhook_headers {
constexpr const char* timestamp = "X-Support-Agent-Timestamp";
constexpr const char* signature = "X-Support-Agent-Signature";
constexpr const char* idempotency_key = "Idempotency-Key";
} // namespace webhook_headers

/// HMAC-SHA256 of `message` under `secret`, as 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

/// SHA-256 of `data`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

/// The X-Support-Agent-Signature value for a body sent at `unix_seconds`: "v1=" + HMAC hex.
std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

/// Everything a signed JSON POST carries: content type, user agent, timestamp, signature, idempotency key.
http_headers signed_headers(std::string_view secret, int64_t unix_seconds, std::string_view body,
                            const std::string& idempotency_key);

/// What a receiver checks (and the tests do): the timestamp is a whole number of seconds within
/// `tolerance` of `now_unix_seconds`, and the signature (any "v1=" entry of a comma-separated list)
/// matches, compared in constant time.
bool verify_signature(std::string_view secret, std::string_view timestamp_header, std::string_view body,
                      std::string_view signature_header, int64_t now_unix_seconds,
                      std::chrono::seconds tolerance = std::chrono::minutes(5));

/// What to do after an attempt: done, try again later, or stop (the endpoint refused the request).
enum class attempt_verdict { success, retry, give_up };

/// By HTTP status: 2xx success; 408, 409 (a concurrent request with the same key), 425, 429 and 5xx retry;
/// anything else gives up.
attempt_verdict verdict_for_status(int status) noexcept;

/// By transport error: connection problems and timeouts retry; TLS failures, bad URLs and cancellation stop.
attempt_verdict verdict_for_error(http_error_kind kind) noexcept;

/// The wait before retry number `retry` (1 = after the first failed attempt): initial x 2^(retry-1), capped
/// at `max`, then scaled into [50%, 100%] by `jitter` in [0, 1) ("equal jitter": never zero, never in step).
std::chrono::milliseconds backoff_delay(uint32_t retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double jitter) noexcept;

/// A Retry-After header in seconds (the HTTP-date form is ignored); nullopt when absent or malformed.
std::optional<std::chrono::milliseconds> retry_after(const http_headers& headers);

/// The idempotency key of one proposed action: 32 hex digits of SHA-256 over tenant, session, the turn that
/// proposed it and the call, so a retry of that action (a webhook retry, a repeated confirmation) reuses it.
std::string idempotency_key(const std::string& tenant, const std::string& session, uint64_t turn,
                            const std::string& tool, const std::string& arguments_json);

} // namespace sa::actions
