#include "actors/account/account_cache.hpp"

#include <algorithm>

namespace sa {

account_cache::account_cache(std::chrono::milliseconds ttl, std::size_t max_entries)
  : ttl_(ttl), max_entries_(std::max<std::size_t>(1, max_entries)) {}

account_cache::part_ptr account_cache::find(const std::string& tenant, const std::string& user,
                                            account_api::lookup which, clock::time_point now) {
  auto i = entries_.find(key{tenant, user});
  if (i == entries_.end())
    return nullptr;
  auto& s = i->second.slots[static_cast<std::size_t>(which)];
  if (!s.part)
    return nullptr;
  if (now >= s.expires) {
    s.part.reset();
    return nullptr;
  }
  recency_.splice(recency_.begin(), recency_, i->second.recency);
  return s.part;
}

void account_cache::put(const std::string& tenant, const std::string& user, account_api::lookup which,
                        part_ptr part, clock::time_point now) {
  if (ttl_.count() <= 0 || !part || !part->ok())
    return;
  auto k = key{tenant, user};
  auto i = entries_.find(k);
  if (i == entries_.end()) {
    while (entries_.size() >= max_entries_) {
      entries_.erase(recency_.back());
      recency_.pop_back();
      ++evictions_;
    }
    recency_.push_front(k);
    i = entries_.emplace(std::move(k), entry{}).first;
    i->second.recency = recency_.begin();
  } else {
    recency_.splice(recency_.begin(), recency_, i->second.recency);
  }
  i->second.slots[static_cast<std::size_t>(which)] = slot{std::move(part), now + ttl_};
}

} // namespace sa
