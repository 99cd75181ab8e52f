// bm25_postings: see bm25_postings.hpp. The arithmetic mirrors sa_bm25 in bm25_rank.cpp operand for
// operand; change both together (the knowledge index tests compare the two rankings exactly).
#include "actors/retriever/bm25_postings.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

namespace sa::knowledge::detail {

namespace {

constexpr double k1 = 1.2;
constexpr double b = 0.75;

struct stmt_closer {
  void operator()(sqlite3_stmt* st) const noexcept { sqlite3_finalize(st); }
};

int collect_token(void* ctx, int flags, const char* token, int n, int, int) {
  if ((flags & FTS5_TOKEN_COLOCATED) == 0)
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(token, static_cast<std::size_t>(n));
  return SQLITE_OK;
}

} // namespace

fts5_api* fts5_api_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK)
    return nullptr;
  sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(st);
  sqlite3_finalize(st);
  return api && api->iVersion >= 2 ? api : nullptr;
}

// --- query_tokenizer ---------------------------------------------------------------------------------

result<query_tokenizer> query_tokenizer::create(sqlite3* db) {
  fts5_api* api = fts5_api_of(db);
  if (!api)
    return failure{"FTS5 is not available"};
  void* ctx = nullptr;
  query_tokenizer t;
  if (api->xFindTokenizer(api, "porter", &ctx, &t.api_) != SQLITE_OK)
    return failure{"the porter tokenizer is not available"};
  // The table's tokenize='porter unicode61 remove_diacritics 2' (index_format.cpp), as arguments.
  const char* args[] = {"unicode61", "remove_diacritics", "2"};
  if (t.api_.xCreate(ctx, args, 3, &t.tok_) != SQLITE_OK)
    return failure{"cannot create the porter tokenizer"};
  return t;
}

query_tokenizer::query_tokenizer(query_tokenizer&& o) noexcept : api_(o.api_), tok_(o.tok_) { o.tok_ = nullptr; }

query_tokenizer& query_tokenizer::operator=(query_tokenizer&& o) noexcept {
  if (this != &o) {
    if (tok_)
      api_.xDelete(tok_);
    api_ = o.api_;
    tok_ = o.tok_;
    o.tok_ = nullptr;
  }
  return *this;
}

query_tokenizer::~query_tokenizer() {
  if (tok_)
    api_.xDelete(tok_);
}

std::vector<std::string> query_tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  if (tok_)
    api_.xTokenize(tok_, &out, FTS5_TOKENIZE_QUERY, text.data(), static_cast<int>(text.size()), collect_token);
  return out;
}

// --- postings_index ----------------------------------------------------------------------------------

result<postings_index> postings_index::load(sqlite3* db, const char* table, const rank_stats& stats) {
  postings_index p;
  p.rows_total_ = static_cast<double>(stats.rows);
  // Dense row numbers in rowid order (rank_stats holds every row's length by kind and sequence).
  constexpr std::uint32_t no_row = ~std::uint32_t{0};
  std::vector<std::uint32_t> dense[3];
  for (std::size_t kind = 0; kind < 3; ++kind) {
    dense[kind].assign(stats.doc_tokens[kind].size(), no_row);
    for (std::size_t seq = 0; seq < stats.doc_tokens[kind].size(); ++seq) {
      if (stats.doc_tokens[kind][seq] == 0)
        continue; // no such row (a gap in the sequences), or a row without tokens, which no term can match
      dense[kind][seq] = static_cast<std::uint32_t>(p.rowids_.size());
      p.rowids_.push_back((static_cast<sqlite3_int64>(kind) << kind_shift) | static_cast<sqlite3_int64>(seq));
    }
  }
  const double avg = stats.avg_tokens;
  p.norm_.reserve(p.rowids_.size());
  for (auto rowid : p.rowids_) {
    const double len = stats.tokens(rowid);
    p.norm_.push_back(k1 * (1 - b + b * len / (avg > 0 ? avg : 1.0)));
  }

  std::string sql = std::string("CREATE VIRTUAL TABLE IF NOT EXISTS temp.sa_instances USING fts5vocab(main, '") + table
                    + "', 'instance')";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return failure{std::string("cannot read the postings: ") + sqlite3_errmsg(db)};
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT term, doc, col FROM temp.sa_instances", -1, &raw, nullptr) != SQLITE_OK)
    return failure{std::string("cannot read the postings: ") + sqlite3_errmsg(db)};
  std::unique_ptr<sqlite3_stmt, stmt_closer> st(raw);
  // Rows come ordered by term, then row, then column, then offset.
  std::string term;
  term_range* range = nullptr;
  sqlite3_int64 last_doc = -1;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    auto text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(raw, 0));
    if (range == nullptr || term.size() != n || term.compare(0, n, text, n) != 0) {
      term.assign(text, n);
      auto [it, fresh] = p.terms_.emplace(term, term_range{});
      if (!fresh)
        return failure{"postings out of order at term '" + term + "'"};
      range = &it->second;
      range->begin = range->end = static_cast<std::uint32_t>(p.docs_.size());
      last_doc = -1;
    }
    const auto doc = sqlite3_column_int64(raw, 1);
    if (doc != last_doc) {
      const auto kind = static_cast<std::size_t>(doc >> kind_shift);
      const auto seq = static_cast<std::size_t>(doc & ((sqlite3_int64{1} << kind_shift) - 1));
      if (doc < 0 || kind >= 3 || seq >= dense[kind].size() || dense[kind][seq] == no_row)
        return failure{"posting for unknown row " + std::to_string(doc)};
      p.docs_.push_back(dense[kind][seq]);
      p.freqs_.push_back(0);
      ++range->end;
      last_doc = doc;
    }
    // The column arrives by name; the first letter tells them apart (title, section, body).
    auto col = reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
    const double w = !col ? 0 : col[0] == 't' ? column_weights[0] : col[0] == 's' ? column_weights[1] : column_weights[2];
    p.freqs_.back() += w;
  }
  if (rc != SQLITE_DONE)
    return failure{std::string("cannot read the postings: ") + sqlite3_errmsg(db)};
  st.reset();
  sqlite3_exec(db, "DROP TABLE temp.sa_instances", nullptr, nullptr, nullptr);
  return p;
}

