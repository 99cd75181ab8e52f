// sa_bm25(): see bm25_rank.hpp. The scoring mirrors SQLite's fts5_aux.c bm25 (k1 = 1.2, b = 0.75, IDF
// clamped at 1e-6), so scores equal -bm25() of the same table; only where the row sizes come from differs.
#include "actors/retriever/bm25_rank.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace sa::knowledge::detail {

namespace {

constexpr double k1 = 1.2;
constexpr double b = 0.75;

/// Per-query state: IDF of each phrase, computed on the first row.
struct query_state {
  std::vector<double> idf;
  std::vector<double> freq; ///< scratch: weighted hits of each phrase in the current row
};

int count_row(const Fts5ExtensionApi*, Fts5Context*, void* user) {
  ++*static_cast<sqlite3_int64*>(user);
  return SQLITE_OK;
}

void delete_state(void* p) { delete static_cast<query_state*>(p); }

void sa_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int n_args, sqlite3_value** args) {
  const auto* stats = static_cast<const rank_stats*>(api->xUserData(fts));
  auto* state = static_cast<query_state*>(api->xGetAuxdata(fts, 0));
  if (!state) {
    auto fresh = new query_state;
    const int phrases = api->xPhraseCount(fts);
    const double n = static_cast<double>(stats->rows);
    fresh->idf.resize(static_cast<std::size_t>(phrases));
    fresh->freq.resize(static_cast<std::size_t>(phrases));
    for (int i = 0; i < phrases; ++i) {
      sqlite3_int64 hits = 0;
      if (int rc = api->xQueryPhrase(fts, i, &hits, count_row); rc != SQLITE_OK) {
        delete fresh;
        sqlite3_result_error_code(ctx, rc);
        return;
      }
      double idf = std::log((n - static_cast<double>(hits) + 0.5) / (static_cast<double>(hits) + 0.5));
      fresh->idf[static_cast<std::size_t>(i)] = idf <= 0.0 ? 1e-6 : idf;
    }
    if (int rc = api->xSetAuxdata(fts, fresh, delete_state); rc != SQLITE_OK) { // deletes `fresh` on error
      sqlite3_result_error_code(ctx, rc);
      return;
    }
    state = fresh;
  }

  std::fill(state->freq.begin(), state->freq.end(), 0.0);
  int hits = 0;
  if (int rc = api->xInstCount(fts, &hits); rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  for (int i = 0; i < hits; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK)
      continue;
    double w = column < n_args ? sqlite3_value_double(args[column]) : 1.0;
    state->freq[static_cast<std::size_t>(phrase)] += w;
  }
  const double len = stats->tokens(api->xRowid(fts));
  const double norm = k1 * (1 - b + b * len / (stats->avg_tokens > 0 ? stats->avg_tokens : 1.0));
  double score = 0;
  for (std::size_t i = 0; i < state->idf.size(); ++i) {
    double f = state->freq[i];
    score += state->idf[i] * (f * (k1 + 1)) / (f + norm);
  }
  sqlite3_result_double(ctx, score);
}

} // namespace

status load_rank_stats(sqlite3* db, const char* table, rank_stats& out) {
  std::string sql = std::string("SELECT id, sz FROM \"") + table + "_docsize\"";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    return failure{sqlite3_errmsg(db)};
  out = rank_stats{};
  double total = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto rowid = sqlite3_column_int64(st, 0);
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, 1));
    const int size = sqlite3_column_bytes(st, 1);
    std::uint64_t tokens = 0;
    for (int i = 0; i < size;) { // one SQLite varint per column
      std::uint64_t v = 0;
      for (int k = 0; k < 9 && i < size; ++k) {
        unsigned char byte = p[i++];
        if (k == 8) {
          v = (v << 8) | byte;
          break;
        }
        v = (v << 7) | (byte & 0x7F);
        if (!(byte & 0x80))
          break;
      }
      tokens += v;
    }
    auto kind = static_cast<std::size_t>(rowid >> kind_shift);
    auto seq = static_cast<std::size_t>(rowid & ((std::int64_t{1} << kind_shift) - 1));
    if (kind >= 3 || seq > (1u << 26)) { // not a rowid we wrote
      sqlite3_finalize(st);
      return failure{"unexpected rowid " + std::to_string(rowid)};
    }
    auto& v = out.doc_tokens[kind];
    if (v.size() <= seq)
      v.resize(seq + 1, 0);
    v[seq] = static_cast<std::uint32_t>(tokens);
    total += static_cast<double>(tokens);
    ++out.rows;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return failure{sqlite3_errmsg(db)};
  out.avg_tokens = out.rows > 0 ? total / static_cast<double>(out.rows) : 0;
  return {};
}

status register_bm25(sqlite3* db, const rank_stats* stats) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK)
    return failure{std::string("FTS5 is not available: ") + sqlite3_errmsg(db)};
  sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", nullptr);
  sqlite3_step(st);
  sqlite3_finalize(st);
  if (!api || api->iVersion < 2)
    return failure{"FTS5 is not available"};
  if (api->xCreateFunction(api, "sa_bm25", const_cast<rank_stats*>(stats), sa_bm25, nullptr) != SQLITE_OK)
    return failure{std::string("cannot register sa_bm25: ") + sqlite3_errmsg(db)};
  return {};
}

} // namespace sa::knowledge::detail
