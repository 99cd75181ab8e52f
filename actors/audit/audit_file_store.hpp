// audit_file_store: the audit chain in an append-only JSON-lines file, one record per line, plus a head
// sidecar ("<file>.head": the last record's seq and hash, rewritten in place after each fsync) so that
// removing records from the end is detected.
//
// One writer thread per store owns the file: actors only hand it records (never a file write on a scheduler
// thread). Each batch is written under an exclusive flock(2), after checking whether another process (an
// admin command beside the node) appended meanwhile, in which case the chain continues from that process's
// last record. fsync policy: every_record (each record is fdatasync'ed before it is acknowledged; records
// queued together share one fdatasync) or batched (written at once, fdatasync'ed at most every interval;
// acknowledged after that fdatasync). A failed write is cut back off the file and retried with backoff;
// nothing is acknowledged before it is durable.
//
// open() refuses a file whose tail is corrupt (a partial or malformed last line, a last record whose hash
// does not match, a head sidecar beyond the file's end), naming the file and the line.
#pragma once

#include "actors/audit/audit_store.hpp"
#include "runtime/result.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace sa::audit {

enum class fsync_policy : uint8_t { every_record, batched };

struct file_store_options {
  std::string path;   ///< the audit file; its directory is created
  std::string node;   ///< written into each record
  fsync_policy fsync = fsync_policy::every_record;
  std::chrono::milliseconds fsync_interval{50};  ///< batched: longest wait before an fdatasync
  std::size_t max_queued = 100'000;              ///< records submitted and not yet durable; more are refused
  std::chrono::milliseconds lock_timeout{10'000};///< open(): longest wait for another writer's flock
  std::string thread_name = "sa-audit";
};

class file_store final : public store {
public:
  /// Opens (creating it when absent) and checks the file's tail, then starts the writer thread.
  static result<std::shared_ptr<file_store>> open(file_store_options options);

  ~file_store() override;
  file_store(const file_store&) = delete;
  file_store& operator=(const file_store&) = delete;

  const char* backend() const noexcept override { return "file"; }
  const std::string& where() const noexcept override;
  bool submit(entry e, stored_fn done) override;
  bool drain(std::chrono::milliseconds within) override;
  void stop() override;
  store_stats stats() const override;

  struct impl;

private:
  explicit file_store(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

/// The last record of an audit file (none when it is empty), after checking the tail as open() does. For
/// tools; `path` is read, never written.
struct tail_info {
  uint64_t seq = 0;       ///< 0: empty
  std::string hash;       ///< genesis_hash when empty
  uint64_t size = 0;      ///< bytes
};
result<tail_info> read_tail(const std::string& path);

} // namespace sa::audit
