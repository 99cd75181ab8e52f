// audit store: where audit records go, behind one interface so the audit actor and the command line do not
// care which. Two implementations: a file per node (audit_file_store.hpp: its own writer thread, fsync
// policy, a head sidecar) and a Redis stream (audit_redis_store.hpp: the node's redis_client). Both assign
// seq, prev and hash when the record reaches the store (never earlier), so two writers of one chain - the
// node and an admin command run beside it - interleave without forking it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace sa::audit {

/// A record before it is chained: already redacted (args is a canonical JSON object, audit_record.hpp).
struct entry {
  std::chrono::system_clock::time_point at;
  std::string tenant;
  std::string actor;
  std::string action;
  std::string args = "{}";
  std::string result;
  std::string session;
};

/// The outcome of one submit.
struct stored {
  bool ok = false;
  uint64_t seq = 0;
  std::string hash;
  bool shutting_down = false;  ///< !ok because the store stopped first (else: the store failed)
  std::string error;           ///< !ok: for an operator (a path or an address and the problem, no record content)
};

using stored_fn = std::function<void(const stored&)>;

struct store_stats {
  uint64_t last_seq = 0;      ///< the chain's last record this process knows was stored
  uint64_t durable = 0;       ///< records this store stored durably since it started
  uint64_t queued = 0;        ///< submitted and not yet durable
  uint64_t store_errors = 0;  ///< failed writes, flushes or commands (each retried or reported)
  uint64_t failed = 0;        ///< records reported !ok (never acknowledged)
};

class store {
public:
  virtual ~store() = default;

  /// "file" or "redis".
  virtual const char* backend() const noexcept = 0;

  /// The file path or the stream key, for logs and messages.
  virtual const std::string& where() const noexcept = 0;

  /// Queues `e`. `done` is called exactly once, on the store's own thread (keep it short, never block),
  /// once the record is stored as durably as the store promises, or failed. False, and `done` never
  /// called, when the store's queue is full or it has stopped. Thread-safe.
  virtual bool submit(entry e, stored_fn done) = 0;

  /// Waits until nothing is queued (true) or `within` passed (false). Thread-safe; not from `done`.
  virtual bool drain(std::chrono::milliseconds within) = 0;

  /// Stores what it still can, fails the rest (shutting_down), then stops. Idempotent; not from `done`.
  virtual void stop() = 0;

  virtual store_stats stats() const = 0;
};

} // namespace sa::audit
