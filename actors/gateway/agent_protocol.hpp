// The agent console's wire protocol on /agent/ws (docs/protocol.md, "Agent console"): agent frames parsed
// into agent_request, server frames rendered from handoff records. Plain functions, like protocol.hpp for
// the customer endpoint. To add an agent frame: parse it here, handle it in agent_connection_actor.cpp.
#pragma once

#include "actors/gateway/gateway_messages.hpp"
#include "messages/handoff.hpp"

#include <string>
#include <vector>

namespace sa::gateway {

/// A parsed agent frame: an action (request.op = a handoff_ops name or "list"), auth (token) or ping.
struct agent_parse_result {
  bool ok = false;
  bool auth = false;
  bool ping = false;
  std::string token;
  agent_request request;
  std::string code;     ///< bad_request or unknown_type when !ok
  std::string message;
};

/// `intent_labels`: what a tag frame may name.
agent_parse_result parse_agent_frame(const std::string& text, const std::vector<std::string>& intent_labels);

std::string agent_ready_frame(const std::string& tenant, const std::string& agent, const std::string& name);
std::string queue_frame(const std::vector<handoff_view>& handoffs);
std::string handoff_update_frame(const handoff_view& v);
std::string history_frame(const handoff_view& v);
std::string customer_message_frame(const handoff_customer_said& m);
/// {"type":"ok","action":...,"handoff":...,"ref":...}; reply adds "delivered".
std::string agent_ok_frame(const agent_request& r, bool delivered);
std::string agent_error_frame(const std::string& code, const std::string& message, const agent_request& r);

/// What an agent reads for a refusal code.
std::string agent_error_message(const std::string& code);

} // namespace sa::gateway
