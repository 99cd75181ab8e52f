// memory: a session's conversation memory (last N turns verbatim + a summary of older ones).
// One memory service per node; keys are (tenant, session).
#pragma once

#include "messages/classify.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// One exchange: the user's message and what the session answered.
struct turn_record {
  turn_number number = 0;
  std::string client_message_id;  ///< de-duplicates retries of the same client message
  std::string user_text;
  std::string answer_text;
  sa::intent intent = sa::intent::general;
  bool escalated = false;
  int64_t at_unix_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_record& x) {
  return f(caf::meta::type_name("turn_record"), x.number, x.client_message_id, x.user_text,
           x.answer_text, x.intent, x.escalated, x.at_unix_ms);
}

struct memory_load {
  tenant_id tenant;
  session_id session;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_load& x) {
  return f(caf::meta::type_name("memory_load"), x.tenant, x.session);
}

struct conversation_memory {
  user_id owner;                    ///< empty for a new session
  std::vector<turn_record> turns;   ///< oldest first, at most memory.max_turns
  std::string summary;              ///< of turns that fell out of the window
  turn_number last_turn = 0;        ///< highest committed turn number
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversation_memory& x) {
  return f(caf::meta::type_name("conversation_memory"), x.owner, x.turns, x.summary, x.last_turn);
}

/// Appends one turn. Idempotent by turn number and client message id; rejected with turn_conflict when
/// `turn.number != last_turn + 1` for a different client message (someone else wrote this session meanwhile),
/// with session_forbidden when the session belongs to another user. The redis backend may refuse with busy
/// while its bounded write queue is full (the turn is then not stored).
struct memory_append {
  tenant_id tenant;
  session_id session;
  user_id owner;
  turn_record turn;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_append& x) {
  return f(caf::meta::type_name("memory_append"), x.tenant, x.session, x.owner, x.turn);
}

struct memory_ack {
  turn_number committed = 0;  ///< the session's last committed turn after the append
  bool duplicate = false;     ///< the turn was already stored (a retry)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_ack& x) {
  return f(caf::meta::type_name("memory_ack"), x.committed, x.duplicate);
}

/// Asks the memory service for its counters (metrics, tests).
struct memory_stats_request {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_stats_request&) {
  return f(caf::meta::type_name("memory_stats_request"));
}

/// The memory service's counters since it started (a restarted service starts again from zero, except the
/// redis_* figures, which belong to the node's Redis client).
struct memory_stats {
  std::string backend;              ///< "inprocess" or "redis"
  uint64_t sessions = 0;            ///< sessions held in this process (redis: the working copy)
  uint64_t appends_refused = 0;     ///< appends refused because the write queue was full (never acknowledged)
  uint64_t acked_while_queued = 0;  ///< appends acknowledged while waiting for Redis (durable once flushed)
  uint64_t confirmed = 0;           ///< appends Redis confirmed (committed or duplicate)
  uint64_t conflicts = 0;           ///< compare-and-set conflicts Redis reported (another writer won)
  uint64_t parked = 0;              ///< acknowledged turns that conflicted when flushed: kept in the conflicts list
  uint64_t lost = 0;                ///< acknowledged turns Redis refused or never got (logged as memory_write_lost)
  uint64_t load_fallbacks = 0;      ///< loads answered from the working copy because Redis did not answer
  bool redis_connected = false;
  uint64_t redis_pending = 0;       ///< commands queued in the Redis client (bounded by redis_max_pending)
  uint64_t redis_in_flight = 0;
  uint64_t redis_overflows = 0;     ///< submits the client refused because its queue was full
  uint64_t redis_reconnects = 0;
  uint64_t redis_connect_failures = 0;
  uint64_t redis_errors = 0;        ///< error replies plus commands that failed without a reply
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_stats& x) {
  return f(caf::meta::type_name("memory_stats"), x.backend, x.sessions, x.appends_refused, x.acked_while_queued,
           x.confirmed, x.conflicts, x.parked, x.lost, x.load_fallbacks, x.redis_connected, x.redis_pending,
           x.redis_in_flight, x.redis_overflows, x.redis_reconnects, x.redis_connect_failures, x.redis_errors);
}

using memory_actor = caf::typed_actor<caf::replies_to<memory_load>::with<conversation_memory>,
                                      caf::replies_to<memory_append>::with<memory_ack>,
                                      caf::replies_to<memory_stats_request>::with<memory_stats>>;

} // namespace sa
