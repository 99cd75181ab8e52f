// hybrid retriever actor: BM25 at once, the question's embedding through the http client, then HNSW search and
// reciprocal rank fusion (see hybrid_retriever.hpp). It owns only its pending questions; the indexes are
// shared read-only. To add a third result list: search it in fuse() and extend rank_fusion.
#include "actors/retriever/hybrid_retriever.hpp"

#include "actors/retriever/rank_fusion.hpp"
#include "actors/retriever/retrieved_passage.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <unordered_map>

namespace sa {

namespace {

using steady = std::chrono::steady_clock;

/// Bytes kept of a question's embedding answer (one vector: a few tens of KB).
constexpr std::size_t max_query_body = 4u << 20;

/// At most one degraded-retrieval warning per this many ms, node-wide (every one is counted).
constexpr int64_t warning_interval_ms = 5000;

enum class fallback { timeout, error, not_ready };

const char* to_string(fallback f) {
  switch (f) {
    case fallback::timeout: return "embedding_timeout";
    case fallback::error: return "embedding_failed";
    case fallback::not_ready: return "vectors_not_ready";
  }
  return "?";
}

struct pending_query {
  caf::typed_response_promise<retrieval> promise;
  std::string tenant;
  unsigned limit = 5;
  std::vector<knowledge::source_weight> sources;          ///< the route's
  std::vector<knowledge::search_hit> bm25;                ///< weighted, best first, `candidates` long
  std::shared_ptr<const knowledge::vector_index> vectors; ///< the tenant's, matching its BM25 index
  std::shared_ptr<const knowledge_catalog> catalog;       ///< the request's snapshot: keeps `index` alive
  const knowledge::knowledge_index* index = nullptr;      ///< the tenant's BM25 index (measures coverage)
  std::string question;
  steady::time_point started = steady::now();
  std::size_t query_bytes = 0;                            ///< of the question (the token estimate's base)
  uint32_t embedding_tokens = 0;                          ///< once answered: what the embedding took
  double embedding_usd = 0;
};

struct hybrid_state {
  std::shared_ptr<const hybrid_retriever_deps> deps;
  std::unordered_map<uint64_t, pending_query> pending;    ///< by http request id
  std::shared_ptr<spdlog::logger> log = log::get("retriever");

  hybrid_state() = default;
  hybrid_state(const hybrid_state&) = delete;
  hybrid_state& operator=(const hybrid_state&) = delete;
  ~hybrid_state() {
    if (deps && deps->http)
      for (const auto& [id, q] : pending)
        deps->http->cancel(id); // the session is gone: free the requests
  }

