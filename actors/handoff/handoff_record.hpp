// handoff_record: how a handoff record (messages/handoff.hpp, handoff_view) is named and written as JSON,
// for the store (every field) and for agents (a summary, or the full record with its transcript).
// Plain functions. To add a field: the struct in messages/handoff.hpp, to_json and from_json here.
#pragma once

#include "messages/handoff.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace sa::handoff {

/// The id of the handoff a session's escalated turn opens: "HO-" + a hash of tenant, session and turn, so the
/// customer's `escalated` frame names it without asking the handoff service. The tenant is in it because
/// clients choose session ids: two tenants' "s1" must not share a record id (one store file holds both).
std::string handoff_id(const std::string& tenant, const std::string& session, turn_number turn);

enum class detail {
  summary,  ///< queue entries: no summary, transcript or facts
  full,     ///< history: everything an agent may read
  stored,   ///< the store: everything, internal counters included
};

nlohmann::json to_json(const handoff_view& v, detail d);

/// Reads a stored record; false (and `error`) when a required field is missing or mistyped.
bool from_json(const nlohmann::json& j, handoff_view& out, std::string& error);

/// Closed or handed back: no agent action but tag and history applies to it any more.
bool is_finished(const handoff_view& v);

/// When a finished record (closed or handed back) finished: closed_unix_ms, or for a hand-back recorded
/// before hand-backs set it, when it was taken (the closest earlier time the record has).
int64_t finished_unix_ms(const handoff_view& v);

/// Milliseconds since the epoch, now.
int64_t now_unix_ms();

} // namespace sa::handoff
