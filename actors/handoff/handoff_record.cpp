#include "actors/handoff/handoff_record.hpp"

#include "runtime/log.hpp"

#include <chrono>

namespace sa::handoff {

using nlohmann::json;

std::string handoff_id(const std::string& tenant, const std::string& session, turn_number turn) {
  // '\x1f' is in no valid tenant or session id: the parts cannot be shifted into one another.
  return "HO-" + log::tag(tenant + '\x1f' + session + ":" + std::to_string(turn));
}

bool is_finished(const handoff_view& v) {
  return v.state == handoff_states::closed || v.state == handoff_states::returned;
}

int64_t finished_unix_ms(const handoff_view& v) {
  return v.closed_unix_ms != 0 ? v.closed_unix_ms : v.taken_unix_ms;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

namespace {

constexpr auto replace = json::error_handler_t::replace;

json line_json(const handoff_line& l) {
  json j{{"role", l.role}, {"text", l.text}, {"turn", l.turn}, {"at_unix_ms", l.at_unix_ms}};
  if (l.role == "agent") {
    j["agent_name"] = l.agent_name;
    j["seq"] = l.seq;
  }
  return j;
}

template <class T>
bool read(const json& j, const char* key, T& out, std::string& error) {
  auto it = j.find(key);
  if (it == j.end()) {
    error = std::string{"missing field '"} + key + "'";
    return false;
  }
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    error = std::string{"field '"} + key + "' has the wrong type";
    return false;
  }
  return true;
}

template <class T>
void read_optional(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end())
    try {
      out = it->get<T>();
    } catch (const json::exception&) {
    }
}

} // namespace

json to_json(const handoff_view& v, detail d) {
  json j{{"id", v.id},
         {"session", v.session.value},
         {"user", v.user.value},
         {"turn", v.turn},
         {"created_unix_ms", v.created_unix_ms},
         {"reason", v.reason},
         {"detail", v.detail},
         {"intent", v.intent},
         {"state", v.state},
         {"agent", v.agent},
         {"agent_name", v.agent_name},
         {"resolution", v.resolution},
         {"tags", v.tagged ? json{{"intent", v.tag_intent}, {"bot_could_answer", v.bot_could_answer}} : json(nullptr)}};
  if (d != detail::stored)
    j["customer_online"] = v.customer_online;
  if (d == detail::summary)
    return j;
  j["summary"] = v.summary;
  j["transcript"] = json::array();
  for (const auto& l : v.transcript)
    j["transcript"].push_back(line_json(l));
  j["facts"] = v.facts;
  if (d == detail::stored) {
    j["tenant"] = v.tenant.value;
    j["question"] = v.question;
    j["taken_unix_ms"] = v.taken_unix_ms;
    j["closed_unix_ms"] = v.closed_unix_ms;
    j["agent_messages"] = v.agent_messages;
    j["delivered_seq"] = v.delivered_seq;
  }
  // Text that is not UTF-8 never breaks a frame or the store.
  return json::parse(j.dump(-1, ' ', false, replace));
}

bool from_json(const json& j, handoff_view& v, std::string& error) {
  if (!j.is_object()) {
    error = "not an object";
    return false;
  }
  std::string tenant, user, session;
  if (!read(j, "id", v.id, error) || !read(j, "tenant", tenant, error) || !read(j, "session", session, error)
      || !read(j, "user", user, error) || !read(j, "state", v.state, error))
    return false;
  v.tenant = tenant_id{tenant};
  v.user = user_id{user};
  v.session = session_id{session};
  read_optional(j, "turn", v.turn);
  read_optional(j, "created_unix_ms", v.created_unix_ms);
  read_optional(j, "reason", v.reason);
  read_optional(j, "detail", v.detail);
  read_optional(j, "intent", v.intent);
  read_optional(j, "question", v.question);
  read_optional(j, "agent", v.agent);
  read_optional(j, "agent_name", v.agent_name);
  read_optional(j, "resolution", v.resolution);
  read_optional(j, "taken_unix_ms", v.taken_unix_ms);
  read_optional(j, "closed_unix_ms", v.closed_unix_ms);
  read_optional(j, "summary", v.summary);
  read_optional(j, "facts", v.facts);
  read_optional(j, "agent_messages", v.agent_messages);
  read_optional(j, "delivered_seq", v.delivered_seq);
  if (auto t = j.find("tags"); t != j.end() && t->is_object()) {
    v.tagged = true;
    read_optional(*t, "intent", v.tag_intent);
    read_optional(*t, "bot_could_answer", v.bot_could_answer);
  }
  if (auto t = j.find("transcript"); t != j.end() && t->is_array())
    for (const auto& l : *t) {
      handoff_line line;
      read_optional(l, "role", line.role);
      read_optional(l, "text", line.text);
      read_optional(l, "turn", line.turn);
      read_optional(l, "at_unix_ms", line.at_unix_ms);
      read_optional(l, "agent_name", line.agent_name);
      read_optional(l, "seq", line.seq);
      v.transcript.push_back(std::move(line));
    }
  return true;
}

} // namespace sa::handoff
