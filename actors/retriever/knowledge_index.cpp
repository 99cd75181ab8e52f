// knowledge_index: builds the FTS5 index from files and serves BM25 searches from a pool of read-only
// SQLite connections.
//
// Layout: one FTS5 table `chunks` (title, section, body indexed; id, kind, url stored only) and a small
// `sa_meta` table marking the file as ours. Each chunk's rowid is (kind << 40) | sequence, so a search can
// weight and filter sources from the rowid alone, without reading stored columns for every match; the
// stored columns are fetched only for the hits that make the final list. Ranking runs in memory over the
// FTS5 postings read once at open (bm25_postings.hpp), with exactly FTS5's scores; FTS5's own MATCH and
// ORDER BY remain the fallback and the reference (search_fts).
//
// Every index is served from memory: built into a private database (or read from its file by open()),
// serialized once, and every pool connection deserializes the same immutable buffer read-only (no shared
// cache, no locks between readers, and no file that a newer generation could change underneath).
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/bm25_postings.hpp"
#include "actors/retriever/bm25_rank.hpp"
#include "actors/retriever/index_format.hpp"
#include "actors/retriever/synonyms.hpp"
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

using detail::kind_shift;
constexpr std::size_t max_idle_connections = 16;

// BM25 column weights: title, section, body. sa_bm25 equals -bm25() (see bm25_rank.hpp), only faster.
constexpr const char* search_sql =
  "SELECT rowid, sa_bm25(chunks, 4.0, 2.0, 1.0) * (CASE rowid >> 40 WHEN 0 THEN ?2 WHEN 1 THEN ?3 ELSE ?4 END)"
  " AS score FROM chunks WHERE chunks MATCH ?1 AND rowid BETWEEN ?5 AND ?6"
  " AND (CASE rowid >> 40 WHEN 0 THEN ?2 WHEN 1 THEN ?3 ELSE ?4 END) > 0"
  " ORDER BY score DESC, rowid LIMIT ?7";
constexpr const char* fetch_sql = "SELECT id, title, section, url, body FROM chunks WHERE rowid = ?1";

using detail::column_text;
using detail::db_ptr;
using detail::exec;
using detail::format_tag;

struct sqlite_freer {
  void operator()(unsigned char* p) const noexcept { sqlite3_free(p); }
};

