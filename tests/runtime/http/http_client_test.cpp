// The outbound HTTP client against a loopback server: streaming, concurrency on one thread, the four
// timeouts and connection errors as typed errors, cancellation, keep-alive, stop().
#include "bench/child_process.hpp"
#include "http_test_listener.hpp"
#include "http_test_routes.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

using namespace std::chrono_literals;
using sa::http_error_kind;
using sa::test::http_event;

namespace {

using steady = std::chrono::steady_clock;

sa::http_request get(const std::string& url) {
  sa::http_request r;
  r.url = url;
  r.connect_timeout = 2s;
  r.first_byte_timeout = 5s;
  r.idle_timeout = 5s;
  r.total_timeout = 20s;
  return r;
}

/// Threads of this process that are not the test server's ("srv-*").
int non_server_threads() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/task");
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("srv-", 0) != 0)
      ++n;
  }
  ::closedir(d);
  return n;
}

/// Runs one request to its end and returns its error (REQUIREs that it failed) and its duration.
std::pair<http_event, steady::duration> expect_failure(sa::http_client& client, sa::http_request r,
                                                       std::chrono::milliseconds within) {
  auto l = std::make_shared<sa::test::recording_listener>();
  auto t0 = steady::now();
  client.submit(std::move(r), l);
  REQUIRE(l->wait_terminal(1, within));
  auto evs = l->events();
  REQUIRE(evs.back().kind == http_event::error);
  return {evs.back(), evs.back().at - t0};
}

} // namespace

TEST_CASE("a streamed response arrives as several chunks, in order, then completes",
          "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto l = std::make_shared<sa::test::recording_listener>();
  auto id = client.submit(get(server.url("/stream?n=5&gap=30")), l);
  CHECK(id != 0);
  REQUIRE(l->wait_terminal(1, 5s));
  auto evs = l->events();
  REQUIRE(evs.size() >= 4);
  CHECK(evs.front().kind == http_event::headers);
  CHECK(evs.front().status == 200);
  CHECK(evs.front().data.find("Content-Type=text/plain") != std::string::npos);
  CHECK(evs.back().kind == http_event::complete);
  std::string body;
  size_t chunks = 0;
  for (auto& e : evs) {
    CHECK(e.id == id);
    if (e.kind == http_event::chunk) {
      ++chunks;
      body += e.data;
    }
  }
  CHECK(chunks >= 3); // 30 ms apart: curl hands them over as they come
  CHECK(body == "chunk-0;chunk-1;chunk-2;chunk-3;chunk-4;");
  CHECK(client.in_flight() == 0);
}

TEST_CASE("200 concurrent requests complete on the client's single loop thread",
          "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  auto before = non_server_threads();
  sa::http_client client;
  auto l = std::make_shared<sa::test::recording_listener>();
  constexpr int n = 200;
  for (int i = 0; i < n; ++i)
    client.submit(get(server.url("/gate?n=" + std::to_string(n))), l);
  // The server answers none until all 200 are waiting at once: they are truly concurrent.
  REQUIRE(server.wait_until([&] { return server.held() >= n; }, 20s));
  CHECK(non_server_threads() == before + 1);
  REQUIRE(l->wait_terminal(n, 20s));
  int completed = 0;
  for (auto& e : l->events())
    completed += e.kind == http_event::complete;
  CHECK(completed == n);
  CHECK(client.in_flight() == 0);
}

TEST_CASE("a server that never starts its response fails with timeout_first_byte",
          "[runtime][http][timeout]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto r = get(server.url("/stall-headers"));
  r.first_byte_timeout = 200ms;
  auto [e, took] = expect_failure(client, r, 5s);
  CHECK(e.error_kind == http_error_kind::timeout_first_byte);
  CHECK(took >= 190ms);
  CHECK(took < 2s);
  CHECK(server.wait_until([&] { return server.peer_closed() == 1; }, 5s));
}

