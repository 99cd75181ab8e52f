// redis_server: see the header.
#include "redis_server.hpp"

#include "bench/child_process.hpp"

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace sa::test {

namespace fs = std::filesystem;

namespace {

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; out.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = redis_reply::kind::nil;
  }
  return out;
}

/// One TLS connection, blocking (timeouts on the socket): verifies the server as 127.0.0.1 against the
/// PKI's CA and presents its client certificate.
class blocking_tls_connection {
public:
  bool open(uint16_t port, const sa::bench::tls_pki& pki, std::string* why) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!ctx_ || fd_ < 0)
      return fail("out of resources", why);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return fail(std::strerror(errno), why);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, pki.ca_cert.c_str(), nullptr) != 1
        || SSL_CTX_use_certificate_chain_file(ctx_, pki.client_cert.c_str()) != 1
        || SSL_CTX_use_PrivateKey_file(ctx_, pki.client_key.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail("cannot load the test PKI", why);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    if (SSL_connect(ssl_) != 1)
      return fail("TLS handshake failed", why);
    return true;
  }

  /// Sends one command and reads its reply.
  bool run(const std::vector<std::string>& args, redis_reply& out, std::string* why) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    char* cmd = nullptr;
    int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
    bool sent = len > 0 && SSL_write(ssl_, cmd, len) == len;
    redisFreeCommand(cmd);
    if (!sent)
      return fail("TLS write failed", why);
    redisReader* reader = redisReaderCreate();
    void* reply = nullptr;
    char buf[16384];
    while (!reply) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0 || redisReaderFeed(reader, buf, static_cast<size_t>(n)) != REDIS_OK
          || redisReaderGetReply(reader, &reply) != REDIS_OK) {
        redisReaderFree(reader);
        return fail("TLS read failed", why);
      }
    }
    out = convert(static_cast<redisReply*>(reply));
    freeReplyObject(reply);
    redisReaderFree(reader);
    return true;
  }

  ~blocking_tls_connection() {
    if (ssl_)
      SSL_free(ssl_);
    if (ctx_)
      SSL_CTX_free(ctx_);
    if (fd_ >= 0)
      ::close(fd_);
  }

private:
  bool fail(const std::string& what, std::string* why) {
    if (why) {
      char buf[256] = "";
      if (auto e = ERR_peek_last_error())
        ERR_error_string_n(e, buf, sizeof buf);
      *why = what + (buf[0] ? std::string(": ") + buf : std::string{});
    }
    ERR_clear_error();
    return false;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

/// One command on a fresh TLS connection (AUTH, SELECT first as below).
bool run_command_tls(uint16_t port, const sa::bench::tls_pki& pki, const std::string& password, int db,
                     const std::vector<std::string>& args, redis_reply& out, std::string* why) {
  blocking_tls_connection c;
  if (!c.open(port, pki, why))
    return false;
  redis_reply scratch;
  return (password.empty() || c.run({"AUTH", password}, scratch, why))
         && (db == 0 || c.run({"SELECT", std::to_string(db)}, scratch, why)) && c.run(args, out, why);
}

/// One command on a fresh connection; false (with `why`) when the server cannot be reached.
bool run_command(uint16_t port, const sa::bench::tls_pki* pki, const std::string& password, int db,
                 const std::vector<std::string>& args, redis_reply& out, std::string* why) {
  if (pki)
    return run_command_tls(port, *pki, password, db, args, out, why);
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!c || c->err) {
    if (why)
      *why = c ? c->errstr : "out of memory";
    if (c)
      redisFree(c);
    return false;
  }
  redisSetTimeout(c, timeval{5, 0});
  auto run = [&](const std::vector<std::string>& a, redis_reply& into) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& s : a) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r) {
      if (why)
        *why = c->errstr;
      return false;
    }
    into = convert(r);
    freeReplyObject(r);
    return true;
  };
  redis_reply scratch;
  bool ok = (password.empty() || run({"AUTH", password}, scratch))
            && (db == 0 || run({"SELECT", std::to_string(db)}, scratch)) && run(args, out);
  redisFree(c);
  return ok;
}

} // namespace

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  auto tmpl = (fs::temp_directory_path() / "sa-redis-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("redis_server: cannot create a temporary directory");
  dir_ = tmpl;
  if (options_.tls) {
    try {
      pki_ = sa::bench::make_tls_pki(dir_);
    } catch (const std::exception& e) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
      throw std::runtime_error(std::string("redis_server: cannot make the test PKI: ") + e.what());
    }
  }
  std::string why;
  for (int attempt = 0; attempt < 8; ++attempt) {
    port_ = sa::bench::free_loopback_port();
    if (launch(&why) && wait_ready(std::chrono::seconds(20), &why))
      return;
    kill();  // most likely the port was taken meanwhile: try another one
  }
  std::error_code ec;
  auto tail = log_tail();
  fs::remove_all(dir_, ec);
  throw std::runtime_error("redis_server: cannot start redis-server: " + why + "\n" + tail);
}

