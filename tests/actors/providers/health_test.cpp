// health: circuit breaker, retry budget and backoff as plain classes. Time points are passed in, so no
// test sleeps.
#include "actors/providers/health.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <set>
#include <string>

using namespace sa::providers;
using namespace std::chrono_literals;
using tp = health_clock::time_point;

namespace {

const tp t0 = tp{} + 1000s;

breaker_options opts(uint32_t threshold = 3, std::chrono::milliseconds window = 10s,
                     std::chrono::milliseconds open_for = 5s, uint32_t probes = 1) {
  breaker_options o;
  o.failure_threshold = threshold;
  o.window = window;
  o.open_for = open_for;
  o.half_open_probes = probes;
  return o;
}

/// Opens `b` (threshold failures at `at`) and checks it did.
void trip(circuit_breaker& b, tp at, uint32_t threshold = 3) {
  for (uint32_t i = 0; i < threshold; ++i) {
    REQUIRE(b.try_acquire(at));
    b.on_failure(at);
  }
  REQUIRE(b.state(at) == breaker_state::open);
}

} // namespace

TEST_CASE("breaker: threshold failures within the window open it, and open rejects") {
  circuit_breaker b(opts(3, 10s));
  CHECK(b.state(t0) == breaker_state::closed);
  CHECK(b.opened() == 0);
  b.on_failure(t0);
  b.on_failure(t0 + 1s);
  CHECK(b.state(t0 + 2s) == breaker_state::closed);
  CHECK(b.try_acquire(t0 + 2s));
  b.on_failure(t0 + 9s); // three within 10 s
  CHECK(b.state(t0 + 9s) == breaker_state::open);
  CHECK(b.opened() == 1);
  CHECK_FALSE(b.try_acquire(t0 + 9s));
  CHECK_FALSE(b.try_acquire(t0 + 13s)); // open_for 5 s not over yet
  CHECK(std::string(to_string(b.state(t0 + 13s))) == "open");
}

TEST_CASE("breaker: failures older than the window do not count") {
  circuit_breaker b(opts(3, 10s));
  b.on_failure(t0);
  b.on_failure(t0 + 5s);
  b.on_failure(t0 + 10s + 1ms); // the first is now out of the window: two count
  CHECK(b.state(t0 + 10s + 1ms) == breaker_state::closed);
  CHECK(b.try_acquire(t0 + 11s));
  b.on_failure(t0 + 12s); // t0+5s, t0+10s+1ms, t0+12s: three within 10 s
  CHECK(b.state(t0 + 12s) == breaker_state::open);
}

TEST_CASE("breaker: a success while closed does not reset the window") {
  circuit_breaker b(opts(3, 10s));
  b.on_failure(t0);
  b.on_failure(t0 + 1s);
  b.on_success(t0 + 2s);
  b.on_failure(t0 + 3s);
  CHECK(b.state(t0 + 3s) == breaker_state::open);
}

TEST_CASE("breaker: after open_for it is half-open and admits exactly half_open_probes") {
  SECTION("one probe") {
    circuit_breaker b(opts(3, 10s, 5s, 1));
    trip(b, t0);
    CHECK(b.state(t0 + 5s - 1ms) == breaker_state::open);
    CHECK(b.state(t0 + 5s) == breaker_state::half_open);
    CHECK(std::string(to_string(b.state(t0 + 5s))) == "half_open");
    CHECK(b.try_acquire(t0 + 5s));
    CHECK_FALSE(b.try_acquire(t0 + 5s));
    CHECK_FALSE(b.try_acquire(t0 + 60s)); // still one probe out, however long it takes
  }
  SECTION("three probes") {
    circuit_breaker b(opts(3, 10s, 5s, 3));
    trip(b, t0);
    CHECK(b.try_acquire(t0 + 6s));
    CHECK(b.try_acquire(t0 + 6s));
    CHECK(b.try_acquire(t0 + 6s));
    CHECK_FALSE(b.try_acquire(t0 + 6s));
  }
}

