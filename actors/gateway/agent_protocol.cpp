// JSON of the agent console (docs/protocol.md, "Agent console").
#include "actors/gateway/agent_protocol.hpp"

#include "actors/gateway/protocol.hpp"
#include "actors/handoff/handoff_actor.hpp"
#include "actors/handoff/handoff_record.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace sa::gateway {

using json = nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

agent_parse_result fail(const char* code, std::string message, std::string ref = {}) {
  agent_parse_result r;
  r.code = code;
  r.message = std::move(message);
  r.request.ref = std::move(ref);
  return r;
}

bool text(const json& j, const char* name, std::string& out) {
  auto i = j.find(name);
  if (i == j.end() || !i->is_string())
    return false;
  out = i->get<std::string>();
  return true;
}

} // namespace

agent_parse_result parse_agent_frame(const std::string& frame, const std::vector<std::string>& intent_labels) {
  auto j = json::parse(frame, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(codes::bad_request, "A frame must be a JSON object with a \"type\".");
  std::string type;
  if (!text(j, "type", type))
    return fail(codes::bad_request, "A frame must have a string \"type\".");
  agent_parse_result r;
  auto& q = r.request;
  if (j.contains("ref") && !text(j, "ref", q.ref))
    return fail(codes::bad_request, "\"ref\" must be a string.");
  if (type == "auth") {
    if (!text(j, "token", r.token))
      return fail(codes::bad_request, "An auth frame needs a string \"token\".", q.ref);
    r.auth = r.ok = true;
    return r;
  }
  if (type == "ping") {
    r.ping = r.ok = true;
    return r;
  }
  if (type == "list") {
    q.op = "list";
    r.ok = true;
    return r;
  }
  static const std::vector<std::string> ops{handoff_ops::take,  handoff_ops::history, handoff_ops::reply,
                                            handoff_ops::hand_back, handoff_ops::close, handoff_ops::tag};
  if (std::find(ops.begin(), ops.end(), type) == ops.end())
    return fail(codes::unknown_type,
                "Unknown frame type; expected list, take, history, reply, hand_back, close, tag or ping.", q.ref);
  q.op = type;
  if (!text(j, "handoff", q.handoff) || q.handoff.empty())
    return fail(codes::bad_request, "\"" + type + "\" needs a string \"handoff\".", q.ref);
  if (type == handoff_ops::reply) {
    if (!text(j, "text", q.text) || q.text.empty() || q.text.size() > handoff::max_reply_bytes)
      return fail(codes::bad_request, "A reply needs a string \"text\" of 1 to 4000 bytes.", q.ref);
  } else if (type == handoff_ops::close) {
    if (j.contains("resolution") && !text(j, "resolution", q.text))
      return fail(codes::bad_request, "\"resolution\" must be a string.", q.ref);
  } else if (type == handoff_ops::tag) {
    auto b = j.find("bot_could_answer");
    if (!text(j, "intent", q.intent) || b == j.end() || !b->is_boolean())
      return fail(codes::bad_request, "A tag needs a string \"intent\" and a boolean \"bot_could_answer\".", q.ref);
    if (std::find(intent_labels.begin(), intent_labels.end(), q.intent) == intent_labels.end()) {
      std::string known;
      for (const auto& l : intent_labels)
        known += (known.empty() ? "" : ", ") + l;
      return fail(codes::bad_request, "Unknown intent; expected one of " + known + ".", q.ref);
    }
    q.bot_could_answer = b->get<bool>();
  }
  r.ok = true;
  return r;
}

std::string agent_ready_frame(const std::string& tenant, const std::string& agent, const std::string& name) {
  return dump({{"type", "agent_ready"}, {"tenant", tenant}, {"agent", agent}, {"name", name}});
}

std::string queue_frame(const std::vector<handoff_view>& handoffs) {
  json list = json::array();
  for (const auto& v : handoffs)
    list.push_back(handoff::to_json(v, handoff::detail::summary));
  return dump({{"type", "queue"}, {"handoffs", list}});
}

std::string handoff_update_frame(const handoff_view& v) {
  return dump({{"type", "handoff_update"}, {"handoff", handoff::to_json(v, handoff::detail::summary)}});
}

std::string history_frame(const handoff_view& v) {
  return dump({{"type", "history"}, {"handoff", handoff::to_json(v, handoff::detail::full)}});
}

std::string customer_message_frame(const handoff_customer_said& m) {
  return dump({{"type", "customer_message"},
               {"handoff", m.handoff},
               {"session", m.session.value},
               {"text", m.text},
               {"turn", m.turn},
               {"at_unix_ms", m.at_unix_ms}});
}

std::string agent_ok_frame(const agent_request& r, bool delivered) {
  json j{{"type", "ok"}, {"action", r.op}, {"handoff", r.handoff}};
  if (!r.ref.empty())
    j["ref"] = r.ref;
  if (r.op == handoff_ops::reply)
    j["delivered"] = delivered;
  return dump(j);
}

std::string agent_error_frame(const std::string& code, const std::string& message, const agent_request& r) {
  json j{{"type", "error"}, {"code", code}, {"message", message}};
  if (!r.handoff.empty())
    j["handoff"] = r.handoff;
  if (!r.ref.empty())
    j["ref"] = r.ref;
  return dump(j);
}

std::string agent_error_message(const std::string& code) {
  if (code == handoff_codes::not_found)
    return "No such conversation in your queue.";
  if (code == handoff_codes::already_taken)
    return "Another agent has already taken this conversation.";
  if (code == handoff_codes::not_assigned)
    return "You do not hold this conversation; take it first.";
  if (code == handoff_codes::closed)
    return "This conversation is closed.";
  if (code == handoff_codes::handed_back)
    return "This conversation was handed back to the bot.";
  if (code == handoff_codes::unavailable)
    return "The handoff service did not answer; try again.";
  return "The request was refused.";
}

} // namespace sa::gateway
