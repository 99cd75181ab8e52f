// chain_verifier: checks an audit chain record by record, in storage order, and names the first broken link.
//
// Per record, in this order: it parses (malformed), its hash matches its fields (edited), its seq follows
// the one before (missing when the expected seq appears nowhere later, reordered when it appears later or an
// earlier seq comes again), its prev is the hash of the record before (broken_prev: a record before it was
// rewritten with a recomputed hash, or one was replaced). After the last record, the chain's head (the file's
// sidecar, or the Redis head key), when there is one, must be a record of the chain with the same hash
// (head_mismatch) and not beyond its end (truncated). The first record must be seq 1 with prev = genesis,
// unless the chain continues one whose start was lost (a Redis stream recreated after Redis lost its data):
// then the records before it are reported missing.
//
// What it cannot see: a chain rewritten from some record to its end with every hash recomputed *and* its
// head rewritten to match; keep a copy of the head elsewhere (audit verify prints it) to catch that too.
#pragma once

#include "actors/audit/audit_record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sa::audit {

enum class break_kind : uint8_t {
  malformed = 1,     ///< not a record (bad JSON, a field missing or mistyped, a partial line)
  edited = 2,        ///< the record's hash does not match its fields
  missing = 3,       ///< a seq is absent
  reordered = 4,     ///< records out of order (or one repeated)
  broken_prev = 5,   ///< prev is not the hash of the record before
  truncated = 6,     ///< the head says the chain goes on past its last record
  head_mismatch = 7, ///< the head's hash differs from the record it names
};

/// "malformed", "edited content", "missing record", "reordered", "broken prev link", "truncated",
/// "head mismatch".
const char* to_string(break_kind k) noexcept;

struct chain_break {
  break_kind kind = break_kind::malformed;
  uint64_t seq = 0;        ///< the record concerned (0: not known)
  uint64_t position = 0;   ///< its line (file) or entry number (stream), from 1; 0 = the head / the end
  std::string message;     ///< what is wrong, for an operator (never a field's value beyond seq and hashes)
};

/// The chain's head as the store last wrote it: the last record's seq and hash.
struct chain_head {
  uint64_t seq = 0;
  std::string hash;
};

struct verify_report {
  std::string unit = "line";    ///< what a position counts: "line" (file) or "entry" (stream)
  uint64_t records = 0;         ///< records read (up to the break's position when there is one)
  uint64_t tenant_records = 0;  ///< of those, records of the tenant asked about
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string last_hash;
  bool head_checked = false;
  std::optional<chain_break> broken;
  bool ok() const noexcept { return !broken; }
};

class chain_verifier {
public:
  /// `unit` names a position in messages ("line", "entry"); `tenant` (optional) is only counted; `head` is
  /// what the store says the chain's last record is (none when it keeps no head).
  explicit chain_verifier(std::string unit = "line", std::string tenant = {},
                          std::optional<chain_head> head = std::nullopt);

  /// One record in storage order at `position`. False once the chain is known broken (feed no more; the
  /// verifier may still want to look ahead: call wants_more() / lookahead()).
  bool push(std::string_view line, uint64_t position);

  /// True while the verifier, having met a gap, searches later records for the seq it expected (to tell
  /// reordered from missing): keep feeding records to lookahead() until it returns false or they run out.
  bool wants_more() const noexcept { return gap_.has_value(); }
  bool lookahead(std::string_view line, uint64_t position);

  /// Ends the chain: resolves a pending gap and checks the head.
  verify_report finish();

private:
  struct gap {
    uint64_t expected = 0;
    uint64_t found = 0;
    uint64_t position = 0;
  };
  void fail(break_kind k, uint64_t seq, uint64_t position, std::string message);

  std::string unit_;
  std::string tenant_;
  std::optional<chain_head> head_;
  verify_report report_;
  std::optional<gap> gap_;
  uint64_t expected_ = 1;
  std::string prev_hash_;
  uint64_t prev_position_ = 0;
  bool started_ = false;
  std::string at_head_hash_;  ///< the hash of the record the head names, once met
};

/// The head sidecar's file name for an audit file: "<path>.head".
std::string head_path(const std::string& audit_path);

/// Parses a head sidecar ({"seq":N,"hash":"..."} padded with spaces). False (with why) if it is not one.
bool parse_head(std::string_view text, chain_head& out, std::string* why);

/// The sidecar's text: fixed width (head_bytes), so it is rewritten in place with one pwrite.
std::string format_head(const chain_head& h);
constexpr std::size_t head_bytes = 128;

/// Verifies an audit file and its head sidecar (a missing sidecar is reported as not checked; an unreadable
/// file is a malformed break at position 0 with the system's reason).
verify_report verify_file(const std::string& path, const std::string& tenant = {});

/// The report as the CLI prints it (several lines, each ending in '\n'); `source` names the file or stream.
std::string render(const verify_report& r, const std::string& source, const std::string& tenant = {});

} // namespace sa::audit
