// The decisions of the handoff router (handoff_router.hpp) as plain code, tested without an actor system:
// merging the members' queue snapshots, finding the member that holds a handoff from the members' answers to
// a probe, and remembering which member holds which handoff.
// To add a fanned-out request: gather its answers as member_answer and add the merge rule here.
#pragma once

#include "messages/handoff.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace sa::cluster {

/// One member's answer to a fanned-out list request (ok false: it failed or timed out).
struct member_list {
  std::string member;
  bool ok = false;
  std::vector<handoff_view> handoffs;
};

/// The members' lists as one: each handoff id once (the first member's copy wins: list the local node
/// first), oldest first (created_unix_ms, then id). Failed answers add nothing.
std::vector<handoff_view> merge_lists(const std::vector<member_list>& answers);

/// One member's answer to a probe (a `history` action) for one handoff id.
struct probe_answer {
  std::string member;
  bool ok = false;   ///< false: the member failed or timed out
  std::string code;  ///< the agent_outcome's code (empty: it holds the record)
};

struct location {
  enum class kind { found, not_found, unavailable };
  kind what = kind::not_found;
  std::string member;  ///< found: who holds it
};

/// found: the first member that answered with anything but not_found; else unavailable when a member did
/// not answer (the record may be there), else not_found.
location locate(const std::vector<probe_answer>& answers);

/// Which member holds which handoff (tenant and id), learned from snapshots and probes. Records never move
/// between nodes, so an entry stays right until its member leaves. Bounded: past `max_entries` it starts
/// over (the next actions probe again).
class location_cache {
public:
  explicit location_cache(std::size_t max_entries = 20000) : max_(max_entries) {}

  void remember(const tenant_id& t, const std::string& id, const std::string& member);
  /// The member holding the handoff, or nullptr when unknown.
  const std::string* find(const tenant_id& t, const std::string& id) const;
  /// A member left (or came back as a new process): forget its handoffs.
  void forget_member(const std::string& member);
  std::size_t size() const noexcept { return where_.size(); }

private:
  std::size_t max_;
  std::map<std::string, std::string> where_;  // tenant \x1f id -> member
};

} // namespace sa::cluster
