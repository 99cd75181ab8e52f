// vector_catalog: which vector index serves which tenant, next to the BM25 knowledge catalog.
//
// Published by the node's embedding indexer (its only writer) through a vector_catalog_slot and read by
// every hybrid retrieval, like knowledge_catalog_slot. An entry remembers the BM25 index it was built for
// (weakly): after a re-ingest the tenant's new BM25 index does not match until the indexer has embedded
// it, and the retriever answers from BM25 alone meanwhile, so passages from the two never disagree.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/vector_index.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <string>

namespace sa {

struct tenant_vectors {
  std::shared_ptr<const knowledge::vector_index> index;
  std::weak_ptr<const knowledge::knowledge_index> built_for; ///< the BM25 index whose chunks it holds
  std::string model;                                         ///< the embedding model of its vectors
};

using vector_catalog = std::map<std::string, tenant_vectors>;  ///< by tenant

/// The vector index of `tenant` when it was built for `bm25` (the tenant's current BM25 index), else null.
inline std::shared_ptr<const knowledge::vector_index> vectors_for(const vector_catalog& catalog,
                                                                  const std::string& tenant,
                                                                  const knowledge::knowledge_index* bm25) {
  auto it = catalog.find(tenant);
  if (it == catalog.end() || bm25 == nullptr)
    return nullptr;
  auto built_for = it->second.built_for.lock();
  return built_for.get() == bm25 ? it->second.index : nullptr;
}

class vector_catalog_slot {
public:
  vector_catalog_slot() : current_(std::make_shared<const vector_catalog>()) {}

  std::shared_ptr<const vector_catalog> load() const { return std::atomic_load(&current_); }
  void store(std::shared_ptr<const vector_catalog> next) { std::atomic_store(&current_, std::move(next)); }

private:
  std::shared_ptr<const vector_catalog> current_;
};

} // namespace sa
