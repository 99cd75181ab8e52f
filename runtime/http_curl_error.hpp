// How a libcurl transfer ended (its CURLcode) as an http_error: the one place that knows curl's
// error codes. To add a kind: extend http_error_kind (http_client.hpp), to_string and the switch here.
#pragma once

#include "runtime/http_client.hpp"

#include <chrono>
#include <string>

namespace sa {

/// What the loop knows about a transfer that libcurl ended with an error.
struct http_curl_outcome {
  int curl_code = 0;       ///< a CURLcode (int: keeps curl.h out of this header)
  std::string detail;      ///< curl's error buffer, or curl_easy_strerror
  std::string safe_url;    ///< already redacted (http_redact::url)
  bool connected = false;  ///< CURLINFO_CONNECT_TIME_T > 0
  long long elapsed_ms = 0;
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds total_timeout{0};
};

/// The typed error, with a message that names the URL (redacted) and the problem.
http_error http_error_from_curl(const http_curl_outcome& outcome);

} // namespace sa
