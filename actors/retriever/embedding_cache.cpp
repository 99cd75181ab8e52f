// embedding_cache: the per-tenant vector store on SQLite (see embedding_cache.hpp).
#include "actors/retriever/embedding_cache.hpp"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <cstring>
#include <filesystem>

namespace sa::knowledge {

namespace fs = std::filesystem;

namespace {

constexpr const char* schema_sql =
  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
  "CREATE TABLE IF NOT EXISTS vectors(model TEXT NOT NULL, text_sha256 BLOB NOT NULL, dims INTEGER NOT NULL,"
  " vector BLOB NOT NULL, PRIMARY KEY(model, text_sha256)) WITHOUT ROWID;";

struct stmt {
  sqlite3_stmt* st = nullptr;
  ~stmt() { sqlite3_finalize(st); }
};

std::string errmsg(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

/// Floats as little-endian bytes (the layout of every platform this builds on; checked at compile time).
static_assert(sizeof(float) == 4, "float32 vectors");

} // namespace

sha256_digest sha256(std::string_view text) {
  sha256_digest d{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string embedding_cache_file(const std::string& state_dir, const std::string& tenant) {
  return (fs::path(state_dir) / "embeddings" / tenant / "vectors.sqlite").string();
}

embedding_cache::embedding_cache(std::string file, sqlite3* db) : file_(std::move(file)), db_(db) {}

embedding_cache::~embedding_cache() { sqlite3_close_v2(db_); }

result<std::unique_ptr<embedding_cache>> embedding_cache::open(const std::string& file) {
  std::error_code ec;
  auto dir = fs::path(file).parent_path();
  if (!dir.empty())
    fs::create_directories(dir, ec);
  if (ec)
    return failure{dir.string() + ": cannot create the embedding cache folder: " + ec.message()};
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = errmsg(db);
    sqlite3_close_v2(db);
    return failure{file + ": cannot open the embedding cache: " + why};
  }
  sqlite3_busy_timeout(db, 2000);
  char* err = nullptr;
  if (sqlite3_exec(db, schema_sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : errmsg(db);
    sqlite3_free(err);
    sqlite3_close_v2(db);
    return failure{file + ": not an embedding cache (" + why + ")"};
  }
  return std::unique_ptr<embedding_cache>(new embedding_cache(file, db));
}

result<std::vector<std::vector<float>>> embedding_cache::lookup(const std::string& model,
                                                                const std::vector<sha256_digest>& digests) {
  std::vector<std::vector<float>> out(digests.size());
  stmt q;
  if (sqlite3_prepare_v2(db_, "SELECT dims, vector FROM vectors WHERE model = ?1 AND text_sha256 = ?2", -1, &q.st,
                         nullptr) != SQLITE_OK)
    return failure{file_ + ": cannot read the embedding cache: " + errmsg(db_)};
  sqlite3_bind_text(q.st, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    sqlite3_bind_blob(q.st, 2, digests[i].data(), static_cast<int>(digests[i].size()), SQLITE_STATIC);
    int rc = sqlite3_step(q.st);
    if (rc == SQLITE_ROW) {
      auto dims = sqlite3_column_int64(q.st, 0);
      const void* blob = sqlite3_column_blob(q.st, 1);
      auto bytes = sqlite3_column_bytes(q.st, 1);
      if (dims > 0 && blob != nullptr && static_cast<std::int64_t>(bytes) == dims * 4) {
        out[i].resize(static_cast<std::size_t>(dims));
        std::memcpy(out[i].data(), blob, static_cast<std::size_t>(bytes));
      }
    } else if (rc != SQLITE_DONE) {
      return failure{file_ + ": cannot read the embedding cache: " + errmsg(db_)};
    }
    sqlite3_reset(q.st);
  }
  return out;
}

status embedding_cache::store(const std::string& model, const std::vector<sha256_digest>& digests,
                              const std::vector<std::vector<float>>& vectors) {
  if (digests.size() != vectors.size())
    return failure{file_ + ": store(): " + std::to_string(digests.size()) + " digests for " +
                   std::to_string(vectors.size()) + " vectors"};
  if (digests.empty())
    return {};
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return failure{file_ + ": cannot write the embedding cache: " + errmsg(db_)};
  stmt ins;
  auto rollback = [&](const std::string& why) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return failure{file_ + ": cannot write the embedding cache: " + why};
  };
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO vectors(model, text_sha256, dims, vector) VALUES(?1, ?2, ?3, ?4)",
                         -1, &ins.st, nullptr) != SQLITE_OK)
    return rollback(errmsg(db_));
  sqlite3_bind_text(ins.st, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    if (vectors[i].empty())
      return rollback("an empty vector");
    sqlite3_bind_blob(ins.st, 2, digests[i].data(), static_cast<int>(digests[i].size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins.st, 3, static_cast<sqlite3_int64>(vectors[i].size()));
    sqlite3_bind_blob(ins.st, 4, vectors[i].data(), static_cast<int>(vectors[i].size() * sizeof(float)), SQLITE_STATIC);
    if (sqlite3_step(ins.st) != SQLITE_DONE)
      return rollback(errmsg(db_));
    sqlite3_reset(ins.st);
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return rollback(errmsg(db_));
  return {};
}

result<std::size_t> embedding_cache::count(const std::string& model) {
  stmt q;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM vectors WHERE model = ?1", -1, &q.st, nullptr) != SQLITE_OK)
    return failure{file_ + ": cannot read the embedding cache: " + errmsg(db_)};
  sqlite3_bind_text(q.st, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  if (sqlite3_step(q.st) != SQLITE_ROW)
    return failure{file_ + ": cannot read the embedding cache: " + errmsg(db_)};
  return static_cast<std::size_t>(sqlite3_column_int64(q.st, 0));
}

} // namespace sa::knowledge
