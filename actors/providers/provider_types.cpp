// provider_types: names, header lookup and the HTTP-level retry rules shared by every protocol.
#include "actors/providers/provider_types.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace sa::providers {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// A non-negative decimal number (digits with an optional fraction), or nullopt.
std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 32)
    return std::nullopt;
  bool dot = false;
  bool digit = false;
  for (char c : s) {
    if (c == '.' && !dot)
      dot = true;
    else if (c >= '0' && c <= '9')
      digit = true;
    else
      return std::nullopt;
  }
  if (!digit)
    return std::nullopt;
  double v = std::strtod(std::string(s).c_str(), nullptr);
  if (!std::isfinite(v) || v > 9.0e15)
    return std::nullopt;
  return v;
}

} // namespace

const std::string* find_header(const header_list& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name))
      return &v;
  return nullptr;
}

const char* to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::rate_limited: return "rate_limited";
    case error_kind::overloaded: return "overloaded";
    case error_kind::server: return "server";
    case error_kind::auth: return "auth";
    case error_kind::invalid_request: return "invalid_request";
    case error_kind::not_found: return "not_found";
    case error_kind::quota: return "quota";
    case error_kind::timeout: return "timeout";
    case error_kind::connection: return "connection";
    case error_kind::malformed: return "malformed";
    case error_kind::truncated: return "truncated";
    case error_kind::blocked: return "blocked";
  }
  return "unknown";
}

const char* to_string(finish_kind kind) noexcept {
  switch (kind) {
    case finish_kind::stop: return "stop";
    case finish_kind::length: return "length";
    case finish_kind::tool_use: return "tool_call";
    case finish_kind::content_filter: return "content_filter";
    case finish_kind::other: return "other";
  }
  return "other";
}

void drop_foreign_reasoning(completion_request& r, const std::string& endpoint) {
  for (auto& m : r.messages) {
    if (m.role != chat_role::assistant || m.origin == endpoint)
      continue;
    m.thinking.clear();
    for (auto& call : m.tool_calls)
      call.signature.clear();
  }
}

bool status_is_retryable(int s) noexcept {
  return s == 408 || s == 409 || s == 429 || (s >= 500 && s <= 599);
}

error_kind kind_for_status(int s) noexcept {
  switch (s) {
    case 401:
    case 403: return error_kind::auth;
    case 404: return error_kind::not_found;
    case 408:
    case 504: return error_kind::timeout;
    case 429: return error_kind::rate_limited;
    case 503:
    case 529: return error_kind::overloaded;
    default: break;
  }
  if (s >= 500 || s == 409)
    return error_kind::server;
  if (s >= 400)
    return error_kind::invalid_request;
  return error_kind::malformed; // a 1xx/2xx/3xx "error": the body was not what we expected
}

std::optional<int64_t> retry_after_from(const header_list& headers) {
  if (const auto* ms = find_header(headers, "retry-after-ms"))
    if (auto v = parse_number(*ms))
      return static_cast<int64_t>(std::llround(*v));
  if (const auto* s = find_header(headers, "retry-after"))
    if (auto v = parse_number(*s))
      return static_cast<int64_t>(std::llround(*v * 1000.0));
  return std::nullopt;
}

void apply_headers(provider_error& e, const header_list& headers, std::string_view request_id_header) {
  e.retry_after_ms = retry_after_from(headers);
  if (const auto* id = find_header(headers, request_id_header))
    e.request_id = *id;
  if (const auto* v = find_header(headers, "x-should-retry")) {
    auto t = trim(*v);
    if (iequals(t, "true"))
      e.retryable = true;
    else if (iequals(t, "false"))
      e.retryable = false;
  }
}

provider_error transport_error(error_kind kind, std::string message) {
  provider_error e;
  e.kind = kind;
  e.message = std::move(message);
  e.retryable = true;
  return e;
}

} // namespace sa::providers
