// What the http client may log: URLs without credentials or query strings, header names but never the
// values of credential headers. Pure functions, tested in tests/runtime/http/http_redact_test.cpp.
#pragma once

#include <string>
#include <string_view>

namespace sa::http_redact {

/// True for headers whose value is a secret (Authorization, Proxy-Authorization, Cookie, Set-Cookie,
/// x-api-key, x-goog-api-key, and any name containing "token", "secret" or "api-key"); case-insensitive.
bool is_secret_header(std::string_view name);

/// scheme://host[:port]/path: drops user:password@, the query string (Gemini puts ?key= there) and
/// the fragment.
std::string url(std::string_view url);

} // namespace sa::http_redact
