// BM25 retriever actor: a thin shell over the tenant's knowledge_index (shared, read-only). Intent
// routing picks the sources and their weights (config retriever.routes). The hybrid (vector) retriever
// of the knowledge issue implements the same retriever_actor interface.
#include "actors/retriever/retriever_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

#include <algorithm>

namespace sa {

namespace {

source_kind to_message_kind(knowledge::source_kind k) {
  switch (k) {
    case knowledge::source_kind::doc: return source_kind::doc;
    case knowledge::source_kind::faq: return source_kind::faq;
    case knowledge::source_kind::ticket: return source_kind::ticket;
  }
  return source_kind::doc;
}

} // namespace

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
      auto* index = deps->catalog->find(r.tenant.value);
      if (index == nullptr) {
        out.knowledge_available = false;
        return out;
      }
      for (auto& hit : index->search(r.query, route_search(*deps, r.intent, r.limit))) {
        passage p;
        p.source_id = hit.passage.id;
        p.kind = to_message_kind(hit.passage.kind);
        p.title = hit.passage.title;
        p.section = hit.passage.section;
        // A past ticket is cited by its id, not by the file it was ingested from.
        p.url = hit.passage.kind == knowledge::source_kind::ticket ? hit.passage.id : hit.passage.url;
        p.text = hit.passage.text;
        p.score = hit.score;
        out.passages.push_back(std::move(p));
      }
      return out;
    },
  };
}

} // namespace sa
