// The client wire protocol (docs/protocol.md): JSON text frames, parsed and rendered here and nowhere
// else. Parsing turns a frame into a typed client_frame or a protocol error; rendering turns the
// runtime's turn events into server frames. Plain functions, no actors, no sockets.
// To add a client frame: add a kind, parse it in protocol.cpp, handle it in connection_actor.cpp.
#pragma once

#include "messages/handoff.hpp"
#include "messages/session.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace sa::gateway {

enum class client_kind { auth, message, feedback, escalate, resume, ping, survey };

/// One client frame, parsed. Only the fields of its kind are set.
struct client_frame {
  client_kind kind = client_kind::ping;
  std::string token;      ///< auth
  std::string id;         ///< message: the client's message id
  std::string text;       ///< message: the user's text
  std::string session;    ///< resume
  agent_seen seen;        ///< resume (optional): the last agent message the client showed
  uint32_t turn = 0;      ///< feedback
  int csat = 0;           ///< feedback, survey: 1..5
  std::string comment;    ///< feedback, survey (optional)
  bool resolved = false;  ///< survey
};

/// A parse outcome: a frame, or an error code (bad_request, unknown_type) and a message for the client.
struct parse_result {
  bool ok = false;
  client_frame frame;
  std::string code;
  std::string message;
};

parse_result parse_client_frame(const std::string& text);

/// The `agent_seen` query parameter of a resuming connection, "<handoff id>:<seq>" (HO-3f0c9a1b2d4e:2);
/// false when it is not of that form.
bool parse_agent_seen(std::string_view text, agent_seen& out);

/// The longest client message id accepted (bytes).
constexpr std::size_t max_client_message_id_bytes = 128;

/// Stable protocol error codes that are not support_errc names.
namespace codes {
constexpr const char* bad_request = "bad_request";
constexpr const char* unknown_type = "unknown_type";
constexpr const char* unauthorized = "unauthorized";
constexpr const char* token_expired = "token_expired";  ///< the connection's token expired: reconnect with a new one
constexpr const char* rate_limited = "rate_limited";
constexpr const char* unsupported_data = "unsupported_data";
constexpr const char* session_forbidden = "session_forbidden";
constexpr const char* busy = "busy";
/// The tenant or the user has as many open connections as allowed (then close 1013, try again later).
constexpr const char* too_many_connections = "too_many_connections";
} // namespace codes

// Server frames.
std::string ready_frame(const std::string& tenant, const std::string& user);
std::string session_frame(const std::string& session, bool resumed);
std::string delta_frame(const turn_delta& d);
/// {"type":"reset","id":<client message id>,"session":...,"turn":N,"reason":...}: the client discards
/// what it rendered of that message's answer; the deltas that follow start again at seq 0.
std::string reset_frame(const turn_reset& r);
std::string final_frame(const turn_completed& c);
std::string escalated_frame(const turn_completed& c, const std::string& handoff_id);
/// agent_joined, agent_message or agent_left (a human agent and the customer's conversation).
std::string handoff_event_frame(const handoff_customer_event& e);
std::string error_frame(const std::string& code, const std::string& message,
                        const std::string& client_message_id = {});
std::string feedback_frame(uint32_t turn);
/// {"type":"survey_received"}: the end-of-conversation survey was recorded.
std::string survey_frame();
std::string pong_frame();

/// A random, URL-safe identifier with a prefix (session ids, handoff ids).
std::string random_id(const char* prefix);

} // namespace sa::gateway
