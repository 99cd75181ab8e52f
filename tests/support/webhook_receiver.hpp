// A loopback webhook receiver for the actions tests: an HTTP/1.1 server (POSIX sockets, a thread per
// connection, keep-alive) that records every request, checks its signature the way docs/actions.md tells
// a receiver to - independently of the product's code: HMAC-SHA256(secret, "<timestamp>.<body>") in
// X-Support-Agent-Signature as "v1=<hex>", a timestamp within five minutes - and answers from a script.
//
// Like a real receiver it performs each action once per Idempotency-Key: effects() counts the distinct keys
// it accepted (a 2xx with a valid signature), even when its answer came too late for the client.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sa::test {

struct webhook_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  bool signature_valid = false;                ///< signature and timestamp checked with the receiver's secret
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& lower_name) const {
    auto i = headers.find(lower_name);
    return i == headers.end() ? std::string{} : i->second;
  }
};

struct webhook_reply {
  int status = 200;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};  ///< wait this long before answering (the client may give up first)
  bool stall = false;                  ///< never answer; wait until the client goes away
  std::vector<std::pair<std::string, std::string>> headers;

  webhook_reply(int status_ = 200, std::string body_ = "{}", std::chrono::milliseconds delay_ = {},
                bool stall_ = false, std::vector<std::pair<std::string, std::string>> headers_ = {})
    : status(status_), body(std::move(body_)), delay(delay_), stall(stall_), headers(std::move(headers_)) {}
};

class webhook_receiver {
public:
  explicit webhook_receiver(std::string secret);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

  /// The replies for the next requests, in order; after them, the default reply (200 "{}").
  void script(std::vector<webhook_reply> replies);
  void set_default(webhook_reply reply);

  std::vector<webhook_request> requests() const;
  std::size_t request_count() const;
  /// Distinct idempotency keys accepted with a valid signature (the actions this receiver performed).
  std::size_t effects() const;

  /// Waits until at least `n` requests arrived or `within` passes; true when they did.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return requests_.size() >= n; });
  }

private:
  void accept_loop();
  void serve(int fd);
  webhook_reply next_reply();
  bool verify(const webhook_request& r) const;
  /// Waits up to `ms` (-1: forever) for the client to close or the server to stop; true if so.
  bool client_gone(int fd, int ms);

  std::string secret_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<webhook_reply> script_;
  webhook_reply default_;
  std::vector<webhook_request> requests_;
  std::set<std::string> effects_;
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

} // namespace sa::test
