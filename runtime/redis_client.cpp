// redis_client: one loop thread drives one redis_connection (runtime/redis_connection.hpp: a non-blocking
// socket, TLS when configured, hiredis' encoder and reply decoder) through poll(): the connection's socket
// (the events it asks for) plus an eventfd that other threads write to after putting work in the inbox. It
// owns: the connection, the queue of commands waiting to be written, the commands in flight (Redis answers
// in order, so a deque matches replies to commands), the reconnect schedule and the preloaded scripts.
// Other threads only touch the inbox (under mtx_).
//
// Life of a connection: idle --(backoff elapsed)--> connecting (TCP, then the TLS handshake and
// certificate verification) --(opened)--> handshaking (AUTH, SELECT, PING, SCRIPT LOAD) --(all answered
// OK)--> ready (queued commands are written, up to max_in_flight). Any failure (I/O error, TLS failure,
// refused step, deadline) sets drop_reason_; after the I/O step close_connection() closes the socket, loses
// what was in flight (resendable commands go back to the front of the queue) and schedules the next attempt.
#include "runtime/redis_client.hpp"

#include "runtime/log.hpp"
#include "runtime/redis_connection.hpp"

#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

namespace sa {

namespace {

using clock_type = std::chrono::steady_clock;

long long count_ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

} // namespace

bool redis_reply::is_error(const char* prefix) const {
  if (type != kind::error)
    return false;
  auto n = std::strlen(prefix);
  return str.compare(0, n, prefix) == 0 && (str.size() == n || str[n] == ' ');
}

std::string to_string(redis_error_kind kind) {
  switch (kind) {
    case redis_error_kind::overflow: return "overflow";
    case redis_error_kind::not_connected: return "not_connected";
    case redis_error_kind::connection_lost: return "connection_lost";
    case redis_error_kind::stopped: return "stopped";
    case redis_error_kind::timeout: return "timeout";
  }
  return "connection_lost";
}

std::string redis_script_sha1(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

bool parse_redis_address(const std::string& address, std::string& host, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= address.size() || address.size() - colon > 6)
    return false;
  auto h = address.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']')
      return false;
    h = h.substr(1, h.size() - 2);
  }
  int p = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535)
    return false;
  host = h;
  port = p;
  return true;
}

struct redis_client::impl {
  enum class internal : uint8_t { none, auth, select, ping, script_load };

  struct command_entry {
    uint64_t id = 0;  // 0: an internal handshake command
    redis_command command;
    std::shared_ptr<redis_listener> listener;
    internal kind = internal::none;
    bool waiting_reported = false;
    clock_type::time_point written_at;
  };
  using entry_ptr = std::unique_ptr<command_entry>;

  // connecting: TCP connect and, with TLS, the TLS handshake (redis_connection); handshaking: AUTH,
  // SELECT, PING, SCRIPT LOAD; ready: queued commands are written.
  enum class conn_state : uint8_t { idle, connecting, handshaking, ready };

  redis_client_options options_;
  std::string address_;
  std::shared_ptr<spdlog::logger> log_;
  int wake_fd_ = -1;

  // --- shared with other threads --------------------------------------------------------------
  std::mutex mtx_;  // guards inbox_, script_inbox_, stopping_
  std::vector<entry_ptr> inbox_;
  std::vector<std::string> script_inbox_;
  bool stopping_ = false;
  std::condition_variable drained_cv_;
  std::atomic<int> drainers_{0};

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> pending_{0};  // inbox + queue
  std::atomic<uint64_t> in_flight_count_{0};
  std::atomic<uint64_t> submitted_{0}, replies_{0}, error_replies_{0}, overflows_{0}, failed_{0}, resent_{0},
    connects_{0}, reconnects_{0}, connect_failures_{0}, disconnects_{0};
  std::atomic<int64_t> last_overflow_log_ms_{0};
  std::atomic<uint64_t> overflows_logged_{0};

  std::thread thread_;

