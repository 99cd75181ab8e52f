// embedding_indexer: builds each tenant's vector index in the background and publishes it for the hybrid
// retrievers (vector_catalog.hpp).
//
// Every check_interval it compares the knowledge catalog (the BM25 indexes, replaced on a re-ingest) with
// the vector catalog. A BM25 index without vectors becomes a job (embedding_job.hpp) for every tenant it
// serves: chunks are looked up in the tenants' embedding caches (<state_dir>/embeddings/<tenant>/), the
// rest is embedded through the http client in batches (at most max_in_flight at once, each answered as a
// message: the indexer never waits on a socket), stored in the caches as they arrive, and the HNSW index
// is built and published. Progress is logged; a failed batch is retried with backoff, and a job that keeps
// failing is dropped and tried again later - meanwhile the tenant is answered from BM25 alone.
//
// Its work runs on a blocking_lane (a thread of its own): reading caches and building the graph never occupy
// a scheduler thread.
#pragma once

#include "actors/retriever/embedding_client.hpp"
#include "actors/retriever/hybrid_stats.hpp"
#include "actors/retriever/knowledge_catalog.hpp"
#include "actors/retriever/vector_catalog.hpp"
#include "actors/retriever/vector_index.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class blocking_lane;
class http_client;

struct embedding_indexer_settings {
  std::vector<std::string> tenants;                          ///< the tenants whose knowledge gets vectors
  std::shared_ptr<const knowledge_catalog_slot> catalog;     ///< read: the BM25 indexes
  std::shared_ptr<vector_catalog_slot> vectors;              ///< written: the vector indexes (only writer)
  std::shared_ptr<http_client> http;
  embedding_settings embedding;
  /// Caches live under <state_dir>/embeddings/<tenant>/; empty = no caches (every load embeds everything).
  std::string state_dir;
  knowledge::vector_index_options index;
  std::chrono::milliseconds check_interval{1000};
  std::size_t max_in_flight = 2;                             ///< batches requested at once
  uint32_t max_failures = 5;                                 ///< consecutive failed batches before a job is dropped
  std::chrono::milliseconds retry_initial{500};              ///< a failed batch waits this long, doubling ...
  std::chrono::milliseconds retry_max{30000};                ///< ... up to this
  std::chrono::milliseconds job_retry_initial{5000};         ///< a dropped job is tried again after this, doubling ...
  std::chrono::milliseconds job_retry_max{300000};           ///< ... up to this
  std::shared_ptr<hybrid_stats> stats;                       ///< optional
  /// Where the work runs; null: a lane of the indexer's own. The node passes one it also holds, so a build
  /// still running at shutdown is waited for on the main thread.
  std::shared_ptr<blocking_lane> lane;
};

/// Spawns the indexer; it starts checking at once. Stop it with an exit message: requests in
/// flight are cancelled.
caf::actor spawn_embedding_indexer(caf::actor_system& sys, embedding_indexer_settings settings);

} // namespace sa
