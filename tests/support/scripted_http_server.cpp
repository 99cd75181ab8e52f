// scripted_http_server (see the header): accept -> read -> record + ask the handler -> (timer) -> write ->
// read the next request on the same connection (keep-alive), each step handling its error first.
#include "tests/support/scripted_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <list>
#include <optional>
#include <stdexcept>
#include <strings.h>
#include <thread>

namespace sa::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::string seen_request::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0)
      return v;
  return {};
}

struct scripted_http_server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread io_thread;

  mutable std::mutex mtx;
  std::condition_variable cv;
  scripted_handler handler;            // guarded by mtx
  std::vector<seen_request> seen;      // guarded by mtx

  class session;
  std::list<std::weak_ptr<session>> sessions;  // io thread only

  void do_accept();
  void stop_all();
};

class scripted_http_server::impl::session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, impl& owner) : socket_(std::move(socket)), timer_(socket_.get_executor()), owner_(owner) {}

  void run() { do_read(); }

  void stop() {
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

private:
  void do_read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec)
      return;  // the client closed the connection (or sent garbage): nothing to answer
    seen_request seen;
    seen.method = std::string(request_.method_string());
    seen.target = std::string(request_.target());
    for (const auto& field : request_)
      seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    scripted_handler handler;
    {
      std::lock_guard<std::mutex> guard{owner_.mtx};
      owner_.seen.push_back(seen);
      handler = owner_.handler;
    }
    owner_.cv.notify_all();
    auto reply = handler ? handler(seen) : scripted_reply{404, "{}"};
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(reply.status));
    response_.set(http::field::content_type, reply.content_type);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    if (reply.delay.count() <= 0)
      return do_write();
    timer_.expires_after(reply.delay);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec)
        self->do_write();
    });
  }

  void do_write() {
    http::async_write(socket_, response_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec)
        return;  // the client went away while we waited or wrote
      if (!self->response_.keep_alive()) {
        error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->do_read();
    });
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  impl& owner_;
};

void scripted_http_server::impl::do_accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec)
      return;  // closed: stopping
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), *this);
    sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
    sessions.push_back(s);
    s->run();
    do_accept();
  });
}

void scripted_http_server::impl::stop_all() {
  error_code ec;
  acceptor.close(ec);
  for (auto& w : sessions)
    if (auto s = w.lock())
      s->stop();
}

scripted_http_server::scripted_http_server(scripted_handler handler) : impl_(std::make_shared<impl>()) {
  impl_->handler = std::move(handler);
  error_code ec;
  tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec)
    impl_->acceptor.bind(ep, ec);
  if (!ec)
    impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("scripted_http_server: cannot listen on 127.0.0.1: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->do_accept();
  impl_->io_thread = std::thread{[i = impl_.get()] { i->ioc.run(); }};
}

scripted_http_server::~scripted_http_server() {
  net::post(impl_->ioc, [i = impl_.get()] {
    i->stop_all();
    i->ioc.stop();
  });
  impl_->io_thread.join();
}

uint16_t scripted_http_server::port() const noexcept {
  return impl_->port;
}

std::string scripted_http_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void scripted_http_server::set_handler(scripted_handler handler) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->handler = std::move(handler);
}

std::vector<seen_request> scripted_http_server::requests() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->seen;
}

std::size_t scripted_http_server::request_count() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->seen.size();
}

bool scripted_http_server::wait_for(const std::function<bool(const std::vector<seen_request>&)>& pred,
                                    std::chrono::milliseconds within) {
  std::unique_lock<std::mutex> lock{impl_->mtx};
  return impl_->cv.wait_for(lock, within, [&] { return pred(impl_->seen); });
}

} // namespace sa::test
