// bm25_postings: the FTS5 index's postings held in memory, and BM25 top-k over them. Internal to the
// knowledge index.
//
// Why: FTS5 answers `MATCH "a" OR "b" ... ORDER BY sa_bm25(...) LIMIT k` by calling the rank function for
// every matching row; a common word matches most of a 10,000-chunk knowledge base, so a query cost
// milliseconds. Here every (term, row) pair is read once from FTS5 itself (fts5vocab 'instance') when the
// index is opened, and a query adds up BM25 over the query terms' postings into an array and keeps the
// best k: tens of microseconds. Scores are bit-for-bit those of sa_bm25 (same formula, same operands in
// the same order), so the ranking is unchanged; the query terms go through FTS5's own tokenizer (porter
// unicode61 remove_diacritics 2), so they are the same tokens a MATCH would look up.
#pragma once

#include "actors/retriever/bm25_rank.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sa::knowledge::detail {

/// Column weights of the ranking: title, section, body (the search SQL passes the same to sa_bm25).
inline constexpr double column_weights[3] = {4.0, 2.0, 1.0};

/// FTS5's extension API of a connection (null when FTS5 is missing).
fts5_api* fts5_api_of(sqlite3* db);

/// FTS5's query tokenizer as the index uses it, for one connection at a time (instances are not thread-safe).
class query_tokenizer {
public:
  static result<query_tokenizer> create(sqlite3* db);
  query_tokenizer() = default;
  query_tokenizer(query_tokenizer&& o) noexcept;
  query_tokenizer& operator=(query_tokenizer&& o) noexcept;
  ~query_tokenizer();

  /// The tokens FTS5 makes of `text` in a MATCH query (colocated synonyms left out).
  std::vector<std::string> tokenize(std::string_view text) const;

private:
  fts5_tokenizer api_{};
  Fts5Tokenizer* tok_ = nullptr;
};

/// Scratch space for one search (kept by a pooled connection, reused).
struct rank_scratch {
  std::vector<double> score;       ///< per dense row, 0 when untouched
  std::vector<std::uint32_t> touched;
};

class postings_index {
public:
  /// Reads every (term, row, column) instance of `table` through fts5vocab. `stats` must be loaded.
  static result<postings_index> load(sqlite3* db, const char* table, const rank_stats& stats);

  struct scored {
    sqlite3_int64 rowid;
    double score;
  };

  /// BM25 top `limit` for the phrases (one token each, in query order), each multiplied by the weight of
  /// its row's kind; rows of a kind with weight <= 0 are left out. Best first, ties by rowid.
  std::vector<scored> top(const std::vector<std::string>& tokens, const double (&kind_weight)[3], std::size_t limit,
                          rank_scratch& scratch) const;

  std::size_t rows() const noexcept { return rowids_.size(); }
  /// Rows holding `token` (0 when the index never has it).
  std::size_t document_frequency(const std::string& token) const;
  /// BM25's IDF of a term in `df` rows, as top() weighs it: log((N - df + 0.5) / (df + 0.5)).
  double idf(std::size_t df) const noexcept;
  /// Whether the row with `rowid` holds `token` (in any column); false for a rowid the index lacks.
  bool contains(const std::string& token, sqlite3_int64 rowid) const;
  /// Whether the index has a row with `rowid`.
  bool has_row(sqlite3_int64 rowid) const;
  std::size_t pairs() const noexcept { return docs_.size(); }

private:
  struct term_range {
    std::uint32_t begin = 0, end = 0;
  };
  std::vector<sqlite3_int64> rowids_;             ///< dense row -> rowid (ascending)
  std::vector<double> norm_;                      ///< dense row -> k1 * (1 - b + b * len / avg)
  std::unordered_map<std::string, term_range> terms_;
  std::vector<std::uint32_t> docs_;               ///< dense rows, per term ascending
  std::vector<double> freqs_;                     ///< weighted term frequency in that row
  double rows_total_ = 0;                         ///< N of the IDF (rank_stats::rows)
};

} // namespace sa::knowledge::detail