TEST_CASE("breaker: a probe success closes it") {
  circuit_breaker b(opts(3, 10s, 5s, 1));
  trip(b, t0);
  REQUIRE(b.try_acquire(t0 + 5s));
  b.on_success(t0 + 6s);
  CHECK(b.state(t0 + 6s) == breaker_state::closed);
  CHECK(b.try_acquire(t0 + 6s));
  CHECK(b.try_acquire(t0 + 6s)); // closed: no probe limit
  // the old failures are forgotten: it takes a full threshold again
  b.on_failure(t0 + 7s);
  b.on_failure(t0 + 7s);
  CHECK(b.state(t0 + 7s) == breaker_state::closed);
  CHECK(b.opened() == 1);
}

TEST_CASE("breaker: a probe failure re-opens it for another open_for") {
  circuit_breaker b(opts(3, 10s, 5s, 1));
  trip(b, t0);
  REQUIRE(b.try_acquire(t0 + 5s));
  b.on_failure(t0 + 7s);
  CHECK(b.state(t0 + 7s) == breaker_state::open);
  CHECK(b.opened() == 2);
  CHECK_FALSE(b.try_acquire(t0 + 11s)); // open until t0+12s
  CHECK(b.state(t0 + 12s) == breaker_state::half_open);
  CHECK(b.try_acquire(t0 + 12s));
}

TEST_CASE("breaker: on_abandon frees a probe slot without a verdict") {
  circuit_breaker b(opts(3, 10s, 5s, 1));
  trip(b, t0);
  REQUIRE(b.try_acquire(t0 + 5s));
  REQUIRE_FALSE(b.try_acquire(t0 + 5s));
  b.on_abandon();
  CHECK(b.state(t0 + 5s) == breaker_state::half_open); // no verdict
  CHECK(b.try_acquire(t0 + 5s));
  CHECK_FALSE(b.try_acquire(t0 + 5s));
  CHECK(b.opened() == 1);
}

TEST_CASE("breaker: on_abandon while closed or with no probe out changes nothing") {
  circuit_breaker b(opts(2, 10s, 5s, 1));
  b.on_abandon();
  CHECK(b.state(t0) == breaker_state::closed);
  b.on_failure(t0);
  b.on_abandon();
  b.on_failure(t0);
  CHECK(b.state(t0) == breaker_state::open); // abandon did not forgive the first failure
  // half-open with no probe out: an abandon must not create an extra slot
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  b.on_abandon();
  CHECK(b.try_acquire(t0 + 5s));
  CHECK_FALSE(b.try_acquire(t0 + 5s));
}

TEST_CASE("breaker: a late failure of a request started before it opened does not extend open") {
  circuit_breaker b(opts(3, 10s, 5s, 1));
  trip(b, t0);
  b.on_failure(t0 + 4s);
  CHECK(b.state(t0 + 5s) == breaker_state::half_open);
  CHECK(b.opened() == 1);
}

TEST_CASE("retry budget: min_concurrent retries are always allowed") {
  retry_budget_options o;
  o.ratio = 0.0;
  o.min_concurrent = 2;
  retry_budget r(o);
  CHECK(r.try_start_retry());
  CHECK(r.try_start_retry());
  CHECK_FALSE(r.try_start_retry());
  CHECK(r.retries_in_flight() == 2);
  r.retry_finished();
  CHECK(r.retries_in_flight() == 1);
  CHECK(r.try_start_retry());
  CHECK_FALSE(r.try_start_retry());
}

TEST_CASE("retry budget: ratio x requests in flight above the minimum") {
  retry_budget_options o;
  o.ratio = 0.5;
  o.min_concurrent = 1;
  retry_budget r(o);
  for (int i = 0; i < 6; ++i)
    r.request_started();
  // max(1, 0.5 x 6) = 3
  CHECK(r.try_start_retry());
  CHECK(r.try_start_retry());
  CHECK(r.try_start_retry());
  CHECK_FALSE(r.try_start_retry());
  // fewer requests: 0.5 x 2 = 1, and 3 retries are out
  for (int i = 0; i < 4; ++i)
    r.request_finished();
  r.retry_finished();
  r.retry_finished();
  CHECK(r.retries_in_flight() == 1);
  CHECK_FALSE(r.try_start_retry());
  r.retry_finished();
  CHECK(r.try_start_retry());
}

