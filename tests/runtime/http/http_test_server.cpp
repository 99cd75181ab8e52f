#include "http_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
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

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

const char* chunked_head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n";

/// Parses "/path?a=1&b=2" into path and query parameters.
std::string split_target(const std::string& target, std::map<std::string, int>& params) {
  auto q = target.find('?');
  if (q == std::string::npos)
    return target;
  std::string rest = target.substr(q + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    auto amp = rest.find('&', pos);
    auto kv = rest.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      params[kv.substr(0, eq)] = std::atoi(kv.substr(eq + 1).c_str());
    if (amp == std::string::npos)
      break;
    pos = amp + 1;
  }
  return target.substr(0, q);
}

} // namespace

http_test_server::http_test_server() {
  if (::pipe(stop_pipe_) != 0)
    throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(listen_fd_, 1024) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1:0");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
  pthread_setname_np(acceptor_.native_handle(), "srv-accept"); // named before the constructor returns
}

http_test_server::~http_test_server() {
  stopping_ = true;
  (void) !::write(stop_pipe_[1], "x", 1);
  notify();
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

std::string http_test_server::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void http_test_server::notify() {
  { std::lock_guard<std::mutex> guard{mtx_}; }
  cv_.notify_all();
}

void http_test_server::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0)
      continue;
    if (fds[1].revents)
      return;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0)
      continue;
    ++accepted_;
    notify();
    std::lock_guard<std::mutex> guard{mtx_};
    connections_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
    pthread_setname_np(connections_.back().native_handle(), "srv-conn");
  }
}

bool http_test_server::client_gone(int fd, int ms) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  if (::poll(fds, 2, ms) <= 0)
    return false;
  if (fds[1].revents)
    return true;
  char buf[512];
  if (::recv(fd, buf, sizeof buf, 0) <= 0) {
    ++peer_closed_;
    notify();
    return true;
  }
  return false; // unexpected bytes: ignored
}

void http_test_server::serve(int fd) {
  std::string in;
  for (;;) {
    // read one request: head, then a Content-Length body
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
    std::string head = in.substr(0, head_end);
    size_t body_len = 0;
    if (auto cl = head.find("Content-Length: "); cl != std::string::npos)
      body_len = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
    while (in.size() < head_end + 4 + body_len) {
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        return;
      in.append(buf, static_cast<size_t>(n));
    }
    in.erase(0, head_end + 4 + body_len);
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    std::map<std::string, int> params;
    auto path = split_target(head.substr(sp1 + 1, sp2 - sp1 - 1), params);

    if (path == "/hello") {
      if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"))
        return;
      continue; // keep-alive
    }
    if (path == "/stream") {
      if (!send_all(fd, chunked_head))
        return;
      for (int i = 0; i < params["n"]; ++i) {
        if (i > 0 && client_gone(fd, params["gap"]))
          return;
        if (!send_all(fd, chunk("chunk-" + std::to_string(i) + ";")))
          return;
      }
      if (!send_all(fd, "0\r\n\r\n"))
        return;
      continue;
    }
    if (path == "/drip") {
      if (!send_all(fd, chunked_head))
        return;
      for (int i = 0;; ++i) {
        if (!send_all(fd, chunk("drop-" + std::to_string(i) + ";")) || client_gone(fd, params["gap"]))
          return;
      }
    }
    if (path == "/stall-headers") {
      while (!client_gone(fd, -1)) {}
      return;
    }
    if (path == "/stall-body") {
      if (!send_all(fd, std::string(chunked_head) + chunk("first")))
        return;
      while (!client_gone(fd, -1)) {}
      return;
    }
    if (path == "/reset") {
      send_all(fd, std::string(chunked_head) + chunk("first"));
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      return; // close() now sends RST
    }
    if (path == "/gate") {
      ++gate_arrivals_;
      notify();
      {
        std::unique_lock<std::mutex> lock{mtx_};
        int n = params["n"];
        cv_.wait(lock, [&] { return stopping_ || gate_arrivals_ >= n; });
      }
      if (stopping_ || !send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngate"))
        return;
      continue;
    }
    send_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
}

} // namespace sa::test
