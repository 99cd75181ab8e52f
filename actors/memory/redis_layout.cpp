#include "actors/memory/redis_layout.hpp"

#include "actors/memory/turn_json.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace sa::redis_layout {

namespace {

using json = nlohmann::json;

bool parse_number(const std::string& text, unsigned long long& out) {
  if (text.empty() || text.size() > 19)
    return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

/// A reply element as text: bulk strings, status, and integers (Lua numbers) alike.
bool as_text(const redis_reply& r, std::string& out) {
  if (r.type == redis_reply::kind::string || r.type == redis_reply::kind::status) {
    out = r.str;
    return true;
  }
  if (r.type == redis_reply::kind::integer) {
    out = std::to_string(r.integer);
    return true;
  }
  return false;
}

} // namespace

std::string escape(const std::string& id) {
  std::string out;
  out.reserve(id.size());
  for (unsigned char c : id) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '-' || c == ':' || c == '@';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

session_keys keys_for(const std::string& prefix, const tenant_id& tenant, const session_id& session) {
  auto base = prefix + ":" + escape(tenant.value) + ":{" + escape(session.value) + "}:";
  return {base + "turns", base + "ids", base + "meta", base + "conflicts"};
}

const std::string& append_script() {
  // KEYS: turns, ids, meta. ARGV: number, client_message_id, owner, turn_json, max_turns, ttl_ms,
  // replace_summary ("1"/"0"), summary. Returns {status, last}: 0 committed, 1 duplicate, 2 conflict,
  // 3 wrong_owner (the same verdicts as memory_store::decide, in the same order).
  static const std::string body = R"lua(
local number = tonumber(ARGV[1])
local cmid = ARGV[2]
local owner = ARGV[3]
local max_turns = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local meta = redis.call('HMGET', KEYS[3], 'last', 'owner')
-- Every commit writes meta with the turns and ids and gives all three the same TTL, so turns or ids without
-- meta are what is left of a session whose meta Redis evicted (a maxmemory policy): without meta there is no
-- owner to check them against, so they go, and the session starts afresh. Never handed to another user.
if not meta[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
local last = tonumber(meta[1]) or 0
if meta[2] and meta[2] ~= '' and meta[2] ~= owner then return {3, last} end
if cmid ~= '' and redis.call('HEXISTS', KEYS[2], 'c:' .. cmid) == 1 then return {1, last} end
if number <= last then
  if redis.call('HGET', KEYS[2], 'n:' .. number) == cmid then return {1, last} end
  return {2, last}
end
if number ~= last + 1 then return {2, last} end
redis.call('RPUSH', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 'n:' .. number, cmid)
if cmid ~= '' then redis.call('HSET', KEYS[2], 'c:' .. cmid, number) end
local gone = number - max_turns
if gone >= 1 then
  redis.call('LTRIM', KEYS[1], -max_turns, -1)
  while gone >= 1 do
    local old = redis.call('HGET', KEYS[2], 'n:' .. gone)
    if not old then break end
    redis.call('HDEL', KEYS[2], 'n:' .. gone)
    if old ~= '' then redis.call('HDEL', KEYS[2], 'c:' .. old) end
    gone = gone - 1
  end
end
redis.call('HSET', KEYS[3], 'last', number, 'owner', owner)
if ARGV[7] == '1' then redis.call('HSET', KEYS[3], 'summary', ARGV[8]) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {0, number}
)lua";
  return body;
}

const std::string& load_script() {
  // KEYS: turns, ids, meta. Returns {last, owner, summary, {turns...}}.
  static const std::string body = R"lua(
local meta = redis.call('HMGET', KEYS[3], 'last', 'owner', 'summary')
-- Turns without meta (it was evicted) have no owner to check a reader against: none are returned.
if not meta[1] then return {'0', '', '', {}} end
return {meta[1], meta[2] or '', meta[3] or '', redis.call('LRANGE', KEYS[1], 0, -1)}
)lua";
  return body;
}

const std::string& park_script() {
  // KEYS: conflicts. ARGV: entry, ttl_ms. Returns the list's length.
  static const std::string body = R"lua(
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('LLEN', KEYS[1])
)lua";
  return body;
}

