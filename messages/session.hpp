// session: the conversation's front door. A client (terminal chat, gateway connection) sends user_turn
// and receives the turn's events on its listener: deltas as the answer streams (possibly a turn_reset,
// after which the deltas start over), then exactly one of turn_completed or turn_failed per user_turn.
#pragma once

#include "messages/classify.hpp"
#include "messages/escalate.hpp"
#include "messages/generate.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

struct turn_delta {
  session_id session;
  std::string client_message_id;
  turn_number turn = 0;
  uint32_t seq = 0;
  std::string text;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_delta& x) {
  return f(caf::meta::type_name("turn_delta"), x.session, x.client_message_id, x.turn, x.seq, x.text);
}

/// The answer streamed so far for this message is void (the generator restarted it, e.g. on another
/// provider); the turn_delta messages that follow start again at seq 0. Only the text streamed after
/// the last reset is the answer, and turn_completed carries exactly that.
struct turn_reset {
  session_id session;
  std::string client_message_id;
  turn_number turn = 0;
  std::string reason;               ///< why it restarted (an error kind, never the user's or model's text)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_reset& x) {
  return f(caf::meta::type_name("turn_reset"), x.session, x.client_message_id, x.turn, x.reason);
}

struct turn_completed {
  session_id session;
  std::string client_message_id;
  turn_number turn = 0;
  std::string text;                 ///< the full answer as stored
  sa::intent intent = sa::intent::general;
  double confidence = 0;
  std::vector<citation> sources;
  std::vector<std::string> actions; ///< tools used this turn, "<tool>:<outcome>" (proposed, ok, declined,
                                    ///< expired, cancelled, or an action_status name)
  escalation_decision escalation;   ///< escalate=false when the bot answered
  bool account_facts_used = false;
  bool account_unavailable = false; ///< account context was wanted but the answer had no account facts
  uint32_t redactions = 0;          ///< sensitive numbers or secrets the safety check removed
  std::string provider;
  token_usage usage;
  uint32_t latency_us = 0;          ///< user_turn received -> completed, on the session's node
  account_failure account_problem = account_failure::none; ///< with account_unavailable: why
  std::vector<std::string> account_missing; ///< lookups missing from partial account facts (e.g. invoices)
  /// A tool the bot proposed this turn and runs only if the customer's next message confirms it
  /// (tool empty: none). `actions` then lists "<tool>:proposed".
  action_proposal proposal;
  safety_verdict safety;            ///< the turn's safety verdict (most severe of its checks; redacted empty)
  /// Escalated: the handoff record holding the conversation (empty: none recorded, or no handoff service).
  std::string handoff;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_completed& x) {
  return f(caf::meta::type_name("turn_completed"), x.session, x.client_message_id, x.turn, x.text,
           x.intent, x.confidence, x.sources, x.actions, x.escalation, x.account_facts_used,
           x.account_unavailable, x.redactions, x.provider, x.usage, x.latency_us, x.account_problem,
           x.account_missing, x.proposal, x.safety, x.handoff);
}

struct turn_failed {
  session_id session;
  std::string client_message_id;
  uint8_t code = 0;                 ///< support_errc
  std::string message;              ///< for the user: what happened and what to do next
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_failed& x) {
  return f(caf::meta::type_name("turn_failed"), x.session, x.client_message_id, x.code, x.message);
}

using session_listener_actor =
  caf::typed_actor<caf::reacts_to<turn_delta>, caf::reacts_to<turn_reset>,
                   caf::reacts_to<turn_completed>, caf::reacts_to<turn_failed>>;

struct user_turn {
  tenant_id tenant;
  user_id user;
  session_id session;
  std::string client_message_id;  ///< chosen by the client; retries reuse it
  std::string text;
  session_listener_actor listener;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_turn& x) {
  return f(caf::meta::type_name("user_turn"), x.tenant, x.user, x.session, x.client_message_id, x.text,
           x.listener);
}

/// A session actor, and the router in front of all sessions of a node, speak this interface.
using session_actor = caf::typed_actor<caf::reacts_to<user_turn>>;

/// Asks the router for its session counts (active sessions gauge, activation and passivation totals).
struct router_stats_request {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats_request&) {
  return f(caf::meta::type_name("router_stats_request"));
}

struct router_stats {
  uint64_t active_sessions = 0;
  uint64_t activations = 0;
  uint64_t passivations = 0;  ///< sessions that ended normally (idle)
  uint64_t crashes = 0;       ///< sessions that ended abnormally
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats& x) {
  return f(caf::meta::type_name("router_stats"), x.active_sessions, x.activations, x.passivations,
           x.crashes);
}

/// The node's session router: a session_actor front door plus its counters.
using session_router_actor =
  session_actor::extend<caf::replies_to<router_stats_request>::with<router_stats>>;

} // namespace sa
