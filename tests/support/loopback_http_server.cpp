// loopback_http_server (see the header). One session per connection, on the io thread:
//   read -> record + ask the handler -> [hold] -> [delay] -> head + body | head + chunks (gap) + end -> read
// Every wait (hold, delay, gap, stall) watches the socket too, so a client that leaves is noticed at once;
// each step handles its error first and returns.
#include "tests/support/loopback_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <list>
#include <stdexcept>
#include <thread>

namespace sa::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::string received_request::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0)
      return v;
  return {};
}

long received_request::query_int(const std::string& name, long fallback) const {
  auto q = target.find('?');
  if (q == std::string::npos)
    return fallback;
  auto query = "&" + target.substr(q + 1) + "&";
  auto at = query.find("&" + name + "=");
  if (at == std::string::npos)
    return fallback;
  return std::strtol(query.c_str() + at + name.size() + 2, nullptr, 10);
}

struct loopback_http_server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread io_thread;

  std::mutex* wait_mtx = nullptr;
  std::condition_variable* changed = nullptr;
  std::atomic<int> accepted{0};
  std::atomic<int> peer_closed{0};
  std::atomic<int> held{0};

  mutable std::mutex mtx;
  request_handler handler;             // guarded by mtx
  std::vector<received_request> seen;  // guarded by mtx

  class session;
  std::list<std::weak_ptr<session>> sessions;           // io thread only
  std::vector<std::shared_ptr<session>> held_sessions;  // io thread only

  /// Wakes wait_until (after the state it checks has changed).
  void notify() {
    { std::lock_guard<std::mutex> guard{*wait_mtx}; }
    changed->notify_all();
  }
  void do_accept();
  void hold(std::shared_ptr<session> s);
  void stop_all();
};

class loopback_http_server::impl::session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, impl& owner)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), owner_(owner) {}

  void run() { do_read(); }

  std::size_t hold_until() const noexcept { return reply_.hold_until; }

  /// The hold is over (impl::hold): answer.
  void release() {
    if (closed_)
      return;
    end_wait();
    after_hold();
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

private:
  using step = void (session::*)();

  void do_read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(error_code ec) {
    if (ec)
      return close();  // the client closed the connection (or sent garbage): nothing to answer
    received_request r;
    r.at = std::chrono::steady_clock::now();
    r.method = std::string(request_.method_string());
    r.target = std::string(request_.target());
    r.path = r.target.substr(0, r.target.find('?'));
    for (const auto& field : request_)
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    r.body = request_.body();
    request_handler handler;
    {
      std::lock_guard<std::mutex> guard{owner_.mtx};
      handler = owner_.handler;
    }
    reply_ = handler ? handler(r) : scripted_reply{404, "{}"};
    {
      std::lock_guard<std::mutex> guard{owner_.mtx};
      owner_.seen.push_back(std::move(r));
    }
    owner_.notify();
    keep_alive_ = request_.keep_alive();
    next_chunk_ = 0;
    if (reply_.hold_until > 0) {
      wait(std::chrono::milliseconds{-1}, nullptr);  // watch only, until impl::hold releases it
      return owner_.hold(shared_from_this());
    }
    after_hold();
  }

  void after_hold() {
    if (reply_.stall)
      return wait(std::chrono::milliseconds{-1}, nullptr);  // until the client goes away
    if (reply_.delay.count() > 0)
      return wait(reply_.delay, &session::send_head);
    send_head();
  }

  void send_head() {
    if (reply_.chunks)
      return send_chunked_head();
    auto res = std::make_shared<http::response<http::string_body>>();
    fill_head(*res);
    res->body() = reply_.body;
    res->prepare_payload();
    http::async_write(socket_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
      if (ec)
        return self->close();  // the client went away while we wrote
      self->after_response();
    });
  }

  void send_chunked_head() {
    auto res = std::make_shared<http::response<http::empty_body>>();
    fill_head(*res);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    http::async_write_header(socket_, *sr, [self = shared_from_this(), res, sr](error_code ec, std::size_t) {
      if (ec)
        return self->gone();
      self->send_chunk();
    });
  }

  template <class Response>
  void fill_head(Response& res) const {
    res.version(11);
    res.result(static_cast<unsigned>(reply_.status));
    res.set(http::field::content_type, reply_.content_type);
    for (const auto& [name, value] : reply_.headers)
      res.set(name, value);
    res.keep_alive(keep_alive_);
  }

  /// The next chunk (after the gap, from the second on), or the stream's end.
  void send_chunk() {
    auto chunk = reply_.chunks(next_chunk_);
    if (!chunk)
      return end_stream();
    pending_chunk_ = std::move(*chunk);
    if (next_chunk_++ > 0 && reply_.gap.count() > 0)
      return wait(reply_.gap, &session::write_chunk);
    write_chunk();
  }

  void write_chunk() {
    net::async_write(socket_, http::make_chunk(net::buffer(pending_chunk_)),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec)
                         return self->gone();
                       self->send_chunk();
                     });
  }

  void end_stream() {
    switch (reply_.end) {
      case stream_end::finish:
        net::async_write(socket_, http::make_chunk_last(), [self = shared_from_this()](error_code ec, std::size_t) {
          if (ec)
            return self->gone();
          self->after_response();
        });
        return;
      case stream_end::stall:
        return wait(std::chrono::milliseconds{-1}, nullptr);
      case stream_end::reset: {
        error_code ignored;
        socket_.set_option(net::socket_base::linger(true, 0), ignored);
        return close();  // close() now sends RST
      }
    }
  }

  void after_response() {
    if (keep_alive_)
      return do_read();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  /// Waits `d` (negative: until released or the client leaves), then runs `then`; meanwhile watches the
  /// socket, so a client that goes away ends the wait (gone).
  void wait(std::chrono::milliseconds d, step then) {
    auto id = ++wait_id_;
    if (d.count() >= 0) {
      timer_.expires_after(d);
      timer_.async_wait([self = shared_from_this(), id, then](error_code ec) {
        if (ec || self->closed_ || id != self->wait_id_)
          return;
        self->end_wait();
        (self.get()->*then)();
      });
    }
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), id](error_code ec) {
      if (self->closed_ || id != self->wait_id_ || ec == net::error::operation_aborted)
        return;  // the wait is over
      if (ec || self->peer_left())
        self->gone();
      // else: bytes the client sent early; they wait for the next read
    });
  }

  void end_wait() {
    ++wait_id_;
    error_code ignored;
    socket_.cancel(ignored);  // the watch (nothing else is pending during a wait)
  }

  /// After the socket became readable during a wait: did the client close or reset it?
  bool peer_left() {
    char c;
    auto n = ::recv(socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  /// The client went away while we waited or streamed: counted once, and the connection closed.
  void gone() {
    if (closed_)
      return;
    close();
    ++owner_.peer_closed;
    owner_.notify();
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  scripted_reply reply_;
  bool keep_alive_ = true;
  std::size_t next_chunk_ = 0;
  std::string pending_chunk_;
  unsigned wait_id_ = 0;
  bool closed_ = false;
  impl& owner_;
};

void loopback_http_server::impl::do_accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec)
      return;  // closed: stopping
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), *this);
    sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
    sessions.push_back(s);
    ++accepted;
    notify();
    s->run();
    do_accept();
  });
}

