// hybrid_stats: the node's hybrid-retrieval counters, updated lock-free by the hybrid retrievers and the
// embedding indexer, and exported at /metrics as sampled figures (runtime/metrics.hpp, add_sampled).
#pragma once

#include "runtime/metrics.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace sa {

struct hybrid_stats {
  std::atomic<uint64_t> fused{0};              ///< retrievals answered from BM25 and vectors fused
  std::atomic<uint64_t> fallback_timeout{0};   ///< BM25 alone: the question's embedding timed out
  std::atomic<uint64_t> fallback_error{0};     ///< BM25 alone: the embedding call failed (status, transport, answer)
  std::atomic<uint64_t> fallback_not_ready{0}; ///< BM25 alone: the tenant's vectors are not built (yet)
  std::atomic<uint64_t> index_requests{0};     ///< embedding requests sent while indexing
  std::atomic<uint64_t> index_failures{0};     ///< ... that failed
  std::atomic<uint64_t> texts_embedded{0};     ///< chunk texts embedded by the API while indexing
  std::atomic<uint64_t> texts_cached{0};       ///< chunk vectors found in the embedding caches while indexing
  std::atomic<uint64_t> index_tokens{0};       ///< input tokens billed for embedding chunks (reported, else 4 bytes a token)
  std::atomic<int64_t> last_warning_ms{0};     ///< steady-clock ms of the last degraded-retrieval warning (log rate limit)
};

/// The counters as figures for metrics::add_sampled (names sa_retrieval_* and sa_embedding_*).
/// `input_per_mtok`: the embedding model's price, for what indexing the knowledge cost. Indexing is a cost of
/// the knowledge base, not of conversations: it is not in sa_component_* nor in cost per conversation.
inline std::vector<sampled_metric> hybrid_metrics(const std::shared_ptr<hybrid_stats>& s, double input_per_mtok) {
  auto read = [s](std::atomic<uint64_t> hybrid_stats::*field) {
    return [s, field] { return static_cast<double>((*s.*field).load(std::memory_order_relaxed)); };
  };
  return {
    {"sa_retrieval_hybrid_total", "Retrievals answered from BM25 and vector results fused", true,
     read(&hybrid_stats::fused)},
    {"sa_retrieval_bm25_fallback_timeout_total",
     "Hybrid retrievals answered from BM25 alone because embedding the question timed out", true,
     read(&hybrid_stats::fallback_timeout)},
    {"sa_retrieval_bm25_fallback_error_total",
     "Hybrid retrievals answered from BM25 alone because embedding the question failed", true,
     read(&hybrid_stats::fallback_error)},
    {"sa_retrieval_bm25_fallback_not_ready_total",
     "Hybrid retrievals answered from BM25 alone because the tenant's vectors were not built yet", true,
     read(&hybrid_stats::fallback_not_ready)},
    {"sa_embedding_index_requests_total", "Embedding requests sent to index knowledge chunks", true,
     read(&hybrid_stats::index_requests)},
    {"sa_embedding_index_failures_total", "Embedding requests for knowledge chunks that failed", true,
     read(&hybrid_stats::index_failures)},
    {"sa_embedding_texts_embedded_total", "Knowledge chunk texts embedded through the API", true,
     read(&hybrid_stats::texts_embedded)},
    {"sa_embedding_texts_cached_total", "Knowledge chunk vectors reused from the embedding caches", true,
     read(&hybrid_stats::texts_cached)},
    {"sa_embedding_index_tokens_total",
     "Input tokens billed for embedding knowledge chunks (as the API reports them, else 4 characters a token)", true,
     read(&hybrid_stats::index_tokens)},
    {"sa_embedding_index_cost_usd_total",
     "What embedding knowledge chunks cost in US dollars at the embedding model's configured price", true,
     [s, input_per_mtok] {
       return static_cast<double>(s->index_tokens.load(std::memory_order_relaxed)) * input_per_mtok / 1e6;
     }},
  };
}

} // namespace sa
