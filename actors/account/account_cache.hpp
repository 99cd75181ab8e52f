// account_cache: the HTTP account backend's short cache of lookup parts, per (tenant, user) and lookup.
// Only successful parts are stored (a failed lookup is asked again next time); each expires `ttl` after
// it was fetched; at most `max_entries` (tenant, user) pairs are kept, the least recently used going
// first. Plain and single-threaded: the account actor owns one; time is passed in, so tests need no clock.
#pragma once

#include "actors/account/account_api.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace sa {

class account_cache {
public:
  using clock = std::chrono::steady_clock;
  using part_ptr = std::shared_ptr<const account_api::part>;

  /// ttl 0: nothing is ever stored. max_entries is at least 1.
  account_cache(std::chrono::milliseconds ttl, std::size_t max_entries);

  /// The part of `which` for (tenant, user) fetched less than ttl before `now`; null otherwise.
  part_ptr find(const std::string& tenant, const std::string& user, account_api::lookup which,
                clock::time_point now);

  /// Stores a part fetched at `now`. A failed part is not stored (and leaves an older good one alone).
  void put(const std::string& tenant, const std::string& user, account_api::lookup which, part_ptr part,
           clock::time_point now);

  /// (tenant, user) pairs held.
  std::size_t size() const noexcept { return entries_.size(); }
  /// Pairs dropped to stay within max_entries.
  std::uint64_t evictions() const noexcept { return evictions_; }

private:
  using key = std::pair<std::string, std::string>;
  struct slot {
    part_ptr part;
    clock::time_point expires;
  };
  struct entry {
    std::array<slot, account_api::lookup_count> slots;
    std::list<key>::iterator recency;  // position in recency_ (front = most recent)
  };

  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  std::map<key, entry> entries_;
  std::list<key> recency_;
  std::uint64_t evictions_ = 0;
};

} // namespace sa
