// knowledge_index: builds the FTS5 index from files and serves BM25 searches from a pool of read-only
// SQLite connections.
//
// Layout: one FTS5 table `chunks` (title, section, body indexed; id, kind, url stored only) and a small
// `sa_meta` table marking the file as ours. Each chunk's rowid is (kind << 40) | sequence, so a search can
// weight and filter sources from the rowid alone, without reading stored columns for every match; the
// stored columns are fetched only for the hits that make the final list.
//
// In-memory indexes are built into a private database, serialized once, and every pool connection
// deserializes the same immutable buffer read-only (no shared cache, no locks between readers).
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/bm25_rank.hpp"
#include "actors/retriever/text_util.hpp"

#include <algorithm>
#include <filesystem>
#include <mutex>

namespace sa::knowledge {

namespace fs = std::filesystem;

const char* to_string(source_kind k) noexcept {
  switch (k) {
    case source_kind::doc: return "doc";
    case source_kind::faq: return "faq";
    case source_kind::ticket: return "ticket";
  }
  return "doc";
}

bool from_string(std::string_view name, source_kind& out) noexcept {
  for (auto k : {source_kind::doc, source_kind::faq, source_kind::ticket})
    if (name == to_string(k)) {
      out = k;
      return true;
    }
  return false;
}

namespace {

constexpr const char* format_tag = "sa-knowledge/1";
using detail::kind_shift;
constexpr std::size_t max_idle_connections = 16;

// BM25 column weights: title, section, body. sa_bm25 equals -bm25() (see bm25_rank.hpp), only faster.
constexpr const char* search_sql =
  "SELECT rowid, sa_bm25(chunks, 4.0, 2.0, 1.0) * (CASE rowid >> 40 WHEN 0 THEN ?2 WHEN 1 THEN ?3 ELSE ?4 END)"
  " AS score FROM chunks WHERE chunks MATCH ?1 AND rowid BETWEEN ?5 AND ?6"
  " AND (CASE rowid >> 40 WHEN 0 THEN ?2 WHEN 1 THEN ?3 ELSE ?4 END) > 0"
  " ORDER BY score DESC, rowid LIMIT ?7";
constexpr const char* fetch_sql = "SELECT id, title, section, url, body FROM chunks WHERE rowid = ?1";

std::string column_text(sqlite3_stmt* st, int col) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, col))) : std::string();
}

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct sqlite_freer {
  void operator()(unsigned char* p) const noexcept { sqlite3_free(p); }
};

status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return failure{msg};
  }
  return {};
}

status write_index(sqlite3* db, const std::vector<chunk>& chunks) {
  if (auto s = exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=NORMAL; BEGIN;"
                        "CREATE TABLE sa_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "CREATE VIRTUAL TABLE chunks USING fts5(title, section, body, id UNINDEXED,"
                        " kind UNINDEXED, url UNINDEXED, tokenize='porter unicode61 remove_diacritics 2');");
      !s)
    return s;
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO chunks(rowid, title, section, body, id, kind, url) VALUES(?,?,?,?,?,?,?)",
                         -1, &ins, nullptr) != SQLITE_OK)
    return failure{sqlite3_errmsg(db)};
  sqlite3_int64 seq[3] = {0, 0, 0};
  for (const auto& c : chunks) {
    int k = static_cast<int>(c.kind);
    sqlite3_bind_int64(ins, 1, (static_cast<sqlite3_int64>(k) << kind_shift) | ++seq[k]);
    sqlite3_bind_text(ins, 2, c.title.data(), static_cast<int>(c.title.size()), SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, c.section.data(), static_cast<int>(c.section.size()), SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, c.text.data(), static_cast<int>(c.text.size()), SQLITE_STATIC);
    sqlite3_bind_text(ins, 5, c.id.data(), static_cast<int>(c.id.size()), SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, to_string(c.kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, c.url.data(), static_cast<int>(c.url.size()), SQLITE_STATIC);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db);
      sqlite3_finalize(ins);
      return failure{"inserting " + c.id + ": " + msg};
    }
  }
  sqlite3_finalize(ins);
  std::string meta = "INSERT INTO sa_meta VALUES('format', '" + std::string(format_tag) + "'), ('chunks', '"
                     + std::to_string(chunks.size()) + "');"
                     "INSERT INTO chunks(chunks) VALUES('optimize'); COMMIT;";
  return exec(db, meta.c_str());
}

} // namespace

