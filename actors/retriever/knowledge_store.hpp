// knowledge_store: persistent, incremental per-tenant knowledge indexes on disk (`support-agent ingest`).
//
// Layout under a root (the node's `<node.state_dir>/knowledge`):
//
//   <root>/<tenant>/index.sqlite       the tenant's index: the FTS5 chunks and, in the same file, the manifest
//                                      of the sources it was built from (index_format.hpp: path, size, mtime,
//                                      SHA-256, duplicate_of, chunk ids), and sa_meta.generation (1, 2, ...)
//   <root>/<tenant>/ingest.lock        held (flock) by the ingest running for the tenant
//   <root>/<tenant>/index.sqlite.tmp   the next generation while an ingest writes it (removed on failure)
//
// An ingest compares the sources with the manifest (size and mtime first, then the content hash), re-chunks
// only what changed, drops what disappeared, and writes the result as a new file that replaces the old one
// with one rename: a reader sees the old generation or the new one, never a half-written index, and a
// failure or an interruption leaves the old one in place. Plain functions, no actors: the CLI calls them
// on its own thread; the node's knowledge watcher (knowledge_watcher.hpp) notices new generations.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "runtime/result.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sa::knowledge {

/// True for a tenant name that can be a directory name of its own: 1..64 characters of [A-Za-z0-9_.-],
/// starting with a letter or digit (so never "", ".", ".." or anything with a slash). Otherwise false with
/// `why` filled.
bool valid_tenant_name(std::string_view tenant, std::string* why = nullptr);

/// `<root>/<tenant>` and `<root>/<tenant>/index.sqlite` (the tenant must be valid).
std::string tenant_dir(const std::string& root, const std::string& tenant);
std::string tenant_index_file(const std::string& root, const std::string& tenant);

/// What identifies one version of a file on disk: a rename of a new generation over it changes the inode.
struct file_stamp {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const file_stamp& o) const noexcept {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
  bool operator!=(const file_stamp& o) const noexcept { return !(*this == o); }
};

/// The file's stamp; false when it does not exist or cannot be examined.
bool stat_file(const std::string& path, file_stamp& out);

/// Progress of a running ingest, reported after each source file while reading and every few hundred
/// chunks while writing.
struct ingest_progress {
  enum class phase { reading, writing } stage = phase::reading;
  std::size_t files_done = 0, files_total = 0;
  std::size_t chunks = 0;       ///< reading: chunks made so far; writing: chunks written so far
  std::size_t chunks_to_write = 0;
  double seconds = 0;           ///< since the ingest started
};

struct ingest_options {
  chunking_options chunking;    ///< also carries max_file_bytes
  /// false (the default): any bad source fails the whole ingest and nothing is written. true: bad
  /// sources are skipped (one that was ingested before keeps its previous version) and the rest is
  /// committed; the report lists them and the CLI still exits non-zero.
  bool skip_bad_files = false;
  /// Polled between files and while writing; once true the ingest stops, writes nothing and fails.
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const ingest_progress&)> progress;
};

struct ingest_report {
  std::string index_file;
  bool written = false;         ///< false: nothing changed, the existing generation was kept
  std::uint64_t generation = 0; ///< of the index now on disk
  std::size_t files = 0;        ///< source files found
  std::size_t added = 0, updated = 0, removed = 0, unchanged = 0;
  std::size_t chunks = 0;       ///< in the index now on disk
  std::size_t chunks_added = 0, chunks_removed = 0;
  std::size_t empty = 0;        ///< sources without any text (kept in the manifest, no chunks)
  std::uint64_t index_bytes = 0;
  double seconds = 0;
  /// (file, the earlier file with the same content): indexed once, under the earlier file.
  std::vector<std::pair<std::string, std::string>> duplicates;
  /// skip_bad_files: why each skipped file was skipped (file and line first).
  std::vector<std::string> skipped;
  /// Things the operator should know that did not stop the ingest (e.g. an unreadable old index rebuilt).
  std::vector<std::string> notes;
};

/// Ingests the sources under `paths` (files or folders, as for knowledge_index::build) as the whole
/// knowledge base of `tenant`, into `<root>/<tenant>/index.sqlite`: sources no longer under `paths` are
/// removed. Fails, with nothing written and the previous index untouched, on an invalid tenant name, a
/// path that does not exist, bad sources (unless skip_bad_files; every bad file is listed, file and line
/// first), a knowledge base that would be empty, another ingest of the same tenant running, cancellation,
/// or an I/O error.
result<ingest_report> ingest(const std::string& root, const std::string& tenant,
                             const std::vector<std::string>& paths, const ingest_options& opts = {});

} // namespace sa::knowledge