std::size_t postings_index::document_frequency(const std::string& token) const {
  auto it = terms_.find(token);
  return it == terms_.end() ? 0 : it->second.end - it->second.begin;
}

double postings_index::idf(std::size_t df) const noexcept {
  const double hits = static_cast<double>(df);
  return std::log((rows_total_ - hits + 0.5) / (hits + 0.5));
}

bool postings_index::has_row(sqlite3_int64 rowid) const {
  return std::binary_search(rowids_.begin(), rowids_.end(), rowid);
}

bool postings_index::contains(const std::string& token, sqlite3_int64 rowid) const {
  auto row = std::lower_bound(rowids_.begin(), rowids_.end(), rowid);
  auto it = terms_.find(token);
  if (row == rowids_.end() || *row != rowid || it == terms_.end())
    return false;
  const auto dense = static_cast<std::uint32_t>(row - rowids_.begin());
  return std::binary_search(docs_.begin() + it->second.begin, docs_.begin() + it->second.end, dense);
}

std::vector<postings_index::scored> postings_index::top(const std::vector<std::string>& tokens,
                                                       const double (&kind_weight)[3], std::size_t limit,
                                                       rank_scratch& scratch) const {
  std::vector<scored> out;
  if (limit == 0 || rowids_.empty())
    return out;
  auto& score = scratch.score;
  auto& touched = scratch.touched;
  if (score.size() != rowids_.size())
    score.assign(rowids_.size(), 0.0);
  touched.clear();
  for (const auto& token : tokens) { // phrase order, as sa_bm25 sums them
    auto it = terms_.find(token);
    if (it == terms_.end())
      continue; // matches nothing; contributes nothing to any row
    const auto [begin, end] = it->second;
    double idf = this->idf(end - begin);
    idf = idf <= 0.0 ? 1e-6 : idf;
    for (auto i = begin; i < end; ++i) {
      const auto doc = docs_[i];
      const double f = freqs_[i];
      if (score[doc] == 0.0)
        touched.push_back(doc);
      score[doc] += idf * (f * (k1 + 1)) / (f + norm_[doc]);
    }
  }
  out.reserve(touched.size());
  for (auto doc : touched) {
    const auto rowid = rowids_[doc];
    const double w = kind_weight[static_cast<std::size_t>(rowid >> kind_shift)];
    if (w > 0)
      out.push_back({rowid, score[doc] * w});
    score[doc] = 0.0;
  }
  auto better = [](const scored& a, const scored& b) { return a.score > b.score || (a.score == b.score && a.rowid < b.rowid); };
  if (out.size() > limit) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(limit), out.end(), better);
    out.resize(limit);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

} // namespace sa::knowledge::detail