  static inline const char* name = "hybrid_retriever";
};

using self_ptr = hybrid_retriever_actor::stateful_pointer<hybrid_state>;

/// The BM25 answer, exactly as the BM25 retriever gives it.
retrieval bm25_only(const pending_query& q) {
  retrieval out;
  out.embedding_tokens = q.embedding_tokens;
  out.cost_usd = q.embedding_usd;
  std::vector<const knowledge::chunk*> chunks;
  for (std::size_t i = 0; i < q.bm25.size() && i < q.limit; ++i) {
    out.passages.push_back(to_passage(q.bm25[i].passage, q.bm25[i].score));
    chunks.push_back(&q.bm25[i].passage);
  }
  measure_coverage(*q.index, q.question, chunks, out);
  return out;
}

bool may_warn(hybrid_stats* stats) {
  static std::atomic<int64_t> fallback_clock{0};
  auto& last = stats ? stats->last_warning_ms : fallback_clock;
  const int64_t now =
    std::chrono::duration_cast<std::chrono::milliseconds>(steady::now().time_since_epoch()).count();
  int64_t seen = last.load(std::memory_order_relaxed);
  if (seen != 0 && now - seen < warning_interval_ms)
    return false;
  return last.compare_exchange_strong(seen, now, std::memory_order_relaxed);
}

/// Answers `q` from BM25 alone, flagged degraded; counts and (rate-limited) logs why.
void degrade(self_ptr self, pending_query& q, fallback why, const std::string& detail) {
  auto& st = self->state;
  auto* stats = st.deps->stats.get();
  if (stats) {
    switch (why) {
      case fallback::timeout: ++stats->fallback_timeout; break;
      case fallback::error: ++stats->fallback_error; break;
      case fallback::not_ready: ++stats->fallback_not_ready; break;
    }
  }
  const auto ms = std::chrono::duration<double, std::milli>(steady::now() - q.started).count();
  if (why == fallback::not_ready)
    st.log->debug("event=retrieval_degraded tenant={} reason={} (answered from BM25 alone)", q.tenant, to_string(why));
  else if (may_warn(stats))
    st.log->warn("event=retrieval_degraded tenant={} reason={} detail=\"{}\" waited_ms={:.0f} provider={} "
                 "(answered from BM25 alone; further ones within {} s are only counted)",
                 q.tenant, to_string(why), detail, ms, st.deps->embedding.endpoint.name, warning_interval_ms / 1000);
  auto out = bm25_only(q);
  out.degraded = true;
  q.promise.deliver(std::move(out));
}

/// Searches the vectors with the question's vector and answers with the fused lists.
void fuse(self_ptr self, pending_query& q, const std::vector<float>& query) {
  auto& deps = *self->state.deps;
  auto near = q.vectors->search(query, deps.candidates, q.sources);
  knowledge::fusion_options fo;
  fo.k = deps.rrf_k;
  fo.sources = q.sources;
  fo.limit = q.limit;
  retrieval out;
  out.hybrid = true;
  out.embedding_tokens = q.embedding_tokens;
  out.cost_usd = q.embedding_usd;
  auto fused = knowledge::reciprocal_rank_fusion(q.bm25, near, fo);
  std::vector<const knowledge::chunk*> chunks;
  for (auto& h : fused) {
    out.passages.push_back(to_passage(h.passage, h.bm25));
    chunks.push_back(&h.passage);
  }
  measure_coverage(*q.index, q.question, chunks, out);
  if (deps.stats)
    ++deps.stats->fused;
  q.promise.deliver(std::move(out));
}

/// Counts the question's embedding (billed once answered, whatever the vector turns out to be): the tokens
/// the API reports, else 4 characters a token, at the embedding model's input price.
void count_embedding(self_ptr self, pending_query& q, uint64_t reported) {
  const auto& deps = *self->state.deps;
  const uint64_t tokens = reported > 0 ? reported : (static_cast<uint64_t>(q.query_bytes) + 3) / 4;
  q.embedding_tokens = static_cast<uint32_t>(std::min<uint64_t>(tokens, UINT32_MAX));
  q.embedding_usd = static_cast<double>(tokens) * deps.embedding.input_per_mtok / 1e6;
  if (deps.metrics)
    deps.metrics->component_cost(q.tenant, "retrieval_embeddings", deps.embedding.endpoint.model, tokens, 0,
                                 q.embedding_usd);
}

void on_embedding(self_ptr self, embedding_reply& r) {
  auto& st = self->state;
  auto it = st.pending.find(r.request_id);
  if (it == st.pending.end())
    return; // answered already (timed out)
  auto q = std::move(it->second);
  st.pending.erase(it);
  if (r.failed) {
    bool timed_out = r.error == http_error_kind::timeout_connect || r.error == http_error_kind::timeout_first_byte
                     || r.error == http_error_kind::timeout_idle || r.error == http_error_kind::timeout_total;
    degrade(self, q, timed_out ? fallback::timeout : fallback::error, to_string(r.error) + ": " + r.message);
    return;
  }
  if (r.status < 200 || r.status >= 300) {
    degrade(self, q, fallback::error, knowledge::embedding_error_message(r.status, r.body));
    return;
  }
  if (r.truncated) {
    degrade(self, q, fallback::error, "the answer is larger than " + std::to_string(r.body.size()) + " bytes");
    return;
  }
  uint64_t reported = 0;
  auto vectors = knowledge::parse_embedding_response(st.deps->embedding.endpoint.wire, r.body, 1, &reported);
  count_embedding(self, q, reported);
  if (!vectors) {
    degrade(self, q, fallback::error, vectors.error());
    return;
  }
  const auto& v = vectors->front();
  if (v.size() != q.vectors->dimensions()) {
    degrade(self, q, fallback::error,
            "the question's vector has " + std::to_string(v.size()) + " dimensions, the index " +
              std::to_string(q.vectors->dimensions()) + " (embedding model changed?)");
    return;
  }
  fuse(self, q, v);
}

hybrid_retriever_actor::behavior_type hybrid_retriever(self_ptr self, std::shared_ptr<const hybrid_retriever_deps> deps) {
  log_exceptions(self, "retriever");
  self->state.deps = deps;
  return {
    [self, deps](const retrieve_request& r) -> caf::result<retrieval> {
      auto catalog = deps->base->catalog->load(); // this request's snapshot: a reload cannot free it underneath
      auto* index = catalog->find(r.tenant.value);
      if (index == nullptr) {
        retrieval out;
        out.knowledge_available = false;
        return out;
      }
      pending_query q;
      q.tenant = r.tenant.value;
      q.limit = r.limit;
      q.catalog = catalog;
      q.index = index;
      q.question = r.query;
      q.query_bytes = knowledge::clip_embedding_input(r.query).size();
      auto opts = route_search(*deps->base, r.intent, static_cast<unsigned>(std::max<std::size_t>(deps->candidates, r.limit)));
      q.sources = opts.sources;
      q.bm25 = index->search(r.query, opts);
      q.vectors = vectors_for(*deps->vectors->load(), r.tenant.value, index);
      if (!q.vectors) {
        q.promise = self->make_response_promise<retrieval>();
        auto promise = q.promise;
        degrade(self, q, fallback::not_ready, {});
        return promise;
      }
      auto id = submit_embedding(*deps->http, deps->embedding, {r.query}, knowledge::embedding_purpose::query,
                                 deps->embedding.query_timeout, self->address(), max_query_body);
      q.promise = self->make_response_promise<retrieval>();
      auto promise = q.promise;
      self->state.pending.emplace(id, std::move(q));
      self->delayed_send(self, deps->embedding.query_timeout, hybrid_query_timeout{id});
      return promise;
    },
    [self](embedding_reply& r) { on_embedding(self, r); },
    [self](const hybrid_query_timeout& t) {
      auto& st = self->state;
      auto it = st.pending.find(t.request_id);
      if (it == st.pending.end())
        return; // answered in time
      auto q = std::move(it->second);
      st.pending.erase(it);
      st.deps->http->cancel(t.request_id);
      degrade(self, q, fallback::timeout,
              "no answer within " + std::to_string(st.deps->embedding.query_timeout.count()) + " ms");
    },
  };
}

} // namespace

retriever_actor spawn_hybrid_retriever(caf::local_actor* parent, std::shared_ptr<const hybrid_retriever_deps> deps) {
  return parent->spawn<caf::linked>(hybrid_retriever, std::move(deps));
}

retriever_actor spawn_hybrid_retriever(caf::actor_system& sys, std::shared_ptr<const hybrid_retriever_deps> deps) {
  return sys.spawn(hybrid_retriever, std::move(deps));
}

} // namespace sa
