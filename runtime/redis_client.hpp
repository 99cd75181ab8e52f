// redis_client: the product's Redis client. One event-loop thread owns the connection (a non-blocking
// socket, optionally TLS through OpenSSL; hiredis only encodes commands and decodes replies), driven by
// poll() on the socket plus an eventfd for wake-ups, and pipelines every command of the process over it.
// Other threads hand it commands through one mutex-protected inbox and wake it.
//
// Results go to a redis_listener, called on the loop thread only. caf_redis_listener
// (runtime/redis_caf_listener.hpp) turns each callback into a message for an actor.
// Generic: any request/reply command (not SUBSCRIBE or MONITOR, which change what the connection
// answers: they need a connection of their own); knows nothing of support. Never logs arguments or
// replies (they may carry customer text), only counts, addresses and errors.
//
// Connection trouble: the loop reconnects with exponential backoff and jitter and, on every new
// connection, runs the TLS handshake (when options.tls is set: the server's certificate is always
// verified), then AUTH (when a password is set), SELECT (db != 0), PING (waits out LOADING) and SCRIPT
// LOAD of every preloaded script before it writes any queued command. Commands submitted while no
// connection is up wait in a bounded queue and are written, in submission order, once one is.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class redis_tls_context;

/// A reply, copied out of hiredis: owned, movable between threads.
struct redis_reply {
  enum class kind : uint8_t { nil = 0, status = 1, error = 2, integer = 3, string = 4, array = 5 };
  kind type = kind::nil;
  long long integer = 0;
  std::string str;                  ///< status, error and string replies
  std::vector<redis_reply> elements;///< array replies

  bool is_error() const noexcept { return type == kind::error; }
  /// An error reply whose first word is `prefix` ("NOSCRIPT", "LOADING", ...).
  bool is_error(const char* prefix) const;
};

/// Why a command got no reply. Stable numbers: used as metric labels and in messages.
enum class redis_error_kind : uint8_t {
  overflow = 1,        ///< refused at submit: max_pending commands already wait for a connection
  not_connected = 2,   ///< wait_for_connection was false and no connection was up
  connection_lost = 3, ///< the connection broke after the command was written: it may or may not have run
  stopped = 4,         ///< the client stopped before the command got a reply
  timeout = 5,         ///< no reply within reply_timeout (the connection is dropped as dead)
};

/// "overflow", "not_connected", ...
std::string to_string(redis_error_kind kind);

struct redis_error {
  redis_error_kind kind = redis_error_kind::connection_lost;
  std::string message;  ///< for an operator: the address and the problem, never command arguments
};

/// One command: its arguments (binary-safe) and what to do with it when the connection is not there.
struct redis_command {
  std::vector<std::string> args;
  /// true: when no connection is up, wait in the bounded queue (on_waiting tells the listener);
  /// false: fail at once with not_connected.
  bool wait_for_connection = true;
  /// true (for idempotent commands only): when the connection breaks after the command was written,
  /// write it again on the next connection (on_waiting tells the listener) instead of failing it with
  /// connection_lost. Requires wait_for_connection.
  bool resend_after_loss = false;
  /// true: never refused with overflow. For a command sent in place of one the caller already had accepted
  /// and answered (EVAL after NOSCRIPT): refusing it would drop what was promised, and it adds no load the
  /// bound did not already count.
  bool replaces_accepted = false;
};

/// Receives the outcome of commands. Every callback runs on the client's loop thread, so it must be quick
/// and must not block; it must not throw. Per command: on_waiting zero or more times (each time it starts
/// waiting for a connection: submitted while none was up, or put back after a connection loss), then
/// exactly one of on_reply or on_error. An error *reply* from Redis (-ERR ...) is a reply, not an error.
class redis_listener {
public:
  virtual ~redis_listener() = default;
  virtual void on_reply(uint64_t id, redis_reply reply) noexcept = 0;
  virtual void on_error(uint64_t id, const redis_error& error) noexcept = 0;
  virtual void on_waiting(uint64_t id) noexcept {}
};

