// The CAF adapter: a request's events reach an actor as http_* messages, in order.
#include "http_test_routes.hpp"
#include "runtime/http_caf_listener.hpp"
#include "runtime/http_messages.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("an actor receives headers, chunks in order and done through caf_http_listener",
          "[runtime][http][caf]") {
  sa::test::loopback_http_server server{sa::test::http_client_test_route};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  sa::http_client client;
  sa::http_request r;
  r.url = server.url("/stream?n=3&gap=20");
  auto id = client.submit(r, std::make_shared<sa::caf_http_listener>(caf::actor{self}));

  int status = 0;
  std::string body;
  bool done = false;
  bool timed_out = false;
  std::vector<std::string> order;
  while (!done && !timed_out) {
    self->receive(
      [&](const sa::http_response_headers& h) {
        CHECK(h.request_id == id);
        status = h.status;
        order.emplace_back("headers");
      },
      [&](const sa::http_body_chunk& c) {
        CHECK(c.request_id == id);
        body += c.data;
        order.emplace_back("chunk");
      },
      [&](const sa::http_response_done& d) {
        CHECK(d.request_id == id);
        done = true;
        order.emplace_back("done");
      },
      [&](const sa::http_response_failed& f) {
        FAIL("unexpected failure: " << caf::deep_to_string(f));
      },
      caf::after(std::chrono::seconds(5)) >> [&] { timed_out = true; });
  }
  REQUIRE(done);
  CHECK(status == 200);
  CHECK(body == "chunk-0;chunk-1;chunk-2;");
  CHECK(order.front() == "headers");
  CHECK(order.back() == "done");
  CHECK(caf::deep_to_string(sa::http_response_failed{7, sa::http_error_kind::timeout_idle, "m"})
          .find("http_response_failed") != std::string::npos);
}
