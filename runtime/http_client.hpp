// http_client: the product's outbound HTTP client. One event-loop thread runs libcurl's multi interface
// and serves every request (thousands of concurrent streams, no thread per request). Other threads hand
// it work through one mutex-protected inbox and wake it with curl_multi_wakeup.
//
// Results go to an http_listener, called on the loop thread only. caf_http_listener
// (runtime/http_caf_listener.hpp) turns each callback into a message for an actor.
// Knows nothing of support; never logs bodies or header values (see runtime/http_redact.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sa {

using http_headers = std::vector<std::pair<std::string, std::string>>;

/// One request. A timeout of zero means "no limit".
struct http_request {
  std::string method = "GET";
  std::string url;
  http_headers headers;
  std::string body;
  /// What logs and error messages show for this request instead of `url` (e.g. the URL template, when the
  /// path carries identifiers); empty = `url`. Either way without credentials or query string.
  std::string log_url;
  /// TCP (and TLS) connection establishment, enforced by libcurl (CURLOPT_CONNECTTIMEOUT_MS).
  std::chrono::milliseconds connect_timeout{10'000};
  /// From submission until the first byte of the response (status line), enforced by the loop.
  /// Includes time spent queued behind max_host_connections and connecting.
  std::chrono::milliseconds first_byte_timeout{60'000};
  /// Longest silence between two received pieces of the response after its first byte (loop).
  std::chrono::milliseconds idle_timeout{30'000};
  /// Whole transfer, enforced by libcurl (CURLOPT_TIMEOUT_MS).
  std::chrono::milliseconds total_timeout{0};
};

/// Why a request failed. Stable numbers: used as metric labels and in messages.
enum class http_error_kind : uint8_t {
  connect = 1,            ///< the server refused or the network is unreachable
  timeout_connect = 2,    ///< connect_timeout elapsed before the connection was up
  timeout_first_byte = 3, ///< first_byte_timeout elapsed before the response started
  timeout_idle = 4,       ///< idle_timeout elapsed between two pieces of the response
  timeout_total = 5,      ///< total_timeout elapsed
  tls = 6,                ///< handshake or certificate verification failed
  dns = 7,                ///< the host name did not resolve
  reset = 8,              ///< the connection broke mid-exchange (reset, truncated, HTTP/2 stream error)
  cancelled = 9,          ///< cancel() or stop()
  other = 10,             ///< anything else (bad URL, out of memory, ...); the message says what
};

/// "timeout_idle", ... (also used by CAF to print messages carrying the kind).
std::string to_string(http_error_kind kind);

struct http_error {
  http_error_kind kind = http_error_kind::other;
  /// For an operator: names the host (never the query string) and the problem.
  std::string message;
};

/// Receives the events of requests. Every callback runs on the client's loop thread, so it must be
/// quick and must not block; it must not throw (noexcept: a throw terminates, as for any impossible
/// state). Per request the sequence is: on_headers at most once, then on_chunk zero or more times
/// in order, then exactly one of on_complete or on_error - nothing after that.
/// A non-2xx status is not an error: it arrives through on_headers and the body as chunks.
class http_listener {
public:
  virtual ~http_listener() = default;
  virtual void on_headers(uint64_t id, int status, const http_headers& headers) noexcept = 0;
  virtual void on_chunk(uint64_t id, std::string chunk) noexcept = 0;
  virtual void on_complete(uint64_t id) noexcept = 0;
  virtual void on_error(uint64_t id, const http_error& error) noexcept = 0;
};

struct http_client_options {
  /// Connections open at once to one host (CURLMOPT_MAX_HOST_CONNECTIONS); more requests queue.
  /// HTTP/2 hosts multiplex many streams over one connection, so this bounds HTTP/1.1 fan-out.
  long max_host_connections = 256;
  /// Connections open in total (CURLMOPT_MAX_TOTAL_CONNECTIONS); 0 = no limit.
  long max_total_connections = 0;
  /// Idle connections kept for reuse (CURLMOPT_MAXCONNECTS).
  long max_cached_connections = 256;
  /// Name of the loop thread (at most 15 characters), visible in /proc and debuggers.
  std::string thread_name = "sa-http";
};

class http_client {
public:
  /// Starts the loop thread.
  explicit http_client(http_client_options options = {});
  /// Calls stop().
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Queues a request and returns its id (never 0). Thread-safe. `listener` must not be null; one
  /// listener may serve many requests (callbacks carry the id). After stop(), the listener's
  /// on_error{cancelled} is called at once on the calling thread (the only callback not on the loop).
  uint64_t submit(http_request request, std::shared_ptr<http_listener> listener);

  /// Stops a request: the loop removes it at its next wake-up (woken at once), closes its connection
  /// if the response was still arriving, and calls on_error{cancelled} as the request's last callback.
  /// Called from another thread, callbacks for data the loop already read may still come before
  /// that; called from inside one of the request's callbacks, nothing but on_error{cancelled}
  /// follows. Unknown or finished ids are ignored. Thread-safe.
  void cancel(uint64_t id);

  /// Fails every outstanding request with on_error{cancelled, "http client stopped"} and joins the
  /// loop thread. Idempotent. Must not be called from a listener callback.
  void stop();

  /// Requests the loop currently holds (queued in curl or transferring). For tests and metrics.
  [[nodiscard]] std::size_t in_flight() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sa
