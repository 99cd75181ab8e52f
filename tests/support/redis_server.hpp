// redis_server: a real redis-server (Debian's redis-server package) run as a child process for one test:
// its own free port on 127.0.0.1 and its own temporary directory, no persistence unless asked, killed
// (and its directory removed) by the destructor. Tests in parallel never share one.
//
//   sa::test::redis_server redis;                      // started and answering PING
//   client_options.port = redis.port();
//   redis.kill();                                      // SIGKILL: a crash, mid-conversation if you like
//   redis.start();                                     // again, same port and directory (AOF replayed)
//   auto r = redis.command({"LRANGE", "k", "0", "-1"});  // a blocking command on a fresh connection
//
// With options.tls the server speaks TLS only (--port 0 --tls-port P): a throwaway PKI is made in its
// directory first (bench/tls_pki.hpp; tls() gives the paths), and command() talks TLS too (blocking OpenSSL,
// verifying the server against the PKI's CA and presenting the client certificate): a check that does not
// go through the redis_client under test.
//
// Starting waits (deadline loop) until the server answers PING and INFO names our child's pid, so a
// server of another test that grabbed the same port is never mistaken for ours; a port taken between
// choosing and binding it is retried with another one. Links: sa_redis_test_server.
//
// The client side, shared by the Redis tests (runtime/redis, memory, cluster registry, audit):
//   auto server = redis_server{tls_only(/*auth_clients=*/true)};
//   redis_client client{client_options_for(server, client_tls(server.tls().ca_cert, &server.tls()))};
#pragma once

#include "bench/tls_pki.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sa::test {

struct redis_server_options {
  /// appendonly yes + appendfsync always: every write acknowledged by Redis is on disk, so it survives
  /// kill() + start().
  bool aof_always = false;
  std::string password;                 ///< requirepass; empty = none
  std::vector<std::string> extra_args;  ///< more "--name value" arguments
  bool tls = false;                     ///< TLS only: --port 0 --tls-port P, certificates of tls()
  bool tls_auth_clients = false;        ///< with tls: clients must present a certificate the CA signed
};

class redis_server {
public:
  /// Starts the server. Throws std::runtime_error (with the end of its log) when it cannot.
  explicit redis_server(redis_server_options options = {});
  /// Kills the server and removes its directory.
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  uint16_t port() const noexcept { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }
  /// The PKI the server's certificate comes from (options.tls only; empty paths otherwise).
  const sa::bench::tls_pki& tls() const noexcept { return pki_; }
  bool running() const noexcept { return pid_ > 0; }

  /// SIGKILL and reap: a crash (no shutdown save, connections reset).
  void kill();
  /// Starts again on the same port and directory; waits until it answers (after loading its AOF).
  /// Throws std::runtime_error when it cannot.
  void start();
  /// SIGSTOP / SIGCONT: a hung server (connections stay open, nothing is answered).
  void pause();
  void resume();

  /// The password command() and start() authenticate with from now on (after CONFIG SET requirepass).
  void use_password(std::string password) { options_.password = std::move(password); }

  /// Runs one command on a new connection (AUTH with the password, SELECT `db`) and returns the reply;
  /// throws std::runtime_error when the server cannot be reached.
  redis_reply command(const std::vector<std::string>& args, int db = 0) const;

  /// The last lines of the server's log, for failure messages.
  std::string log_tail() const;

private:
  bool launch(std::string* why);
  bool wait_ready(std::chrono::milliseconds within, std::string* why);

  redis_server_options options_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  sa::bench::tls_pki pki_;
};

/// Options for a TLS-only server (its own throwaway PKI): with `auth_clients` clients must present a
/// certificate the CA signed; a non-empty `password` is required (requirepass).
redis_server_options tls_only(bool auth_clients = false, std::string password = {});

/// A client TLS context that trusts `ca_file`, presents `client`'s client certificate when given, and
/// verifies `server_name` (empty: the host connected to). Throws std::runtime_error with the loader's
/// message when it cannot be loaded.
std::shared_ptr<const redis_tls_context> client_tls(const std::string& ca_file,
                                                    const sa::bench::tls_pki* client = nullptr,
                                                    std::string server_name = {});

/// Client options for `server`: its port on `host` (127.0.0.1 or a name for it), TLS with `tls` (null:
/// plaintext), and quick reconnects (backoff 5 ms to 100 ms) for tests that kill, restart or refuse.
redis_client_options client_options_for(const redis_server& server,
                                        std::shared_ptr<const redis_tls_context> tls = nullptr,
                                        std::string host = "127.0.0.1");


} // namespace sa::test
