// BM25 retriever actor: a thin shell over the tenant's knowledge_index (shared, read-only). Intent
// routing picks the sources and their weights (config retriever.routes). The hybrid retriever
// (hybrid_retriever.hpp) implements the same retriever_actor interface.
#include "actors/retriever/retriever_actor.hpp"

#include "actors/retriever/retrieved_passage.hpp"
#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

#include <algorithm>

namespace sa {

knowledge::search_options route_search(const retriever_deps& deps, intent in, unsigned limit) {
  knowledge::search_options opts;
  opts.limit = limit;
  if (auto r = deps.routes.find(to_string(in)); r != deps.routes.end()) {
    for (auto& [name, weight] : r->second.source_weights) {
      knowledge::source_kind k;
      if (knowledge::from_string(name, k))
        opts.sources.push_back({k, weight});
    }
  }
  return opts;
}

retriever_actor::behavior_type bm25_retriever(retriever_actor::pointer self,
                                              std::shared_ptr<const retriever_deps> deps) {
  log_exceptions(self, "retriever");
  return {
    [deps](const retrieve_request& r) -> retrieval {
      retrieval out;
      auto catalog = deps->catalog->load(); // this request's snapshot: a reload cannot free it underneath
      auto* index = catalog->find(r.tenant.value);
      if (index == nullptr) {
        out.knowledge_available = false;
        return out;
      }
      auto hits = index->search(r.query, route_search(*deps, r.intent, r.limit));
      std::vector<const knowledge::chunk*> chunks;
      for (auto& hit : hits) {
        out.passages.push_back(to_passage(hit.passage, hit.score)); // tickets carry their resolution
        chunks.push_back(&hit.passage);
      }
      measure_coverage(*index, r.query, chunks, out);
      return out;
    },
  };
}

} // namespace sa
