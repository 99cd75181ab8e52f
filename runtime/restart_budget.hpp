// restart_budget: at most `max_restarts` within a sliding `window`; the supervisor's decision rule.
// Plain class (no actors), so tests drive it with a manual clock.
#pragma once

#include <chrono>
#include <deque>

namespace sa {

class restart_budget {
public:
  using clock = std::chrono::steady_clock;

  restart_budget(int max_restarts, std::chrono::milliseconds window)
    : max_(max_restarts), window_(window) {}

  /// Records a restart at `now`; false when it would exceed the budget (escalate instead).
  bool try_consume(clock::time_point now) {
    while (!stamps_.empty() && now - stamps_.front() >= window_)
      stamps_.pop_front();
    if (static_cast<int>(stamps_.size()) >= max_)
      return false;
    stamps_.push_back(now);
    return true;
  }

  /// True when a restart at `now` would still be within the budget (nothing is recorded).
  bool has_room(clock::time_point now) {
    while (!stamps_.empty() && now - stamps_.front() >= window_)
      stamps_.pop_front();
    return static_cast<int>(stamps_.size()) < max_;
  }

  int used() const noexcept { return static_cast<int>(stamps_.size()); }

private:
  int max_;
  std::chrono::milliseconds window_;
  std::deque<clock::time_point> stamps_;
};

} // namespace sa
