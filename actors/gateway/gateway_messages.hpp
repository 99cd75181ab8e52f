// Private messages of the gateway (docs/style.md: private messages stay out of messages/): what the io
// thread tells a connection's actor, and how connection actors claim session ids from the gateway actor.
#pragma once

#include "messages/handoff.hpp"
#include "messages/quality.hpp"
#include "messages/session.hpp"

#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>

namespace sa::gateway {

/// A client message frame (the user's text; never logged).
struct client_message {
  std::string id;
  std::string text;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_message& x) {
  return f(caf::meta::type_name("gw_client_message"), x.id, x.text);
}

/// A rating of answer `turn`, or (survey) the end-of-conversation survey.
struct client_feedback {
  uint32_t turn = 0;
  int csat = 0;
  std::string comment;
  bool survey = false;
  bool resolved = false;  ///< survey: the customer says the problem is solved
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_feedback& x) {
  return f(caf::meta::type_name("gw_client_feedback"), x.turn, x.csat, x.comment, x.survey, x.resolved);
}

struct client_escalate {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_escalate&) {
  return f(caf::meta::type_name("gw_client_escalate"));
}

struct client_resume {
  std::string session;
  agent_seen seen;  ///< the last agent message the client showed (given or not)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_resume& x) {
  return f(caf::meta::type_name("gw_client_resume"), x.session, x.seen);
}

/// The socket is gone (closed by either side, timed out, or the gateway stopped).
struct connection_closed {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_closed&) {
  return f(caf::meta::type_name("gw_connection_closed"));
}

/// One WebSocket connection's actor: a session listener plus the client's frames, and the agent frames of
/// its session (handoff_customer_event).
using connection_actor =
  session_listener_actor::extend<caf::reacts_to<client_message>, caf::reacts_to<client_feedback>,
                                 caf::reacts_to<client_escalate>, caf::reacts_to<client_resume>,
                                 caf::reacts_to<connection_closed>, caf::reacts_to<handoff_customer_event>>;

/// An agent's action frame on /agent/ws (parsed; text is the agent's, never logged). op: a handoff_ops
/// name, or "list".
struct agent_request {
  std::string op;
  std::string ref;
  std::string handoff;
  std::string text;  ///< reply: the text; close: the resolution
  std::string intent;
  bool bot_could_answer = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_request& x) {
  return f(caf::meta::type_name("gw_agent_request"), x.op, x.ref, x.handoff, x.text, x.intent, x.bot_could_answer);
}

/// One agent WebSocket's actor: the agent's frames in, the tenant's queue updates and the customers'
/// messages out.
using agent_connection_actor =
  handoff_agent_listener::extend<caf::reacts_to<agent_request>, caf::reacts_to<connection_closed>>;

/// A connection asks to use a session id for (tenant, user): a new one, or one it resumes.
struct session_claim {
  std::string tenant;
  std::string user;
  std::string session;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_claim& x) {
  return f(caf::meta::type_name("gw_session_claim"), x.tenant, x.user, x.session);
}

/// Granted: `resumed` when the id was already bound to this (tenant, user).
struct session_grant {
  bool resumed = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_grant& x) {
  return f(caf::meta::type_name("gw_session_grant"), x.resumed);
}

/// The gateway actor: binds session ids to their (tenant, user); refuses anyone else with
/// support_errc::session_forbidden.
using gateway_actor = caf::typed_actor<caf::replies_to<session_claim>::with<session_grant>>;

} // namespace sa::gateway
