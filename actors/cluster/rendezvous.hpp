// Rendezvous (highest random weight) hashing: which live member owns a session. Every node computes the
// same owner from the same member names, with no coordinator and no shared state. When a member leaves,
// only the sessions it owned move (each to the member with the next highest weight); when one joins, it
// takes about 1/N of the sessions from the others and nothing else moves.
//
// The weight function is part of the wire contract: nodes running different versions must agree, so it
// is pinned by tests (tests/actors/cluster/rendezvous_test.cpp) and never changed in place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sa::cluster {

/// FNV-1a 64 of the bytes of `s`.
uint64_t fnv1a64(std::string_view s) noexcept;

/// MurmurHash3's 64-bit finalizer: a bijection with full avalanche.
uint64_t fmix64(uint64_t x) noexcept;

/// The weight of `member` for `key`: fmix64(fnv1a64(key) ^ fmix64(fnv1a64(member))).
uint64_t rendezvous_weight(std::string_view member, std::string_view key) noexcept;

/// The member with the highest weight for `key` (ties, vanishingly rare, go to the greater name);
/// nullptr when `members` is empty. Duplicate names are harmless.
const std::string* rendezvous_owner(std::string_view key, const std::vector<std::string>& members) noexcept;

} // namespace sa::cluster
