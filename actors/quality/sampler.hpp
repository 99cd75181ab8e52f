// sampler: which turns the quality monitor scores. A turn is sampled when a hash of (seed, tenant, session,
// turn) falls below the sample rate, so the choice is deterministic for a seed (tests, replays), spread
// evenly over tenants and sessions, and needs no state or lock. Different nodes agree on the same turn.
// To change the selection (e.g. per-tenant rates), change should_sample and its test
// (tests/actors/quality/sampler_test.cpp), which checks the rate over 10,000 turns.
#pragma once

#include <cstdint>
#include <string_view>

namespace sa::quality {

class sampler {
public:
  /// `rate` in [0, 1]: 0 never samples, 1 always does.
  sampler(double rate, uint64_t seed) noexcept;

  /// True when this turn is one of the sampled share.
  [[nodiscard]] bool should_sample(std::string_view tenant, std::string_view session, uint32_t turn) const noexcept;

  /// The uniform value in [0, 1) the decision compares with the rate (exposed for tests).
  [[nodiscard]] double draw(std::string_view tenant, std::string_view session, uint32_t turn) const noexcept;

  [[nodiscard]] double rate() const noexcept { return rate_; }

private:
  double rate_;
  uint64_t seed_;
};

} // namespace sa::quality
