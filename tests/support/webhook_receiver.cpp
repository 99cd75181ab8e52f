#include "tests/support/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace sa::test {

namespace {

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

/// The documented scheme, written from docs/actions.md (not from the product's webhook.cpp).
std::string expected_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  auto message = timestamp + "." + body;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xf];
  }
  return "v1=" + hex;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Status";
}

} // namespace

webhook_receiver::webhook_receiver(std::string secret) : secret_(std::move(secret)) {
  if (::pipe(stop_pipe_) != 0)
    throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1:0");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
  pthread_setname_np(acceptor_.native_handle(), "hook-accept");
}

webhook_receiver::~webhook_receiver() {
  stopping_ = true;
  (void) !::write(stop_pipe_[1], "x", 1);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    threads.swap(connections_);
  }
  for (auto& t : threads)
    t.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string webhook_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void webhook_receiver::script(std::vector<webhook_reply> replies) {
  std::lock_guard<std::mutex> guard{mtx_};
  script_.assign(replies.begin(), replies.end());
}

void webhook_receiver::set_default(webhook_reply reply) {
  std::lock_guard<std::mutex> guard{mtx_};
  default_ = std::move(reply);
}

std::vector<webhook_request> webhook_receiver::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

std::size_t webhook_receiver::request_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_.size();
}

std::size_t webhook_receiver::effects() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return effects_.size();
}

webhook_reply webhook_receiver::next_reply() {
  if (script_.empty())
    return default_;
  auto r = script_.front();
  script_.pop_front();
  return r;
}

bool webhook_receiver::verify(const webhook_request& r) const {
  auto ts = r.header("x-support-agent-timestamp");
  auto sig = r.header("x-support-agent-signature");
  if (ts.empty() || sig.empty() || !std::all_of(ts.begin(), ts.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (std::llabs(now - std::atoll(ts.c_str())) > 300)
    return false;
  return sig == expected_signature(secret_, ts, r.body);
}

void webhook_receiver::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0)
      continue;
    if (fds[1].revents)
      return;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0)
      continue;
    std::lock_guard<std::mutex> guard{mtx_};
    connections_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
    pthread_setname_np(connections_.back().native_handle(), "hook-conn");
  }
}

bool webhook_receiver::client_gone(int fd, int ms) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  if (::poll(fds, 2, ms) <= 0)
    return false;
  if (fds[1].revents)
    return true;
  char buf[256];
  return ::recv(fd, buf, sizeof buf, MSG_PEEK) <= 0;
}

void webhook_receiver::serve(int fd) {
  std::string in;
  for (;;) {
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) <= 0 || fds[1].revents)
        return;
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        return;
      in.append(buf, static_cast<size_t>(n));
    }
    webhook_request req;
    req.at = std::chrono::steady_clock::now();
    auto head = in.substr(0, head_end);
    auto line_end = head.find("\r\n");
    auto request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    req.method = request_line.substr(0, sp1);
    req.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      auto line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      if (auto colon = line.find(':'); colon != std::string::npos)
        req.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
      if (next == std::string::npos)
        break;
      pos = next + 2;
    }
    size_t body_len = std::strtoul(req.header("content-length").c_str(), nullptr, 10);
    while (in.size() < head_end + 4 + body_len) {
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        return;
      in.append(buf, static_cast<size_t>(n));
    }
    req.body = in.substr(head_end + 4, body_len);
    in.erase(0, head_end + 4 + body_len);
    req.signature_valid = verify(req);
    webhook_reply reply;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      reply = next_reply();
      // A real receiver acts when it accepts the request, whether or not its answer reaches the client.
      if (reply.status >= 200 && reply.status < 300 && !reply.stall && req.signature_valid)
        effects_.insert(req.header("idempotency-key"));
      requests_.push_back(req);
    }
    cv_.notify_all();
    if (reply.stall) {
      while (!client_gone(fd, -1)) {}
      return;
    }
    if (reply.delay.count() > 0 && client_gone(fd, static_cast<int>(reply.delay.count())))
      return;
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
                      "\r\n";
    for (auto& [name, value] : reply.headers)
      out += name + ": " + value + "\r\n";
    out += "\r\n" + reply.body;
    if (!send_all(fd, out))
      return;
  }
}

} // namespace sa::test