void loopback_http_server::impl::hold(std::shared_ptr<session> s) {
  held_sessions.push_back(std::move(s));
  auto arrived = static_cast<std::size_t>(++held);
  notify();
  std::vector<std::shared_ptr<session>> ready;
  for (auto i = held_sessions.begin(); i != held_sessions.end();) {
    if ((*i)->hold_until() <= arrived) {
      ready.push_back(std::move(*i));
      i = held_sessions.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& r : ready)
    r->release();
}

void loopback_http_server::impl::stop_all() {
  error_code ignored;
  acceptor.close(ignored);
  held_sessions.clear();
  for (auto& w : sessions)
    if (auto s = w.lock())
      s->close();
}

loopback_http_server::loopback_http_server(request_handler handler) : impl_(std::make_shared<impl>()) {
  impl_->wait_mtx = &wait_mtx_;
  impl_->changed = &changed_;
  impl_->handler = std::move(handler);
  error_code ec;
  tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec)
    impl_->acceptor.bind(ep, ec);
  if (!ec)
    impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("loopback_http_server: cannot listen on 127.0.0.1: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->do_accept();
  impl_->io_thread = std::thread{[i = impl_.get()] { i->ioc.run(); }};
  pthread_setname_np(impl_->io_thread.native_handle(), "srv-io");  // named before the constructor returns
}

loopback_http_server::~loopback_http_server() {
  net::post(impl_->ioc, [i = impl_.get()] {
    i->stop_all();
    i->ioc.stop();
  });
  impl_->io_thread.join();
}

uint16_t loopback_http_server::port() const noexcept {
  return impl_->port;
}

std::string loopback_http_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void loopback_http_server::set_handler(request_handler handler) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->handler = std::move(handler);
}

std::vector<received_request> loopback_http_server::requests() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->seen;
}

std::size_t loopback_http_server::request_count() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->seen.size();
}

int loopback_http_server::accepted() const noexcept {
  return impl_->accepted.load();
}

int loopback_http_server::peer_closed() const noexcept {
  return impl_->peer_closed.load();
}

int loopback_http_server::held() const noexcept {
  return impl_->held.load();
}

} // namespace sa::test
