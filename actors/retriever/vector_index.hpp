// vector_index: approximate nearest-neighbour search over one knowledge base's chunk vectors (hnswlib HNSW,
// inner product over L2-normalised vectors = cosine similarity).
//
// Plain class, no actors: built once from (chunk, vector) pairs by the embedding indexer, then shared
// read-only (shared_ptr<const>) by every session's retriever, like the BM25 index; search() is const and
// safe to call from many threads at once. It keeps its own copy of each chunk (what a citation needs), so
// it does not depend on how the BM25 index was built. One HNSW graph per source kind, so a search that
// routes sources (weights from retriever.routes) never spends its candidates on an excluded kind.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "runtime/result.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace sa::knowledge {

struct vector_hit {
  const chunk* passage = nullptr;  ///< owned by the index: valid while the index is alive
  double similarity = 0;           ///< cosine similarity, -1..1, higher is better
};

struct vector_index_options {
  std::size_t m = 16;                ///< HNSW graph degree
  std::size_t ef_construction = 200; ///< build-time breadth (quality of the graph)
  std::size_t ef_search = 64;        ///< search-time breadth (recall against latency); at least k is used
  unsigned seed = 100;               ///< level generator: same input, same graph
};

class vector_index {
public:
  /// Builds the index from chunks and their vectors (same length, every vector of the same non-zero
  /// dimension; vectors are normalised here). Fails naming the first problem. An empty input gives an
  /// empty index (every search returns nothing).
  static result<std::shared_ptr<const vector_index>> build(std::vector<chunk> chunks,
                                                           const std::vector<std::vector<float>>& vectors,
                                                           const vector_index_options& opts = {});

  ~vector_index();
  vector_index(const vector_index&) = delete;
  vector_index& operator=(const vector_index&) = delete;

  /// The `k` chunks nearest to `query` (any length: a query of another dimension finds nothing), best
  /// first, over the sources `sources` allows (same rules as search_options::sources: a listed kind with
  /// weight <= 0 is not searched; the weights themselves do not reorder the hits).
  std::vector<vector_hit> search(const std::vector<float>& query, std::size_t k,
                                 const std::vector<source_weight>& sources = {}) const;

  std::size_t size() const noexcept;
  std::size_t dimensions() const noexcept;

  struct impl;
private:
  explicit vector_index(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace sa::knowledge
