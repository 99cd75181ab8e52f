// sa_bm25(): FTS5's BM25 (same formula and constants as the built-in bm25(), positive: higher is better)
// with the per-row token counts held in memory. The built-in bm25() reads each matching row's size from
// the %_docsize table, which costs more than the rest of the query together; this keeps searches over a
// thousand chunks in the low hundreds of microseconds. Internal to the knowledge index.
#pragma once

#include "runtime/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <vector>

namespace sa::knowledge::detail {

/// Rowids are (kind << 40) | sequence; see knowledge_index.cpp.
inline constexpr int kind_shift = 40;

struct rank_stats {
  std::vector<std::uint32_t> doc_tokens[3]; ///< tokens in all columns, by kind, indexed by sequence
  double avg_tokens = 0;                    ///< over all rows
  std::int64_t rows = 0;

  std::uint32_t tokens(std::int64_t rowid) const noexcept {
    auto kind = static_cast<std::size_t>(rowid >> kind_shift);
    auto seq = static_cast<std::size_t>(rowid & ((std::int64_t{1} << kind_shift) - 1));
    return kind < 3 && seq < doc_tokens[kind].size() ? doc_tokens[kind][seq] : 0;
  }
};

/// Reads every row's token count from the `<table>_docsize` shadow table.
status load_rank_stats(sqlite3* db, const char* table, rank_stats& out);

/// Registers sa_bm25(<table>, weight of column 0, weight of column 1, ...) on `db`; `stats` must outlive it.
status register_bm25(sqlite3* db, const rank_stats* stats);

} // namespace sa::knowledge::detail