std::string encode_turn(const turn_record& t) {
  return turn_json::encode(t);
}

bool decode_turn(const std::string& text, turn_record& out) {
  return turn_json::decode(text, out);
}

std::vector<std::string> append_command(const session_keys& keys, const append_args& a, bool by_sha) {
  static const std::string sha = redis_script_sha1(append_script());
  return {by_sha ? "EVALSHA" : "EVAL",
          by_sha ? sha : append_script(),
          "3",
          keys.turns,
          keys.ids,
          keys.meta,
          std::to_string(a.turn.number),
          a.turn.client_message_id,
          a.owner.value,
          a.turn_json,
          std::to_string(a.max_turns),
          std::to_string(a.ttl.count()),
          a.replace_summary ? "1" : "0",
          a.replace_summary ? a.summary : std::string{}};
}

std::vector<std::string> load_command(const session_keys& keys, bool by_sha) {
  static const std::string sha = redis_script_sha1(load_script());
  return {by_sha ? "EVALSHA" : "EVAL", by_sha ? sha : load_script(), "3", keys.turns, keys.ids, keys.meta};
}

std::vector<std::string> park_command(const session_keys& keys, const std::string& entry_json,
                                      std::chrono::milliseconds ttl) {
  return {"EVAL", park_script(), "1", keys.conflicts, entry_json, std::to_string(ttl.count())};
}

const char* to_string(append_status s) noexcept {
  switch (s) {
    case append_status::committed: return "committed";
    case append_status::duplicate: return "duplicate";
    case append_status::conflict: return "conflict";
    case append_status::wrong_owner: return "wrong_owner";
  }
  return "conflict";
}

bool parse_append_reply(const redis_reply& reply, append_result& out, std::string* why) {
  if (reply.type != redis_reply::kind::array || reply.elements.size() != 2
      || reply.elements[0].type != redis_reply::kind::integer || reply.elements[1].type != redis_reply::kind::integer) {
    if (why)
      *why = reply.is_error() ? "redis error: " + reply.str : "unexpected reply to the append script";
    return false;
  }
  auto status = reply.elements[0].integer;
  auto last = reply.elements[1].integer;
  if (status < 0 || status > 3 || last < 0) {
    if (why)
      *why = "append script answered an unknown status";
    return false;
  }
  out.status = static_cast<append_status>(status);
  out.last = static_cast<turn_number>(last);
  return true;
}

bool parse_load_reply(const redis_reply& reply, conversation_memory& out, std::string* why) {
  auto fail = [&](std::string text) {
    if (why)
      *why = std::move(text);
    return false;
  };
  if (reply.is_error())
    return fail("redis error: " + reply.str);
  if (reply.type != redis_reply::kind::array || reply.elements.size() != 4
      || reply.elements[3].type != redis_reply::kind::array)
    return fail("unexpected reply to the load script");
  std::string last_text, owner, summary;
  unsigned long long last = 0;
  if (!as_text(reply.elements[0], last_text) || !parse_number(last_text, last) || !as_text(reply.elements[1], owner)
      || !as_text(reply.elements[2], summary))
    return fail("unexpected meta fields in the load script's reply");
  conversation_memory m;
  m.last_turn = static_cast<turn_number>(last);
  m.owner = user_id{owner};
  m.summary = std::move(summary);
  for (const auto& e : reply.elements[3].elements) {
    turn_record t;
    if (e.type != redis_reply::kind::string || !decode_turn(e.str, t))
      return fail("a stored turn is not valid JSON");
    m.turns.push_back(std::move(t));
  }
  out = std::move(m);
  return true;
}

std::string park_entry(const turn_record& turn, append_status why, turn_number stored_last) {
  json j{{"reason", to_string(why)}, {"stored_last", stored_last}, {"turn", json::parse(encode_turn(turn))}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace sa::redis_layout
