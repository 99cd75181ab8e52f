// turn_json: a turn_record as the JSON object stored in Redis, written and read without a DOM (a turn is
// encoded on every append and ten are decoded on every load, so this is the hot path of the Redis
// backend; nlohmann's DOM costs ~10x more per byte). Anything the fast reader does not expect (spaces,
// other number forms, key order it has not seen) goes to nlohmann, so any valid JSON object with these
// fields reads back.
//
//   {"number":3,"client_message_id":"m-3","user_text":"...","answer_text":"...","intent":"billing",
//    "escalated":false,"at_unix_ms":1700000000003}
//
// Strings are escaped as RFC 8259 requires; bytes that are not valid UTF-8 become U+FFFD.
#pragma once

#include "messages/memory.hpp"

#include <string>
#include <string_view>

namespace sa::turn_json {

std::string encode(const turn_record& turn);

/// False for text that is not a JSON object with at least a non-negative integer "number".
bool decode(std::string_view json, turn_record& out);

/// Appends `s` as a JSON string (quotes included) to `out`.
void append_string(std::string& out, std::string_view s);

} // namespace sa::turn_json
