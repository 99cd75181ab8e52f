// safety_checks: one check of one text (a customer's message, a retrieved passage, an answer) with the
// node's compiled PII scanner and content checks, giving the safety_verdict of messages/safety.hpp. A
// plain class, shared read-only: the safety actor answers safety_check_request with it, and the session
// uses it in-line where a hop per item would cost more than the check (each retrieved passage, the
// off-topic check after classification). The streamed answer is checked by output_filter's
// stream_redactor. off_topic_candidate (with knowledge_covers) decides which out-of-scope messages reach
// that off-topic check at all.
//
// Per source:
//   user_message  PII redacted (the pipeline, memory, logs and audit see only the redacted text); harmful,
//                 abusive, injection and configured topics (check_message); with `classified`, only the
//                 classifier's out_of_scope (check_classified)
//   passage       injection -> refuse (the session drops the passage); card numbers, national ids,
//                 IBANs and secrets redacted (contact details in the tenant's own documents stay)
//   answer        PII redacted
// To add a check: give it a safety_reason, run it in check() for the sources it concerns, test it in
// tests/actors/safety/safety_actor_test.cpp.
#pragma once

#include "actors/safety/content_checks.hpp"
#include "actors/safety/output_filter.hpp"
#include "messages/classify.hpp"
#include "messages/retrieve.hpp"
#include "messages/safety.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::safety {

class safety_checks {
public:
  /// `enabled` false: every check allows (the switch safety.enabled). `pii` false: nothing is redacted
  /// in messages and passages (answers are still redacted by the session's stream redactor).
  safety_checks(std::shared_ptr<const pii_scanner> pii, std::shared_ptr<const content_checks> content,
                bool enabled = true, bool redact_pii = true);

  /// A customer's message (user_message, not yet classified) also gets its own contact data in
  /// `own_contacts`, whether or not checks or redaction are switched off.
  safety_verdict check(const safety_check_request& req) const;

  const pii_scanner& pii() const noexcept { return *pii_; }
  std::shared_ptr<const pii_scanner> pii_ptr() const noexcept { return pii_; }
  bool enabled() const noexcept { return enabled_; }

private:
  std::shared_ptr<const pii_scanner> pii_;
  std::shared_ptr<const content_checks> content_;
  bool enabled_;
  bool redact_pii_;
};

/// Folds `v` into a turn's verdict: the most severe action wins (its reason with it); details are
/// joined; redactions add up. `into.redacted` is left alone (a turn's verdict carries no text).
void merge_verdict(safety_verdict& into, const safety_verdict& v);

/// The verdict for an answer that the stream redactor changed: redact, other_person_data when some of the
/// redactions were another person's contact data, else pii. allow when `redactions` is 0.
safety_verdict answer_verdict(std::size_t redactions, std::size_t other_person);

/// What the customer reads when their message is refused, by reason (polite, and says what the bot can do).
std::string refusal_message(safety_reason reason);

/// True when one retrieved passage covers most of the question: the question has at least two search terms and
/// the passage at least 60% of their IDF-weighted share (passage::question_coverage, measured by the
/// retriever against the tenant's index, so a word the knowledge base never uses weighs most). Then the
/// knowledge base is on the subject, whatever the intent model thought of it. Passages not measured count as
/// covering nothing.
bool knowledge_covers(const retrieval& r);

/// The off-topic gate after classification and retrieval: true when a message the classifier called
/// out_of_scope should go to the off-topic check (check_classified), i.e. none of the exemptions holds. A
/// message asking for one of the tenant's tools (`action_requested`), naming an invoice or ticket
/// (an invoice_id or ticket_id entity), or that the knowledge base covers (knowledge_covers) is about the
/// customer's account or the product, whatever the intent model says.
bool off_topic_candidate(const classification& cls, bool action_requested, const retrieval& r);

} // namespace sa::safety
