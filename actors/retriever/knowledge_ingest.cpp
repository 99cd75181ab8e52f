// ingest(): one tenant's sources -> a new generation of its on-disk index (knowledge_store.hpp).
//
// Three steps. Plan: walk the sources, compare each with the manifest of the current index (size and
// mtime first, the SHA-256 of the content when they differ), chunk what is new or changed, and note
// duplicates (same content as an earlier file: indexed once, under the earlier one). Check: bad sources
// fail the ingest (or are skipped), an empty result is refused, and an unchanged knowledge base writes
// nothing. Write: copy the current index to index.sqlite.tmp, apply the changes there in one transaction,
// optimize, fsync and rename it over index.sqlite. Until that rename, readers see only the old file.
#include "actors/retriever/bm25_rank.hpp"
#include "actors/retriever/index_format.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "actors/retriever/text_util.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace sa::knowledge {

namespace fs = std::filesystem;
using detail::db_ptr;
using detail::exec;
using detail::stmt_ptr;

namespace {

/// Re-chunk every source when the chunker or its settings change (unchanged files would keep old chunks).
std::string chunking_signature(const chunking_options& o) {
  return "chunker-1 max_chars=" + std::to_string(o.max_chars) + " overlap_chars=" + std::to_string(o.overlap_chars);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

/// One row of the manifest (sa_sources).
struct manifest_entry {
  std::string relative;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha256;
  std::string duplicate_of; ///< empty: indexed under this path
  std::size_t chunks = 0;
};

/// What the current index says it was built from.
struct current_index {
  bool exists = false;
  bool usable = false;  ///< a readable ingested index with a manifest (else it is rebuilt from scratch)
  std::uint64_t generation = 0;
  std::string chunking;
  std::size_t chunks = 0;
  std::map<std::string, manifest_entry> sources;
};

current_index read_current(const std::string& file, std::vector<std::string>& notes) {
  current_index cur;
  std::error_code ec;
  if (!fs::exists(file, ec))
    return cur;
  cur.exists = true;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  db_ptr db(raw);
  auto unusable = [&](const std::string& why) {
    notes.push_back("the current index " + file + " cannot be used (" + why + "): rebuilding it from every source");
    cur.usable = false;
    cur.sources.clear();
    return cur;
  };
  if (rc != SQLITE_OK)
    return unusable(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  auto meta = detail::prepare(raw, "SELECT key, value FROM sa_meta");
  if (!meta)
    return unusable(meta.error());
  std::string format;
  while (sqlite3_step(meta->get()) == SQLITE_ROW) {
    auto key = detail::column_text(meta->get(), 0);
    auto value = detail::column_text(meta->get(), 1);
    if (key == "format")
      format = value;
    else if (key == "generation")
      cur.generation = static_cast<std::uint64_t>(sqlite3_column_int64(meta->get(), 1));
    else if (key == "chunking")
      cur.chunking = value;
    else if (key == "chunks")
      cur.chunks = static_cast<std::size_t>(sqlite3_column_int64(meta->get(), 1));
  }
  if (format != detail::format_tag)
    return unusable("format '" + format + "', expected '" + detail::format_tag + "'");
  auto rows = detail::prepare(raw, "SELECT path, relative, size, mtime_ns, sha256, duplicate_of, chunks FROM sa_sources");
  if (!rows)
    return unusable("no source manifest: " + rows.error());
  while ((rc = sqlite3_step(rows->get())) == SQLITE_ROW) {
    manifest_entry e;
    e.relative = detail::column_text(rows->get(), 1);
    e.size = static_cast<std::uint64_t>(sqlite3_column_int64(rows->get(), 2));
    e.mtime_ns = sqlite3_column_int64(rows->get(), 3);
    e.sha256 = detail::column_text(rows->get(), 4);
    e.duplicate_of = detail::column_text(rows->get(), 5);
    e.chunks = static_cast<std::size_t>(sqlite3_column_int64(rows->get(), 6));
    cur.sources.emplace(detail::column_text(rows->get(), 0), std::move(e));
  }
  if (rc != SQLITE_DONE)
    return unusable(sqlite3_errmsg(raw));
  cur.usable = true;
  return cur;
}

/// Holds `<dir>/ingest.lock` (flock) for the ingest's lifetime: one ingest per tenant at a time.
class ingest_lock {
public:
  static result<ingest_lock> acquire(const std::string& dir, const std::string& tenant) {
    const std::string file = (fs::path(dir) / "ingest.lock").string();
    ingest_lock lock;
    lock.fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock.fd_ < 0)
      return failure{file + ": cannot create the ingest lock: " + std::strerror(errno)};
    if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return failure{"another ingest of tenant '" + tenant + "' is running (it holds " + file + "); try again when it is done"};
      return failure{file + ": cannot lock: " + std::strerror(errno)};
    }
    return lock;
  }
  ingest_lock() = default;
  ingest_lock(ingest_lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ingest_lock& operator=(ingest_lock&&) = delete;
  ~ingest_lock() {
    if (fd_ >= 0)
      ::close(fd_); // releases the flock
  }

private:
  int fd_ = -1;
};

status fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    return failure{path + ": cannot open to sync: " + std::strerror(errno)};
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return failure{path + ": fsync failed: " + std::strerror(err)};
  return {};
}

enum class change { unchanged, touched, added, updated, kept };

/// One source as this ingest will record it.
struct planned_source {
  std::string key;      ///< absolute path: the manifest key
  std::string display;  ///< the path as the operator gave it (messages, report)
  manifest_entry entry;
  change what = change::added;
  std::vector<chunk> chunks; ///< added/updated primaries only
};

/// Hands out chunk sequence numbers per kind, reusing the ones deleted sources freed (so rank_stats,
/// indexed by sequence, stays dense however often sources change).
class sequence_allocator {
public:
  void mark_used(sqlite3_int64 rowid) {
    auto kind = static_cast<std::size_t>(rowid >> detail::kind_shift);
    if (kind < 3)
      used_[kind].insert(rowid & ((sqlite3_int64{1} << detail::kind_shift) - 1));
  }
  sqlite3_int64 next(source_kind kind) {
    auto k = static_cast<std::size_t>(kind);
    auto& used = used_[k];
    while (used.count(++cursor_[k]) != 0) {
    }
    return detail::chunk_rowid(kind, cursor_[k]);
  }

private:
  std::set<sqlite3_int64> used_[3];
  sqlite3_int64 cursor_[3] = {0, 0, 0};
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

bool cancelled(const ingest_options& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

std::string list_problems(const std::vector<std::string>& problems) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(problems.size(), 20);
  for (std::size_t i = 0; i < shown; ++i)
    out += "\n  " + problems[i];
  if (problems.size() > shown)
    out += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
  return out;
}

/// Step 3: applies the plan to a copy of the current index (or a fresh file) and renames it into place.
status write_generation(const std::string& index_file, bool reuse_current,
                        const std::vector<planned_source>& plan, const std::vector<std::string>& removed,
                        const std::string& tenant, const std::string& chunking, std::uint64_t generation,
                        const ingest_options& opts, clock_type::time_point t0, std::size_t& chunks_after) {
  const std::string tmp = index_file + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  if (reuse_current) {
    fs::copy_file(index_file, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec)
      return failure{tmp + ": cannot copy the current index: " + ec.message()};
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK)
    return failure{tmp + ": cannot create: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  // A private file, discarded on any failure: no journal needed, one fsync at the end.
  if (auto s = exec(raw, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"); !s)
    return s;
  if (!reuse_current) {
    if (auto s = detail::create_index_tables(raw); !s)
      return s;
    if (auto s = detail::create_manifest_tables(raw); !s)
      return s;
  }
  auto drop_rows = detail::prepare(raw, "DELETE FROM chunks WHERE rowid IN"
                                        " (SELECT chunk_rowid FROM sa_source_chunks WHERE path = ?1)");
  auto drop_links = detail::prepare(raw, "DELETE FROM sa_source_chunks WHERE path = ?1");
  auto drop_source = detail::prepare(raw, "DELETE FROM sa_sources WHERE path = ?1");
  auto link = detail::prepare(raw, "INSERT INTO sa_source_chunks(chunk_rowid, path, chunk_id) VALUES(?1, ?2, ?3)");
  auto put_source = detail::prepare(raw, "INSERT OR REPLACE INTO sa_sources(path, relative, size, mtime_ns, sha256,"
                                         " duplicate_of, chunks) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (auto* st : {&drop_rows, &drop_links, &drop_source, &link, &put_source})
    if (!*st)
      return failure{st->error()};
  auto step = [&](sqlite3_stmt* st, const std::string& what) -> status {
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
      return failure{what + ": " + sqlite3_errmsg(raw)};
    return {};
  };
  auto bind_text = [](sqlite3_stmt* st, int col, const std::string& v) {
    sqlite3_bind_text(st, col, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };

  // Drop what was removed and the old version of what changed.
  std::vector<std::string> drop = removed;
  for (const auto& p : plan)
    if (p.what == change::updated)
      drop.push_back(p.key);
  for (const auto& key : drop) {
    for (auto* st : {drop_rows->get(), drop_links->get(), drop_source->get()}) {
      bind_text(st, 1, key);
      if (auto s = step(st, "removing the chunks of " + key); !s)
        return s;
    }
  }

  sequence_allocator seqs;
  if (auto used = detail::prepare(raw, "SELECT chunk_rowid FROM sa_source_chunks"); !used) {
    return failure{used.error()};
  } else {
    while (sqlite3_step(used->get()) == SQLITE_ROW)
      seqs.mark_used(sqlite3_column_int64(used->get(), 0));
  }
  auto writer = detail::chunk_writer::create(raw);
  if (!writer)
    return failure{writer.error()};

  ingest_progress progress;
  progress.stage = ingest_progress::phase::writing;
  progress.files_total = plan.size();
  for (const auto& p : plan)
    progress.chunks_to_write += p.chunks.size();
  for (const auto& p : plan) {
    if (p.what == change::unchanged || p.what == change::kept)
      continue; // already in the copy, manifest row included
    for (const auto& c : p.chunks) {
      if (progress.chunks % 256 == 0) {
        if (cancelled(opts))
          return failure{"interrupted"};
        if (opts.progress && progress.chunks > 0) {
          progress.seconds = seconds_since(t0);
          opts.progress(progress);
        }
      }
      const auto rowid = seqs.next(c.kind);
      if (auto s = writer->insert(rowid, c); !s)
        return s;
      sqlite3_bind_int64(link->get(), 1, rowid);
      bind_text(link->get(), 2, p.key);
      bind_text(link->get(), 3, c.id);
      if (auto s = step(link->get(), "recording chunk " + c.id); !s)
        return s;
      ++progress.chunks;
    }
    sqlite3_stmt* st = put_source->get();
    bind_text(st, 1, p.key);
    bind_text(st, 2, p.entry.relative);
    sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(p.entry.size));
    sqlite3_bind_int64(st, 4, p.entry.mtime_ns);
    bind_text(st, 5, p.entry.sha256);
    if (p.entry.duplicate_of.empty())
      sqlite3_bind_null(st, 6);
    else
      bind_text(st, 6, p.entry.duplicate_of);
    sqlite3_bind_int64(st, 7, static_cast<sqlite3_int64>(p.entry.chunks));
    if (auto s = step(st, "recording source " + p.key); !s)
      return s;
    ++progress.files_done;
  }
  if (cancelled(opts))
    return failure{"interrupted"};

  std::size_t chunk_rows = 0;
  if (auto count = detail::prepare(raw, "SELECT count(*) FROM sa_source_chunks"); count
      && sqlite3_step(count->get()) == SQLITE_ROW)
    chunk_rows = static_cast<std::size_t>(sqlite3_column_int64(count->get(), 0));
  chunks_after = chunk_rows;
  for (auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
         {"format", detail::format_tag}, {"chunks", std::to_string(chunk_rows)},
         {"generation", std::to_string(generation)}, {"tenant", tenant}, {"chunking", chunking},
         {"written_at", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count())}})
    if (auto s = detail::set_meta(raw, key, value); !s)
      return s;
  if (auto s = exec(raw, "COMMIT;"); !s)
    return s;
  // One b-tree per term again (fast queries), then give back the pages deleted chunks left behind.
  if (auto s = exec(raw, "INSERT INTO chunks(chunks) VALUES('optimize');"); !s)
    return s;
  sqlite3_int64 pages = 0, free_pages = 0;
  if (auto st = detail::prepare(raw, "PRAGMA page_count"); st && sqlite3_step(st->get()) == SQLITE_ROW)
    pages = sqlite3_column_int64(st->get(), 0);
  if (auto st = detail::prepare(raw, "PRAGMA freelist_count"); st && sqlite3_step(st->get()) == SQLITE_ROW)
    free_pages = sqlite3_column_int64(st->get(), 0);
  if (free_pages * 4 > pages)
    if (auto s = exec(raw, "VACUUM;"); !s)
      return s;
  if (cancelled(opts))
    return failure{"interrupted"};
  db.reset();
  if (auto s = fsync_path(tmp, false); !s)
    return s;
  fs::rename(tmp, index_file, ec);
  if (ec)
    return failure{"cannot move " + tmp + " into place: " + ec.message()};
  // The rename is durable once the directory is: a crash now leaves the new generation or the old one.
  return fsync_path(fs::path(index_file).parent_path().string(), true);
}

} // namespace

result<ingest_report> ingest(const std::string& root, const std::string& tenant,
                             const std::vector<std::string>& paths, const ingest_options& opts) {
  const auto t0 = clock_type::now();
  std::string why;
  if (!valid_tenant_name(tenant, &why))
    return failure{why};
  if (paths.empty())
    return failure{"no knowledge sources given for tenant '" + tenant + "'"};
  const std::string dir = tenant_dir(root, tenant);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return failure{dir + ": cannot create the tenant's knowledge directory: " + ec.message()};
  auto lock = ingest_lock::acquire(dir, tenant);
  if (!lock)
    return failure{lock.error()};

  ingest_report report;
  report.index_file = tenant_index_file(root, tenant);
  fs::remove(report.index_file + ".tmp", ec); // left by an ingest that was killed: we hold the lock now

  auto files = detail::collect_sources(paths);
  if (!files)
    return failure{files.error() + " (nothing was ingested; the previous index is unchanged)"};
  const current_index cur = read_current(report.index_file, report.notes);
  const std::string chunking = chunking_signature(opts.chunking);
  const bool same_chunking = cur.usable && cur.chunking == chunking;
  if (cur.usable && !same_chunking)
    report.notes.push_back("the chunking settings changed since the last ingest: every source is chunked again");

  // --- 1. plan ---------------------------------------------------------------------------------------
  std::vector<planned_source> plan;
  std::vector<std::string> problems;
  std::map<std::string, std::string> primary_by_hash; // content hash -> key of the file indexed for it
  std::map<std::string, std::string> display_of;      // key -> path as given
  ingest_progress progress;
  progress.files_total = files->size();
  for (const auto& f : *files) {
    if (cancelled(opts))
      return failure{"interrupted: nothing was written; the previous index is unchanged"};
    planned_source p;
    p.key = fs::absolute(f.full, ec).lexically_normal().generic_string();
    if (ec)
      p.key = f.full.generic_string();
    p.display = f.full.string();
    if (!display_of.emplace(p.key, p.display).second) {
      report.notes.push_back(p.display + " was given twice; ingested once");
      continue;
    }
    ++report.files;
    const manifest_entry* old = nullptr;
    if (auto it = cur.sources.find(p.key); cur.usable && it != cur.sources.end())
      old = &it->second;
    auto fail = [&](const std::string& problem) {
      if (opts.skip_bad_files && old && same_chunking) { // keep the previous version: nothing lost
        p.entry = *old;
        p.what = change::kept;
        if (old->duplicate_of.empty())
          primary_by_hash.emplace(old->sha256, p.key);
        report.skipped.push_back(problem + " (kept its previously ingested version)");
        plan.push_back(std::move(p));
      } else if (opts.skip_bad_files) {
        report.skipped.push_back(problem);
      } else {
        problems.push_back(problem);
      }
    };

    file_stamp stamp;
    if (!stat_file(f.full.string(), stamp)) {
      fail(p.display + ": cannot read: " + std::strerror(errno));
      continue;
    }
    p.entry.relative = f.relative;
    p.entry.size = stamp.size;
    p.entry.mtime_ns = stamp.mtime_ns;
    const bool same_stat = old && same_chunking && old->size == stamp.size && old->mtime_ns == stamp.mtime_ns
                           && old->relative == f.relative;
    std::string text;
    bool have_text = false;
    if (same_stat) {
      p.entry.sha256 = old->sha256; // fast path: same size and mtime, content not read
    } else {
      auto read = detail::read_source_text(f, opts.chunking.max_file_bytes);
      if (!read) {
        fail(read.error());
        continue;
      }
      text = std::move(*read);
      have_text = true;
      p.entry.sha256 = sha256_hex(text);
    }
    if (auto it = primary_by_hash.find(p.entry.sha256); it != primary_by_hash.end())
      p.entry.duplicate_of = it->second;

    if (old && same_chunking && old->sha256 == p.entry.sha256 && old->relative == p.entry.relative
        && old->duplicate_of == p.entry.duplicate_of) {
      p.what = same_stat ? change::unchanged : change::touched;
      p.entry.chunks = old->chunks;
    } else {
      p.what = old ? change::updated : change::added;
      if (p.entry.duplicate_of.empty()) {
        if (!have_text) {
          auto read = detail::read_source_text(f, opts.chunking.max_file_bytes);
          if (!read) {
            fail(read.error());
            continue;
          }
          text = std::move(*read);
        }
        auto chunks = detail::parse_source(f, text, opts.chunking);
        if (!chunks) {
          fail(chunks.error());
          continue;
        }
        p.chunks = std::move(*chunks);
        p.entry.chunks = p.chunks.size();
        progress.chunks += p.chunks.size();
      }
    }
    if (p.entry.duplicate_of.empty())
      primary_by_hash.emplace(p.entry.sha256, p.key);
    else
      report.duplicates.emplace_back(p.display, display_of[p.entry.duplicate_of]);
    if (p.entry.duplicate_of.empty() && p.entry.chunks == 0)
      ++report.empty;
    plan.push_back(std::move(p));
    ++progress.files_done;
    if (opts.progress) {
      progress.seconds = seconds_since(t0);
      opts.progress(progress);
    }
  }

  // --- 2. check --------------------------------------------------------------------------------------
  if (!problems.empty())
    return failure{std::to_string(problems.size()) + (problems.size() == 1 ? " bad source" : " bad sources")
                   + " (nothing was ingested; the previous index is unchanged; --skip-bad skips them):"
                   + list_problems(problems)};
  std::vector<std::string> removed;
  for (const auto& [key, entry] : cur.sources)
    if (!display_of.count(key) && cur.usable) {
      removed.push_back(key);
      report.chunks_removed += entry.chunks;
    }
  std::size_t total = 0;
  bool metadata_changed = false;
  for (const auto& p : plan) {
    total += p.entry.chunks;
    switch (p.what) {
      case change::unchanged: ++report.unchanged; break;
      case change::kept: ++report.unchanged; break;
      case change::touched:
        ++report.unchanged;
        metadata_changed = true;
        break;
      case change::added:
        ++report.added;
        report.chunks_added += p.chunks.size();
        break;
      case change::updated:
        ++report.updated;
        report.chunks_added += p.chunks.size();
        report.chunks_removed += cur.sources.at(p.key).chunks;
        break;
    }
  }
  report.removed = removed.size();
  if (total == 0)
    return failure{"the knowledge base of tenant '" + tenant + "' would be empty: " + std::to_string(report.files)
                   + " source files found, none with any text"
                   + (report.skipped.empty() ? std::string() : " (" + std::to_string(report.skipped.size()) + " skipped as bad)")
                   + "; nothing was ingested" + (cur.exists ? " and the previous index is unchanged" : "")};
  const bool changed = !cur.usable || !same_chunking || report.added || report.updated || report.removed
                       || metadata_changed;
  if (!changed) {
    report.generation = cur.generation;
    report.chunks = cur.chunks;
    report.index_bytes = fs::file_size(report.index_file, ec);
    report.seconds = seconds_since(t0);
    return report;
  }

  // --- 3. write --------------------------------------------------------------------------------------
  if (cancelled(opts))
    return failure{"interrupted: nothing was written; the previous index is unchanged"};
  report.generation = cur.generation + 1;
  auto written = write_generation(report.index_file, cur.usable && same_chunking, plan, removed, tenant,
                                  chunking, report.generation, opts, t0, report.chunks);
  if (!written) {
    fs::remove(report.index_file + ".tmp", ec);
    if (written.error() == "interrupted")
      return failure{"interrupted while writing: the new index was discarded; the previous index is unchanged"};
    return failure{report.index_file + ": cannot write the new index: " + written.error()
                   + " (the previous index is unchanged)"};
  }
  report.written = true;
  report.index_bytes = fs::file_size(report.index_file, ec);
  report.seconds = seconds_since(t0);
  return report;
}

} // namespace sa::knowledge
