// loopback_http_server: the one HTTP/1.1 server of the tests. Boost.Beast on an io thread of its own
// (named "srv-io", so a test can tell it from the code under test), a real socket on 127.0.0.1, port 0
// (the kernel's choice, read back). Each request is recorded (method, target, headers, body, arrival time)
// and answered by a handler the test writes; the reply says what to send and how:
//
//   sa::test::loopback_http_server api{[](const sa::test::received_request& r) {
//     if (r.path == "/v1/x")
//       return sa::test::scripted_reply{200, R"({"ok": true})"};
//     return sa::test::scripted_reply{404, "{}"};
//   }};
//   client.get(api.url("/v1/x"));                   // "http://127.0.0.1:<port>/v1/x"
//   CHECK(api.wait_until([&] { return api.request_count() == 1; }, 5s));
//
// A reply is a whole body (Content-Length) after an optional delay, or a chunked stream (`chunks`, `gap`
// apart) that ends, stalls or is reset; `stall` sends nothing at all; `hold_until` holds the answer until
// that many held requests are waiting at once (truly concurrent clients). Waits are steady timers: the io
// thread never sleeps or blocks, and a slow answer holds up no other connection. A client that goes away
// during a wait, a stall or a stream is noticed (peer_closed) and its connection closed. Keep-alive as the
// request asks.
//
// The handler runs on the io thread (it must not block); set_handler swaps it from any thread. Every
// accessor is thread-safe. To extend a reply: add a field to scripted_reply (at the end, so brace-initialised
// replies keep their meaning) and handle it in loopback_http_server.cpp's session::answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sa::test {

struct received_request {
  std::string method;
  std::string target;  ///< path and query, as sent
  std::string path;    ///< the target without its query
  std::vector<std::pair<std::string, std::string>> headers;  ///< as sent, in order
  std::string body;
  std::chrono::steady_clock::time_point at;  ///< when the request was complete

  /// The value of header `name` (case-insensitive); empty when absent.
  std::string header(const std::string& name) const;
  /// The integer value of query parameter `name` ("?n=5&gap=30"), `fallback` when absent.
  long query_int(const std::string& name, long fallback = 0) const;
};

/// What happens to a stream after its last chunk.
enum class stream_end { finish, stall, reset };

struct scripted_reply {
  int status = 200;
  std::string body{};
  std::chrono::milliseconds delay{0};  ///< wait this long before answering (the client may leave first)
  bool stall = false;                  ///< answer nothing; wait until the client goes away
  std::vector<std::pair<std::string, std::string>> headers{};  ///< more response headers
  std::string content_type = "application/json";
  /// A chunked body instead of `body`: chunks(i) for i = 0, 1, ... sent `gap` apart until it returns
  /// nullopt, then `end`: the last chunk, nothing more (a stall), or a TCP reset (SO_LINGER 0).
  std::function<std::optional<std::string>(std::size_t)> chunks{};
  std::chrono::milliseconds gap{0};
  stream_end end = stream_end::finish;
  /// Holds the answer until this many requests with hold_until set are waiting (0: no hold).
  std::size_t hold_until = 0;
};

using request_handler = std::function<scripted_reply(const received_request&)>;

class loopback_http_server {
public:
  /// Binds 127.0.0.1 port 0 and starts serving. Throws std::runtime_error when it cannot.
  explicit loopback_http_server(request_handler handler);
  /// Closes every connection (held and stalled ones too) and joins the io thread.
  ~loopback_http_server();
  loopback_http_server(const loopback_http_server&) = delete;
  loopback_http_server& operator=(const loopback_http_server&) = delete;

  uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>", no trailing slash.
  std::string base_url() const;
  /// base_url() + path.
  std::string url(const std::string& path) const { return base_url() + path; }

  void set_handler(request_handler handler);

  /// Every request received so far, in arrival order.
  std::vector<received_request> requests() const;
  std::size_t request_count() const;
  /// Connections accepted so far.
  int accepted() const noexcept;
  /// Connections whose client went away while the server was waiting, stalling, holding or streaming.
  int peer_closed() const noexcept;
  /// Requests that arrived with hold_until set.
  int held() const noexcept;

  /// Waits until pred() holds or `within` has passed; returns whether it held. pred is re-checked after
  /// every accept, request, hold and noticed close (and may call this server's accessors).
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{wait_mtx_};
    return changed_.wait_for(lock, within, [&] { return pred(); });
  }

  struct impl;

private:
  std::mutex wait_mtx_;
  std::condition_variable changed_;
  std::shared_ptr<impl> impl_;
};

} // namespace sa::test
