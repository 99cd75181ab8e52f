// What the http client may log.
#include "runtime/http_redact.hpp"

#include <catch2/catch.hpp>

TEST_CASE("credential headers are recognised whatever their case", "[runtime][http][redact]") {
  using sa::http_redact::is_secret_header;
  CHECK(is_secret_header("Authorization"));
  CHECK(is_secret_header("x-api-key"));
  CHECK(is_secret_header("X-Goog-Api-Key"));
  CHECK(is_secret_header("x-session-token"));
  CHECK_FALSE(is_secret_header("Content-Type"));
  CHECK_FALSE(is_secret_header("anthropic-version"));
}

TEST_CASE("a URL loses its credentials, query string and fragment", "[runtime][http][redact]") {
  using sa::http_redact::url;
  CHECK(url("https://host/v1/models/x:stream?key=SECRET&alt=sse") == "https://host/v1/models/x:stream");
  CHECK(url("https://user:pw@host:8443/p#frag") == "https://host:8443/p");
  CHECK(url("http://host") == "http://host");
  CHECK(url("http://u@host?x=1") == "http://host");
}
