// The routes the http client's tests ask a loopback_http_server for (tests/support/loopback_http_server.hpp):
//   /hello                     200, Content-Length body "hello", keep-alive
//   /stream?n=N&gap=MS         chunked, N chunks "chunk-<i>;" with a pause of MS between them
//   /drip?gap=MS               chunked, a chunk "drop-<i>;" every MS until the client goes away
//   /stall-headers             reads the request, then sends nothing
//   /stall-body                headers and one chunk "first", then nothing
//   /reset                     headers and one chunk, then a TCP reset (SO_LINGER 0)
//   /gate?n=N                  holds each request until N of them are waiting, then 200 "gate"
//   anything else              404, empty body
// Pauses are server-side only; the server notices a client that closes during a pause or stall
// (peer_closed). To add a route: one more `if` here, and its line above.
#pragma once

#include "tests/support/loopback_http_server.hpp"

#include <optional>
#include <string>

namespace sa::test {

inline scripted_reply http_client_test_route(const received_request& r) {
  scripted_reply reply;
  reply.content_type = "text/plain";
  auto numbered = [](std::string prefix, std::size_t limit) {
    return [prefix, limit](std::size_t i) -> std::optional<std::string> {
      if (i >= limit)
        return std::nullopt;
      return prefix + std::to_string(i) + ";";
    };
  };
  auto once = [](std::size_t i) -> std::optional<std::string> {
    return i == 0 ? std::optional<std::string>{"first"} : std::nullopt;
  };
  if (r.path == "/hello") {
    reply.body = "hello";
  } else if (r.path == "/stream") {
    reply.chunks = numbered("chunk-", static_cast<std::size_t>(r.query_int("n")));
    reply.gap = std::chrono::milliseconds{r.query_int("gap")};
  } else if (r.path == "/drip") {
    reply.chunks = numbered("drop-", std::size_t(-1));
    reply.gap = std::chrono::milliseconds{r.query_int("gap")};
  } else if (r.path == "/stall-headers") {
    reply.stall = true;
  } else if (r.path == "/stall-body" || r.path == "/reset") {
    reply.chunks = once;
    reply.end = r.path == "/reset" ? stream_end::reset : stream_end::stall;
  } else if (r.path == "/gate") {
    reply.body = "gate";
    reply.hold_until = static_cast<std::size_t>(r.query_int("n"));
  } else {
    reply.status = 404;
  }
  return reply;
}

} // namespace sa::test
