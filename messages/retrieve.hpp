// retrieve: knowledge passages for a question, from the tenant's docs, FAQs and past tickets.
#pragma once

#include "messages/classify.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

enum class source_kind : uint8_t { doc = 0, faq, ticket };
const char* to_string(source_kind x) noexcept;

struct passage {
  std::string source_id;   ///< stable chunk id, e.g. "commercial/subscriptions.md#2"
  sa::source_kind kind = sa::source_kind::doc;
  std::string title;
  std::string section;
  std::string url;
  std::string text;
  double score = 0;        ///< BM25 x source weight; higher is better (hybrid: the passage's own BM25 score,
                           ///< 0 when only the vector search found it; the order is the fusion's)
  /// How much of the question this passage covers: the IDF-weighted share of the question's search terms its
  /// title, section or text holds (knowledge_index::coverage), 0..1; -1 when not measured.
  double question_coverage = -1;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, passage& x) {
  return f(caf::meta::type_name("passage"), x.source_id, x.kind, x.title, x.section, x.url, x.text,
           x.score, x.question_coverage);
}

struct retrieve_request {
  tenant_id tenant;
  std::string query;
  sa::intent intent = sa::intent::general;  ///< routes the search (sources and their weights)
  unsigned limit = 5;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retrieve_request& x) {
  return f(caf::meta::type_name("retrieve_request"), x.tenant, x.query, x.intent, x.limit);
}

struct retrieval {
  std::vector<passage> passages;   ///< best first
  bool knowledge_available = true; ///< false: the tenant has no usable knowledge base
  bool hybrid = false;             ///< true: BM25 and vector results fused (passages ordered by the fusion)
  bool degraded = false;           ///< true: hybrid retrieval is configured but this is BM25 alone (embedding
                                   ///< failed or timed out, or the tenant's vectors are not built yet)
  uint32_t embedding_tokens = 0;   ///< the question's embedding: input tokens (reported, else estimated)
  double cost_usd = 0;             ///< what that embedding cost at the embedding model's price
  uint32_t question_terms = 0;     ///< the question's distinct search terms (the passages' coverage is of these)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retrieval& x) {
  return f(caf::meta::type_name("retrieval"), x.passages, x.knowledge_available, x.hybrid, x.degraded,
           x.embedding_tokens, x.cost_usd, x.question_terms);
}

using retriever_actor = caf::typed_actor<caf::replies_to<retrieve_request>::with<retrieval>>;

} // namespace sa
