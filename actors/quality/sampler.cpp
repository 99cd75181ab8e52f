#include "actors/quality/sampler.hpp"

#include <algorithm>

namespace sa::quality {
namespace {

/// splitmix64's finaliser: every input bit affects every output bit.
uint64_t mix(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// FNV-1a over the bytes, then mixed: a stable 64-bit hash (std::hash may differ between builds).
uint64_t hash_bytes(uint64_t h, std::string_view s) noexcept {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

} // namespace

sampler::sampler(double rate, uint64_t seed) noexcept : rate_(std::clamp(rate, 0.0, 1.0)), seed_(seed) {}

double sampler::draw(std::string_view tenant, std::string_view session, uint32_t turn) const noexcept {
  uint64_t h = mix(seed_ ^ 0xcbf29ce484222325ULL);
  h = hash_bytes(h, tenant);
  h = hash_bytes(h ^ 0x1f, session);  // a separator: ("ab","c") and ("a","bc") differ
  h = mix(h ^ turn);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

bool sampler::should_sample(std::string_view tenant, std::string_view session, uint32_t turn) const noexcept {
  if (rate_ <= 0)
    return false;
  if (rate_ >= 1)
    return true;
  return draw(tenant, session, turn) < rate_;
}

} // namespace sa::quality
