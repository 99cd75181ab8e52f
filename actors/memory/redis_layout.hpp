// redis_layout: how conversation memory lives in Redis. Plain functions (no actors, no connection), so the
// layout, the Lua scripts' arguments and the reply parsing are tested without a server.
//
// Per (tenant, session), four keys in one Redis Cluster slot (the hash tag is the session):
//   <prefix>:<tenant>:{<session>}:turns      list: the last max_turns turns, oldest first, JSON each
//   <prefix>:<tenant>:{<session>}:ids        hash: "c:<client_message_id>" -> turn number and
//                                            "n:<turn number>" -> client_message_id, for the turns in the window
//   <prefix>:<tenant>:{<session>}:meta       hash: last (committed turn number), owner, summary
//   <prefix>:<tenant>:{<session>}:conflicts  list: acknowledged turns that Redis refused when they were
//                                            flushed after an outage (another writer won), kept for an operator
// Tenant and session are escaped (%XX for anything but [A-Za-z0-9._:@-]), so no id can reach into another
// tenant's keys or move the hash tag. Every key expires memory.ttl_s after the session's last turn.
//
// The scripts (Lua, run atomically by Redis):
//   append: owner check; idempotent by client message id and by turn number; compare-and-set on the
//           session's sequence (turn.number == last + 1); RPUSH + LTRIM to the window; ids kept in step;
//           summary replaced when given; PEXPIRE on every key. Answers {status, last}.
//   load:   {last, owner, summary, [turns...]} in one atomic read.
//   park:   RPUSH one entry to the conflicts list and refresh its expiry.
#pragma once

#include "messages/memory.hpp"
#include "runtime/redis_client.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sa::redis_layout {

struct session_keys {
  std::string turns, ids, meta, conflicts;
};

/// The keys of one session.
session_keys keys_for(const std::string& prefix, const tenant_id& tenant, const session_id& session);

/// `id` with every byte outside [A-Za-z0-9._:@-] written as %XX.
std::string escape(const std::string& id);

const std::string& append_script();
const std::string& load_script();
const std::string& park_script();

/// A turn as stored in the turns list (JSON with the field names of turn_record; intent by name).
std::string encode_turn(const turn_record& turn);
/// False for text that is not such JSON.
bool decode_turn(const std::string& json, turn_record& out);

struct append_args {
  turn_record turn;
  std::string turn_json;  ///< encode_turn(turn)
  user_id owner;
  std::size_t max_turns = 10;
  std::chrono::milliseconds ttl{3'600'000};
  bool replace_summary = false;  ///< the window overflows: `summary` is the new running summary
  std::string summary;
};

/// The arguments of EVALSHA (`by_sha`) or EVAL of the append script.
std::vector<std::string> append_command(const session_keys& keys, const append_args& a, bool by_sha);
/// The arguments of EVALSHA or EVAL of the load script.
std::vector<std::string> load_command(const session_keys& keys, bool by_sha);
/// The arguments of EVAL of the park script (rare: no preloading).
std::vector<std::string> park_command(const session_keys& keys, const std::string& entry_json,
                                      std::chrono::milliseconds ttl);

/// The append script's verdict. Stable numbers: the script returns them.
enum class append_status : int { committed = 0, duplicate = 1, conflict = 2, wrong_owner = 3 };
const char* to_string(append_status s) noexcept;

struct append_result {
  append_status status = append_status::conflict;
  turn_number last = 0;  ///< the session's last committed turn number after the script
};

/// False (with `why`) for a reply that is not the append script's {status, last}.
bool parse_append_reply(const redis_reply& reply, append_result& out, std::string* why);
/// False (with `why`) for a reply that is not the load script's answer or holds an undecodable turn.
bool parse_load_reply(const redis_reply& reply, conversation_memory& out, std::string* why);

/// The entry the park script stores: {"reason", "stored_last", "turn"}.
std::string park_entry(const turn_record& turn, append_status why, turn_number stored_last);

} // namespace sa::redis_layout