struct redis_client_options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  ///< empty: no AUTH (the value itself comes from the environment, never a file)
  int db = 0;            ///< SELECTed on every connection
  /// TLS (runtime/redis_tls.hpp: CA store, client certificate, server name); null = plaintext. A failed
  /// handshake or verification is a failed connection attempt like any other (backoff, then again).
  std::shared_ptr<const redis_tls_context> tls;
  /// TCP connect plus the handshake (TLS, AUTH, SELECT, PING, SCRIPT LOAD) must finish within this.
  std::chrono::milliseconds connect_timeout{2'000};
  /// A command written but unanswered for this long marks the connection dead: it is closed and the
  /// loop reconnects (commands with resend_after_loss are written again). 0 = no limit.
  std::chrono::milliseconds reply_timeout{2'000};
  /// Reconnect delays: initial, doubled per failed attempt up to max, each with +-jitter (0..1) of itself.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2'000};
  double backoff_jitter = 0.5;
  /// Commands accepted but not yet written to a connection (waiting for one, or for a pipeline slot);
  /// a submit beyond this is refused with overflow. Commands put back after a connection loss are never
  /// refused, so the queue can exceed this by at most max_in_flight; nor are replaces_accepted ones.
  std::size_t max_pending = 10'000;
  /// Commands written and unanswered at once (pipeline depth).
  std::size_t max_in_flight = 1'024;
  /// Name of the loop thread (at most 15 characters).
  std::string thread_name = "sa-redis";
  /// Role of the logger ("redis": lines carry event=redis_*).
  std::string log_role = "redis";
};

/// Counters for metrics and tests; read at any time from any thread.
struct redis_client_stats {
  bool connected = false;          ///< a connection is up and its handshake done
  uint64_t pending = 0;            ///< commands waiting to be written
  uint64_t in_flight = 0;          ///< commands written and unanswered
  uint64_t submitted = 0;          ///< commands accepted
  uint64_t replies = 0;            ///< replies delivered (error replies included)
  uint64_t error_replies = 0;      ///< -ERR ... replies delivered
  uint64_t overflows = 0;          ///< submits refused because max_pending commands waited
  uint64_t failed = 0;             ///< on_error deliveries other than overflow (lost, timeout, stopped, ...)
  uint64_t resent = 0;             ///< commands written again after a connection loss
  uint64_t connects = 0;           ///< connections that completed their handshake
  uint64_t reconnects = 0;         ///< connects after the first
  uint64_t connect_failures = 0;   ///< attempts that failed (refused, timed out, TLS or handshake refused)
  uint64_t disconnects = 0;        ///< ready connections that were lost
};

class redis_client {
public:
  /// Starts the loop thread, which connects at once (and keeps trying in the background).
  explicit redis_client(redis_client_options options);
  /// Calls stop().
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  struct submitted {
    uint64_t id = 0;                                    ///< 0 when refused
    redis_error_kind refused = redis_error_kind::overflow;  ///< why, when id == 0
    explicit operator bool() const noexcept { return id != 0; }
  };

  /// Queues a command and returns its id. Refused (id 0, nothing called back) when max_pending commands
  /// already wait (overflow) or after stop() (stopped). Thread-safe. `listener` must not be null.
  [[nodiscard]] submitted submit(redis_command command, std::shared_ptr<redis_listener> listener);

  /// Registers a Lua script that every connection loads (SCRIPT LOAD) before writing queued commands, so
  /// EVALSHA works after a server restart or failover. Loaded on the current connection too. Returns its
  /// SHA-1 (hex), the name EVALSHA takes. Thread-safe.
  std::string preload_script(const std::string& body);

  /// Waits until no command is pending or in flight (true), or `within` passed (false). Thread-safe; must
  /// not be called from a listener callback.
  bool drain(std::chrono::milliseconds within);

  /// Fails every outstanding command with on_error{stopped} and joins the loop thread. Idempotent. Must
  /// not be called from a listener callback.
  void stop();

  [[nodiscard]] redis_client_stats stats() const noexcept;
  [[nodiscard]] bool connected() const noexcept;
  /// "host:port" for logs and messages.
  [[nodiscard]] const std::string& address() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// SHA-1 of `text` as 40 lower-case hex digits (the name Redis gives a script).
std::string redis_script_sha1(const std::string& text);

/// Splits "host:port" (port 1..65535; "[v6]:port" for IPv6). False when malformed.
bool parse_redis_address(const std::string& address, std::string& host, int& port);

} // namespace sa
