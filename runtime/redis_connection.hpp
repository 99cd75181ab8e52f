// redis_connection: one connection to Redis as the Redis client's loop drives it: a non-blocking TCP
// socket, optionally an OpenSSL session over it (runtime/redis_tls.hpp), an output buffer of encoded
// commands and a reply decoder. hiredis only encodes (redisFormatCommandArgv) and decodes (redisReader);
// the socket and the TLS session are ours, so plaintext and TLS share one I/O path.
//
// It knows bytes and replies, not commands: the client (runtime/redis_client.cpp) matches replies to the
// commands it wrote, in order. Not thread-safe: the loop thread owns it.
//
//   conn.open(host, port, tls);              // resolve + non-blocking connect (+ TLS session prepared)
//   poll({conn.fd(), conn.poll_events()});   // in the loop
//   switch (conn.on_poll(revents, sink)) {   // connect, TLS handshake, read replies, write output
//     case opened: ...  case failed: conn.error() ...
//   }
//   conn.append_command({"PING"}); conn.write_now();
#pragma once

#include "runtime/redis_client.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

typedef struct ssl_st SSL;
typedef struct redisReader redisReader;

namespace sa {

class redis_tls_context;

class redis_connection {
public:
  enum class phase : uint8_t { closed, connecting, tls_handshake, open };
  enum class outcome : uint8_t {
    none,    ///< nothing changed (or progress within the current phase)
    opened,  ///< TCP connected and, with TLS, the handshake and certificate verification succeeded
    failed,  ///< the connection broke or could not be made: error() says why; it is closed already
  };
  /// Receives each decoded reply, in order; returns false to stop reading (the caller closes).
  using reply_sink = std::function<bool(redis_reply&&)>;

  redis_connection() = default;
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Closes any previous connection, resolves `host` (getaddrinfo: blocks the calling loop thread, IPv4
  /// first like hiredis) and starts a non-blocking connect. With `tls`, the session verifies the server's
  /// certificate against tls->server_name(), or `host` when that is empty (an IP address is matched
  /// against the certificate's IP SANs and sent without SNI). failed: error() says why.
  outcome open(const std::string& host, int port, std::shared_ptr<const redis_tls_context> tls);

  /// After poll(): finishes the connect, drives the TLS handshake, reads and decodes replies into `sink`,
  /// writes pending output. opened once the connection is usable; failed when it broke.
  outcome on_poll(short revents, const reply_sink& sink);

  /// Encodes one command into the output buffer; false when it cannot be encoded (out of memory).
  bool append_command(const std::vector<std::string>& args);
  /// Writes what the socket takes now. failed when the connection broke.
  outcome write_now();

  /// Releases the socket and the TLS session; the unwritten output and undecoded input are discarded.
  /// `polite`: send a TLS close_notify first (best effort, never waits). Idempotent.
  void close(bool polite = false);

  phase state() const noexcept { return phase_; }
  int fd() const noexcept { return fd_; }
  /// The poll() events the connection waits for now; 0 when closed.
  short poll_events() const noexcept;
  bool has_output() const noexcept { return out_off_ < out_.size(); }
  /// Why the last open() or on_poll() failed: the address problem, the OpenSSL reason, ... (no secrets).
  const std::string& error() const noexcept { return error_; }
  /// "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done; "" for plaintext.
  std::string tls_description() const;

private:
  enum class read_result : uint8_t { drained, halted, failed };

  bool start_tls();
  outcome handshake();
  read_result read(const reply_sink& sink);
  outcome fail(std::string why);
  std::string tls_reason(int ssl_error, int saved_errno) const;

  int fd_ = -1;
  phase phase_ = phase::closed;
  std::string host_;
  std::string verify_name_;
  std::shared_ptr<const redis_tls_context> tls_;
  SSL* ssl_ = nullptr;
  redisReader* reader_ = nullptr;
  std::string out_;          // encoded commands; out_[out_off_..] is not written yet
  std::size_t out_off_ = 0;
  int retry_len_ = 0;        // an SSL_write that would block is repeated with this length
  bool handshake_wants_write_ = false;
  bool read_wants_write_ = false;   // SSL_read needs the socket writable (renegotiation, key update)
  bool write_wants_read_ = false;   // SSL_write needs the socket readable
  std::string error_;
};

} // namespace sa
