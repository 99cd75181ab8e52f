#include "tests/support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace sa::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

/// Runs `ioc` until `done` or the deadline; on timeout cancels `sock` and drains the handlers.
template <class Socket>
bool run_until(asio::io_context& ioc, const bool& done, std::chrono::milliseconds deadline, Socket& sock) {
  ioc.restart();
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!done && std::chrono::steady_clock::now() < end)
    ioc.run_one_until(end);
  if (done)
    return true;
  beast::error_code ec;
  sock.cancel(ec);
  ioc.restart();
  ioc.run_for(std::chrono::seconds(1));
  return false;
}

} // namespace

struct ws_client::impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}

ws_client::~ws_client() {
  close();
}

bool ws_client::connect(uint16_t port, const std::string& target, const std::string& bearer,
                        std::chrono::milliseconds deadline) {
  auto& p = *impl_;
  auto& sock = beast::get_lowest_layer(p.ws).socket();
  bool done = false;
  beast::error_code result;
  beast::get_lowest_layer(p.ws).async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
                                              [&](beast::error_code ec) { result = ec, done = true; });
  if (!run_until(p.ioc, done, deadline, sock) || result)
    return false;
  if (!bearer.empty())
    p.ws.set_option(websocket::stream_base::decorator(
      [bearer](websocket::request_type& req) { req.set(http::field::authorization, "Bearer " + bearer); }));
  websocket::response_type res;
  done = false;
  p.ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target,
                       [&](beast::error_code ec) { result = ec, done = true; });
  bool ok = run_until(p.ioc, done, deadline, sock);
  http_status_ = static_cast<int>(res.result_int());
  return ok && !result;
}

bool ws_client::send_text(const std::string& text, std::chrono::milliseconds deadline) {
  auto& p = *impl_;
  p.ws.text(true);
  bool done = false;
  beast::error_code result;
  p.ws.async_write(asio::buffer(text), [&](beast::error_code ec, size_t) { result = ec, done = true; });
  return run_until(p.ioc, done, deadline, beast::get_lowest_layer(p.ws).socket()) && !result;
}

bool ws_client::send_binary(const std::string& data, std::chrono::milliseconds deadline) {
  auto& p = *impl_;
  p.ws.binary(true);
  bool done = false;
  beast::error_code result;
  p.ws.async_write(asio::buffer(data), [&](beast::error_code ec, size_t) { result = ec, done = true; });
  bool ok = run_until(p.ioc, done, deadline, beast::get_lowest_layer(p.ws).socket()) && !result;
  p.ws.text(true);
  return ok;
}

std::optional<nlohmann::json> ws_client::read(std::chrono::milliseconds deadline) {
  auto& p = *impl_;
  if (closed_)
    return std::nullopt;
  bool done = false;
  beast::error_code result;
  p.ws.async_read(p.buffer, [&](beast::error_code ec, size_t) { result = ec, done = true; });
  if (!run_until(p.ioc, done, deadline, beast::get_lowest_layer(p.ws).socket())) {
    timed_out_ = true;
    return std::nullopt;
  }
  if (result) {
    closed_ = true;
    // The close frame's code, also when the peer tore the connection down before our close reply.
    close_code_ = p.ws.reason().code;
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(p.buffer.data());
  p.buffer.consume(p.buffer.size());
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"type", "<not json>"}, {"raw", text}} : j;
}

std::optional<nlohmann::json> ws_client::read_until(const std::string& type, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    auto j = read(left);
    if (!j)
      return std::nullopt;
    if (j->value("type", "") == type)
      return j;
    skipped_.push_back(*j);
  }
}

bool ws_client::wait_closed(std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    auto j = read(left);
    if (j)
      skipped_.push_back(*j);
    else if (!closed_)
      return false;
  }
  return true;
}

void ws_client::close() {
  auto& p = *impl_;
  beast::error_code ec;
  beast::get_lowest_layer(p.ws).socket().close(ec);
  closed_ = true;
}

http_reply http_get(uint16_t port, const std::string& target, std::chrono::milliseconds deadline,
                    const std::string& bearer) {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  http_reply out;
  bool done = false;
  beast::error_code result;
  stream.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
                       [&](beast::error_code ec) { result = ec, done = true; });
  if (!run_until(ioc, done, deadline, stream.socket()) || result)
    return out;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer.empty())
    req.set(http::field::authorization, "Bearer " + bearer);
  done = false;
  http::async_write(stream, req, [&](beast::error_code ec, size_t) { result = ec, done = true; });
  if (!run_until(ioc, done, deadline, stream.socket()) || result)
    return out;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  done = false;
  http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) { result = ec, done = true; });
  if (!run_until(ioc, done, deadline, stream.socket()) || result)
    return out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = res.body();
  return out;
}

} // namespace sa::test
