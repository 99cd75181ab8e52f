// The fake provider over real loopback sockets: the server runs in-process on port 0 with its own io
// thread; a small Beast client with a deadline on every exchange talks to it. No sleeps.
#include "actors/providers/fake/fake_server.hpp"
#include "fake_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

using namespace sa::providers::fake;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

namespace {

struct running_server {
  /// `faults` are installed before the io thread starts; afterwards only the admin API changes them.
  explicit running_server(service_options opts = {}, const std::string& faults = "[]")
      : service(opts), server(ioc, service) {
    auto parsed = parse_faults(faults);
    REQUIRE(parsed.ok());
    service.faults().replace(std::move(*parsed));
    auto p = server.listen(0);
    REQUIRE(p.ok());
    port = *p;
    thread = std::thread([this] { ioc.run(); });
  }
  ~running_server() {
    net::post(ioc, [this] {
      server.stop();
      ioc.stop();
    });
    thread.join();
  }
  net::io_context ioc{1};
  fake_service service;
  fake_server server;
  uint16_t port = 0;
  std::thread thread;
};

struct reply {
  error_code ec;
  unsigned status = 0;
  sa::providers::header_list headers;
  std::string body;
};

/// One connection; each exchange must finish within its deadline.
class client {
public:
  explicit client(uint16_t port) : port_(port), stream_(ioc_) {}

  reply send(const std::string& method, const std::string& target, const std::string& body,
             std::chrono::milliseconds deadline = 5s) {
    reply out;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(16u << 20);
    auto read = [&] {
      http::async_read(stream_, buffer_, parser, [&](error_code ec, std::size_t) { out.ec = ec; });
    };
    auto write = [&] {
      http::async_write(stream_, req, [&](error_code ec, std::size_t) {
        if (ec) {
          out.ec = ec;
          return;
        }
        read();
      });
    };
    stream_.expires_after(deadline);
    if (!connected_) {
      connected_ = true;
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), [&](error_code ec) {
        if (ec) {
          out.ec = ec;
          return;
        }
        write();
      });
    } else {
      write();
    }
    ioc_.restart();
    ioc_.run();
    if (parser.is_header_done()) {
      out.status = parser.get().result_int();
      for (const auto& field : parser.get())
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = parser.get().body();
    return out;
  }

private:
  uint16_t port_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

reply chat(uint16_t port, provider_kind p, bool stream = true, std::chrono::milliseconds deadline = 5s) {
  auto req = fake_test::sample_request();
  req.stream = stream;
  auto wire = fake_test::build(p, req);
  return client(port).send("POST", wire.path, wire.body, deadline);
}

} // namespace

TEST_CASE("a normal stream from each provider decodes with the product's decoder, over one kept-alive connection") {
  running_server s;
  client c(s.port);
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    auto wire = fake_test::build(p, fake_test::sample_request());
    auto r = c.send("POST", wire.path, wire.body);
    INFO("provider " << to_string(p));
    REQUIRE_FALSE(r.ec);
    CHECK(r.status == 200);
    CHECK(*sa::providers::find_header(r.headers, "content-type") == "text/event-stream");
    auto d = fake_test::decode(p, r.body);
    REQUIRE(d.end);
    CHECK(d.text.rfind("Answer to: Why was I charged twice? ", 0) == 0);
    CHECK(d.end->tokens.completion_tokens == sa::providers::fake::split_tokens(d.text).size());
  }
}

TEST_CASE("a 429 fault has the provider's error body and retry-after, classified retryable by parse_error") {
  running_server s({}, R"({"provider":"*","fault":"status","status":429,"retry_after_s":2})");
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    auto r = chat(s.port, p);
    INFO("provider " << to_string(p));
    REQUIRE_FALSE(r.ec);
    CHECK(r.status == 429);
    auto e = fake_test::parse_error(p, static_cast<int>(r.status), r.headers, r.body);
    CHECK(e.kind == sa::providers::error_kind::rate_limited);
    CHECK(e.retryable);
    CHECK(e.retry_after_ms == 2000);
    CHECK(e.request_id.rfind("req_fake_", 0) == 0);
  }
}

TEST_CASE("OpenAI insufficient_quota 429 is not retryable") {
  running_server s({}, R"({"provider":"openai","fault":"status","status":429,"code":"insufficient_quota"})");
  auto r = chat(s.port, provider_kind::openai);
  auto e = fake_test::parse_error(provider_kind::openai, static_cast<int>(r.status), r.headers, r.body);
  CHECK(e.kind == sa::providers::error_kind::quota);
  CHECK_FALSE(e.retryable);
}

