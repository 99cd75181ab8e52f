// hybrid_setup: config -> hybrid retrieval (see hybrid_setup.hpp).
#include "actors/retriever/hybrid_setup.hpp"

#include "actors/retriever/embedding_indexer.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

namespace sa {

result<hybrid_setup> make_hybrid_setup(const config::config& cfg,
                                       const std::map<std::string, providers::endpoint_settings>& endpoints,
                                       std::shared_ptr<const retriever_deps> bm25, std::shared_ptr<metrics> m) {
  auto embedding = embedding_settings_from(cfg, endpoints);
  if (!embedding)
    return failure{embedding.error()};
  auto deps = std::make_shared<hybrid_retriever_deps>();
  deps->base = std::move(bm25);
  hybrid_setup out;
  out.vectors = std::make_shared<vector_catalog_slot>();
  deps->vectors = out.vectors;
  http_client_options hopts;
  hopts.thread_name = "sa-embed";
  hopts.max_host_connections = cfg.providers.max_host_connections;
  deps->http = std::make_shared<http_client>(hopts);
  deps->embedding = std::move(*embedding);
  deps->rrf_k = cfg.retriever.hybrid.rrf_k;
  deps->candidates = static_cast<std::size_t>(cfg.retriever.hybrid.candidates);
  deps->stats = std::make_shared<hybrid_stats>();
  if (m != nullptr && !m->add_sampled(hybrid_metrics(deps->stats, deps->embedding.input_per_mtok)))
    log::get("node")->error("event=metrics_not_registered what=sa_retrieval_*,sa_embedding_*");
  deps->metrics = std::move(m);
  out.deps = std::move(deps);
  return out;
}

caf::actor start_embedding_indexer(caf::actor_system& sys, const config::config& cfg, const hybrid_setup& setup,
                                   std::vector<std::string> tenants, std::shared_ptr<blocking_lane> lane) {
  embedding_indexer_settings s;
  s.tenants = std::move(tenants);
  s.catalog = setup.deps->base->catalog;
  s.vectors = setup.vectors;
  s.http = setup.deps->http;
  s.embedding = setup.deps->embedding;
  s.state_dir = cfg.node.state_dir;
  s.index.ef_search = static_cast<std::size_t>(cfg.retriever.hybrid.ef_search);
  s.stats = setup.deps->stats;
  s.lane = std::move(lane);
  return spawn_embedding_indexer(sys, std::move(s));
}

} // namespace sa