status write_index(sqlite3* db, const std::vector<chunk>& chunks) {
  if (auto s = exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=NORMAL; BEGIN;"); !s)
    return s;
  if (auto s = detail::create_index_tables(db); !s)
    return s;
  auto writer = detail::chunk_writer::create(db);
  if (!writer)
    return failure{writer.error()};
  sqlite3_int64 seq[3] = {0, 0, 0};
  for (const auto& c : chunks)
    if (auto s = writer->insert(detail::chunk_rowid(c.kind, ++seq[static_cast<int>(c.kind)]), c); !s)
      return s;
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
    detail::query_tokenizer tokenizer; ///< destroyed before `db`, whose FTS5 module it belongs to
    detail::rank_scratch scratch;
    sqlite3_stmt* search = nullptr;
    sqlite3_stmt* fetch = nullptr;
    ~connection() {
      sqlite3_finalize(search);
      sqlite3_finalize(fetch);
    }
  };

  std::string path;                                   ///< the file it was read from, or empty (for messages)
  std::unique_ptr<unsigned char, sqlite_freer> image; ///< serialized database, shared by every connection
  sqlite3_int64 image_size = 0;
  std::size_t chunks = 0;
  std::uint64_t generation = 0;
  detail::rank_stats stats; ///< read by sa_bm25 in every connection; filled once by validate()
  std::unique_ptr<const detail::postings_index> postings; ///< BM25 top-k in memory; null: FTS5's ORDER BY
  std::mutex mtx; ///< guards `idle` only
  std::vector<std::unique_ptr<connection>> idle;

  result<std::unique_ptr<connection>> connect() const {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_ptr db(raw);
    if (rc != SQLITE_OK)
      return failure{std::string("cannot open an in-memory database: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
    if (sqlite3_deserialize(raw, "main", image.get(), image_size, image_size, SQLITE_DESERIALIZE_READONLY)
        != SQLITE_OK)
      return failure{std::string("cannot load the in-memory index: ") + sqlite3_errmsg(raw)};
    if (auto s = detail::register_bm25(raw, &stats); !s)
      return failure{s.error()};
    auto c = std::make_unique<connection>();
    c->db = std::move(db);
    if (auto t = detail::query_tokenizer::create(raw))
      c->tokenizer = std::move(*t);
    if (sqlite3_prepare_v3(raw, search_sql, -1, SQLITE_PREPARE_PERSISTENT, &c->search, nullptr) != SQLITE_OK
        || sqlite3_prepare_v3(raw, fetch_sql, -1, SQLITE_PREPARE_PERSISTENT, &c->fetch, nullptr) != SQLITE_OK)
      return failure{name() + ": not a knowledge index (" + sqlite3_errmsg(raw) + ")"};
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

  std::string name() const { return path.empty() ? std::string(":memory:") : path; }

  /// Checks the marker table and reads the chunk count; keeps the connection for the pool.
  status validate(std::unique_ptr<connection> c) {
    sqlite3_stmt* st = nullptr;
    std::string format;
    if (sqlite3_prepare_v2(c->db.get(), "SELECT key, value FROM sa_meta", -1, &st, nullptr) != SQLITE_OK)
      return failure{name() + ": not a knowledge index (" + sqlite3_errmsg(c->db.get()) + ")"};
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto key = column_text(st, 0);
      if (key == "format")
        format = column_text(st, 1);
      else if (key == "chunks")
        chunks = static_cast<std::size_t>(sqlite3_column_int64(st, 1));
      else if (key == "generation")
        generation = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    if (format != format_tag)
      return failure{name() + ": not a knowledge index (format '" + format + "', expected '" + format_tag + "')"};
    if (auto s = detail::load_rank_stats(c->db.get(), "chunks", stats); !s)
      return failure{name() + ": damaged knowledge index (" + s.error() + ")"};
    auto p = detail::postings_index::load(c->db.get(), "chunks", stats);
    if (!p)
      return failure{name() + ": damaged knowledge index (" + p.error() + ")"};
    postings = std::make_unique<const detail::postings_index>(std::move(*p));
    idle.push_back(std::move(c));
    return {};
  }

  ~impl() { idle.clear(); } // connections go before the image they read
};

knowledge_index::knowledge_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
knowledge_index::~knowledge_index() = default;

std::size_t knowledge_index::chunk_count() const noexcept { return impl_->chunks; }
std::uint64_t knowledge_index::generation() const noexcept { return impl_->generation; }
std::size_t knowledge_index::image_bytes() const noexcept { return static_cast<std::size_t>(impl_->image_size); }

result<std::shared_ptr<const knowledge_index>> knowledge_index::open(const std::string& db_path) {
  std::error_code ec;
  if (db_path == ":memory:" || db_path.empty())
    return failure{"open(): an in-memory index cannot be reopened; build() it instead"};
  if (!fs::is_regular_file(db_path, ec))
    return failure{db_path + ": no such index file"};
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK)
    return failure{db_path + ": cannot open: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  auto p = std::make_unique<impl>();
  p->path = db_path;
  return from_database(raw, std::move(p), db_path);
}

result<std::shared_ptr<const knowledge_index>>
knowledge_index::from_database(sqlite3* db, std::unique_ptr<impl> p, const std::string& name) {
  // Reading the schema first turns "not a database" into a clear message instead of a null image.
  if (auto s = exec(db, "SELECT count(*) FROM sqlite_master"); !s)
    return failure{name + ": not a knowledge index (" + s.error() + ")"};
  sqlite3_int64 size = 0;
  p->image.reset(sqlite3_serialize(db, "main", &size, 0));
  if (!p->image || size == 0)
    return failure{name + (size == 0 ? ": not a knowledge index (empty file)"
                                     : ": cannot read the index into memory (out of memory?)")};
  p->image_size = size;
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

  return from_database(raw, std::make_unique<impl>(), ":memory:");
}

namespace {

/// The top `limit` rowids and scores through FTS5 (MATCH, sa_bm25, ORDER BY): the reference ranking.
std::vector<std::pair<sqlite3_int64, double>> fts_top(sqlite3_stmt* st, const std::string& match, const double (&weight)[3],
                                                      int lo, int hi, std::size_t limit) {
  std::vector<std::pair<sqlite3_int64, double>> top;
  sqlite3_bind_text(st, 1, match.data(), static_cast<int>(match.size()), SQLITE_STATIC);
  for (int k = 0; k < 3; ++k)
    sqlite3_bind_double(st, 2 + k, weight[k]);
  sqlite3_bind_int64(st, 5, static_cast<sqlite3_int64>(lo) << kind_shift);
  sqlite3_bind_int64(st, 6, ((static_cast<sqlite3_int64>(hi) + 1) << kind_shift) - 1);
  sqlite3_bind_int64(st, 7, static_cast<sqlite3_int64>(limit));
  while (sqlite3_step(st) == SQLITE_ROW)
    top.emplace_back(sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1));
  sqlite3_reset(st);
  return top;
}

} // namespace

std::vector<search_hit> knowledge_index::search(std::string_view query, const search_options& opts) const {
  return search_with(query, opts, false);
}

std::vector<search_hit> knowledge_index::search_fts(std::string_view query, const search_options& opts) const {
  return search_with(query, opts, true);
}

std::vector<search_hit> knowledge_index::search_with(std::string_view query, const search_options& opts,
                                                     bool through_fts) const {
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
  const auto phrases = detail::query_phrases(query);
  if (phrases.empty())
    return hits;
  const auto limit = std::min<std::size_t>(opts.limit, 1000);

  auto conn = impl_->checkout();
  if (!conn)
    return hits;
  // In memory when every phrase is one token (always, for the words query_terms() keeps); else FTS5.
  std::vector<std::string> tokens;
  bool in_memory = impl_->postings != nullptr && !through_fts;
  for (std::size_t i = 0; in_memory && i < phrases.size(); ++i) {
    auto t = conn->tokenizer.tokenize(phrases[i]);
    in_memory = t.size() == 1;
    if (in_memory)
      tokens.push_back(std::move(t[0]));
  }
  std::vector<std::pair<sqlite3_int64, double>> top;
  if (in_memory) {
    for (const auto& r : impl_->postings->top(tokens, weight, limit, conn->scratch))
      top.emplace_back(r.rowid, r.score);
  } else {
    top = fts_top(conn->search, detail::fts_query(query), weight, lo, hi, limit);
  }

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
      h.passage.rowid = rowid;
      hits.push_back(std::move(h));
    }
    sqlite3_reset(fetch);
  }
  impl_->checkin(std::move(conn));
  return hits;
}

