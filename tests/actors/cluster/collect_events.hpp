// Test helper for the cluster's actor tests: a scoped actor receives messages of the given types, in order,
// until a condition on what arrived so far holds or the deadline passes (no sleeps).
#pragma once

#include "caf/all.hpp"

#include <chrono>
#include <functional>
#include <variant>
#include <vector>

namespace sa::cluster::testing {

template <class... Ts>
std::vector<std::variant<Ts...>> collect_events(caf::scoped_actor& self,
                                                const std::function<bool(const std::vector<std::variant<Ts...>>&)>& done,
                                                std::chrono::milliseconds deadline) {
  using namespace std::chrono_literals;
  std::vector<std::variant<Ts...>> out;
  auto until = std::chrono::steady_clock::now() + deadline;
  bool timed_out = false;
  while (!done(out) && !timed_out) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left <= 0ms)
      break;
    self->receive([&](Ts& x) { out.emplace_back(std::move(x)); }..., caf::after(left) >> [&] { timed_out = true; });
  }
  return out;
}

} // namespace sa::cluster::testing
