#include "runtime/http_curl_error.hpp"

#include <curl/curl.h>

namespace sa {

std::string to_string(http_error_kind kind) {
  switch (kind) {
    case http_error_kind::connect: return "connect";
    case http_error_kind::timeout_connect: return "timeout_connect";
    case http_error_kind::timeout_first_byte: return "timeout_first_byte";
    case http_error_kind::timeout_idle: return "timeout_idle";
    case http_error_kind::timeout_total: return "timeout_total";
    case http_error_kind::tls: return "tls";
    case http_error_kind::dns: return "dns";
    case http_error_kind::reset: return "reset";
    case http_error_kind::cancelled: return "cancelled";
    case http_error_kind::other: return "other";
  }
  return "unknown";
}

http_error http_error_from_curl(const http_curl_outcome& o) {
  auto message = [&](const std::string& what) { return what + " " + o.safe_url + ": " + o.detail; };
  switch (static_cast<CURLcode>(o.curl_code)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {http_error_kind::dns, message("cannot resolve the host of")};
    case CURLE_COULDNT_CONNECT:
      return {http_error_kind::connect, message("cannot connect to")};
    case CURLE_OPERATION_TIMEDOUT: {
      // Both of curl's timers end here; tell them apart by which one has run out (curl's clock
      // starts a little after the loop's, hence the tolerance).
      constexpr long long tolerance_ms = 10;
      auto elapsed = o.elapsed_ms + tolerance_ms;
      auto total = o.total_timeout.count();
      auto connect = o.connect_timeout.count();
      bool total_over = total > 0 && elapsed >= total;
      bool connect_over = connect > 0 && !o.connected && elapsed >= connect;
      if (connect_over && (!total_over || connect <= total))
        return {http_error_kind::timeout_connect,
                message("no connection within " + std::to_string(connect) + " ms to")};
      return {http_error_kind::timeout_total,
              message("not complete within " + std::to_string(total) + " ms:")};
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return {http_error_kind::tls, message("TLS failure with")};
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {http_error_kind::reset, message("connection broken with")};
    default:
      return {http_error_kind::other, message("request failed:")};
  }
}

} // namespace sa
