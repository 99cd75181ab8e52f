#include "actors/providers/health.hpp"

#include <algorithm>

namespace sa::providers {

const char* to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "closed";
}

breaker_state circuit_breaker::state(health_clock::time_point now) {
  if (state_ == breaker_state::open && now >= open_until_) {
    state_ = breaker_state::half_open;
    probes_in_flight_ = 0;
  }
  return state_;
}

bool circuit_breaker::try_acquire(health_clock::time_point now) {
  switch (state(now)) {
    case breaker_state::closed: return true;
    case breaker_state::open: return false;
    case breaker_state::half_open:
      if (probes_in_flight_ >= opts_.half_open_probes)
        return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void circuit_breaker::on_success(health_clock::time_point now) {
  switch (state(now)) {
    case breaker_state::half_open:
      state_ = breaker_state::closed;
      probes_in_flight_ = 0;
      window_.fill(bucket{});
      return;
    case breaker_state::closed:
      // A success while closed does not forgive earlier failures (the window does); it only counts
      // towards the failure rate.
      ++current(now).successes;
      return;
    case breaker_state::open: return;
  }
}

int64_t circuit_breaker::slice(health_clock::time_point now) const {
  auto len = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.window).count()
                                    / static_cast<int64_t>(buckets));
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() / len;
}

circuit_breaker::bucket& circuit_breaker::current(health_clock::time_point now) {
  auto idx = slice(now);
  auto& b = window_[static_cast<std::size_t>(idx % static_cast<int64_t>(buckets))];
  if (b.index != idx)
    b = bucket{idx, 0, 0};
  return b;
}

void circuit_breaker::window_totals(health_clock::time_point now, uint64_t& failures, uint64_t& successes) const {
  auto idx = slice(now);
  failures = successes = 0;
  for (const auto& b : window_)
    if (b.index >= 0 && b.index > idx - static_cast<int64_t>(buckets) && b.index <= idx) {
      failures += b.failures;
      successes += b.successes;
    }
}

void circuit_breaker::on_failure(health_clock::time_point now) {
  switch (state(now)) {
    case breaker_state::open:
      return; // a request started before the breaker opened; already counted as down
    case breaker_state::half_open:
      trip(now);
      return;
    case breaker_state::closed:
    {
      ++current(now).failures;
      uint64_t failures = 0, successes = 0;
      window_totals(now, failures, successes);
      if (failures < opts_.failure_threshold)
        return;
      if (static_cast<double>(failures) < opts_.failure_rate * static_cast<double>(failures + successes))
        return;
      trip(now);
      return;
    }
  }
}

void circuit_breaker::on_abandon() {
  if (state_ == breaker_state::half_open && probes_in_flight_ > 0)
    --probes_in_flight_;
}

void circuit_breaker::trip(health_clock::time_point now) {
  state_ = breaker_state::open;
  open_until_ = now + opts_.open_for;
  window_.fill(bucket{});
  probes_in_flight_ = 0;
  ++opened_;
}

bool retry_budget::try_start_retry() noexcept {
  auto allowed = std::max<double>(opts_.min_concurrent, opts_.ratio * requests_);
  if (retries_ + 1 > allowed)
    return false;
  ++retries_;
  return true;
}

std::optional<std::chrono::milliseconds> backoff_delay(const backoff_options& opts, uint32_t retry,
                                                       std::optional<int64_t> retry_after_ms,
                                                       std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  if (retry_after_ms) {
    if (*retry_after_ms > opts.max_retry_after.count())
      return std::nullopt;
    return milliseconds{std::max<int64_t>(0, *retry_after_ms)};
  }
  auto shift = std::min<uint32_t>(retry > 0 ? retry - 1 : 0, 30);
  auto base = std::min<int64_t>(opts.initial.count() * (int64_t{1} << shift), opts.max.count());
  std::uniform_real_distribution<double> jitter(0.0, 0.25);
  return milliseconds{static_cast<int64_t>(static_cast<double>(base) * (1.0 - jitter(rng)))};
}

} // namespace sa::providers
