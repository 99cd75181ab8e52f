// handoff: escalated conversations handed to human agents (docs/protocol.md, "Agent console").
//
// One handoff service per node (actors/handoff/handoff_actor.hpp) keeps a queue of handoff records per
// tenant. Sessions open a record when a turn escalates and route the customer's messages through it while
// an agent holds the conversation; customer connections attach to receive the agent's frames; agent
// connections subscribe to their tenant's queue and act on records (take, reply, hand back, close, tag).
// Every request names its tenant: a record of another tenant is indistinguishable from a missing one.
// To add an agent action: a name in handoff_ops, its transition in actors/handoff/handoff_book.cpp.
#pragma once

#include "messages/ids.hpp"
#include "messages/memory.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// Record states (stable names: protocol, store, metrics).
namespace handoff_states {
constexpr const char* queued = "queued";
constexpr const char* assigned = "assigned";
constexpr const char* returned = "returned_to_bot";
constexpr const char* closed = "closed";
} // namespace handoff_states

/// Agent actions (agent_action::op; the protocol's frame types).
namespace handoff_ops {
constexpr const char* take = "take";
constexpr const char* reply = "reply";
constexpr const char* hand_back = "hand_back";
constexpr const char* close = "close";
constexpr const char* tag = "tag";
constexpr const char* history = "history";
} // namespace handoff_ops

/// Refusals of agent actions (agent_outcome::code; the protocol's error codes). Empty: done.
namespace handoff_codes {
constexpr const char* not_found = "not_found";
constexpr const char* already_taken = "already_taken";
constexpr const char* not_assigned = "not_assigned";
constexpr const char* closed = "closed";
constexpr const char* handed_back = "handed_back";
constexpr const char* bad_request = "bad_request";
constexpr const char* unavailable = "unavailable";
} // namespace handoff_codes

/// One line of a handoff's transcript (text redacted). role: user, bot or agent.
struct handoff_line {
  std::string role;
  std::string text;
  turn_number turn = 0;
  int64_t at_unix_ms = 0;
  std::string agent_name;  ///< agent lines
  uint32_t seq = 0;        ///< agent lines: 1, 2, ... per handoff (customer delivery order)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_line& x) {
  return f(caf::meta::type_name("sa::handoff_line"), x.role, x.text, x.turn, x.at_unix_ms, x.agent_name, x.seq);
}

/// A handoff record, as stored and as shown to agents.
struct handoff_view {
  std::string id;                  ///< HO-...
  tenant_id tenant;
  user_id user;
  session_id session;
  turn_number turn = 0;            ///< the escalated turn
  int64_t created_unix_ms = 0;
  std::string reason;              ///< escalation_reason name
  std::string detail;
  std::string intent;              ///< intent name of the escalated message
  std::string question;            ///< the escalated message, redacted (export-training's text)
  std::string state = handoff_states::queued;
  std::string agent;               ///< holding (assigned) or last holding agent id
  std::string agent_name;
  std::string resolution;          ///< closed: the agent's resolution
  bool tagged = false;
  std::string tag_intent;          ///< intent label the agent chose (an intent_model label)
  bool bot_could_answer = false;
  bool customer_online = false;    ///< filled when shown, never stored
  int64_t taken_unix_ms = 0;
  int64_t closed_unix_ms = 0;      ///< when it finished: closed, or handed back to the bot
  std::string summary;             ///< memory's summary, then the last turns (redacted)
  std::vector<handoff_line> transcript;
  std::vector<std::string> facts;  ///< names of account facts the bot used
  uint32_t agent_messages = 0;     ///< agent lines so far (the last seq)
  uint32_t delivered_seq = 0;      ///< agent lines delivered to a customer connection
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_view& x) {
  return f(caf::meta::type_name("sa::handoff_view"), x.id, x.tenant, x.user, x.session, x.turn, x.created_unix_ms,
           x.reason, x.detail, x.intent, x.question, x.state, x.agent, x.agent_name, x.resolution, x.tagged,
           x.tag_intent, x.bot_could_answer, x.customer_online, x.taken_unix_ms, x.closed_unix_ms, x.summary,
           x.transcript, x.facts, x.agent_messages, x.delivered_seq);
}