  // --- loop thread only -----------------------------------------------------------------------
  redis_connection conn_;
  redis_connection::reply_sink sink_ = [this](redis_reply&& r) { return handle_reply(std::move(r)); };
  conn_state state_ = conn_state::idle;
  bool down_ = false;                // the last attempt failed or the connection was lost
  bool stopping_loop_ = false;
  uint64_t failed_at_stop_ = 0;
  std::string drop_reason_;          // close the connection once the current I/O step returns
  redis_error_kind drop_kind_ = redis_error_kind::connection_lost;
  std::string last_error_;
  std::deque<entry_ptr> queue_;      // accepted, not yet written (in order)
  std::deque<entry_ptr> in_flight_;  // written, unanswered (Redis answers in this order)
  std::vector<entry_ptr> lost_;      // resendable commands whose connection broke (in order)
  int handshake_left_ = 0;
  int failed_attempts_ = 0;
  clock_type::time_point next_attempt_ = clock_type::now();
  clock_type::time_point attempt_deadline_;
  std::vector<std::pair<std::string, std::string>> scripts_;  // sha, body
  std::mt19937 rng_{std::random_device{}()};

  explicit impl(redis_client_options options)
    : options_(std::move(options)),
      address_(options_.host + ":" + std::to_string(options_.port)),
      log_(sa::log::get(options_.log_role)) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (options_.max_in_flight == 0)
      options_.max_in_flight = 1;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), options_.thread_name.substr(0, 15).c_str());
  }

  ~impl() {
    stop();
    if (wake_fd_ >= 0)
      ::close(wake_fd_);
  }

  // --- any thread -----------------------------------------------------------------------------

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

  submitted push(entry_ptr e) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return {0, redis_error_kind::stopped};
    if (pending_.load() >= options_.max_pending && !e->command.replaces_accepted) {
      ++overflows_;
      log_overflow();
      return {0, redis_error_kind::overflow};
    }
    auto id = e->id;
    bool was_empty = inbox_.empty();
    inbox_.push_back(std::move(e));
    ++pending_;
    ++submitted_;
    if (was_empty)
      wake();
    return {id, redis_error_kind::overflow};
  }

  /// At most one line per second, with the refusals since the last line.
  void log_overflow() {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now().time_since_epoch()).count();
    auto last = last_overflow_log_ms_.load();
    if (now - last < 1000 || !last_overflow_log_ms_.compare_exchange_strong(last, now))
      return;
    auto total = overflows_.load();
    log_->warn("event=redis_queue_overflow address={} max_pending={} refused_since_last_log={} refused_total={} "
               "connected={}",
               address_, options_.max_pending, total - overflows_logged_.exchange(total), total,
               connected_.load());
  }

  void stop() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_)
        return;
      stopping_ = true;
      wake();
    }
    if (thread_.joinable())
      thread_.join();
  }

  bool drain(std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mtx_};
    ++drainers_;
    auto ok = drained_cv_.wait_for(lock, within, [&] {
      return stopping_ || (pending_.load() == 0 && in_flight_count_.load() == 0);
    });
    --drainers_;
    return ok && pending_.load() == 0 && in_flight_count_.load() == 0;
  }

  // --- loop thread: the loop ------------------------------------------------------------------

  void run() {
    // OpenSSL writes with write(): a peer that closed the connection must give EPIPE, not kill the process.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      std::vector<entry_ptr> commands;
      std::vector<std::string> scripts;
      bool stopping;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        commands.swap(inbox_);
        scripts.swap(script_inbox_);
        stopping = stopping_;
      }
      if (stopping) {
        failed_at_stop_ = failed_.load();
        for (auto& c : commands)
          fail(std::move(c), {redis_error_kind::stopped, "redis client stopped"});
        break;
      }
      for (auto& body : scripts)
        add_script(body);
      for (auto& c : commands)
        accept(std::move(c));
      auto now = clock_type::now();
      if (state_ == conn_state::idle && now >= next_attempt_)
        connect();
      check_deadlines(now);
      flush();
      write_now();
      notify_drainers();
      poll_once(poll_timeout_ms(clock_type::now()));
    }
    shutdown();
  }

  void notify_drainers() {
    if (drainers_.load() > 0 && pending_.load() == 0 && in_flight_count_.load() == 0) {
      std::lock_guard<std::mutex> guard{mtx_};
      drained_cv_.notify_all();
    }
  }

  int poll_timeout_ms(clock_type::time_point now) const {
    auto next = now + std::chrono::seconds(1);
    if (state_ == conn_state::idle)
      next = std::min(next, next_attempt_);
    if (state_ == conn_state::connecting || state_ == conn_state::handshaking)
      next = std::min(next, attempt_deadline_);
    if (state_ == conn_state::ready && !in_flight_.empty() && options_.reply_timeout.count() > 0)
      next = std::min(next, in_flight_.front()->written_at + options_.reply_timeout);
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, 1000));
  }

  void poll_once(int timeout_ms) {
    pollfd fds[2];
    fds[0] = {wake_fd_, POLLIN, 0};
    nfds_t n = 1;
    if (auto events = conn_.poll_events(); events != 0) {
      fds[1] = {conn_.fd(), events, 0};
      n = 2;
    }
    int rc = ::poll(fds, n, timeout_ms);
    if (rc <= 0)
      return;
    if (fds[0].revents) {
      uint64_t value = 0;
      [[maybe_unused]] auto r = ::read(wake_fd_, &value, sizeof value);
    }
    if (n == 2 && fds[1].revents) {
      on_outcome(conn_.on_poll(fds[1].revents, sink_));
      after_io();
    }
  }

  /// What the connection reports: usable (start the Redis handshake) or broken (close it).
  void on_outcome(redis_connection::outcome o) {
    if (o == redis_connection::outcome::opened && state_ == conn_state::connecting)
      start_handshake();
    else if (o == redis_connection::outcome::failed)
      drop(conn_.error(), redis_error_kind::connection_lost);
  }

  /// Writes what is buffered, outside a poll wake-up (a new command need not wait for one).
  void write_now() {
    if (conn_.state() == redis_connection::phase::open && conn_.has_output() && drop_reason_.empty()) {
      on_outcome(conn_.write_now());
      after_io();
    }
  }

  /// After any I/O step: close the connection if it broke or a step asked for it.
  void after_io() {
    if (state_ != conn_state::idle && !drop_reason_.empty())
      close_connection();
  }

  void check_deadlines(clock_type::time_point now) {
    if ((state_ == conn_state::connecting || state_ == conn_state::handshaking) && now >= attempt_deadline_) {
      drop("no connection within " + std::to_string(count_ms(options_.connect_timeout)) + " ms"
             + (conn_.state() == redis_connection::phase::tls_handshake ? " (TLS handshake unfinished)" : ""),
           redis_error_kind::connection_lost);
      after_io();
      return;
    }
    if (state_ == conn_state::ready && !in_flight_.empty() && options_.reply_timeout.count() > 0
        && now >= in_flight_.front()->written_at + options_.reply_timeout) {
      drop("no reply within " + std::to_string(count_ms(options_.reply_timeout)) + " ms",
           redis_error_kind::timeout);
      after_io();
    }
  }

  void drop(std::string reason, redis_error_kind kind) {
    if (drop_reason_.empty()) {
      drop_reason_ = std::move(reason);
      drop_kind_ = kind;
    }
  }

  void shutdown() {
    stopping_loop_ = true;
    while (!queue_.empty()) {
      auto c = std::move(queue_.front());
      queue_.pop_front();
      --pending_;
      fail(std::move(c), {redis_error_kind::stopped, "redis client stopped"});
    }
    if (state_ != conn_state::idle) {
      drop("client stopped", redis_error_kind::stopped);
      conn_.close(/*polite=*/true);
      while (!in_flight_.empty()) {
        auto c = std::move(in_flight_.front());
        in_flight_.pop_front();
        --in_flight_count_;
        lose(std::move(c));
      }
    }
    for (auto& c : lost_)
      fail(std::move(c), {redis_error_kind::stopped, "redis client stopped"});
    lost_.clear();
    connected_ = false;
    if (auto n = failed_.load() - failed_at_stop_; n > 0)
      log_->warn("event=redis_stopped_with_pending address={} failed={}", address_, n);
    std::lock_guard<std::mutex> guard{mtx_};
    drained_cv_.notify_all();
  }

  // --- loop thread: commands ------------------------------------------------------------------

  /// A new command. While the first connection is still being tried nobody knows yet whether Redis is
  /// there: the command just waits. Once Redis is known to be down (an attempt failed, a connection was
  /// lost), a command either learns that it waits (on_waiting) or fails at once (not_connected).
  void accept(entry_ptr c) {
    if (state_ != conn_state::ready && down_) {
      if (!c->command.wait_for_connection) {
        --pending_;
        fail(std::move(c), {redis_error_kind::not_connected, "no connection to redis at " + address_
                                                               + (last_error_.empty() ? "" : ": " + last_error_)});
        return;
      }
      c->waiting_reported = true;
      c->listener->on_waiting(c->id);
    }
    queue_.push_back(std::move(c));
  }

  /// Redis just became known to be down: commands not willing to wait fail, the others learn they wait.
  void mark_waiting(const std::string& reason) {
    for (auto i = queue_.begin(); i != queue_.end();) {
      auto& c = *i;
      if (!c->command.wait_for_connection) {
        auto owned = std::move(c);
        i = queue_.erase(i);
        --pending_;
        fail(std::move(owned), {redis_error_kind::not_connected, "no connection to redis at " + address_ + ": " + reason});
        continue;
      }
      if (!c->waiting_reported) {
        c->waiting_reported = true;
        c->listener->on_waiting(c->id);
      }
      ++i;
    }
  }

  void flush() {
    while (state_ == conn_state::ready && !queue_.empty() && in_flight_.size() < options_.max_in_flight) {
      if (!write(queue_.front()))
        return;
      auto c = std::move(queue_.front());
      queue_.pop_front();
      --pending_;
      c->waiting_reported = false;
      in_flight_.push_back(std::move(c));
      ++in_flight_count_;
    }
  }

  /// Encodes one command into the connection's output buffer (written by write_now or on writability).
  bool write(entry_ptr& c) {
    if (!conn_.append_command(c->command.args))
      return false;
    c->written_at = clock_type::now();
    return true;
  }

  void write_internal(internal kind, std::vector<std::string> args) {
    auto e = std::make_unique<command_entry>();
    e->kind = kind;
    e->command.args = std::move(args);
    if (!write(e)) {
      drop("cannot write the handshake", redis_error_kind::connection_lost);
      return;
    }
    ++handshake_left_;
    in_flight_.push_back(std::move(e));
    ++in_flight_count_;
  }

  void fail(entry_ptr c, const redis_error& e) {
    if (c->kind != internal::none)
      return;
    ++failed_;
    auto listener = std::move(c->listener);
    auto id = c->id;
    c.reset();
    listener->on_error(id, e);
  }

  void add_script(const std::string& body) {
    auto sha = redis_script_sha1(body);
    for (auto& [s, b] : scripts_)
      if (s == sha)
        return;
    scripts_.emplace_back(sha, body);
    if (state_ == conn_state::ready || state_ == conn_state::handshaking)
      write_internal(internal::script_load, {"SCRIPT", "LOAD", body});
    // not connected: the next handshake loads it
  }

  // --- loop thread: replies -------------------------------------------------------------------

  /// One decoded reply: it answers the oldest command in flight. False: stop reading (the connection is
  /// being dropped; what is still in flight is lost, and resent when it may be).
  bool handle_reply(redis_reply reply) {
    if (in_flight_.empty()) {
      drop("a reply to no command (protocol out of step)", redis_error_kind::connection_lost);
      return false;
    }
    auto c = std::move(in_flight_.front());
    in_flight_.pop_front();
    --in_flight_count_;
    if (c->kind != internal::none) {
      handshake_reply(*c, reply);
      return drop_reason_.empty();
    }
    // A server that is loading its data set or became a replica cannot take writes on this connection:
    // treat it as a connection loss (resendable commands wait for the next connection).
    if (reply.is_error("LOADING") || reply.is_error("READONLY") || reply.is_error("MASTERDOWN")) {
      drop("server answered " + reply.str.substr(0, reply.str.find(' ')), redis_error_kind::connection_lost);
      lose(std::move(c));
      return false;
    }
    ++replies_;
    if (reply.is_error())
      ++error_replies_;
    auto listener = std::move(c->listener);
    auto id = c->id;
    c.reset();
    listener->on_reply(id, std::move(reply));
    return true;
  }

  void lose(entry_ptr c) {
    if (c->kind != internal::none)
      return;
    if (stopping_loop_) {
      fail(std::move(c), {redis_error_kind::stopped, "redis client stopped"});
      return;
    }
    if (c->command.resend_after_loss && c->command.wait_for_connection) {
      lost_.push_back(std::move(c));
      return;
    }
    auto kind = drop_reason_.empty() ? redis_error_kind::connection_lost : drop_kind_;
    fail(std::move(c), {kind, "connection to redis at " + address_ + " lost with the command unanswered"
                                + (drop_reason_.empty() ? "" : " (" + drop_reason_ + ")")});
  }

  void handshake_reply(const command_entry& c, const redis_reply& reply) {
    auto kind = c.kind;
    if (kind == internal::script_load && reply.is_error("ERR") && drop_reason_.empty()) {
      // A script Redis refuses (a syntax error) would fail every handshake: forget it, say so loudly.
      auto sha = redis_script_sha1(c.command.args.back());
      log_->error("event=redis_script_rejected address={} sha={} error=\"{}\"", address_, sha, reply.str);
      scripts_.erase(std::remove_if(scripts_.begin(), scripts_.end(), [&](auto& s) { return s.first == sha; }),
                     scripts_.end());
    } else if (reply.is_error()) {
      // The error text comes from Redis (WRONGPASS, NOAUTH, ERR DB index is out of range, LOADING ...);
      // it never holds the password.
      const char* step = kind == internal::auth     ? "AUTH"
                         : kind == internal::select ? "SELECT"
                         : kind == internal::ping   ? "PING"
                                                    : "SCRIPT LOAD";
      drop(std::string(step) + " refused: " + reply.str, redis_error_kind::connection_lost);
      return;
    }
    if (kind == internal::script_load && state_ == conn_state::ready)
      return;  // a script added while connected
    if (--handshake_left_ > 0 || state_ != conn_state::handshaking)
      return;
    state_ = conn_state::ready;
    down_ = false;
    connected_ = true;
    bool again = connects_++ > 0;
    if (again)
      ++reconnects_;
    failed_attempts_ = 0;
    last_error_.clear();
    auto tls = conn_.tls_description();
    log_->info("event=redis_connected address={} db={} tls=\"{}\" reconnect={} queued={}", address_, options_.db,
               tls.empty() ? "off" : tls, again, queue_.size());
  }

  // --- loop thread: connection life -----------------------------------------------------------

  void connect() {
    drop_reason_.clear();
    if (conn_.open(options_.host, options_.port, options_.tls) == redis_connection::outcome::failed) {
      last_error_ = conn_.error();
      attempt_failed();
      return;
    }
    state_ = conn_state::connecting;
    attempt_deadline_ = clock_type::now() + options_.connect_timeout;
  }

  void start_handshake() {
    state_ = conn_state::handshaking;
    handshake_left_ = 0;
    if (!options_.password.empty())
      write_internal(internal::auth, {"AUTH", options_.password});
    if (options_.db != 0)
      write_internal(internal::select, {"SELECT", std::to_string(options_.db)});
    write_internal(internal::ping, {"PING"});
    for (auto& [sha, body] : scripts_)
      write_internal(internal::script_load, {"SCRIPT", "LOAD", body});
  }

  /// Closes the connection: what was in flight is lost (resendable commands go back to the front of the
  /// queue), and the next attempt is scheduled.
  void close_connection() {
    auto was = state_;
    if (was == conn_state::ready)
      ++disconnects_;  // counted before any listener hears of it
    connected_ = false;
    conn_.close();
    while (!in_flight_.empty()) {  // in order, while drop_reason_ still says why
      auto c = std::move(in_flight_.front());
      in_flight_.pop_front();
      --in_flight_count_;
      lose(std::move(c));
    }
    on_closed(was);
  }

  void on_closed(conn_state was) {
    state_ = conn_state::idle;
    down_ = true;
    auto reason = !drop_reason_.empty() ? drop_reason_ : (last_error_.empty() ? "connection closed" : last_error_);
    drop_reason_.clear();
    last_error_ = reason;
    auto resent = lost_.size();
    for (auto i = lost_.rbegin(); i != lost_.rend(); ++i)
      queue_.push_front(std::move(*i));
    lost_.clear();
    pending_ += resent;
    resent_ += resent;
    mark_waiting(reason);
    if (was == conn_state::ready) {
      next_attempt_ = clock_type::now() + backoff(0);
      log_->warn("event=redis_disconnected address={} reason=\"{}\" resending={} queued={} retry_in_ms={}",
                 address_, reason, resent, queue_.size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - clock_type::now()).count());
      failed_attempts_ = 1;
    } else {
      attempt_failed();
    }
  }

  void attempt_failed() {
    state_ = conn_state::idle;
    down_ = true;
    ++connect_failures_;
    auto delay = backoff(failed_attempts_);
    next_attempt_ = clock_type::now() + delay;
    ++failed_attempts_;
    // Every attempt while the outage is young, then at powers of two: bounded log volume.
    auto n = failed_attempts_;
    auto level = (n <= 3 || (n & (n - 1)) == 0) ? spdlog::level::warn : spdlog::level::debug;
    log_->log(level, "event=redis_connect_failed address={} attempt={} error=\"{}\" retry_in_ms={} queued={}",
              address_, n, last_error_, count_ms(delay), queue_.size());
    mark_waiting(last_error_);
  }

  std::chrono::milliseconds backoff(int attempt) {
    double base = static_cast<double>(options_.backoff_initial.count()) * std::pow(2.0, std::min(attempt, 30));
    base = std::min(base, static_cast<double>(options_.backoff_max.count()));
    std::uniform_real_distribution<double> jitter(-options_.backoff_jitter, options_.backoff_jitter);
    auto ms = base * (1.0 + jitter(rng_));
    return std::chrono::milliseconds{static_cast<long long>(std::max(1.0, ms))};
  }
};

