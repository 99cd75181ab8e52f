// audit_redis_store: the audit chain in a Redis stream, one stream per node, over the node's shared
// redis_client (never blocks: commands are queued to the client's loop thread, replies come back on it).
//
// Keys (one Redis Cluster slot: the hash tag is the node):
//   <prefix>:audit:{<node>}        stream; entry id 0-<seq>, fields seq, hash, record (the JSON line of the file
//                                  backend, audit_record.hpp), so the file verifier's checks apply unchanged
//   <prefix>:audit:{<node>}:head   hash: seq, hash of the last record appended (for truncation checks)
// The append script is a compare-and-set on the stream's last entry: it adds the record only when its seq
// follows the last entry's and its prev is that entry's hash (a resent record already there is a success), and
// updates the head in the same step. A refused record (another writer, e.g. an admin command, got there first)
// is chained again from the head Redis reports, after every command in flight has answered, so nothing is
// stored twice. An empty stream takes any record, and a writer that sees Redis end before a record Redis had
// confirmed to it goes on after that record (the script allows the gap once): a chain that continues after
// Redis lost data shows the loss as missing records at verify time instead of reusing their seqs to hide it.
//
// Acknowledgement: a record is acknowledged once Redis confirmed it. While Redis is down records wait in the
// client's bounded queue and are written, in order, when it is back (resent after a lost connection; the
// compare-and-set makes a resend harmless). Nothing is acknowledged before Redis has it.
#pragma once

#include "actors/audit/audit_store.hpp"
#include "actors/audit/audit_verify.hpp"
#include "runtime/result.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sa {
class redis_client;
struct redis_reply;
} // namespace sa

namespace sa::audit {

struct redis_store_options {
  std::string key_prefix = "sa";
  std::string node;
  std::size_t max_queued = 100'000;  ///< records submitted and not yet confirmed; more are refused
};

/// "<prefix>:audit:{<node>}" and "...:head"; the node name is escaped (%XX outside [A-Za-z0-9._:@-]).
std::string stream_key(const std::string& prefix, const std::string& node);
std::string stream_head_key(const std::string& prefix, const std::string& node);

/// The append script (Lua) and its command for one record.
const std::string& append_script();
std::vector<std::string> append_command(const std::string& prefix, const std::string& node, const record& r,
                                        bool by_sha, bool allow_gap = false);

class redis_store final : public store {
public:
  /// Starts by reading the chain's head from the stream (queued until Redis answers).
  redis_store(std::shared_ptr<redis_client> client, redis_store_options options);
  ~redis_store() override;

  const char* backend() const noexcept override { return "redis"; }
  const std::string& where() const noexcept override;
  bool submit(entry e, stored_fn done) override;
  bool drain(std::chrono::milliseconds within) override;
  void stop() override;
  store_stats stats() const override;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

// --- blocking helpers for the command line and tests (never from an actor) --------------------------

/// Runs one command and waits up to `within` for its reply (an error reply is a reply).
result<redis_reply> run_command(redis_client& client, std::vector<std::string> args, std::chrono::milliseconds within);

/// The head the script keeps (none when the key does not exist).
result<std::optional<chain_head>> read_stream_head(redis_client& client, const std::string& prefix,
                                                   const std::string& node, std::chrono::milliseconds within);

/// Calls `fn(record_line, entry_number)` for every entry of the node's stream, oldest first (pages of
/// `page` entries); `fn` returns false to stop. An entry without a record field is passed as "".
status for_each_stream_record(redis_client& client, const std::string& prefix, const std::string& node,
                              const std::function<bool(const std::string&, uint64_t)>& fn,
                              std::chrono::milliseconds within, std::size_t page = 1000);

/// Verifies the node's stream and its head key, as verify_file does for a file.
verify_report verify_stream(redis_client& client, const std::string& prefix, const std::string& node,
                            const std::string& tenant, std::chrono::milliseconds within);

} // namespace sa::audit
