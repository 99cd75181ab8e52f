// index_format: see index_format.hpp.
#include "actors/retriever/index_format.hpp"

namespace sa::knowledge::detail {

status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return failure{msg};
  }
  return {};
}

result<stmt_ptr> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st);
    return failure{sqlite3_errmsg(db)};
  }
  return stmt_ptr{st};
}

std::string column_text(sqlite3_stmt* st, int col) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, col))) : std::string();
}

status create_index_tables(sqlite3* db) {
  return exec(db, "CREATE TABLE sa_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                  "CREATE VIRTUAL TABLE chunks USING fts5(title, section, body, id UNINDEXED,"
                  " kind UNINDEXED, url UNINDEXED, tokenize='porter unicode61 remove_diacritics 2');");
}

status create_manifest_tables(sqlite3* db) {
  return exec(db, "CREATE TABLE sa_sources(path TEXT PRIMARY KEY, relative TEXT NOT NULL, size INTEGER NOT NULL,"
                  " mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, duplicate_of TEXT, chunks INTEGER NOT NULL)"
                  " WITHOUT ROWID;"
                  "CREATE TABLE sa_source_chunks(chunk_rowid INTEGER PRIMARY KEY, path TEXT NOT NULL,"
                  " chunk_id TEXT NOT NULL);"
                  "CREATE INDEX sa_source_chunks_by_path ON sa_source_chunks(path);");
}

status set_meta(sqlite3* db, const std::string& key, const std::string& value) {
  auto st = prepare(db, "INSERT OR REPLACE INTO sa_meta(key, value) VALUES(?1, ?2)");
  if (!st)
    return failure{st.error()};
  sqlite3_bind_text(st->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_text(st->get(), 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  if (sqlite3_step(st->get()) != SQLITE_DONE)
    return failure{std::string("setting ") + key + ": " + sqlite3_errmsg(db)};
  return {};
}

result<chunk_writer> chunk_writer::create(sqlite3* db) {
  auto st = prepare(db, "INSERT INTO chunks(rowid, title, section, body, id, kind, url) VALUES(?,?,?,?,?,?,?)");
  if (!st)
    return failure{st.error()};
  chunk_writer w;
  w.db_ = db;
  w.insert_ = std::move(*st);
  return w;
}

status chunk_writer::insert(sqlite3_int64 rowid, const chunk& c) {
  sqlite3_stmt* ins = insert_.get();
  sqlite3_bind_int64(ins, 1, rowid);
  sqlite3_bind_text(ins, 2, c.title.data(), static_cast<int>(c.title.size()), SQLITE_STATIC);
  sqlite3_bind_text(ins, 3, c.section.data(), static_cast<int>(c.section.size()), SQLITE_STATIC);
  sqlite3_bind_text(ins, 4, c.text.data(), static_cast<int>(c.text.size()), SQLITE_STATIC);
  sqlite3_bind_text(ins, 5, c.id.data(), static_cast<int>(c.id.size()), SQLITE_STATIC);
  sqlite3_bind_text(ins, 6, to_string(c.kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(ins, 7, c.url.data(), static_cast<int>(c.url.size()), SQLITE_STATIC);
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  if (rc != SQLITE_DONE)
    return failure{"inserting " + c.id + ": " + sqlite3_errmsg(db_)};
  return {};
}

} // namespace sa::knowledge::detail
