// redis_connection: see the header. Life: closed --open()--> connecting --(socket writable, SO_ERROR 0)-->
// [tls_handshake --(SSL_connect done, certificate verified)-->] open --(error, EOF, close())--> closed.
// With TLS, SSL_read may need the socket writable and SSL_write readable (TLS 1.3 key updates): each
// remembers it, and poll_events() asks for what the blocked call waits on.
#include "runtime/redis_connection.hpp"

#include "runtime/redis_tls.hpp"

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace sa {

namespace {

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = redis_reply::kind::nil;
  }
  return out;
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

/// Latency over throughput (commands are small and pipelined), and TCP keep-alive so a silently dead peer
/// shows up even when idle (hiredis' values: idle 15 s, then 3 probes 5 s apart).
void set_socket_options(int fd) {
  int one = 1, idle = 15, interval = 5, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

/// A write to a socket the peer closed raises SIGPIPE on the writing thread, which the loop thread blocks
/// (OpenSSL writes with write(), not send(MSG_NOSIGNAL)): take the pending one so it never piles up.
void discard_pending_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  timespec zero{0, 0};
  while (::sigtimedwait(&set, nullptr, &zero) > 0) {
  }
}

constexpr std::size_t read_chunk = 16 * 1024;          // one TLS record
constexpr std::size_t max_write = 1024 * 1024;         // one SSL_write / send call
constexpr std::size_t compact_after = 64 * 1024;       // written bytes kept before the buffer is shifted

} // namespace

redis_connection::~redis_connection() { close(); }

redis_connection::outcome redis_connection::open(const std::string& host, int port,
                                                 std::shared_ptr<const redis_tls_context> tls) {
  close();
  error_.clear();
  host_ = host;
  tls_ = std::move(tls);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = EAI_NONAME;
  for (int family : {AF_INET, AF_INET6}) {
    hints.ai_family = family;
    rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc == 0)
      break;
  }
  if (rc != 0)
    return fail("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::string why = "no address";
  for (auto* ai = found; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      fd_ = fd;
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0)
    return fail(why);
  set_socket_options(fd_);
  reader_ = redisReaderCreate();
  if (!reader_)
    return fail("out of memory");
  phase_ = phase::connecting;  // done or not, the socket turns writable: on_poll() checks SO_ERROR
  return outcome::none;
}

short redis_connection::poll_events() const noexcept {
  switch (phase_) {
    case phase::closed: return 0;
    case phase::connecting: return POLLOUT;
    case phase::tls_handshake: return handshake_wants_write_ ? POLLOUT : POLLIN;
    case phase::open:
      return static_cast<short>(POLLIN | (((has_output() && !write_wants_read_) || read_wants_write_) ? POLLOUT : 0));
  }
  return 0;
}

redis_connection::outcome redis_connection::on_poll(short revents, const reply_sink& sink) {
  switch (phase_) {
    case phase::closed:
      return outcome::none;
    case phase::connecting: {
      if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
        return outcome::none;
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
      if (err != 0)
        return fail(std::strerror(err));
      if (!tls_) {
        phase_ = phase::open;
        return outcome::opened;
      }
      if (!start_tls())
        return outcome::failed;
      return handshake();
    }
    case phase::tls_handshake:
      return handshake();
    case phase::open: {
      bool readable = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
      bool writable = (revents & POLLOUT) != 0;
      if (readable || (writable && read_wants_write_)) {
        auto r = read(sink);
        if (r == read_result::failed)
          return outcome::failed;
        if (r == read_result::halted)
          return outcome::none;
      }
      if (writable || (readable && write_wants_read_))
        return write_now();
      return outcome::none;
    }
  }
  return outcome::none;
}

bool redis_connection::start_tls() {
  ERR_clear_error();
  ssl_ = SSL_new(tls_->native());
  if (!ssl_) {
    fail("cannot create a TLS session: " + openssl_error_reason("out of memory"));
    return false;
  }
  SSL_set_fd(ssl_, fd_);
  verify_name_ = tls_->server_name().empty() ? host_ : tls_->server_name();
  bool ok;
  if (is_ip_address(verify_name_)) {
    // RFC 6066: no IP literal in SNI. The certificate must carry the address as an IP SAN.
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), verify_name_.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl_, verify_name_.c_str()) == 1 && SSL_set1_host(ssl_, verify_name_.c_str()) == 1;
  }
  if (!ok) {
    fail("cannot verify the server as '" + verify_name_ + "': " + openssl_error_reason("not a valid host name"));
    return false;
  }
  SSL_set_connect_state(ssl_);
  phase_ = phase::tls_handshake;
  return true;
}

