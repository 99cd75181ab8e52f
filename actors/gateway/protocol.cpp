// JSON at the edge: client frames in, server frames out (docs/protocol.md is the contract).
#include "actors/gateway/protocol.hpp"

#include "messages/errors.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <random>

namespace sa::gateway {

using json = nlohmann::json;

namespace {

parse_result fail(const char* code, std::string message) {
  parse_result r;
  r.code = code;
  r.message = std::move(message);
  return r;
}

bool string_field(const json& j, const char* name, std::string& out, bool required) {
  auto i = j.find(name);
  if (i == j.end())
    return !required;
  if (!i->is_string())
    return false;
  out = i->get<std::string>();
  return true;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

bool parse_agent_seen(std::string_view text, agent_seen& out) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() || text.size() - colon - 1 > 9)
    return false;
  uint32_t seq = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    seq = seq * 10 + static_cast<uint32_t>(c - '0');
  }
  out = agent_seen{true, std::string(text.substr(0, colon)), seq};
  return true;
}

parse_result parse_client_frame(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return fail(codes::bad_request, "The frame is not valid JSON.");
  if (!j.is_object())
    return fail(codes::bad_request, "A frame must be a JSON object with a \"type\".");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string())
    return fail(codes::bad_request, "A frame must have a string \"type\".");
  auto type = t->get<std::string>();
  parse_result r;
  auto& f = r.frame;
  if (type == "message") {
    f.kind = client_kind::message;
    if (!string_field(j, "id", f.id, false) || !string_field(j, "text", f.text, true))
      return fail(codes::bad_request, "A message needs a string \"text\" (and optionally a string \"id\").");
    // Ids are echoed in every delta and stored with the turn; "agent:" names the turns a human agent wrote
    // (a customer's id in that form would pass their own words off as the agent's in the handoff).
    if (f.id.size() > max_client_message_id_bytes)
      return fail(codes::bad_request, "A message \"id\" has at most " + std::to_string(max_client_message_id_bytes) +
                                        " bytes.");
    if (f.id.rfind("agent:", 0) == 0)
      return fail(codes::bad_request, "Message ids starting with \"agent:\" are reserved; choose another \"id\".");
  } else if (type == "auth") {
    f.kind = client_kind::auth;
    if (!string_field(j, "token", f.token, true))
      return fail(codes::bad_request, "An auth frame needs a string \"token\".");
  } else if (type == "resume") {
    f.kind = client_kind::resume;
    if (!string_field(j, "session", f.session, true) || f.session.empty())
      return fail(codes::bad_request, "A resume frame needs a non-empty string \"session\".");
    if (auto s = j.find("agent_seen"); s != j.end()) {
      auto h = s->is_object() ? s->find("handoff") : s->end();
      auto q = s->is_object() ? s->find("seq") : s->end();
      if (h == s->end() || !h->is_string() || h->get_ref<const std::string&>().empty() || q == s->end() ||
          !q->is_number_unsigned() || q->get<uint64_t>() > std::numeric_limits<uint32_t>::max())
        return fail(codes::bad_request, "\"agent_seen\" must be an object with a non-empty string \"handoff\" and "
                                        "an unsigned \"seq\" (the last agent_message shown).");
      f.seen = agent_seen{true, h->get<std::string>(), static_cast<uint32_t>(q->get<uint64_t>())};
    }
  } else if (type == "feedback") {
    f.kind = client_kind::feedback;
    auto turn = j.find("turn");
    auto csat = j.find("csat");
    if (turn == j.end() || !turn->is_number_unsigned() || csat == j.end() || !csat->is_number_integer())
      return fail(codes::bad_request, "Feedback needs an integer \"turn\" and an integer \"csat\" from 1 to 5.");
    auto c = csat->get<int64_t>();
    if (c < 1 || c > 5)
      return fail(codes::bad_request, "\"csat\" must be from 1 to 5.");
    f.turn = static_cast<uint32_t>(turn->get<uint64_t>());
    f.csat = static_cast<int>(c);
    if (!string_field(j, "comment", f.comment, false))
      return fail(codes::bad_request, "\"comment\" must be a string.");
  } else if (type == "survey") {
    f.kind = client_kind::survey;
    auto csat = j.find("csat");
    auto resolved = j.find("resolved");
    if (csat == j.end() || !csat->is_number_integer() || csat->get<int64_t>() < 1 || csat->get<int64_t>() > 5)
      return fail(codes::bad_request, "A survey needs an integer \"csat\" from 1 to 5.");
    if (resolved == j.end() || !resolved->is_boolean())
      return fail(codes::bad_request, "A survey needs a boolean \"resolved\".");
    f.csat = static_cast<int>(csat->get<int64_t>());
    f.resolved = resolved->get<bool>();
    if (!string_field(j, "comment", f.comment, false))
      return fail(codes::bad_request, "\"comment\" must be a string.");
  } else if (type == "escalate") {
    f.kind = client_kind::escalate;
  } else if (type == "ping") {
    f.kind = client_kind::ping;
  } else {
    return fail(codes::unknown_type, "Unknown frame type; expected message, feedback, survey, escalate, resume or ping.");
  }
  r.ok = true;
  return r;
}

