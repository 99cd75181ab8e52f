// token_bucket: per-connection message rate limit. `rate` tokens per second refill up to `burst`; each
// message takes one. Plain class on the connection's strand; the clock is passed in so tests need no sleep.
#pragma once

#include <algorithm>
#include <chrono>

namespace sa::gateway {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket(double rate, double burst, clock::time_point now = clock::now())
    : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  /// Takes one token if there is one.
  [[nodiscard]] bool take(clock::time_point now = clock::now()) {
    std::chrono::duration<double> dt = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + dt.count() * rate_);
    if (tokens_ < 1.0)
      return false;
    tokens_ -= 1.0;
    return true;
  }

private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

} // namespace sa::gateway
