// memory_store: the in-process conversation memory (the default backend). Plain class, owned by exactly
// one memory actor, so it needs no locks.
//
// Per (tenant, session): the last `max_turns` turns verbatim, a running extractive summary of turns that
// fell out of the window, the owner (the user the session is bound to) and the last committed turn
// number. Entries expire `ttl` after their last append; at most `max_sessions` entries are kept (the
// least recently used is evicted first).
#pragma once

#include "messages/memory.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace sa {

class memory_store {
public:
  using clock = std::chrono::steady_clock;

  struct limits {
    std::size_t max_turns = 10;
    std::chrono::seconds ttl{3600};
    std::size_t summary_max_chars = 1200;
    std::size_t max_sessions = 200000;
  };

  enum class append_outcome { committed, duplicate, conflict, wrong_owner };

  explicit memory_store(limits l) : limits_(l) {}

  /// The session's memory (empty when unknown or expired).
  conversation_memory load(const tenant_id& t, const session_id& s, clock::time_point now);

  /// Appends `turn`: committed when turn.number == last + 1; duplicate when that number (or that
  /// client message id) is already stored with the same client message id; conflict otherwise;
  /// wrong_owner when the session belongs to another user.
  append_outcome append(const tenant_id& t, const session_id& s, const user_id& owner,
                        const turn_record& turn, clock::time_point now, turn_number* committed);

  std::size_t size() const noexcept { return entries_.size(); }

  /// The session's memory without copying it; nullptr when unknown or expired. Valid until the next
  /// non-const call.
  const conversation_memory* find(const tenant_id& t, const session_id& s, clock::time_point now) const;

  /// What append() would answer for `turn` given the session's memory `mem` (nullptr: unknown), without
  /// changing anything. The one place the rules live: append() and the Redis backend both use it.
  static append_outcome decide(const conversation_memory* mem, const user_id& owner, const turn_record& turn);

  /// The summary after one more turn is appended to `mem`: the turns that leave a window of `max_turns`
  /// folded in, oldest first. Equals `mem.summary` when nothing leaves the window.
  static std::string summary_after_append(const conversation_memory& mem, std::size_t max_turns,
                                          std::size_t summary_max_chars);

  /// Replaces the session's memory with `mem` (read from a shared store such as Redis) and refreshes its
  /// expiry; `mem` with no turn and no owner removes the session instead.
  void restore(const tenant_id& t, const session_id& s, conversation_memory mem, clock::time_point now);

  /// Removes the session (its next load comes from elsewhere).
  void forget(const tenant_id& t, const session_id& s);

  /// Folds a turn that leaves the window into the summary (extractive: intent + first sentence).
  static void fold_into_summary(std::string& summary, const turn_record& t, std::size_t max_chars);

private:
  struct entry {
    conversation_memory mem;
    clock::time_point expires;
    std::list<std::string>::iterator lru;
  };
  static std::string key(const tenant_id& t, const session_id& s);
  void evict_expired(clock::time_point now);
  /// The entry for `k`, created (evicting the least recently used when full) when missing.
  entry& emplace(const std::string& k);

  limits limits_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> lru_;  // front = most recently used
};

} // namespace sa
