// Rendezvous hashing (see rendezvous.hpp). The key's hash is computed once per lookup; each member costs
// one fmix64 of its name's hash and one of the combination.
#include "actors/cluster/rendezvous.hpp"

namespace sa::cluster {

uint64_t fnv1a64(std::string_view s) noexcept {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t fmix64(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

namespace {

uint64_t combine(uint64_t key_hash, std::string_view member) noexcept {
  return fmix64(key_hash ^ fmix64(fnv1a64(member)));
}

} // namespace

uint64_t rendezvous_weight(std::string_view member, std::string_view key) noexcept {
  return combine(fnv1a64(key), member);
}

const std::string* rendezvous_owner(std::string_view key, const std::vector<std::string>& members) noexcept {
  auto kh = fnv1a64(key);
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const auto& m : members) {
    auto w = combine(kh, m);
    if (!best || w > best_weight || (w == best_weight && m > *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best;
}

} // namespace sa::cluster