TEST_CASE("a response that stalls mid-body fails with timeout_idle", "[runtime][http][timeout]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto r = get(server.url("/stall-body"));
  r.idle_timeout = 200ms;
  auto l = std::make_shared<sa::test::recording_listener>();
  client.submit(r, l);
  REQUIRE(l->wait_chunks(1, 5s));
  auto first_chunk_at = l->events().back().at;
  REQUIRE(l->wait_terminal(1, 5s));
  auto evs = l->events();
  REQUIRE(evs.back().kind == http_event::error);
  CHECK(evs.back().error_kind == http_error_kind::timeout_idle);
  CHECK(evs.back().at - first_chunk_at >= 190ms);
  CHECK(evs.back().at - first_chunk_at < 2s);
}

TEST_CASE("a response that keeps dripping past the total deadline fails with timeout_total",
          "[runtime][http][timeout]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto r = get(server.url("/drip?gap=20"));
  r.idle_timeout = 2s;
  r.total_timeout = 300ms;
  auto [e, took] = expect_failure(client, r, 5s);
  CHECK(e.error_kind == http_error_kind::timeout_total);
  CHECK(took >= 290ms);
  CHECK(took < 3s);
}

TEST_CASE("a closed port fails with a connect error", "[runtime][http]") {
  sa::http_client client;
  auto r = get("http://127.0.0.1:" + std::to_string(sa::bench::free_loopback_port()) + "/hello");
  auto [e, took] = expect_failure(client, r, 5s);
  CHECK(e.error_kind == http_error_kind::connect);
  CHECK(e.data.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("a server whose accept queue is full fails with timeout_connect",
          "[runtime][http][timeout]") {
  // Linux drops SYNs to a listener whose accept queue is full: the handshake never completes.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 0) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  sa::http_client client;
  auto r = get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hello");
  r.connect_timeout = 200ms;
  auto [e, took] = expect_failure(client, r, 5s);
  CHECK(e.error_kind == http_error_kind::timeout_connect);
  CHECK(took >= 190ms);
  CHECK(took < 2s);
  for (int fd : fillers)
    ::close(fd);
  ::close(listener);
}

TEST_CASE("a connection reset mid-body fails with reset", "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto [e, took] = expect_failure(client, get(server.url("/reset")), 5s);
  CHECK(e.error_kind == http_error_kind::reset);
}

TEST_CASE("cancel mid-stream ends the request with cancelled and closes its connection",
          "[runtime][http][cancel]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto l = std::make_shared<sa::test::recording_listener>();
  auto id = client.submit(get(server.url("/stream?n=1000&gap=50")), l);
  REQUIRE(l->wait_chunks(2, 5s));
  client.cancel(id);
  REQUIRE(l->wait_terminal(1, 5s));
  CHECK(client.in_flight() == 0);
  REQUIRE(server.wait_until([&] { return server.peer_closed() == 1; }, 5s));
  // The server has seen the close, so the transfer is gone: whatever was recorded is final.
  auto evs = l->events();
  CHECK(evs.back().kind == http_event::error);
  CHECK(evs.back().error_kind == http_error_kind::cancelled);
  int terminal = 0;
  for (auto& e : evs)
    terminal += e.kind == http_event::error || e.kind == http_event::complete;
  CHECK(terminal == 1);
  client.cancel(id); // a finished id is ignored
  client.cancel(987654321);
}

TEST_CASE("two sequential requests to one host reuse one connection", "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  for (int i = 0; i < 2; ++i) {
    auto l = std::make_shared<sa::test::recording_listener>();
    client.submit(get(server.url("/hello")), l);
    REQUIRE(l->wait_terminal(1, 5s));
    auto evs = l->events();
    REQUIRE(evs.back().kind == http_event::complete);
    CHECK(evs[1].data == "hello");
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("a POST sends its body and a non-2xx status is a response, not an error",
          "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto r = get(server.url("/missing"));
  r.method = "POST";
  r.body = std::string(100'000, 'x');
  r.headers = {{"Authorization", "Bearer secret"}, {"Content-Type", "application/json"}};
  auto l = std::make_shared<sa::test::recording_listener>();
  client.submit(r, l);
  REQUIRE(l->wait_terminal(1, 5s));
  auto evs = l->events();
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].status == 404);
  CHECK(evs[1].kind == http_event::complete);
}

TEST_CASE("stop fails outstanding requests with cancelled and refuses new ones", "[runtime][http]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto l = std::make_shared<sa::test::recording_listener>();
  client.submit(get(server.url("/stall-headers")), l);
  client.submit(get(server.url("/stall-body")), l);
  client.stop();
  REQUIRE(l->wait_terminal(2, 0ms)); // delivered before stop() returned
  for (auto& e : l->events())
    if (e.kind == http_event::error)
      CHECK(e.error_kind == http_error_kind::cancelled);
  auto late = std::make_shared<sa::test::recording_listener>();
  client.submit(get(server.url("/hello")), late);
  REQUIRE(late->wait_terminal(1, 0ms));
  CHECK(late->events().back().error_kind == http_error_kind::cancelled);
  client.stop(); // idempotent
}

TEST_CASE("the client's logs carry neither bodies, query strings nor credential header values",
          "[runtime][http][redact]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  auto path = std::string("/tmp/sa_http_log_test_") + std::to_string(::getpid()) + ".log";
  std::string err;
  REQUIRE(sa::log::init("debug", path, &err));
  {
    sa::http_client client;
    auto l = std::make_shared<sa::test::recording_listener>();
    auto r = get(server.url("/stream?n=2&gap=1&key=CANARY-QUERY"));
    r.method = "POST";
    r.body = "CANARY-BODY";
    r.headers = {{"Authorization", "Bearer CANARY-AUTH"}, {"x-api-key", "CANARY-XAPI"},
                 {"x-goog-api-key", "CANARY-GOOG"}};
    client.submit(r, l);
    auto stalled = get(server.url("/stall-headers?key=CANARY-QUERY"));
    stalled.first_byte_timeout = 50ms;
    client.submit(stalled, l);
    REQUIRE(l->wait_terminal(2, 5s));
  }
  REQUIRE(sa::log::init("info", "", &err)); // drops the file logger: flushed and closed
  std::ifstream in(path);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path.c_str());
  CHECK(log.find("event=start") != std::string::npos); // the log was written at all
  CHECK(log.find("kind=timeout_first_byte") != std::string::npos);
  for (auto canary : {"CANARY-QUERY", "CANARY-BODY", "CANARY-AUTH", "CANARY-XAPI", "CANARY-GOOG",
                      "chunk-0"})
    CHECK(log.find(canary) == std::string::npos);
}

TEST_CASE("a listener may cancel its own request from inside on_chunk", "[runtime][http][cancel]") {
  struct cancelling_listener : sa::test::recording_listener {
    sa::http_client* client = nullptr;
    void on_chunk(uint64_t id, std::string chunk) noexcept override {
      recording_listener::on_chunk(id, std::move(chunk));
      client->cancel(id);
    }
  };
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  sa::http_client client;
  auto l = std::make_shared<cancelling_listener>();
  l->client = &client;
  client.submit(get(server.url("/stream?n=1000&gap=20")), l);
  REQUIRE(l->wait_terminal(1, 5s));
  auto evs = l->events();
  CHECK(evs.back().error_kind == http_error_kind::cancelled);
  REQUIRE(server.wait_until([&] { return server.peer_closed() == 1; }, 5s));
  CHECK(l->events().size() == evs.size()); // nothing after the terminal event
  int chunks = 0;
  for (auto& e : evs)
    chunks += e.kind == http_event::chunk;
  CHECK(chunks == 1); // nothing between cancel() and on_error{cancelled}
}
