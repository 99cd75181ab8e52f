#include "actors/memory/memory_store.hpp"

#include <algorithm>

namespace sa {

std::string memory_store::key(const tenant_id& t, const session_id& s) {
  // '\x1f' cannot appear in validated ids, so keys of different tenants never collide.
  return t.value + '\x1f' + s.value;
}

void memory_store::evict_expired(clock::time_point now) {
  // Walk from the least recently used end; stop at the first live entry (older ones expire first).
  while (!lru_.empty()) {
    auto i = entries_.find(lru_.back());
    if (i == entries_.end() || i->second.expires > now)
      break;
    entries_.erase(i);
    lru_.pop_back();
  }
}

conversation_memory memory_store::load(const tenant_id& t, const session_id& s, clock::time_point now) {
  evict_expired(now);
  auto i = entries_.find(key(t, s));
  if (i == entries_.end())
    return {};
  if (i->second.expires <= now) {
    lru_.erase(i->second.lru);
    entries_.erase(i);
    return {};
  }
  return i->second.mem;
}

void memory_store::fold_into_summary(std::string& summary, const turn_record& t, std::size_t max_chars) {
  auto first_sentence = [](const std::string& s, std::size_t cap) {
    auto end = s.find_first_of(".?!\n");
    auto out = s.substr(0, std::min(end == std::string::npos ? s.size() : end + 1, cap));
    return out;
  };
  std::string line = "Turn " + std::to_string(t.number) + " (" + to_string(t.intent) + "): customer: "
                     + first_sentence(t.user_text, 160) + " / answer: " + first_sentence(t.answer_text, 160);
  if (t.escalated)
    line += " [escalated]";
  if (!summary.empty())
    summary += '\n';
  summary += line;
  if (summary.size() > max_chars) {
    // Drop the oldest lines first; keep whole lines.
    auto cut = summary.size() - max_chars;
    auto nl = summary.find('\n', cut);
    summary = nl == std::string::npos ? summary.substr(summary.size() - max_chars) : summary.substr(nl + 1);
  }
}

const conversation_memory* memory_store::find(const tenant_id& t, const session_id& s,
                                              clock::time_point now) const {
  auto i = entries_.find(key(t, s));
  if (i == entries_.end() || i->second.expires <= now)
    return nullptr;
  return &i->second.mem;
}

memory_store::append_outcome memory_store::decide(const conversation_memory* mem, const user_id& owner,
                                                  const turn_record& turn) {
  // A session starts with turn 1; anything else is a conflict.
  if (!mem)
    return turn.number == 1 ? append_outcome::committed : append_outcome::conflict;
  if (!mem->owner.empty() && mem->owner != owner)
    return append_outcome::wrong_owner;
  for (auto& old : mem->turns)
    if (old.number == turn.number || (!turn.client_message_id.empty()
                                      && old.client_message_id == turn.client_message_id))
      return old.client_message_id == turn.client_message_id ? append_outcome::duplicate
                                                             : append_outcome::conflict;
  if (turn.number != mem->last_turn + 1)
    return append_outcome::conflict;
  return append_outcome::committed;
}

std::string memory_store::summary_after_append(const conversation_memory& mem, std::size_t max_turns,
                                               std::size_t summary_max_chars) {
  auto summary = mem.summary;
  auto n = mem.turns.size() + 1;
  for (std::size_t k = 0; n > max_turns && k < mem.turns.size(); ++k, --n)
    fold_into_summary(summary, mem.turns[k], summary_max_chars);
  return summary;
}

memory_store::entry& memory_store::emplace(const std::string& k) {
  if (auto i = entries_.find(k); i != entries_.end())
    return i->second;
  if (entries_.size() >= limits_.max_sessions && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(k);
  entry e;
  e.lru = lru_.begin();
  return entries_.emplace(k, std::move(e)).first->second;
}

memory_store::append_outcome memory_store::append(const tenant_id& t, const session_id& s,
                                                  const user_id& owner, const turn_record& turn,
                                                  clock::time_point now, turn_number* committed) {
  evict_expired(now);
  auto k = key(t, s);
  auto i = entries_.find(k);
  const conversation_memory* mem = i == entries_.end() ? nullptr : &i->second.mem;
  if (committed)
    *committed = mem ? mem->last_turn : 0;
  auto outcome = decide(mem, owner, turn);
  if (outcome != append_outcome::committed)
    return outcome;
  auto& e = i == entries_.end() ? emplace(k) : i->second;
  auto& m = e.mem;
  m.summary = summary_after_append(m, limits_.max_turns, limits_.summary_max_chars);
  m.owner = owner;
  m.turns.push_back(turn);
  m.last_turn = turn.number;
  if (m.turns.size() > limits_.max_turns)
    m.turns.erase(m.turns.begin(), m.turns.begin() + static_cast<std::ptrdiff_t>(m.turns.size() - limits_.max_turns));
  e.expires = now + limits_.ttl;
  lru_.splice(lru_.begin(), lru_, e.lru);
  if (committed)
    *committed = m.last_turn;
  return append_outcome::committed;
}

void memory_store::restore(const tenant_id& t, const session_id& s, conversation_memory mem,
                           clock::time_point now) {
  evict_expired(now);
  if (mem.turns.empty() && mem.owner.empty() && mem.last_turn == 0) {
    forget(t, s);
    return;
  }
  auto& e = emplace(key(t, s));
  e.mem = std::move(mem);
  e.expires = now + limits_.ttl;
  lru_.splice(lru_.begin(), lru_, e.lru);
}

void memory_store::forget(const tenant_id& t, const session_id& s) {
  auto i = entries_.find(key(t, s));
  if (i == entries_.end())
    return;
  lru_.erase(i->second.lru);
  entries_.erase(i);
}

} // namespace sa