TEST_CASE("a reset mid-stream is a connection error for the client after some tokens") {
  running_server s({}, R"({"fault":"reset","after_tokens":3})");
  auto r = chat(s.port, provider_kind::anthropic);
  REQUIRE(r.ec);
  CHECK(r.ec != beast::error::timeout);
  CHECK(r.status == 200);
  auto d = fake_test::decode(provider_kind::anthropic, r.body, 0, false);
  CHECK(d.text == "Answer to: Why");
  CHECK_FALSE(d.end);
}

TEST_CASE("a stall before headers runs into the client's deadline") {
  running_server s({}, R"({"fault":"stall_before_headers","stall_ms":60000})");
  auto started = std::chrono::steady_clock::now();
  auto r = chat(s.port, provider_kind::openai, true, 300ms);
  CHECK(r.ec == beast::error::timeout);
  CHECK(r.status == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("time to first token delays the stream on a timer") {
  service_options opts;
  opts.ttft_ms = 150;
  running_server s(opts);
  auto started = std::chrono::steady_clock::now();
  auto r = chat(s.port, provider_kind::gemini);
  REQUIRE_FALSE(r.ec);
  CHECK(std::chrono::steady_clock::now() - started >= 150ms);
  CHECK(fake_test::decode(provider_kind::gemini, r.body).end);
}

TEST_CASE("a dripped stream arrives one byte at a time and still decodes") {
  running_server s({}, R"({"fault":"drip","drip_ms":0})");
  auto r = chat(s.port, provider_kind::openai);
  REQUIRE_FALSE(r.ec);
  auto d = fake_test::decode(provider_kind::openai, r.body);
  REQUIRE(d.end);
  CHECK(d.text.rfind("Answer to:", 0) == 0);
}

TEST_CASE("the admin API changes faults at run time and stats count requests") {
  running_server s;
  client admin(s.port);
  auto put = admin.send("PUT", "/admin/faults",
                        R"({"provider":"anthropic","fault":"status","status":529,"count":1})");
  REQUIRE_FALSE(put.ec);
  CHECK(put.status == 200);
  auto first = chat(s.port, provider_kind::anthropic);
  CHECK(first.status == 529);
  auto e = fake_test::parse_error(provider_kind::anthropic, 529, first.headers, first.body);
  CHECK(e.kind == sa::providers::error_kind::overloaded);
  CHECK(e.retryable);
  CHECK(chat(s.port, provider_kind::anthropic).status == 200); // count exhausted
  CHECK(chat(s.port, provider_kind::openai, false).status == 200);
  auto stats = admin.send("GET", "/admin/stats", "");
  REQUIRE(stats.status == 200);
  auto j = nlohmann::json::parse(stats.body);
  CHECK(j["requests"]["anthropic"] == 2);
  CHECK(j["requests"]["openai"] == 1);
  CHECK(j["faults"]["status"] == 1);
  CHECK(j["total"] == 3);
  CHECK(admin.send("DELETE", "/admin/faults", "").body == "[]");
  auto embeddings = admin.send("POST", "/v1/embeddings", R"({"input":["a","b"]})");
  CHECK(nlohmann::json::parse(embeddings.body)["data"].size() == 2);
}

TEST_CASE("a request with Expect: 100-continue gets 100 Continue before the client sends the body") {
  running_server s;
  auto wire = fake_test::build(provider_kind::openai, fake_test::sample_request(std::string(2000, 'x')));
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  std::string head = "POST " + wire.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Expect: 100-continue\r\nContent-Length: " + std::to_string(wire.body.size()) + "\r\n\r\n";
  std::string interim;
  http::response_parser<http::string_body> parser;
  error_code result;
  stream.expires_after(5s);
  stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.port), [&](error_code ec) {
    if (ec)
      return void(result = ec);
    net::async_write(stream, net::buffer(head), [&](error_code ec, std::size_t) {
      if (ec)
        return void(result = ec);
      net::async_read_until(stream, net::dynamic_buffer(interim), "\r\n\r\n", [&](error_code ec, std::size_t n) {
        if (ec)
          return void(result = ec);
        interim.resize(n); // the 100 Continue answer only
        net::async_write(stream, net::buffer(wire.body), [&](error_code ec, std::size_t) {
          if (ec)
            return void(result = ec);
          http::async_read(stream, buffer, parser, [&](error_code ec, std::size_t) { result = ec; });
        });
      });
    });
  });
  ioc.run();
  REQUIRE_FALSE(result);
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(parser.get().result_int() == 200);
  CHECK(fake_test::decode(provider_kind::openai, parser.get().body()).end);
}
