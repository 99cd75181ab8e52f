// Summary figures of a bench's samples (latencies, usually µs): percentiles and the mean.
// A percentile is the sample at index floor(p * (n - 1)) of the sorted samples (no interpolation).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace sa::bench {

/// The `p` percentile (0 <= p <= 1) of `sorted`, which must be in ascending order; 0 when empty.
inline double percentile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

/// The `p` percentile (0 <= p <= 1) of `v` in any order (a partial sort of the copy); 0 when empty.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

/// The arithmetic mean of `v` (summed in order); 0 when empty.
inline double mean(const std::vector<double>& v) {
  if (v.empty())
    return 0;
  double sum = 0;
  for (auto x : v)
    sum += x;
  return sum / static_cast<double>(v.size());
}

/// The middle sample of `v` (the upper one of the two middles for an even count); 0 when empty.
inline double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  auto k = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

} // namespace sa::bench