// --- session -> handoff service ----------------------------------------------------------------------

/// A turn escalated: record it (idempotent by the id derived from session and turn).
struct handoff_open {
  tenant_id tenant;
  user_id user;
  session_id session;
  turn_number turn = 0;
  std::string reason;
  std::string detail;
  std::string intent;
  std::string summary;              ///< memory's summary of older turns (raw; redacted by the service)
  std::vector<turn_record> turns;   ///< the conversation's last turns, the escalated one included (raw)
  std::vector<std::string> facts;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_open& x) {
  return f(caf::meta::type_name("sa::handoff_open"), x.tenant, x.user, x.session, x.turn, x.reason, x.detail,
           x.intent, x.summary, x.turns, x.facts);
}

struct handoff_opened {
  std::string id;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_opened& x) {
  return f(caf::meta::type_name("sa::handoff_opened"), x.id);
}

/// A customer message of a conversation that escalated: is an agent holding it? If so the service stores it
/// as a turn, forwards it to the agent, and answers held=true with its turn number.
/// probe: only say what the service's record of the session is (held, open, had_agent; turn 0), at once:
/// store nothing and wait for no write. The cluster's handoff router probes the members to find the one that
/// knows the session, then asks that one again without `probe`.
struct handoff_route_request {
  tenant_id tenant;
  user_id user;
  session_id session;
  std::string client_message_id;
  std::string text;
  bool probe = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_route_request& x) {
  return f(caf::meta::type_name("sa::handoff_route_request"), x.tenant, x.user, x.session, x.client_message_id,
           x.text, x.probe);
}

struct handoff_route {
  bool held = false;       ///< an agent holds the conversation: the message went to them
  bool open = false;       ///< a handoff of this session is queued or assigned
  bool had_agent = false;  ///< not open, but an agent wrote into the conversation: reload its memory
  turn_number turn = 0;    ///< held: the message's turn number
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_route& x) {
  return f(caf::meta::type_name("sa::handoff_route"), x.held, x.open, x.had_agent, x.turn);
}

// --- handoff service -> customer connection ---------------------------------------------------------

/// kind: agent_joined, agent_message, agent_left (the frames of the same names).
struct handoff_customer_event {
  std::string kind;
  std::string handoff;
  std::string agent_name;
  std::string text;
  uint32_t seq = 0;
  std::string state;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_customer_event& x) {
  return f(caf::meta::type_name("sa::handoff_customer_event"), x.kind, x.handoff, x.agent_name, x.text, x.seq,
           x.state);
}

using handoff_customer_actor = caf::typed_actor<caf::reacts_to<handoff_customer_event>>;

/// The last agent message a customer's client has shown, as it says when it resumes (`agent_seen` in
/// docs/protocol.md): a message sent to a connection that was dropping at that moment is sent again.
struct agent_seen {
  bool given = false;   ///< false: the client did not say; only messages never sent to any connection follow
  std::string handoff;  ///< that message's handoff id
  uint32_t seq = 0;     ///< and its seq (0: none of that handoff's)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_seen& x) {
  return f(caf::meta::type_name("sa::agent_seen"), x.given, x.handoff, x.seq);
}

/// A customer connection bound a session: it gets the agent frames of that session from now on (and, at
/// once, the ones it missed: never sent, or sent after `seen`). A connection follows one conversation at a
/// time: attaching it detaches it from any other session it followed (on this member; the cluster's handoff
/// router sends customer_detach to the member that had its previous one). Detached when the connection
/// actor goes down.
struct customer_attach {
  tenant_id tenant;
  session_id session;
  handoff_customer_actor listener;
  agent_seen seen;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_attach& x) {
  return f(caf::meta::type_name("sa::customer_attach"), x.tenant, x.session, x.listener, x.seen);
}

