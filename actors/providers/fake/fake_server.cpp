// fake_server: Beast async server executing fake_service plans (see fake_server.hpp). Reads
// run -> do_read -> on_header -> (100 Continue) -> read_body -> on_read -> next_step -> (on_timer) ->
// run_step -> on_write -> next_step; each step handles its error first and returns.
#include "actors/providers/fake/fake_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <list>

namespace sa::providers::fake {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t body_limit = 8u << 20;
constexpr auto idle_timeout = std::chrono::seconds(300);

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, fake_service& service)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), service_(service) {}

  void run() { do_read(); }

  /// Closes the socket and cancels the timer; pending handlers then finish with errors.
  void stop() {
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(body_limit);
    timer_.expires_after(idle_timeout); // an idle keep-alive connection is closed after this
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->reading_)
        self->stop();
    });
    reading_ = true;
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  /// curl sends `Expect: 100-continue` with bodies over 1 KiB and waits a second for it: answer at once.
  void on_header(error_code ec) {
    if (ec)
      return on_read(ec);
    auto expect = parser_->get()[http::field::expect];
    if (!beast::iequals(expect, "100-continue"))
      return read_body();
    static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(socket_, net::buffer(continue_line), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec)
        return self->on_read(ec);
      self->read_body();
    });
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    timer_.cancel();
    if (ec == http::error::end_of_stream)
      return close();
    if (ec)
      return; // the peer went away, or a malformed request: nothing to answer
    auto req = parser_->release();
    http_in in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.body = std::move(req.body());
    in.keep_alive = req.keep_alive();
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& field : req)
      headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    plan_ = service_.handle(in, std::move(headers));
    step_ = 0;
    next_step();
  }

  void next_step() {
    if (step_ == plan_.steps.size()) {
      if (plan_.keep_alive)
        return do_read();
      return close();
    }
    const auto& s = plan_.steps[step_];
    if (s.delay_ms == 0)
      return run_step();
    timer_.expires_after(std::chrono::milliseconds(s.delay_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec)
        return; // cancelled: the server is stopping
      self->run_step();
    });
  }

  void run_step() {
    const auto& s = plan_.steps[step_];
    switch (s.what) {
      case plan_step::action::write:
        net::async_write(socket_, net::buffer(s.bytes),
                         [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
        return;
      case plan_step::action::close:
        return close();
      case plan_step::action::reset: {
        error_code ec;
        socket_.set_option(net::socket_base::linger(true, 0), ec); // close() then sends RST
        socket_.close(ec);
        return;
      }
    }
  }

  void on_write(error_code ec) {
    if (ec)
      return; // the client went away mid-response
    ++step_;
    next_step();
  }

  void close() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  fake_service& service_;
  response_plan plan_;
  std::size_t step_ = 0;
  bool reading_ = false;
};

} // namespace

struct fake_server::impl {
  impl(net::io_context& ioc, fake_service& service) : ioc(ioc), acceptor(ioc), service(service) {}

  void do_accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec)
        return; // acceptor closed: stopping
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<session>(std::move(socket), service);
      sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
      sessions.push_back(s);
      s->run();
      do_accept();
    });
  }

  net::io_context& ioc;
  tcp::acceptor acceptor;
  fake_service& service;
  std::list<std::weak_ptr<session>> sessions;
};

fake_server::fake_server(net::io_context& ioc, fake_service& service)
    : impl_(std::make_unique<impl>(ioc, service)) {}

fake_server::~fake_server() = default;

result<uint16_t> fake_server::listen(uint16_t port) {
  error_code ec;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  auto& a = impl_->acceptor;
  auto fail = [&](const char* what) {
    return failure{"fake-provider: cannot " + std::string(what) + " 127.0.0.1:" + std::to_string(port) + ": " +
                   ec.message()};
  };
  if (a.open(ep.protocol(), ec); ec)
    return fail("open a socket for");
  if (a.set_option(net::socket_base::reuse_address(true), ec); ec)
    return fail("set SO_REUSEADDR on");
  if (a.bind(ep, ec); ec)
    return fail("bind");
  if (a.listen(net::socket_base::max_listen_connections, ec); ec)
    return fail("listen on");
  impl_->do_accept();
  return a.local_endpoint().port();
}

void fake_server::stop() {
  error_code ec;
  impl_->acceptor.close(ec);
  for (auto& w : impl_->sessions)
    if (auto s = w.lock())
      s->stop();
  impl_->sessions.clear();
}

} // namespace sa::providers::fake
