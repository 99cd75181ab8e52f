// index_format: the SQLite layout of a knowledge index, shared by build() (knowledge_index.cpp) and the
// incremental per-tenant ingest (knowledge_ingest.cpp). Internal to the knowledge library.
//
// Tables: `chunks` (FTS5: title, section, body indexed; id, kind, url stored only) and `sa_meta` (key, value:
// format, chunks, and for ingested indexes generation, tenant, chunking). Ingested indexes add their
// manifest in the same file, so the index and the record of what it was built from change together:
// `sa_sources` (one row per source file) and `sa_source_chunks` (which rows each source owns).
// Each chunk's rowid is (kind << 40) | sequence (bm25_rank.hpp), sequences starting at 1 per kind.
#pragma once

#include "actors/retriever/bm25_rank.hpp"
#include "actors/retriever/knowledge_index.hpp"
#include "runtime/result.hpp"

#include <sqlite3.h>

#include <memory>
#include <string>

namespace sa::knowledge::detail {

inline constexpr const char* format_tag = "sa-knowledge/1";

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct stmt_finalizer {
  void operator()(sqlite3_stmt* st) const noexcept { sqlite3_finalize(st); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// Runs one or more statements; fails with SQLite's message.
status exec(sqlite3* db, const char* sql);

/// Prepares one statement; fails with SQLite's message.
result<stmt_ptr> prepare(sqlite3* db, const char* sql);

/// Column `col` of the current row as a string ("" for NULL).
std::string column_text(sqlite3_stmt* st, int col);

/// Creates `chunks` and `sa_meta` (inside the caller's transaction).
status create_index_tables(sqlite3* db);

/// Creates the ingest manifest tables `sa_sources` and `sa_source_chunks`.
status create_manifest_tables(sqlite3* db);

/// Sets one sa_meta value (insert or replace).
status set_meta(sqlite3* db, const std::string& key, const std::string& value);

/// The rowid of the `seq`-th chunk of a kind.
inline sqlite3_int64 chunk_rowid(source_kind kind, sqlite3_int64 seq) noexcept {
  return (static_cast<sqlite3_int64>(kind) << kind_shift) | seq;
}

/// Inserts chunks rows through one prepared statement.
class chunk_writer {
public:
  static result<chunk_writer> create(sqlite3* db);
  /// Inserts `c` under `rowid`; fails naming the chunk.
  status insert(sqlite3_int64 rowid, const chunk& c);

private:
  sqlite3* db_ = nullptr;
  stmt_ptr insert_;
};

} // namespace sa::knowledge::detail
