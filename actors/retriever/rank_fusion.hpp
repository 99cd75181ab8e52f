// rank_fusion: reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009) of the BM25 and the vector
// result lists, with the per-intent source weights applied in the fusion.
//
// A chunk's fused score is weight(kind) x sum over the lists that hold it of 1 / (k + rank), ranks from 1.
// Only ranks count, so BM25 scores and cosine similarities never need a common scale. Chunks are matched
// across lists by id. Plain function, no state.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/vector_index.hpp"

#include <cstddef>
#include <vector>

namespace sa::knowledge {

struct fused_hit {
  chunk passage;
  double fused = 0;          ///< the RRF score, source weight applied; higher is better
  double bm25 = 0;           ///< its BM25 score in the BM25 list (0 when only the vector search found it)
  double similarity = 0;     ///< its cosine similarity (0 when only BM25 found it)
  std::size_t bm25_rank = 0; ///< 1-based rank in the BM25 list, 0 = absent
  std::size_t vector_rank = 0; ///< 1-based rank in the vector list, 0 = absent
};

struct fusion_options {
  double k = 60;                         ///< RRF constant: larger flattens the difference between ranks
  std::vector<source_weight> sources;    ///< as search_options::sources: unlisted kinds weigh 1, <= 0 drops
  std::size_t limit = 5;
};

/// Fuses the two lists (each best first), best first, at most `limit` hits. Ties go to the better best
/// rank, then to the higher BM25 score, then to the smaller id, so the order is deterministic.
std::vector<fused_hit> reciprocal_rank_fusion(const std::vector<search_hit>& bm25, const std::vector<vector_hit>& vectors,
                                              const fusion_options& opts);

} // namespace sa::knowledge