knowledge_index::term_coverage knowledge_index::coverage(std::string_view question,
                                                         const std::vector<const chunk*>& chunks) const {
  term_coverage out;
  out.share.assign(chunks.size(), 0.0);
  const auto terms = detail::query_terms(question);
  if (terms.empty())
    return out;
  auto conn = impl_->checkout();
  if (!conn)
    return out;
  struct concept_tokens {
    std::vector<std::string> tokens; // the term's token, then its synonyms'
    double weight = 0;
  };
  std::vector<concept_tokens> concepts;
  const auto& postings = *impl_->postings;
  for (const auto& term : terms) {
    auto own = conn->tokenizer.tokenize(term);
    if (own.size() != 1)
      continue;
    // Two words with one stem ("build", "builds") are one term.
    if (std::any_of(concepts.begin(), concepts.end(), [&](const auto& c) { return c.tokens.front() == own[0]; }))
      continue;
    concept_tokens c;
    c.tokens.push_back(std::move(own[0]));
    for (const auto& alt : synonyms_of(term))
      if (auto t = conn->tokenizer.tokenize(alt); t.size() == 1)
        c.tokens.push_back(std::move(t[0]));
    // The concept is as common as its most common word: "yearly" is known when the docs say "annual".
    std::size_t df = 0;
    for (const auto& t : c.tokens)
      df = std::max(df, postings.document_frequency(t));
    c.weight = std::max(postings.idf(df), min_term_weight);
    concepts.push_back(std::move(c));
  }
  out.terms = concepts.size();
  double total = 0;
  for (const auto& c : concepts)
    total += c.weight;
  for (std::size_t i = 0; i < chunks.size() && total > 0; ++i) {
    const chunk& ch = *chunks[i];
    const bool in_index = ch.rowid != 0 && postings.has_row(ch.rowid);
    std::vector<std::string> words;
    if (!in_index) {
      words = conn->tokenizer.tokenize(ch.title + '\n' + ch.section + '\n' + ch.text);
      std::sort(words.begin(), words.end());
    }
    auto holds = [&](const std::string& t) {
      return in_index ? postings.contains(t, ch.rowid) : std::binary_search(words.begin(), words.end(), t);
    };
    double covered = 0;
    for (const auto& c : concepts)
      if (std::any_of(c.tokens.begin(), c.tokens.end(), holds))
        covered += c.weight;
    out.share[i] = std::min(1.0, covered / total);
  }
  impl_->checkin(std::move(conn));
  return out;
}

std::vector<chunk> knowledge_index::all_chunks() const {
  std::vector<chunk> out;
  auto conn = impl_->checkout();
  if (!conn)
    return out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(conn->db.get(), "SELECT rowid, id, title, section, url, body FROM chunks ORDER BY rowid", -1,
                         &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      chunk c;
      c.kind = static_cast<source_kind>(sqlite3_column_int64(st, 0) >> kind_shift);
      c.id = column_text(st, 1);
      c.title = column_text(st, 2);
      c.section = column_text(st, 3);
      c.url = column_text(st, 4);
      c.text = column_text(st, 5);
      c.rowid = sqlite3_column_int64(st, 0);
      out.push_back(std::move(c));
    }
  }
  sqlite3_finalize(st);
  impl_->checkin(std::move(conn));
  return out;
}

} // namespace sa::knowledge
