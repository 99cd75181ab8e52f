// hybrid retriever actor (one per session, when retriever.embedding.provider is set): BM25 and vector search
// fused by reciprocal rank, speaking the same retriever_actor interface as the BM25 retriever.
//
// Per request: the BM25 search runs at once (route weights, retriever.hybrid.candidates hits) while the
// question is embedded through the node's http client - asynchronously, the answer arriving as a message,
// so no scheduler thread waits. With the vector the tenant's HNSW index is searched (the route's sources
// only) and both lists are fused (rank_fusion.hpp, the route's weights applied). When the embedding fails
// or misses retriever.embedding.timeout_ms, or the tenant's vectors are not built yet, the answer is the
// BM25 result exactly as the BM25 retriever gives it, flagged `degraded`, counted and logged: a turn never
// fails because of the vector side. Every embedding answered counts its input tokens (the API's usage, else
// 4 characters a token) and their cost as component retrieval_embeddings (sa_component_*), and returns
// them in the retrieval for the conversation's cost.
#pragma once

#include "actors/retriever/embedding_client.hpp"
#include "actors/retriever/hybrid_stats.hpp"
#include "actors/retriever/retriever_actor.hpp"
#include "actors/retriever/vector_catalog.hpp"

#include "caf/fwd.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sa {

class http_client;
class metrics;

/// Immutable, shared by every session's hybrid retriever.
struct hybrid_retriever_deps {
  std::shared_ptr<const retriever_deps> base;            ///< the BM25 catalog and the routes
  std::shared_ptr<const vector_catalog_slot> vectors;    ///< published by the embedding indexer
  std::shared_ptr<http_client> http;                     ///< the node's embedding http client
  embedding_settings embedding;
  double rrf_k = 60;
  std::size_t candidates = 20;                           ///< per list, before fusing
  std::shared_ptr<hybrid_stats> stats;                   ///< optional
  std::shared_ptr<sa::metrics> metrics;                  ///< optional: question embeddings' tokens and cost
};

/// Internal: the question's embedding is overdue (private to the actor, never crosses nodes).
struct hybrid_query_timeout {
  uint64_t request_id = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hybrid_query_timeout& x) {
  return f(caf::meta::type_name("hybrid_query_timeout"), x.request_id);
}

using hybrid_retriever_actor =
  retriever_actor::extend<caf::reacts_to<embedding_reply>, caf::reacts_to<hybrid_query_timeout>>;

/// Spawns it linked to `parent` (the session), as session_children factories must, narrowed to retriever_actor.
retriever_actor spawn_hybrid_retriever(caf::local_actor* parent, std::shared_ptr<const hybrid_retriever_deps> deps);

/// Spawns a free-standing one (tests, benches).
retriever_actor spawn_hybrid_retriever(caf::actor_system& sys, std::shared_ptr<const hybrid_retriever_deps> deps);

} // namespace sa
