// redis_tls: the TLS side of the Redis client. A redis_tls_context is loaded once (CA store, optional
// client certificate for mutual TLS, the name the server's certificate must carry) and shared, immutable,
// by every connection a redis_client makes; redis_client drives one OpenSSL session per connection on its
// own non-blocking socket. Peer verification is always on: there is no switch to turn it off.
//
//   redis_tls_options t;
//   t.ca_file = "/etc/redis/ca.pem";                 // empty: the system's default CA store
//   auto tls = redis_tls_context::load(t);           // failure: names the field, the path and the reason
//   if (!tls) { report(tls.error()); return; }
//   client_options.tls = *tls;                       // null (the default): plaintext
#pragma once

#include "runtime/result.hpp"

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace sa {

/// What a TLS connection to Redis trusts and presents. Files are PEM.
struct redis_tls_options {
  std::string ca_file;      ///< CA bundle that verifies the server; empty = the system's default store
  std::string cert_file;    ///< client certificate (chain) for mutual TLS; set together with key_file, or neither
  std::string key_file;     ///< the client certificate's private key (unencrypted: nobody is there to type a passphrase)
  std::string server_name;  ///< SNI and the name the server's certificate must carry; empty = the host connected to
  /// How failure messages name the fields: field_prefix + "ca_file", ... (e.g. "memory.redis_tls_" for the
  /// config keys).
  std::string field_prefix;
};

class redis_tls_context {
public:
  /// Loads the CA store and the client certificate. A failure message names the field at fault (with
  /// options.field_prefix), its value and OpenSSL's reason:
  /// `ca_file = "/x.pem": cannot load the CA bundle (PEM certificates expected): no certificate or crl found`.
  static result<std::shared_ptr<const redis_tls_context>> load(const redis_tls_options& options);

  ~redis_tls_context();
  redis_tls_context(const redis_tls_context&) = delete;
  redis_tls_context& operator=(const redis_tls_context&) = delete;

  /// The OpenSSL context (thread-safe to create sessions from; never modified after load).
  SSL_CTX* native() const noexcept { return ctx_; }
  /// The configured server name; empty = verify the host connected to.
  const std::string& server_name() const noexcept { return server_name_; }
  /// true when a client certificate is presented (mutual TLS).
  bool mutual() const noexcept { return mutual_; }

private:
  redis_tls_context(SSL_CTX* ctx, std::string server_name, bool mutual);

  SSL_CTX* ctx_;
  std::string server_name_;
  bool mutual_;
};

/// The reason of the last OpenSSL error on this thread ("certificate verify failed", ...), then clears the
/// thread's error queue; `fallback` when there is none. Never holds key material.
std::string openssl_error_reason(const std::string& fallback);

} // namespace sa
