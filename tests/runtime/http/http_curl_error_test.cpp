// How libcurl's outcomes become typed http errors (the parts the loopback tests cannot reach: DNS, TLS,
// and telling the connect timer from the total one).
#include "runtime/http_curl_error.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>

using namespace std::chrono_literals;
using sa::http_error_kind;

namespace {

sa::http_curl_outcome outcome(CURLcode code) {
  sa::http_curl_outcome o;
  o.curl_code = code;
  o.detail = "curl says";
  o.safe_url = "https://api.example.com/v1/x";
  o.connect_timeout = 1000ms;
  o.total_timeout = 5000ms;
  return o;
}

} // namespace

TEST_CASE("curl codes map to dns, connect, tls, reset and other", "[runtime][http][errors]") {
  CHECK(sa::http_error_from_curl(outcome(CURLE_COULDNT_RESOLVE_HOST)).kind == http_error_kind::dns);
  CHECK(sa::http_error_from_curl(outcome(CURLE_COULDNT_CONNECT)).kind == http_error_kind::connect);
  CHECK(sa::http_error_from_curl(outcome(CURLE_PEER_FAILED_VERIFICATION)).kind
        == http_error_kind::tls);
  CHECK(sa::http_error_from_curl(outcome(CURLE_SSL_CONNECT_ERROR)).kind == http_error_kind::tls);
  CHECK(sa::http_error_from_curl(outcome(CURLE_RECV_ERROR)).kind == http_error_kind::reset);
  CHECK(sa::http_error_from_curl(outcome(CURLE_HTTP2_STREAM)).kind == http_error_kind::reset);
  CHECK(sa::http_error_from_curl(outcome(CURLE_URL_MALFORMAT)).kind == http_error_kind::other);
  auto e = sa::http_error_from_curl(outcome(CURLE_COULDNT_RESOLVE_HOST));
  CHECK(e.message.find("https://api.example.com/v1/x") != std::string::npos);
  CHECK(e.message.find("curl says") != std::string::npos);
}

TEST_CASE("a curl timeout is timeout_connect before the connection is up, else timeout_total",
          "[runtime][http][errors]") {
  auto o = outcome(CURLE_OPERATION_TIMEDOUT);
  o.elapsed_ms = 1000;
  CHECK(sa::http_error_from_curl(o).kind == http_error_kind::timeout_connect);
  o.connected = true;
  o.elapsed_ms = 5000;
  CHECK(sa::http_error_from_curl(o).kind == http_error_kind::timeout_total);
  o.connected = false; // total shorter than connect: the total timer fired first
  o.connect_timeout = 10'000ms;
  o.total_timeout = 300ms;
  o.elapsed_ms = 299;
  CHECK(sa::http_error_from_curl(o).kind == http_error_kind::timeout_total);
  CHECK(sa::to_string(http_error_kind::timeout_idle) == "timeout_idle");
}
