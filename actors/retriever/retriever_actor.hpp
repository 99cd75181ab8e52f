// retriever actor (one per session): BM25 search of the tenant's knowledge, routed by intent.
#pragma once

#include "actors/retriever/knowledge_catalog.hpp"
#include "config/config.hpp"
#include "messages/retrieve.hpp"

#include <map>
#include <memory>

namespace sa {

/// Immutable, shared by every session's retriever.
struct retriever_deps {
  /// The node's current catalog, replaced when a tenant is re-ingested (knowledge_watcher.hpp).
  std::shared_ptr<const knowledge_catalog_slot> catalog;
  std::map<std::string, config::route_config> routes;  ///< intent name -> sources and weights
};

/// The search options for an intent (sources and weights from its route; all sources when unrouted).
knowledge::search_options route_search(const retriever_deps& deps, intent in, unsigned limit);

retriever_actor::behavior_type bm25_retriever(retriever_actor::pointer self,
                                              std::shared_ptr<const retriever_deps> deps);

} // namespace sa
