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

/// Appends one turn. Idempotent by turn number; rejected when `turn.number != last_turn + 1`
/// for a different client message (someone else wrote this session meanwhile).
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

using memory_actor = caf::typed_actor<caf::replies_to<memory_load>::with<conversation_memory>,
                                      caf::replies_to<memory_append>::with<memory_ack>>;

} // namespace sa
