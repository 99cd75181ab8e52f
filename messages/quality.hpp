// quality: the node's quality service (actors/quality). Sessions send it every completed turn (fire and
// forget: it never delays an answer); it samples a share of them, scores each sample (a judge model, or
// the local groundedness check) and stores the scores with the redacted sample. The gateway sends it the
// customers' ratings and end-of-conversation surveys (CSAT), which it stores per conversation.
#pragma once

#include "messages/classify.hpp"
#include "messages/escalate.hpp"
#include "messages/ids.hpp"
#include "messages/retrieve.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// What judging one sampled turn cost, sent back to the conversation that offered it so its
/// `sa_conversation_cost_usd` includes judging. A session that has already closed drops it; the judging
/// components' totals (`sa_component_cost_usd_total{component="judging"}`) count it either way.
struct judging_cost {
  session_id session;
  uint32_t turn = 0;
  double usd = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, judging_cost& x) {
  return f(caf::meta::type_name("judging_cost"), x.session, x.turn, x.usd);
}

/// Where a sample's judging cost goes: the session that offered it.
using judging_cost_sink_actor = caf::typed_actor<caf::reacts_to<judging_cost>>;

/// A completed turn, offered for sampling. Texts are raw: the service redacts before it stores anything.
struct quality_sample {
  tenant_id tenant;
  session_id session;
  uint32_t turn = 0;
  sa::intent intent = sa::intent::general;
  std::string question;             ///< the customer's message
  std::string answer;               ///< what the customer read (after the safety check)
  std::vector<passage> passages;    ///< the retrieved context the answer was composed from
  std::vector<std::string> cited;   ///< source_ids the answer cites
  escalation_reason escalation = escalation_reason::none;
  std::string provider;             ///< what generated the answer ("local", an endpoint name)
  judging_cost_sink_actor cost_sink; ///< told what judging this sample cost; may be null
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_sample& x) {
  return f(caf::meta::type_name("quality_sample"), x.tenant, x.session, x.turn, x.intent, x.question, x.answer,
           x.passages, x.cited, x.escalation, x.provider, x.cost_sink);
}

/// A customer's rating of one answer (`turn` set) or their end-of-conversation survey (`survey`: csat,
/// resolved, optional comment). `intent` and `escalation` are the rated turn's (survey: the
/// conversation's last answered turn); `known` is false when the gateway no longer remembers that turn.
struct csat_record {
  tenant_id tenant;
  session_id session;
  bool survey = false;              ///< false: a rating of answer `turn`
  uint32_t turn = 0;
  int32_t csat = 0;                 ///< 1..5
  bool resolved = false;            ///< survey: the customer says the problem is solved
  std::string comment;              ///< raw; redacted before storage, never logged
  sa::intent intent = sa::intent::general;
  escalation_reason escalation = escalation_reason::none;
  bool known = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, csat_record& x) {
  return f(caf::meta::type_name("csat_record"), x.tenant, x.session, x.survey, x.turn, x.csat, x.resolved,
           x.comment, x.intent, x.escalation, x.known);
}

/// Asks for the service's counters (tests, operators).
struct quality_stats_request {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_stats_request&) {
  return f(caf::meta::type_name("quality_stats_request"));
}

struct quality_stats {
  uint64_t offered = 0;         ///< turns received
  uint64_t sampled = 0;         ///< of those, selected for scoring
  uint64_t scored = 0;          ///< samples scored and stored
  uint64_t judge_failures = 0;  ///< judge calls that failed or answered unparsable JSON (then scored locally)
  uint64_t csat_stored = 0;     ///< ratings and surveys stored
  uint64_t store_errors = 0;    ///< records the store could not write
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_stats& x) {
  return f(caf::meta::type_name("quality_stats"), x.offered, x.sampled, x.scored, x.judge_failures,
           x.csat_stored, x.store_errors);
}

using quality_actor =
  caf::typed_actor<caf::reacts_to<quality_sample>, caf::reacts_to<csat_record>,
                   caf::replies_to<quality_stats_request>::with<quality_stats>>;

} // namespace sa