/// The connection no longer follows this session (it moved to another one, attached on another member).
struct customer_detach {
  tenant_id tenant;
  session_id session;
  handoff_customer_actor listener;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_detach& x) {
  return f(caf::meta::type_name("sa::customer_detach"), x.tenant, x.session, x.listener);
}

// --- agents ------------------------------------------------------------------------------------------

/// A record changed (created, state, agent, tags, customer online): sent to every agent of its tenant.
struct handoff_changed {
  handoff_view view;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_changed& x) {
  return f(caf::meta::type_name("sa::handoff_changed"), x.view);
}

/// The customer wrote while this agent holds the conversation (text redacted).
struct handoff_customer_said {
  std::string handoff;
  session_id session;
  std::string text;
  turn_number turn = 0;
  int64_t at_unix_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_customer_said& x) {
  return f(caf::meta::type_name("sa::handoff_customer_said"), x.handoff, x.session, x.text, x.turn, x.at_unix_ms);
}

/// Clustered nodes: the tenant's whole open queue as it now stands, after a cluster member joined or left
/// (its records appeared or went away). Replaces the agent's view (the `queue` frame, unasked).
struct handoff_queue_changed {
  std::vector<handoff_view> handoffs;  ///< summaries, oldest first
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_queue_changed& x) {
  return f(caf::meta::type_name("sa::handoff_queue_changed"), x.handoffs);
}

using handoff_agent_listener =
  caf::typed_actor<caf::reacts_to<handoff_changed>, caf::reacts_to<handoff_customer_said>,
                   caf::reacts_to<handoff_queue_changed>>;

/// An agent connection subscribes to its tenant's queue; answered with the snapshot (open records).
struct agent_subscribe {
  tenant_id tenant;
  std::string agent;
  std::string name;
  handoff_agent_listener listener;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_subscribe& x) {
  return f(caf::meta::type_name("sa::agent_subscribe"), x.tenant, x.agent, x.name, x.listener);
}

/// The tenant's records: open ones (queued, assigned) or all of them, oldest first.
struct handoff_list_request {
  tenant_id tenant;
  bool include_closed = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_list_request& x) {
  return f(caf::meta::type_name("sa::handoff_list_request"), x.tenant, x.include_closed);
}

struct handoff_list {
  std::vector<handoff_view> handoffs;  ///< summaries: transcript and summary left empty
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_list& x) {
  return f(caf::meta::type_name("sa::handoff_list"), x.handoffs);
}

/// One agent action (op: a handoff_ops name). text: reply's text or close's resolution; intent and
/// bot_could_answer: tag's.
struct agent_action {
  tenant_id tenant;
  std::string agent;
  std::string name;
  std::string op;
  std::string handoff;
  std::string text;
  std::string intent;
  bool bot_could_answer = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_action& x) {
  return f(caf::meta::type_name("sa::agent_action"), x.tenant, x.agent, x.name, x.op, x.handoff, x.text, x.intent,
           x.bot_could_answer);
}

/// code empty: done; else a handoff_codes name. view: the record after the action (full for history and take).
struct agent_outcome {
  std::string code;
  bool delivered = false;  ///< reply: a customer connection was attached
  handoff_view view;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_outcome& x) {
  return f(caf::meta::type_name("sa::agent_outcome"), x.code, x.delivered, x.view);
}

using handoff_actor = caf::typed_actor<caf::replies_to<handoff_open>::with<handoff_opened>,
                                       caf::replies_to<handoff_route_request>::with<handoff_route>,
                                       caf::reacts_to<customer_attach>,
                                       caf::reacts_to<customer_detach>,
                                       caf::replies_to<agent_subscribe>::with<handoff_list>,
                                       caf::replies_to<handoff_list_request>::with<handoff_list>,
                                       caf::replies_to<agent_action>::with<agent_outcome>>;

} // namespace sa
