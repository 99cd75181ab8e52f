// handoff_store: where handoff records live between restarts. The handoff service keeps every record in
// memory (handoff_book) and hands each changed record to its store:
//   - memory: nothing is written (tests, or a node without a state_dir to write to);
//   - file: one JSON line per change appended to <node.state_dir>/handoff/handoffs.jsonl and fdatasync'ed
//     before the change is acknowledged; on open the file is replayed (the last line of each id wins) and
//     compacted (rewritten with one line per record) when it has grown to more than twice that.
// A torn last line (a crash mid-write) is skipped with a warning. The file store does blocking I/O: only
// its owner, the handoff service, calls it, on a thread of its own (a detached actor).
// To add a backend: implement store and choose it in make_store.
#pragma once

#include "messages/handoff.hpp"
#include "runtime/result.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sa::handoff {

class store {
public:
  virtual ~store() = default;
  /// Every record, its latest version, in the order they were first stored.
  virtual std::vector<handoff_view> load() = 0;
  /// Stores the record's current version durably; false (and `error`) when it could not.
  virtual bool save(const handoff_view& v, std::string& error) = 0;
  /// "memory" or "file:<path>".
  virtual std::string describe() const = 0;
};

std::unique_ptr<store> make_memory_store();

/// Opens (creating it and its directory when missing) the append log at `path`.
result<std::unique_ptr<store>> open_file_store(const std::string& path);

/// The records of the log at `path` without opening it for writing (export-training); fails when the file
/// cannot be read.
result<std::vector<handoff_view>> read_file_records(const std::string& path);

} // namespace sa::handoff