redis_server::~redis_server() {
  kill();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool redis_server::launch(std::string* why) {
  std::vector<std::string> args{sa::bench::find_in_path("redis-server"),
                                "--port", options_.tls ? "0" : std::to_string(port_),
                                "--bind", "127.0.0.1",
                                "--dir", dir_,
                                "--logfile", dir_ + "/redis.log",
                                "--daemonize", "no",
                                "--save", "",
                                "--databases", "16"};
  if (options_.aof_always) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  if (!options_.password.empty())
    args.insert(args.end(), {"--requirepass", options_.password});
  if (options_.tls)
    args.insert(args.end(), {"--tls-port", std::to_string(port_), "--tls-cert-file", pki_.server_cert,
                             "--tls-key-file", pki_.server_key, "--tls-ca-cert-file", pki_.ca_cert,
                             "--tls-auth-clients", options_.tls_auth_clients ? "yes" : "no"});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_t pid = sa::bench::start_child(args, dir_ + "/stdout.log");  // dies with the test (PR_SET_PDEATHSIG)
  if (pid < 0) {
    *why = "fork failed";
    return false;
  }
  pid_ = pid;
  return true;
}

bool redis_server::wait_ready(std::chrono::milliseconds within, std::string* why) {
  auto until = std::chrono::steady_clock::now() + within;
  auto pause = std::chrono::milliseconds(2);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *why = "redis-server exited during start-up";
      return false;
    }
    redis_reply r;
    const auto* pki = options_.tls ? &pki_ : nullptr;
    if (run_command(port_, pki, options_.password, 0, {"INFO", "server"}, r, why) && r.type == redis_reply::kind::string) {
      // Ours, and done loading (INFO answers while loading; PING would say LOADING).
      if (r.str.find("process_id:" + std::to_string(pid_) + "\r\n") == std::string::npos) {
        *why = "another server answers on port " + std::to_string(port_);
        return false;
      }
      redis_reply ping;
      if (run_command(port_, pki, options_.password, 0, {"PING"}, ping, why) && ping.type == redis_reply::kind::status)
        return true;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  *why = "redis-server did not answer within " + std::to_string(within.count()) + " ms";
  return false;
}

void redis_server::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void redis_server::start() {
  kill();
  std::string why;
  // The same port: the old listener is gone with the process (redis binds with SO_REUSEADDR).
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (launch(&why) && wait_ready(std::chrono::seconds(30), &why))
      return;
    kill();
  }
  throw std::runtime_error("redis_server: cannot restart redis-server on port " + std::to_string(port_) + ": " + why
                           + "\n" + log_tail());
}

void redis_server::pause() {
  if (pid_ > 0)
    ::kill(pid_, SIGSTOP);
}

void redis_server::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

redis_reply redis_server::command(const std::vector<std::string>& args, int db) const {
  redis_reply r;
  std::string why;
  if (!run_command(port_, options_.tls ? &pki_ : nullptr, options_.password, db, args, r, &why))
    throw std::runtime_error("redis_server: command failed: " + why);
  return r;
}

std::string redis_server::log_tail() const {
  std::string out;
  for (auto name : {"/redis.log", "/stdout.log"}) {
    std::ifstream in{dir_ + name};
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
      lines.push_back(line);
    for (size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i)
      out += lines[i] + "\n";
  }
  return out;
}

redis_server_options tls_only(bool auth_clients, std::string password) {
  redis_server_options o;
  o.tls = true;
  o.tls_auth_clients = auth_clients;
  o.password = std::move(password);
  return o;
}

std::shared_ptr<const redis_tls_context> client_tls(const std::string& ca_file, const sa::bench::tls_pki* client,
                                                    std::string server_name) {
  redis_tls_options t;
  t.ca_file = ca_file;
  if (client) {
    t.cert_file = client->client_cert;
    t.key_file = client->client_key;
  }
  t.server_name = std::move(server_name);
  auto ctx = redis_tls_context::load(t);
  if (!ctx)
    throw std::runtime_error("client_tls: " + ctx.error());
  return *ctx;
}

redis_client_options client_options_for(const redis_server& server, std::shared_ptr<const redis_tls_context> tls,
                                        std::string host) {
  redis_client_options o;
  o.host = std::move(host);
  o.port = server.port();
  o.tls = std::move(tls);
  o.backoff_initial = std::chrono::milliseconds{5};
  o.backoff_max = std::chrono::milliseconds{100};
  return o;
}

} // namespace sa::test
