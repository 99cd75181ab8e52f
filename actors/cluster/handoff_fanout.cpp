// Merging, locating and the location cache of the handoff router (see handoff_fanout.hpp).
#include "actors/cluster/handoff_fanout.hpp"

#include <algorithm>
#include <set>

namespace sa::cluster {

namespace {

std::string key(const tenant_id& t, const std::string& id) {
  return t.value + '\x1f' + id;
}

} // namespace

std::vector<handoff_view> merge_lists(const std::vector<member_list>& answers) {
  std::vector<handoff_view> out;
  std::set<std::string> seen;
  for (const auto& a : answers) {
    if (!a.ok)
      continue;
    for (const auto& h : a.handoffs)
      if (seen.insert(key(h.tenant, h.id)).second)
        out.push_back(h);
  }
  std::stable_sort(out.begin(), out.end(), [](const handoff_view& x, const handoff_view& y) {
    return x.created_unix_ms != y.created_unix_ms ? x.created_unix_ms < y.created_unix_ms : x.id < y.id;
  });
  return out;
}

location locate(const std::vector<probe_answer>& answers) {
  bool silent = false;
  for (const auto& a : answers) {
    if (!a.ok) {
      silent = true;
      continue;
    }
    if (a.code != handoff_codes::not_found)
      return location{location::kind::found, a.member};
  }
  return location{silent ? location::kind::unavailable : location::kind::not_found, {}};
}

void location_cache::remember(const tenant_id& t, const std::string& id, const std::string& member) {
  if (where_.size() >= max_ && where_.count(key(t, id)) == 0)
    where_.clear();
  where_[key(t, id)] = member;
}

const std::string* location_cache::find(const tenant_id& t, const std::string& id) const {
  auto it = where_.find(key(t, id));
  return it == where_.end() ? nullptr : &it->second;
}

void location_cache::forget_member(const std::string& member) {
  for (auto it = where_.begin(); it != where_.end();)
    it = it->second == member ? where_.erase(it) : std::next(it);
}

} // namespace sa::cluster
