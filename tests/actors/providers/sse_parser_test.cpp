#include "actors/providers/sse_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sa::providers;

namespace {

struct collected {
  std::vector<sse_event> events;
  sa::status fed;
  sa::status finished;
};

collected parse_in_pieces(const std::vector<std::string>& pieces, sse_limits limits = {}) {
  sse_parser p(limits);
  collected c;
  for (const auto& piece : pieces) {
    c.fed = p.feed(piece, [&](const sse_event& ev) { c.events.push_back(ev); });
    if (!c.fed)
      return c;
  }
  c.finished = p.finish();
  return c;
}

} // namespace

TEST_CASE("sse: data lines of one event are joined with a newline and the empty line dispatches") {
  auto c = parse_in_pieces({"data: first\ndata: second\n\n"});
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].data == "first\nsecond");
  CHECK(c.events[0].type == "message");
  CHECK(c.finished.ok());
}

TEST_CASE("sse: only one space after the colon is dropped, and a line without colon is a field name") {
  auto c = parse_in_pieces({"data:no space\n\ndata:  two spaces\n\ndata\n\n"});
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].data == "no space");
  CHECK(c.events[1].data == " two spaces");
  CHECK(c.events[2].data.empty()); // "data" alone is a data field with an empty value: dispatched
}

TEST_CASE("sse: event names the type, id persists across events, retry is read") {
  auto c = parse_in_pieces({"event: ping\nid: 7\nretry: 1500\ndata: {}\n\ndata: x\n\n"});
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].type == "ping");
  CHECK(c.events[0].id == "7");
  CHECK(c.events[0].retry_ms == 1500u);
  CHECK(c.events[1].type == "message");
  CHECK(c.events[1].id == "7");
  CHECK_FALSE(c.events[1].retry_ms);
}

TEST_CASE("sse: comments are ignored and an event without data is not dispatched") {
  auto c = parse_in_pieces({": keep-alive\n\nevent: lonely\n\n:another\ndata: real\n\n"});
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].data == "real");
  CHECK(c.events[0].type == "message"); // the type of the undispatched event does not leak
}

TEST_CASE("sse: LF, CRLF and CR all end lines") {
  auto c = parse_in_pieces({"data: a\r\n\r\ndata: b\r\rdata: c\n\n"});
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].data == "a");
  CHECK(c.events[1].data == "b");
  CHECK(c.events[2].data == "c");
}

TEST_CASE("sse: a CR at the end of one chunk and LF at the start of the next are one line end") {
  auto c = parse_in_pieces({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].data == "a\nb");
  CHECK(c.finished.ok());
}

TEST_CASE("sse: a UTF-8 character split across chunks arrives whole") {
  std::string euro = "\xE2\x82\xAC";
  auto c = parse_in_pieces({"data: 5 ", euro.substr(0, 1), euro.substr(1, 1), euro.substr(2) + "\n\n"});
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].data == "5 " + euro);
}

TEST_CASE("sse: a byte order mark at the start of the stream is dropped, even when split") {
  auto c = parse_in_pieces({"\xEF\xBB", "\xBF" "data: x\n\n"});
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].data == "x");
}

TEST_CASE("sse: a stream that ends inside an event is reported as truncated") {
  SECTION("in the middle of a line") {
    auto c = parse_in_pieces({"data: {\"a\":1}\n\ndata: {\"half"});
    CHECK(c.events.size() == 1);
    REQUIRE_FALSE(c.finished.ok());
    CHECK(c.finished.error().find("truncated") != std::string::npos);
  }
  SECTION("after the data line but before the empty line") {
    auto c = parse_in_pieces({"data: {\"a\":1}\n"});
    CHECK(c.events.empty());
    CHECK_FALSE(c.finished.ok());
  }
  SECTION("a clean end is fine, even after a trailing comment") {
    auto c = parse_in_pieces({"data: 1\n\n: bye\n"});
    CHECK(c.finished.ok());
  }
}

TEST_CASE("sse: a line longer than the limit fails the stream and keeps failing") {
  sse_limits limits;
  limits.max_line_bytes = 16;
  sse_parser p(limits);
  int events = 0;
  auto on = [&](const sse_event&) { ++events; };
  CHECK(p.feed("data: short\n\n", on).ok());
  CHECK(p.feed("data: 0123456", on).ok());
  auto st = p.feed("789abcdef", on);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().find("exceeds 16") != std::string::npos);
  CHECK_FALSE(p.feed("\n\n", on).ok());
  CHECK_FALSE(p.finish().ok());
  CHECK(events == 1);
}

TEST_CASE("sse: the joined data of one event is bounded too") {
  sse_limits limits;
  limits.max_line_bytes = 64;
  limits.max_event_bytes = 20;
  auto c = parse_in_pieces({"data: 0123456789\ndata: 0123456789\n\n"}, limits);
  CHECK_FALSE(c.fed.ok());
  CHECK(c.events.empty());
}
