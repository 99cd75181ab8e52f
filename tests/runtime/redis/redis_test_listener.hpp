// A redis_listener that records every callback, for tests: wait for outcomes with a deadline, then inspect;
// with cmd/submit to send commands through it and eventually() for counters.
#pragma once

#include "runtime/redis_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

namespace sa::test {

struct redis_outcome {
  bool replied = false;
  redis_reply reply;
  redis_error error;
  int waiting = 0;  ///< on_waiting calls before the outcome
  bool done = false;
};

class recording_redis_listener : public redis_listener {
public:
  void on_reply(uint64_t id, redis_reply reply) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& o = outcomes_[id];
    o.replied = true;
    o.reply = std::move(reply);
    o.done = true;
    order_.push_back(id);
    ++done_;
    cv_.notify_all();
  }
  void on_error(uint64_t id, const redis_error& e) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& o = outcomes_[id];
    o.error = e;
    o.done = true;
    order_.push_back(id);
    ++done_;
    cv_.notify_all();
  }
  void on_waiting(uint64_t id) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    ++outcomes_[id].waiting;
    ++waiting_;
    cv_.notify_all();
  }

  /// Waits until `n` commands have their outcome.
  bool wait_done(size_t n, std::chrono::milliseconds within = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return done_ >= n; });
  }
  /// Waits until on_waiting was called `n` times in total.
  bool wait_waiting(size_t n, std::chrono::milliseconds within = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, within, [&] { return waiting_ >= n; });
  }
  redis_outcome outcome(uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx_};
    return outcomes_[id];
  }
  /// Ids in the order their outcome arrived.
  std::vector<uint64_t> order() {
    std::lock_guard<std::mutex> guard{mtx_};
    return order_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::map<uint64_t, redis_outcome> outcomes_;
  std::vector<uint64_t> order_;
  size_t done_ = 0;
  size_t waiting_ = 0;
};

/// A command for redis_client::submit: `wait` for a connection when there is none, `resend` it after a
/// connection loss.
inline redis_command cmd(std::vector<std::string> args, bool wait = true, bool resend = false) {
  redis_command c;
  c.args = std::move(args);
  c.wait_for_connection = wait;
  c.resend_after_loss = resend;
  return c;
}

/// Submits cmd(args, wait, resend) with `l` as its listener; REQUIREs that the client took it, returns its id.
inline uint64_t submit(redis_client& client, const std::shared_ptr<recording_redis_listener>& l,
                       std::vector<std::string> args, bool wait = true, bool resend = false) {
  auto s = client.submit(cmd(std::move(args), wait, resend), l);
  REQUIRE(s);
  return s.id;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(20));

/// The outcome of a command that does not wait, once the client failed `attempts` connection attempts:
/// REQUIREs that it was refused (not_connected) rather than answered.
inline redis_outcome refused_outcome(redis_client& client, uint64_t attempts) {
  REQUIRE(eventually([&] { return client.stats().connect_failures >= attempts; }));
  auto l = std::make_shared<recording_redis_listener>();
  auto id = submit(client, l, {"GET", "k"}, /*wait=*/false);
  REQUIRE(l->wait_done(1));
  auto o = l->outcome(id);
  REQUIRE_FALSE(o.replied);
  CHECK(o.error.kind == redis_error_kind::not_connected);
  return o;
}

/// Polls `pred` until it holds or `within` passes (for counters the client updates on its own thread).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within) {
  auto until = std::chrono::steady_clock::now() + within;
  auto pause = std::chrono::milliseconds(1);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
}

} // namespace sa::test
