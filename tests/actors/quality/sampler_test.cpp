// The quality monitor's sampler: deterministic for a seed, and close to the configured rate.
#include "actors/quality/sampler.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using sa::quality::sampler;

namespace {

/// 10,000 turns: 2,000 sessions of 5 turns over 4 tenants.
std::vector<bool> decisions(const sampler& s) {
  std::vector<bool> out;
  const char* tenants[] = {"acme", "globex", "initech", "umbrella"};
  for (int session = 0; session < 2000; ++session)
    for (uint32_t turn = 1; turn <= 5; ++turn)
      out.push_back(s.should_sample(tenants[session % 4], "s-" + std::to_string(session), turn));
  return out;
}

std::size_t count(const std::vector<bool>& v) {
  std::size_t n = 0;
  for (bool b : v)
    n += b ? 1 : 0;
  return n;
}

} // namespace

SCENARIO("the sampler picks the configured share of 10,000 turns", "[quality][sampler]") {
  GIVEN("a 5% rate and a fixed seed") {
    sampler s{0.05, 42};
    auto picked = decisions(s);
    REQUIRE(picked.size() == 10000);
    THEN("the share is within 3 standard deviations of 5% (sd = sqrt(10000 x 0.05 x 0.95) = 21.8)") {
      auto n = count(picked);
      INFO("sampled " << n << " of 10000");
      CHECK(n >= 435);
      CHECK(n <= 565);
    }
    THEN("the same seed picks the same turns, another seed other turns") {
      CHECK(decisions(sampler{0.05, 42}) == picked);
      auto other = decisions(sampler{0.05, 43});
      CHECK(other != picked);
      CHECK(count(other) >= 435);
      CHECK(count(other) <= 565);
    }
  }
  GIVEN("other rates") {
    for (double rate : {0.01, 0.2, 0.5}) {
      auto n = static_cast<double>(count(decisions(sampler{rate, 7})));
      double sd = std::sqrt(10000 * rate * (1 - rate));
      INFO("rate " << rate << ": " << n);
      CHECK(std::abs(n - 10000 * rate) <= 3 * sd);
    }
    CHECK(count(decisions(sampler{0, 1})) == 0);
    CHECK(count(decisions(sampler{1, 1})) == 10000);
  }
}

TEST_CASE("sampler draws are uniform from 0 up to 1 and separate tenant from session", "[quality][sampler]") {
  sampler s{0.5, 0};
  double lo = 1, hi = 0;
  for (uint32_t t = 0; t < 1000; ++t) {
    auto d = s.draw("acme", "s", t);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    REQUIRE(d >= 0);
    REQUIRE(d < 1);
  }
  CHECK(lo < 0.01);
  CHECK(hi > 0.99);
  CHECK(s.draw("ab", "c", 1) != s.draw("a", "bc", 1));
}