TEST_CASE("retry budget: zero minimum and zero ratio allow no retry, counters never underflow") {
  retry_budget_options o;
  o.ratio = 0.0;
  o.min_concurrent = 0;
  retry_budget r(o);
  r.request_started();
  CHECK_FALSE(r.try_start_retry());
  r.retry_finished();
  r.request_finished();
  r.request_finished();
  CHECK(r.retries_in_flight() == 0);
  CHECK_FALSE(r.try_start_retry());
}

TEST_CASE("backoff: doubles from initial up to the cap, with jitter within [75%, 100%]") {
  backoff_options o;
  o.initial = 100ms;
  o.max = 1000ms;
  std::mt19937_64 rng(42);
  const int64_t expected[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int round = 0; round < 200; ++round) {
    for (uint32_t retry = 1; retry <= 7; ++retry) {
      auto d = backoff_delay(o, retry, std::nullopt, rng);
      REQUIRE(d);
      auto base = expected[retry - 1];
      INFO("retry " << retry << " delay " << d->count());
      REQUIRE(d->count() <= base);
      REQUIRE(d->count() >= base * 3 / 4);
    }
  }
  // far beyond the cap: no overflow, still the cap
  for (uint32_t retry : {31u, 63u, 64u, 1000u, 4000000000u}) {
    auto d = backoff_delay(o, retry, std::nullopt, rng);
    REQUIRE(d);
    CHECK(d->count() <= 1000);
    CHECK(d->count() >= 750);
  }
}

TEST_CASE("backoff: jitter actually varies and is reproducible with the same seed") {
  backoff_options o;
  o.initial = 1000ms;
  o.max = 8000ms;
  std::mt19937_64 a(7), b(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    auto x = backoff_delay(o, 1, std::nullopt, a);
    auto y = backoff_delay(o, 1, std::nullopt, b);
    REQUIRE(x == y);
    seen.insert(x->count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("backoff: the server's retry-after is honoured, a too-long one gives nullopt") {
  backoff_options o;
  o.initial = 100ms;
  o.max = 1000ms;
  o.max_retry_after = 20s;
  std::mt19937_64 rng(1);
  CHECK(backoff_delay(o, 1, int64_t{2500}, rng) == std::chrono::milliseconds(2500)); // longer than max: honoured
  CHECK(backoff_delay(o, 3, int64_t{10}, rng) == std::chrono::milliseconds(10));     // shorter than backoff
  CHECK(backoff_delay(o, 1, int64_t{0}, rng) == std::chrono::milliseconds(0));
  CHECK(backoff_delay(o, 1, int64_t{20000}, rng) == std::chrono::milliseconds(20000)); // the limit itself
  CHECK_FALSE(backoff_delay(o, 1, int64_t{20001}, rng));
  CHECK_FALSE(backoff_delay(o, 1, int64_t{3'600'000}, rng));
}

TEST_CASE("breaker: with a failure rate, the threshold opens it only when that share of the window failed") {
  auto o = opts(3, 10s);
  o.failure_rate = 0.5;
  circuit_breaker b(o);
  for (int i = 0; i < 4; ++i)
    b.on_success(t0);
  b.on_failure(t0 + 1s);
  b.on_failure(t0 + 1s);
  b.on_failure(t0 + 1s); // 3 failures of 7: under 50%
  CHECK(b.state(t0 + 1s) == breaker_state::closed);
  b.on_failure(t0 + 2s); // 4 of 8: 50%
  CHECK(b.state(t0 + 2s) == breaker_state::open);
}

TEST_CASE("breaker: successes older than the window no longer dilute the failure rate") {
  auto o = opts(2, 10s);
  o.failure_rate = 0.6;
  circuit_breaker b(o);
  for (int i = 0; i < 10; ++i)
    b.on_success(t0);
  b.on_failure(t0 + 5s);
  b.on_failure(t0 + 5s); // 2 of 12
  CHECK(b.state(t0 + 5s) == breaker_state::closed);
  b.on_failure(t0 + 11s); // the successes left the window: 3 of 3
  CHECK(b.state(t0 + 11s) == breaker_state::open);
}

TEST_CASE("breaker: failure rate 0 means the count alone decides, whatever the successes") {
  circuit_breaker b(opts(2, 10s));
  for (int i = 0; i < 100; ++i)
    b.on_success(t0);
  b.on_failure(t0);
  b.on_failure(t0);
  CHECK(b.state(t0) == breaker_state::open);
}
