// handoff_store: where handoff records live between restarts. The handoff service keeps every record in
// memory (handoff_book) and hands each changed record to its store:
//   - memory: nothing is written (tests, or a node without a state_dir to write to);
//   - file: one JSON line per change appended to <node.state_dir>/handoff/handoffs.jsonl; on open the file
//     is indexed (the last line of each id wins) and compacted (rewritten with one line per record) when it
//     has grown to more than twice that. Opening keeps only a small index entry per record ever stored, and
//     load() reads back only the records the book keeps, so startup memory does not grow with the log's
//     history; compaction and the directory entry are made durable (fsync of the file, then of its
//     directory).
// A torn last line (a crash mid-write) is skipped with a warning and mended before anything is appended (cut
// off, or given its newline when it is a whole record), and a write that fails part-way is cut off again, so
// a later record is never glued to a fragment and lost with it. The file store does its blocking I/O on a
// thread of its own (a blocking_lane): save() only queues the line, and flush() says when every line queued
// before it is written and fdatasync'ed, so the handoff service acknowledges a change once it is durable
// without ever writing on a scheduler thread. Changes queued together share one fdatasync. Destroying the
// store writes what is queued first. Called by one owner at a time (the book's).
// To add a backend: implement store and choose it where the node opens one (actors/node/node.cpp).
#pragma once

#include "messages/handoff.hpp"
#include "runtime/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sa::handoff {

class store {
public:
  virtual ~store() = default;
  /// The records a book keeps in memory, their latest versions, in the order they were first stored: every
  /// open one (queued, assigned) and the `finished_kept` most recently finished (closed or handed back, by
  /// finished_unix_ms). Called once, before anything is saved. Throws std::runtime_error when they cannot be
  /// read back (the file changed underneath since it was opened).
  virtual std::vector<handoff_view> load(std::size_t finished_kept) = 0;
  /// Queues the record's current version for storing. A write that fails is logged with the store and the
  /// record's id (the record stays in memory; the next change of it writes it whole again).
  virtual void save(const handoff_view& v) = 0;
  /// Calls `done` once every version saved before this call is durable (or its write failed and was
  /// logged): at once in the caller's thread (memory), or on the store's own thread (file).
  virtual void flush(std::function<void()> done) = 0;
  /// fdatasync calls made so far (0 for memory): fewer than flushes when changes arrive together.
  virtual uint64_t syncs() const = 0;
};

std::unique_ptr<store> make_memory_store();

/// Opens (creating it and its directory when missing) the append log at `path`, and starts its writer thread.
result<std::unique_ptr<store>> open_file_store(const std::string& path);

/// The records of the log at `path` (all, or those `keep` accepts: only those are held in memory) without
/// opening it for writing (export-training); fails when the file cannot be read.
result<std::vector<handoff_view>> read_file_records(const std::string& path,
                                                     const std::function<bool(const handoff_view&)>& keep = {});

} // namespace sa::handoff
