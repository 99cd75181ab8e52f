// audit_record: one stored audit record, its canonical serialisation, its hash and its JSON line.
//
// A record is {seq, time, node, tenant, actor, action, args, result, session, prev, hash}. `hash` is the
// SHA-256 (lower-case hex) of the canonical bytes of every other field, `prev` included, so each record
// commits to the whole chain before it; the first record's prev is 64 zeros (genesis_hash). The canonical
// bytes do not depend on JSON formatting: "sa-audit-v1" then, per field in the order above, its byte length,
// ':' and its bytes, then ','; `args` enters as the compact JSON of the arguments object with sorted keys
// (what canonical_args gives), so re-indenting a line does not break it but changing any value does.
// Plain functions, no actors: the writers, the verifier and the CLI share them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sa::audit {

/// prev of the first record of a chain.
extern const std::string genesis_hash;

struct record {
  uint64_t seq = 0;
  std::string time;     ///< RFC 3339, UTC, milliseconds: 2026-05-01T12:34:56.789Z
  std::string node;
  std::string tenant;   ///< empty for node-wide operations
  std::string actor;
  std::string action;
  std::string args;     ///< canonical JSON object text (canonical_args), already redacted
  std::string result;
  std::string session;
  std::string prev;     ///< hash of the record before (genesis_hash for seq 1)
  std::string hash;     ///< compute_hash(*this)
};

/// The bytes the hash covers (every field but hash).
std::string canonical_bytes(const record& r);

/// SHA-256 of canonical_bytes(r), lower-case hex.
std::string compute_hash(const record& r);

/// SHA-256 of `data`, 64 lower-case hex digits (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

/// True for 64 lower-case hex digits.
bool is_hash(std::string_view s) noexcept;

/// `t` as RFC 3339 UTC with milliseconds.
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t);

/// The compact JSON (sorted keys, UTF-8, invalid bytes replaced) of a JSON object text; false (and `why`)
/// when `text` is not a JSON object.
bool canonical_args(std::string_view text, std::string& out, std::string* why = nullptr);

/// The record as one JSON line (no trailing newline), fields in the order above, args as an object.
std::string to_json_line(const record& r);

/// Parses a line written by to_json_line. False with `why` (naming the field and the problem) when it is
/// not one: not JSON, a field missing, of the wrong type, or unknown. Does not check the hash.
bool parse_json_line(std::string_view line, record& out, std::string* why);

} // namespace sa::audit
