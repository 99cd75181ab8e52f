// health: the per-provider machinery that decides whether to send, and when to try again. Plain classes
// with an explicit clock (time points are passed in), so they are unit-tested without sleeping; the
// provider actor owns one of each.
//
//   circuit_breaker  closed -> open after `failure_threshold` failures within `window` that are also at
//                    least `failure_rate` of the requests finished in it (0: the count alone decides);
//                    open -> half-open after `open_for`; half-open lets `half_open_probes` requests
//                    through: one success closes it, one failure opens it again.
//   retry_budget     Envoy's retry budget: retries in flight may not exceed
//                    max(min_concurrent, ratio x requests in flight), so a sick provider is not
//                    hammered by retries of every caller at once.
//   backoff_delay    the SDKs' exponential backoff with jitter, replaced by a server's retry-after.
#pragma once

#include <chrono>
#include <cstdint>
#include <array>
#include <cstddef>
#include <optional>
#include <random>

namespace sa::providers {

using health_clock = std::chrono::steady_clock;

enum class breaker_state : uint8_t { closed = 0, open = 1, half_open = 2 };
const char* to_string(breaker_state s) noexcept;

struct breaker_options {
  uint32_t failure_threshold = 5;
  /// The share of the window's finished requests (successes and failures) that must have failed too,
  /// in [0, 1]; 0: the count alone decides. Keeps a busy provider with a few failures closed.
  double failure_rate = 0;
  std::chrono::milliseconds window{30'000};
  std::chrono::milliseconds open_for{5'000};
  uint32_t half_open_probes = 1;
};

class circuit_breaker {
public:
  explicit circuit_breaker(breaker_options opts) : opts_(opts) {}

  /// May a request be sent now? In half-open state a `true` reserves one probe slot, which the
  /// caller must give back through on_success, on_failure or on_abandon.
  bool try_acquire(health_clock::time_point now);

  void on_success(health_clock::time_point now);
  void on_failure(health_clock::time_point now);
  /// A request that ended without a verdict on the provider (cancelled, or an error that is the
  /// caller's fault such as an invalid request): frees a half-open probe slot, counts nothing.
  void on_abandon();

  /// The state as of `now` (open turns half-open once open_for has passed).
  breaker_state state(health_clock::time_point now);

  /// Times the breaker went from closed or half-open to open.
  uint64_t opened() const noexcept { return opened_; }

private:
  /// The window is kept as `buckets` rolling counters (fixed memory at any request rate; a result
  /// leaves the window up to window/buckets early).
  static constexpr std::size_t buckets = 10;
  struct bucket {
    int64_t index = -1;  ///< which window/buckets-long slice of time this bucket counts
    uint32_t failures = 0;
    uint32_t successes = 0;
  };

  void trip(health_clock::time_point now);
  bucket& current(health_clock::time_point now);
  void window_totals(health_clock::time_point now, uint64_t& failures, uint64_t& successes) const;
  int64_t slice(health_clock::time_point now) const;

  breaker_options opts_;
  breaker_state state_ = breaker_state::closed;
  std::array<bucket, buckets> window_{};
  health_clock::time_point open_until_{};
  uint32_t probes_in_flight_ = 0;
  uint64_t opened_ = 0;
};

struct retry_budget_options {
  double ratio = 0.2;
  uint32_t min_concurrent = 3;
};

class retry_budget {
public:
  explicit retry_budget(retry_budget_options opts) : opts_(opts) {}

  /// A request (first attempt) started / finished.
  void request_started() noexcept { ++requests_; }
  void request_finished() noexcept {
    if (requests_ > 0)
      --requests_;
  }

  /// Takes a retry slot if the budget allows one; give it back with retry_finished.
  bool try_start_retry() noexcept;
  void retry_finished() noexcept {
    if (retries_ > 0)
      --retries_;
  }

  uint32_t retries_in_flight() const noexcept { return retries_; }

private:
  retry_budget_options opts_;
  uint32_t requests_ = 0;
  uint32_t retries_ = 0;
};

struct backoff_options {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{4'000};
  std::chrono::milliseconds max_retry_after{20'000};
};

/// Delay before retry number `retry` (1 = the first retry): `retry_after` when the server sent one
/// (nullopt if it exceeds max_retry_after: do not wait that long, fail over), else
/// min(initial * 2^(retry-1), max) reduced by up to 25% of random jitter (as the OpenAI and Anthropic
/// SDKs do).
std::optional<std::chrono::milliseconds> backoff_delay(const backoff_options& opts, uint32_t retry,
                                                       std::optional<int64_t> retry_after_ms,
                                                       std::mt19937_64& rng);

} // namespace sa::providers