redis_connection::outcome redis_connection::handshake() {
  ERR_clear_error();
  int r = SSL_connect(ssl_);
  if (r == 1) {
    phase_ = phase::open;
    handshake_wants_write_ = false;
    return outcome::opened;
  }
  int saved = errno;
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    handshake_wants_write_ = e == SSL_ERROR_WANT_WRITE;
    return outcome::none;
  }
  return fail("TLS handshake failed: " + tls_reason(e, saved));
}

std::string redis_connection::tls_reason(int ssl_error, int saved_errno) const {
  if (ssl_) {
    if (auto v = SSL_get_verify_result(ssl_); v != X509_V_OK) {
      ERR_clear_error();
      return std::string("certificate verification failed: ") + X509_verify_cert_error_string(v)
             + " (the server was verified as '" + verify_name_ + "')";
    }
  }
  if (ssl_error == SSL_ERROR_ZERO_RETURN)
    return "the server closed the connection";
  auto reason = openssl_error_reason({});
  if (!reason.empty())
    return reason;
  if (ssl_error == SSL_ERROR_SYSCALL)
    return saved_errno != 0 ? std::strerror(saved_errno) : "the server closed the connection";
  return "OpenSSL error " + std::to_string(ssl_error);
}

redis_connection::read_result redis_connection::read(const reply_sink& sink) {
  char buf[read_chunk];
  for (;;) {
    std::size_t n = 0;
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, static_cast<int>(sizeof buf));
      if (r <= 0) {
        int saved = errno;
        int e = SSL_get_error(ssl_, r);
        read_wants_write_ = e == SSL_ERROR_WANT_WRITE;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
          return read_result::drained;
        fail(e == SSL_ERROR_ZERO_RETURN ? "the server closed the connection" : "TLS: " + tls_reason(e, saved));
        return read_result::failed;
      }
      read_wants_write_ = false;
      n = static_cast<std::size_t>(r);
    } else {
      auto r = ::recv(fd_, buf, sizeof buf, 0);
      if (r == 0) {
        fail("the server closed the connection");
        return read_result::failed;
      }
      if (r < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return read_result::drained;
        fail(std::strerror(errno));
        return read_result::failed;
      }
      n = static_cast<std::size_t>(r);
    }
    if (redisReaderFeed(reader_, buf, n) != REDIS_OK) {
      fail(std::string("protocol error: ") + reader_->errstr);
      return read_result::failed;
    }
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        fail(std::string("protocol error: ") + reader_->errstr);
        return read_result::failed;
      }
      if (!raw)
        break;
      auto reply = convert(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (!sink(std::move(reply)))
        return read_result::halted;
    }
    if (!ssl_ && n < sizeof buf)
      return read_result::drained;  // plaintext: a short read emptied the socket (saves an EAGAIN call)
  }
}

bool redis_connection::append_command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* encoded = nullptr;
  int len = redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (len < 0 || !encoded)
    return false;
  out_.append(encoded, static_cast<std::size_t>(len));
  redisFreeCommand(encoded);
  return true;
}

redis_connection::outcome redis_connection::write_now() {
  if (phase_ != phase::open)
    return outcome::none;
  while (out_off_ < out_.size()) {
    std::size_t left = out_.size() - out_off_;
    if (ssl_) {
      // A write that would block is repeated with the same length (the data may have moved: see
      // SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER in redis_tls.cpp).
      int len = retry_len_ > 0 ? retry_len_ : static_cast<int>(std::min(left, max_write));
      ERR_clear_error();
      int r = SSL_write(ssl_, out_.data() + out_off_, len);
      if (r > 0) {
        out_off_ += static_cast<std::size_t>(r);
        retry_len_ = 0;
        write_wants_read_ = false;
        continue;
      }
      int saved = errno;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        retry_len_ = len;
        write_wants_read_ = e == SSL_ERROR_WANT_READ;
        break;
      }
      return fail("TLS: " + tls_reason(e, saved));
    }
    auto r = ::send(fd_, out_.data() + out_off_, std::min(left, max_write), MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      return fail(std::strerror(errno));
    }
    out_off_ += static_cast<std::size_t>(r);
  }
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  } else if (out_off_ >= compact_after) {
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
  return outcome::none;
}

redis_connection::outcome redis_connection::fail(std::string why) {
  error_ = std::move(why);
  close();
  return outcome::failed;
}

void redis_connection::close(bool polite) {
  if (ssl_) {
    if (polite && phase_ == phase::open) {
      ERR_clear_error();
      SSL_shutdown(ssl_);  // queues close_notify; the answer is not awaited
    }
    SSL_free(ssl_);
    ssl_ = nullptr;
    ERR_clear_error();
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    discard_pending_sigpipe();
  }
  if (reader_) {
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
  out_.clear();
  out_off_ = 0;
  retry_len_ = 0;
  handshake_wants_write_ = read_wants_write_ = write_wants_read_ = false;
  phase_ = phase::closed;
}

std::string redis_connection::tls_description() const {
  if (!ssl_ || phase_ != phase::open)
    return {};
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

} // namespace sa
