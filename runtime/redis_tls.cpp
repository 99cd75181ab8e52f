// redis_tls: loading the client-side OpenSSL context of the Redis client. The per-connection session
// (handshake, reads and writes on the non-blocking socket) lives in redis_client.cpp's loop.
#include "runtime/redis_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sa {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

/// Empty when `path` can be opened for reading, else why not ("No such file or directory", ...).
std::string unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return std::strerror(errno);
  std::fclose(f);
  return {};
}

/// No passphrase prompt on the terminal for an encrypted key: a service has nobody to type it.
int no_passphrase(char*, int, int, void*) { return 0; }

} // namespace

std::string openssl_error_reason(const std::string& fallback) {
  unsigned long last = 0;
  while (auto e = ERR_get_error())
    last = e;
  if (last == 0)
    return fallback;
  if (const char* reason = ERR_reason_error_string(last))
    return reason;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

redis_tls_context::redis_tls_context(SSL_CTX* ctx, std::string server_name, bool mutual)
  : ctx_(ctx), server_name_(std::move(server_name)), mutual_(mutual) {}

redis_tls_context::~redis_tls_context() { SSL_CTX_free(ctx_); }

result<std::shared_ptr<const redis_tls_context>> redis_tls_context::load(const redis_tls_options& o) {
  auto field = [&](const char* name, const std::string& value) {
    return o.field_prefix + name + " = " + quoted(value);
  };
  if (o.cert_file.empty() != o.key_file.empty())
    return failure{(o.cert_file.empty() ? field("key_file", o.key_file) + " but " + o.field_prefix + "cert_file"
                                        : field("cert_file", o.cert_file) + " but " + o.field_prefix + "key_file")
                   + " is empty: a client certificate needs both, or neither"};
  const std::pair<const char*, const std::string*> files[] = {
    {"ca_file", &o.ca_file}, {"cert_file", &o.cert_file}, {"key_file", &o.key_file}};
  for (auto [name, path] : files)
    if (!path->empty())
      if (auto why = unreadable(*path); !why.empty())
        return failure{field(name, *path) + ": cannot read the file: " + why};

  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (!raw)
    return failure{"cannot create a TLS context: " + openssl_error_reason("out of memory")};
  // From here on the context is owned (and freed on failure) by the object.
  std::shared_ptr<redis_tls_context> ctx{new redis_tls_context(raw, o.server_name, !o.cert_file.empty())};
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);  // always: a failed verification fails the handshake
  // Partial writes (a pipeline longer than a record goes out record by record) from a buffer that may
  // move between a write that would block and its retry (the loop appends to it meanwhile).
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A server that dies closes the TCP connection without close_notify: report it as a closed connection.
  // Safe for RESP, whose replies are self-delimiting (a truncated reply is never taken for a whole one).
  SSL_CTX_set_options(raw, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_default_passwd_cb(raw, &no_passphrase);
  if (o.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(raw) != 1)
      return failure{o.field_prefix + "ca_file is empty and the system's default CA store cannot be loaded: "
                     + openssl_error_reason("unknown error")};
  } else if (SSL_CTX_load_verify_locations(raw, o.ca_file.c_str(), nullptr) != 1) {
    return failure{field("ca_file", o.ca_file) + ": cannot load the CA bundle (PEM certificates expected): "
                   + openssl_error_reason("unknown error")};
  }
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(raw, o.cert_file.c_str()) != 1)
      return failure{field("cert_file", o.cert_file) + ": cannot load the client certificate (PEM expected): "
                     + openssl_error_reason("unknown error")};
    if (SSL_CTX_use_PrivateKey_file(raw, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1
        || SSL_CTX_check_private_key(raw) != 1)
      return failure{field("key_file", o.key_file) + ": cannot use the private key (an unencrypted PEM key of "
                     + o.field_prefix + "cert_file's certificate is expected): " + openssl_error_reason("unknown error")};
  }
  return std::shared_ptr<const redis_tls_context>{std::move(ctx)};
}

} // namespace sa
