// jsonl_store: a bounded append-only JSON-lines file, for the quality samples and the CSAT records under
// <node.state_dir>/quality/. When the file holds `max_records` lines it is renamed to <path>.1 (replacing
// the previous one) and a new file starts, so at most 2 x max_records records stay on disk and the newest
// max_records are always there. Lines are flushed, not fsynced: losing the last records in a crash is
// acceptable for sampled figures.
//
// Blocking file I/O: use it only from a thread of its own (the quality actor's blocking_lane), never on a
// CAF scheduler thread. Not thread-safe (one owner). To change retention (more generations, by age), change rotate().
#pragma once

#include <cstddef>
#include <fstream>
#include <string>
#include <string_view>

namespace sa::quality {

class jsonl_store {
public:
  /// Creates the parent directory if needed and counts the lines already in `path`.
  jsonl_store(std::string path, std::size_t max_records);

  /// Appends one record (a single-line JSON text; a newline inside is refused). False on a write error
  /// (`last_error` says what).
  bool append(std::string_view line);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::size_t records() const noexcept { return records_; }  ///< in the current file
  [[nodiscard]] const std::string& last_error() const noexcept { return error_; }

private:
  bool rotate();

  std::string path_;
  std::size_t max_records_;
  std::size_t records_ = 0;
  std::ofstream out_;
  std::string error_;
};

} // namespace sa::quality
