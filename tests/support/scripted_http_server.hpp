// scripted_http_server: a loopback HTTP/1.1 server (Boost.Beast, one io thread of its own) whose answers
// come from a handler the test writes: status, body and a delay before answering (a steady timer: the io
// thread never sleeps, and a slow answer does not hold up the others). It records every request (method,
// target, headers) so a test can check what a client sent.
//
//   sa::test::scripted_http_server api{[](const sa::test::seen_request& r) {
//     return sa::test::scripted_reply{200, R"({"ok": true})"};
//   }};
//   client.get(api.base_url() + "/v1/x");   // "http://127.0.0.1:<free port>"
//   CHECK(api.request_count() == 1);
//
// The handler runs on the io thread; set_handler swaps it from any thread. Accessors are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sa::test {

struct seen_request {
  std::string method;
  std::string target;  ///< path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  /// The value of header `name` (case-insensitive); empty when absent.
  std::string header(const std::string& name) const;
};

struct scripted_reply {
  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};  ///< wait this long before answering
  std::string content_type = "application/json";
};

using scripted_handler = std::function<scripted_reply(const seen_request&)>;

class scripted_http_server {
public:
  /// Binds 127.0.0.1 on a free port and starts serving. Throws std::runtime_error when it cannot bind.
  explicit scripted_http_server(scripted_handler handler);
  /// Closes every connection and joins the io thread.
  ~scripted_http_server();
  scripted_http_server(const scripted_http_server&) = delete;
  scripted_http_server& operator=(const scripted_http_server&) = delete;

  uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>", no trailing slash.
  std::string base_url() const;

  void set_handler(scripted_handler handler);

  /// Every request received so far, in arrival order.
  std::vector<seen_request> requests() const;
  std::size_t request_count() const;

  /// Waits until `pred(requests())` holds or `within` has passed; returns whether it held.
  bool wait_for(const std::function<bool(const std::vector<seen_request>&)>& pred, std::chrono::milliseconds within);

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace sa::test