std::string ready_frame(const std::string& tenant, const std::string& user) {
  return dump({{"type", "ready"}, {"tenant", tenant}, {"user", user}});
}

std::string session_frame(const std::string& session, bool resumed) {
  return dump({{"type", "session"}, {"session", session}, {"resumed", resumed}});
}

std::string delta_frame(const turn_delta& d) {
  return dump({{"type", "delta"}, {"id", d.client_message_id}, {"seq", d.seq}, {"text", d.text}});
}

std::string reset_frame(const turn_reset& r) {
  return dump({{"type", "reset"},
               {"id", r.client_message_id},
               {"session", r.session.value},
               {"turn", r.turn},
               {"reason", r.reason}});
}

std::string final_frame(const turn_completed& c) {
  json sources = json::array();
  for (auto& s : c.sources)
    sources.push_back({{"id", s.source_id}, {"title", s.title}, {"url", s.url}});
  json frame{{"type", "final"},
               {"id", c.client_message_id},
               {"session", c.session.value},
               {"turn", c.turn},
               {"text", c.text},
               {"intent", to_string(c.intent)},
               {"confidence", c.confidence},
               {"sources", sources},
               {"actions", c.actions},
               {"escalated", c.escalation.escalate},
               {"safety", {{"action", to_string(c.safety.action)}, {"reason", to_string(c.safety.reason)}}},
               {"account_unavailable", c.account_unavailable},
               {"account_problem", to_string(c.account_problem)},
               {"account_missing", c.account_missing}};
  // A tool the bot proposed: the client may offer yes/no buttons; "yes" or "no" as the next message answers it.
  if (!c.proposal.tool.empty())
    frame["proposal"] = {{"tool", c.proposal.tool}, {"summary", c.proposal.summary},
                         {"expires_unix_ms", c.proposal.expires_unix_ms}};
  // A message a human agent holding the conversation received (docs/protocol.md, "Agent console").
  if (c.provider == "agent")
    frame["handled_by"] = "agent";
  return dump(frame);
}

std::string handoff_event_frame(const handoff_customer_event& e) {
  json j{{"type", e.kind}, {"handoff", e.handoff}, {"agent_name", e.agent_name}};
  if (e.kind == "agent_message") {
    j["text"] = e.text;
    j["seq"] = e.seq;
  } else if (e.kind == "agent_left") {
    j["state"] = e.state;
  }
  return dump(j);
}

std::string escalated_frame(const turn_completed& c, const std::string& handoff_id) {
  return dump({{"type", "escalated"},
               {"id", c.client_message_id},
               {"turn", c.turn},
               {"reason", to_string(c.escalation.reason)},
               {"detail", c.escalation.detail},
               {"handoff", handoff_id}});
}

std::string error_frame(const std::string& code, const std::string& message,
                        const std::string& client_message_id) {
  json j{{"type", "error"}, {"code", code}, {"message", message}};
  if (!client_message_id.empty())
    j["id"] = client_message_id;
  return dump(j);
}

std::string feedback_frame(uint32_t turn) {
  return dump({{"type", "feedback_received"}, {"turn", turn}});
}

std::string survey_frame() {
  return dump({{"type", "survey_received"}});
}

std::string pong_frame() {
  return R"({"type":"pong"})";
}

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 gen{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = prefix;
  for (int i = 0; i < 20; ++i)
    out += alphabet[gen() % 36];
  return out;
}

} // namespace sa::gateway