// --- the index and its connection pool ----------------------------------------------------------------

struct knowledge_index::impl {
  struct connection {
    db_ptr db;
    sqlite3_stmt* search = nullptr;
    sqlite3_stmt* fetch = nullptr;
    ~connection() {
      sqlite3_finalize(search);
      sqlite3_finalize(fetch);
    }
  };

  std::string path;                                   ///< file path, or empty for an in-memory index
  std::unique_ptr<unsigned char, sqlite_freer> image; ///< serialized in-memory database
  sqlite3_int64 image_size = 0;
  std::size_t chunks = 0;
  detail::rank_stats stats; ///< read by sa_bm25 in every connection; filled once by validate()
  std::mutex mtx; ///< guards `idle` only
  std::vector<std::unique_ptr<connection>> idle;

  result<std::unique_ptr<connection>> connect() const {
    sqlite3* raw = nullptr;
    int rc = image ? sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr)
                   : sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    db_ptr db(raw);
    if (rc != SQLITE_OK)
      return failure{path + ": cannot open: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
    if (image && sqlite3_deserialize(raw, "main", image.get(), image_size, image_size,
                                     SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
      return failure{std::string("cannot load the in-memory index: ") + sqlite3_errmsg(raw)};
    if (auto s = detail::register_bm25(raw, &stats); !s)
      return failure{s.error()};
    auto c = std::make_unique<connection>();
    c->db = std::move(db);
    if (sqlite3_prepare_v3(raw, search_sql, -1, SQLITE_PREPARE_PERSISTENT, &c->search, nullptr) != SQLITE_OK
        || sqlite3_prepare_v3(raw, fetch_sql, -1, SQLITE_PREPARE_PERSISTENT, &c->fetch, nullptr) != SQLITE_OK)
      return failure{path + ": not a knowledge index (" + sqlite3_errmsg(raw) + ")"};
    return c;
  }

  std::unique_ptr<connection> checkout() {
    {
      std::lock_guard<std::mutex> lock(mtx);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    auto c = connect();
    return c ? std::move(c.value()) : nullptr;
  }

  void checkin(std::unique_ptr<connection> c) {
    sqlite3_reset(c->search);
    sqlite3_reset(c->fetch);
    std::lock_guard<std::mutex> lock(mtx);
    if (idle.size() < max_idle_connections)
      idle.push_back(std::move(c));
  }

  /// Checks the marker table and reads the chunk count; keeps the connection for the pool.
  status validate(std::unique_ptr<connection> c) {
    sqlite3_stmt* st = nullptr;
    std::string format;
    if (sqlite3_prepare_v2(c->db.get(), "SELECT key, value FROM sa_meta", -1, &st, nullptr) != SQLITE_OK)
      return failure{(path.empty() ? std::string(":memory:") : path) + ": not a knowledge index ("
                     + sqlite3_errmsg(c->db.get()) + ")"};
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto key = column_text(st, 0);
      if (key == "format")
        format = column_text(st, 1);
      else if (key == "chunks")
        chunks = static_cast<std::size_t>(sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    if (format != format_tag)
      return failure{path + ": not a knowledge index (format '" + format + "', expected '" + format_tag + "')"};
    if (auto s = detail::load_rank_stats(c->db.get(), "chunks", stats); !s)
      return failure{path + ": damaged knowledge index (" + s.error() + ")"};
    idle.push_back(std::move(c));
    return {};
  }

  ~impl() { idle.clear(); } // connections go before the image they read
};

knowledge_index::knowledge_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
knowledge_index::~knowledge_index() = default;

std::size_t knowledge_index::chunk_count() const noexcept { return impl_->chunks; }

result<std::shared_ptr<const knowledge_index>> knowledge_index::open(const std::string& db_path) {
  std::error_code ec;
  if (db_path == ":memory:" || db_path.empty())
    return failure{"open(): an in-memory index cannot be reopened; build() it instead"};
  if (!fs::is_regular_file(db_path, ec))
    return failure{db_path + ": no such index file"};
  auto p = std::make_unique<impl>();
  p->path = db_path;
  auto c = p->connect();
  if (!c)
    return failure{c.error()};
  if (auto s = p->validate(std::move(c.value())); !s)
    return failure{s.error()};
  return std::shared_ptr<const knowledge_index>(new knowledge_index(std::move(p)));
}

result<std::shared_ptr<const knowledge_index>>
knowledge_index::build(const std::vector<std::string>& paths, const std::string& db_path,
                       const chunking_options& opts) {
  if (db_path.empty())
    return failure{"build(): no index path given (use \":memory:\" for an in-memory index)"};
  auto read = detail::read_sources(paths, opts);
  if (!read)
    return failure{read.error()};
  const std::vector<chunk>& chunks = read.value();

  const bool in_memory = db_path == ":memory:";
  std::error_code ignored;
  const std::string target = in_memory ? db_path : db_path + ".tmp";
  if (!in_memory)
    fs::remove(target, ignored); // a leftover from an interrupted build
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK)
    return failure{target + ": cannot create: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  if (auto s = write_index(raw, chunks); !s) {
    db.reset();
    if (!in_memory)
      fs::remove(target, ignored);
    return failure{target + ": cannot write the index: " + s.error()};
  }

  if (!in_memory) {
    db.reset();
    std::error_code ec;
    fs::rename(target, db_path, ec);
    if (ec) {
      fs::remove(target, ignored);
      return failure{db_path + ": cannot move the new index into place: " + ec.message()};
    }
    return open(db_path);
  }

  auto p = std::make_unique<impl>();
  sqlite3_int64 size = 0;
  p->image.reset(sqlite3_serialize(raw, "main", &size, 0));
  if (!p->image)
    return failure{"cannot serialize the in-memory index (out of memory?)"};
  p->image_size = size;
  db.reset();
  auto c = p->connect();
  if (!c)
    return failure{c.error()};
  if (auto s = p->validate(std::move(c.value())); !s)
    return failure{s.error()};
  return std::shared_ptr<const knowledge_index>(new knowledge_index(std::move(p)));
}

std::vector<search_hit> knowledge_index::search(std::string_view query, const search_options& opts) const {
  std::vector<search_hit> hits;
  if (opts.limit == 0)
    return hits;
  // Listed kinds take their weight (<= 0 or NaN: not searched); kinds not listed keep weight 1.
  double weight[3] = {1, 1, 1};
  for (const auto& s : opts.sources) {
    auto k = static_cast<unsigned>(s.kind);
    if (k < 3)
      weight[k] = s.weight > 0 ? s.weight : 0; // also maps NaN to 0
  }
  int lo = 0, hi = 2;
  while (lo <= 2 && weight[lo] <= 0)
    ++lo;
  while (hi >= 0 && weight[hi] <= 0)
    --hi;
  if (lo > hi)
    return hits;
  const std::string match = detail::fts_query(query);
  if (match.empty())
    return hits;

  auto conn = impl_->checkout();
  if (!conn)
    return hits;
  sqlite3_stmt* st = conn->search;
  sqlite3_bind_text(st, 1, match.data(), static_cast<int>(match.size()), SQLITE_STATIC);
  for (int k = 0; k < 3; ++k)
    sqlite3_bind_double(st, 2 + k, weight[k]);
  sqlite3_bind_int64(st, 5, static_cast<sqlite3_int64>(lo) << kind_shift);
  sqlite3_bind_int64(st, 6, ((static_cast<sqlite3_int64>(hi) + 1) << kind_shift) - 1);
  sqlite3_bind_int64(st, 7, static_cast<sqlite3_int64>(std::min<std::size_t>(opts.limit, 1000)));
  std::vector<std::pair<sqlite3_int64, double>> top;
  while (sqlite3_step(st) == SQLITE_ROW)
    top.emplace_back(sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1));
  sqlite3_reset(st);

  sqlite3_stmt* fetch = conn->fetch;
  for (const auto& [rowid, score] : top) {
    sqlite3_bind_int64(fetch, 1, rowid);
    if (sqlite3_step(fetch) == SQLITE_ROW) {
      search_hit h;
      h.score = score;
      h.passage.kind = static_cast<source_kind>(rowid >> kind_shift);
      h.passage.id = column_text(fetch, 0);
      h.passage.title = column_text(fetch, 1);
      h.passage.section = column_text(fetch, 2);
      h.passage.url = column_text(fetch, 3);
      h.passage.text = column_text(fetch, 4);
      hits.push_back(std::move(h));
    }
    sqlite3_reset(fetch);
  }
  impl_->checkin(std::move(conn));
  return hits;
}

} // namespace sa::knowledge
