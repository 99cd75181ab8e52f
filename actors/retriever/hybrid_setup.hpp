// hybrid_setup: how a node turns retriever.embedding / retriever.hybrid into hybrid retrieval - the shared
// deps of the hybrid retrievers (with the node's embedding http client and the vector catalog) and the
// embedding indexer that fills that catalog. Called by the composition root (actors/node/node.cpp) only.
#pragma once

#include "actors/providers/provider_actor.hpp"
#include "actors/retriever/hybrid_retriever.hpp"
#include "config/config.hpp"
#include "runtime/result.hpp"

#include "caf/fwd.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class blocking_lane;

class metrics;

struct hybrid_setup {
  std::shared_ptr<const hybrid_retriever_deps> deps;
  std::shared_ptr<vector_catalog_slot> vectors; ///< written by the indexer, read through deps->vectors
};

/// The hybrid retrieval of a node whose retriever.embedding.provider is set: an http client of its own
/// (thread "sa-embed"), the embedding settings resolved against `endpoints` (API keys already read), an empty
/// vector catalog, and the counters registered with `m` (optional; the retrievers also count the question
/// embeddings' tokens and cost there). Fails naming the config key.
result<hybrid_setup> make_hybrid_setup(const config::config& cfg,
                                       const std::map<std::string, providers::endpoint_settings>& endpoints,
                                       std::shared_ptr<const retriever_deps> bm25, std::shared_ptr<metrics> m);

/// Spawns the embedding indexer for `tenants` (caches under <node.state_dir>/embeddings/), working on `lane`
/// (null: a lane of its own).
caf::actor start_embedding_indexer(caf::actor_system& sys, const config::config& cfg, const hybrid_setup& setup,
                                   std::vector<std::string> tenants, std::shared_ptr<blocking_lane> lane = nullptr);

} // namespace sa
