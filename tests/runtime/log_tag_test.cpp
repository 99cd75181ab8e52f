// log::tag: session ids appear in logs only as a short stable hash (12 hex digits of FNV-1a 64).
#include "runtime/log.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

TEST_CASE("a log tag is 12 lower-case hex digits", "[runtime][log]") {
  for (auto id : {"", "a", "session-1", "a much longer session identifier with spaces and ünïcödé"}) {
    INFO(id);
    auto t = sa::log::tag(id);
    REQUIRE(t.size() == 12);
    CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("a log tag is the first 12 hex digits of FNV-1a 64", "[runtime][log]") {
  // Published FNV-1a 64 test vectors.
  CHECK(sa::log::tag("") == "cbf29ce48422");        // cbf29ce484222325
  CHECK(sa::log::tag("a") == "af63dc4c8601");       // af63dc4c8601ec8c
  CHECK(sa::log::tag("foobar") == "85944171f739");  // 85944171f73967e8
}

TEST_CASE("a log tag is stable across calls", "[runtime][log]") {
  CHECK(sa::log::tag("s-42") == sa::log::tag("s-42"));
  CHECK(sa::log::tag(std::string("s-42")) == sa::log::tag(std::string_view("s-42xyz", 4)));
}

TEST_CASE("different ids get different log tags", "[runtime][log]") {
  std::set<std::string> tags;
  for (int i = 0; i < 10000; ++i)
    tags.insert(sa::log::tag("session-" + std::to_string(i)));
  CHECK(tags.size() == 10000);
  CHECK(sa::log::tag("ab") != sa::log::tag("ba"));
  CHECK(sa::log::tag("a") != sa::log::tag("A"));
  CHECK(sa::log::tag("s1") != sa::log::tag("s1 "));
}
