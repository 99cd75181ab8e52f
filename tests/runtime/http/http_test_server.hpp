// A loopback HTTP/1.1 server for the http client's tests: POSIX sockets, a thread per connection
// (threads are named "srv-*" so tests can tell them from the client's). Scripted by path:
//   /hello                     200, Content-Length body "hello", keep-alive
//   /stream?n=N&gap=MS         chunked, N chunks "chunk-<i>;" with a pause of MS between them
//   /drip?gap=MS               chunked, a chunk every MS until the client goes away
//   /stall-headers             reads the request, then sends nothing
//   /stall-body                headers and one chunk "first", then nothing
//   /reset                     headers and one chunk, then a TCP reset (SO_LINGER 0)
//   /gate?n=N                  holds each request until N of them are waiting, then 200 "gate"
// Pauses are server-side only; the server notices a client that closes during a pause or stall.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sa::test {

class http_test_server {
public:
  http_test_server();
  ~http_test_server();
  http_test_server(const http_test_server&) = delete;
  http_test_server& operator=(const http_test_server&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

  /// Sockets accepted so far.
  int accepted() const { return accepted_.load(); }
  /// Connections the client closed while the server was pausing, stalling or streaming.
  int peer_closed() const { return peer_closed_.load(); }

  /// Waits until pred() holds or `within` has passed; returns pred().
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return pred(); });
  }
  int gate_arrivals() const { return gate_arrivals_.load(); }

private:
  void accept_loop();
  void serve(int fd);
  /// Waits up to `ms` (-1: forever) for the client to close; true when it did (or we are stopping).
  bool client_gone(int fd, int ms);
  void notify();

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> peer_closed_{0};
  std::atomic<int> gate_arrivals_{0};
  std::mutex mtx_;
  std::condition_variable cv_;
  std::thread acceptor_;
  std::vector<std::thread> connections_; // guarded by mtx_
};

} // namespace sa::test
