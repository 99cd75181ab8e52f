// A listener that records every callback, for tests: wait for events with a deadline, then inspect.
#pragma once

#include "runtime/http_client.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace sa::test {

struct http_event {
  enum kind_t { headers, chunk, complete, error } kind;
  uint64_t id = 0;
  int status = 0;
  std::string data;
  http_error_kind error_kind = http_error_kind::other;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
};

class recording_listener : public http_listener {
public:
  void on_headers(uint64_t id, int status, const http_headers& hs) noexcept override {
    std::string names;
    for (auto& h : hs)
      names += h.first + "=" + h.second + "\n";
    add({http_event::headers, id, status, names});
  }
  void on_chunk(uint64_t id, std::string chunk) noexcept override {
    add({http_event::chunk, id, 0, std::move(chunk)});
  }
  void on_complete(uint64_t id) noexcept override { add({http_event::complete, id, 0, {}}); }
  void on_error(uint64_t id, const http_error& e) noexcept override {
    add({http_event::error, id, 0, e.message, e.kind});
  }

  /// Waits until `n` requests have ended (complete or error).
  bool wait_terminal(size_t n, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return terminal_ >= n; });
  }
  bool wait_chunks(size_t n, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return chunks_ >= n; });
  }
  std::vector<http_event> events() {
    std::lock_guard<std::mutex> guard{mtx_};
    return events_;
  }

private:
  void add(http_event e) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (e.kind == http_event::complete || e.kind == http_event::error)
      ++terminal_;
    if (e.kind == http_event::chunk)
      ++chunks_;
    events_.push_back(std::move(e));
    cv_.notify_all();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<http_event> events_;
  size_t terminal_ = 0;
  size_t chunks_ = 0;
};

} // namespace sa::test