redis_client::redis_client(redis_client_options options) : impl_(std::make_unique<impl>(std::move(options))) {
}

redis_client::~redis_client() = default;

redis_client::submitted redis_client::submit(redis_command command, std::shared_ptr<redis_listener> listener) {
  assert(listener && "redis_client::submit needs a listener");
  auto e = std::make_unique<impl::command_entry>();
  e->id = impl_->next_id_++;
  e->command = std::move(command);
  if (!e->command.wait_for_connection)
    e->command.resend_after_loss = false;
  e->listener = std::move(listener);
  return impl_->push(std::move(e));
}

std::string redis_client::preload_script(const std::string& body) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx_};
    if (!impl_->stopping_) {
      impl_->script_inbox_.push_back(body);
      impl_->wake();
    }
  }
  return redis_script_sha1(body);
}

bool redis_client::drain(std::chrono::milliseconds within) {
  return impl_->drain(within);
}

void redis_client::stop() {
  impl_->stop();
}

redis_client_stats redis_client::stats() const noexcept {
  auto& i = *impl_;
  redis_client_stats s;
  s.connected = i.connected_.load();
  s.pending = i.pending_.load();
  s.in_flight = i.in_flight_count_.load();
  s.submitted = i.submitted_.load();
  s.replies = i.replies_.load();
  s.error_replies = i.error_replies_.load();
  s.overflows = i.overflows_.load();
  s.failed = i.failed_.load();
  s.resent = i.resent_.load();
  s.connects = i.connects_.load();
  s.reconnects = i.reconnects_.load();
  s.connect_failures = i.connect_failures_.load();
  s.disconnects = i.disconnects_.load();
  return s;
}

bool redis_client::connected() const noexcept {
  return impl_->connected_.load();
}

const std::string& redis_client::address() const noexcept {
  return impl_->address_;
}

} // namespace sa
