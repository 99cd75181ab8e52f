// The supervisor's restart budget: at most max_restarts within a sliding window, on a manual clock.
#include "runtime/restart_budget.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

namespace {
const sa::restart_budget::clock::time_point t0 = sa::restart_budget::clock::time_point{} + 100s;
}

SCENARIO("a restart budget allows max_restarts within the window and refuses the next one",
         "[runtime][restart_budget]") {
  GIVEN("a budget of 3 restarts per 10 s") {
    sa::restart_budget b{3, 10s};
    CHECK(b.used() == 0);
    WHEN("three restarts happen within the window") {
      REQUIRE(b.try_consume(t0));
      REQUIRE(b.try_consume(t0 + 1s));
      REQUIRE(b.try_consume(t0 + 2s));
      THEN("all three are counted and the fourth is refused") {
        CHECK(b.used() == 3);
        CHECK_FALSE(b.try_consume(t0 + 3s));
        CHECK(b.used() == 3);  // a refused restart is not recorded
      }
      THEN("the fourth is refused just before the first leaves the window") {
        CHECK_FALSE(b.try_consume(t0 + 10s - 1ms));
      }
      THEN("the fourth is allowed once the first is exactly one window old") {
        CHECK(b.try_consume(t0 + 10s));
        CHECK(b.used() == 3);
        CHECK_FALSE(b.try_consume(t0 + 10s));
      }
      THEN("after a quiet window the whole budget is available again") {
        CHECK(b.try_consume(t0 + 60s));
        CHECK(b.used() == 1);
        CHECK(b.try_consume(t0 + 60s));
        CHECK(b.try_consume(t0 + 60s));
        CHECK_FALSE(b.try_consume(t0 + 60s));
      }
    }
  }
}

TEST_CASE("refused restarts do not extend the window", "[runtime][restart_budget]") {
  sa::restart_budget b{1, 10s};
  REQUIRE(b.try_consume(t0));
  for (int i = 1; i < 10; ++i)
    CHECK_FALSE(b.try_consume(t0 + std::chrono::seconds(i)));
  CHECK(b.try_consume(t0 + 10s));
}

TEST_CASE("a budget of zero restarts refuses every restart", "[runtime][restart_budget]") {
  sa::restart_budget b{0, 10s};
  CHECK_FALSE(b.try_consume(t0));
  CHECK_FALSE(b.try_consume(t0 + 1h));
  CHECK(b.used() == 0);
}

TEST_CASE("restarts at the same instant each count", "[runtime][restart_budget]") {
  sa::restart_budget b{2, 1s};
  CHECK(b.try_consume(t0));
  CHECK(b.try_consume(t0));
  CHECK_FALSE(b.try_consume(t0));
  CHECK(b.try_consume(t0 + 1s));
}
