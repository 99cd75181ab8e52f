#include "actors/safety/safety_checks.hpp"

#include <algorithm>
#include <map>

namespace sa::safety {

namespace {

/// "card_number x1, email x2" for the kinds found; never the values.
std::string describe(const std::vector<pii_match>& found) {
  std::map<std::string, int> n;
  for (auto& m : found)
    ++n[m.kind];
  std::string out;
  for (auto& [kind, count] : n)
    out += (out.empty() ? "" : ", ") + kind + " x" + std::to_string(count);
  return out;
}

/// Kinds a knowledge document may hold: the tenant's own published contact details.
bool public_kind(const std::string& kind) {
  return kind == "email" || kind == "phone" || kind == "ip_address";
}

} // namespace

safety_checks::safety_checks(std::shared_ptr<const pii_scanner> pii, std::shared_ptr<const content_checks> content,
                             bool enabled, bool redact_pii)
  : pii_(pii ? std::move(pii) : std::make_shared<const pii_scanner>()),
    content_(content ? std::move(content) : std::make_shared<const content_checks>()),
    enabled_(enabled),
    redact_pii_(redact_pii) {
}

safety_verdict safety_checks::check(const safety_check_request& req) const {
  safety_verdict v;
  const bool first_message_check = req.source == safety_source::user_message && !req.classified;
  if (!enabled_) {
    v.redacted = req.text;
    if (first_message_check)
      v.own_contacts = own_data::values_in(*pii_, req.text);
    return v;
  }
  content_finding finding;
  if (req.source == safety_source::user_message && req.classified) {
    v.redacted = req.text;  // already redacted by the first check
    finding = content_->check_classified(req.tenant.value, req.text, req.intent);
  } else {
    std::vector<pii_match> found;
    const bool scanned = redact_pii_ || req.source == safety_source::answer;
    if (scanned) {
      found = pii_->scan(req.text);
      if (req.source == safety_source::retrieved_passage)
        found.erase(std::remove_if(found.begin(), found.end(), [](auto& m) { return public_kind(m.kind); }),
                    found.end());
    }
    if (first_message_check && scanned) {  // the customer's own data, from the scan that redacts the message
      own_data own;
      own.add_matches(found, req.text);
      v.own_contacts = std::move(own.values);
    } else if (first_message_check) {
      v.own_contacts = own_data::values_in(*pii_, req.text);
    }
    std::string out;
    out.reserve(req.text.size() + found.size() * 16);
    size_t pos = 0;
    for (auto& m : found) {
      out.append(req.text, pos, m.offset - pos).append("[redacted ").append(m.kind).push_back(']');
      pos = m.offset + m.length;
    }
    out.append(req.text, pos, std::string::npos);
    v.redacted = std::move(out);
    v.redactions = static_cast<uint32_t>(found.size());
    if (!found.empty()) {
      v.action = safety_action::redact;
      v.reason = safety_reason::pii;
      v.detail = describe(found);
    }
    if (req.source == safety_source::user_message)
      finding = content_->check_message(req.tenant.value, req.text);
    else if (req.source == safety_source::retrieved_passage)
      finding = content_->check_passage(req.text);
  }
  if (finding.action > v.action) {
    v.action = finding.action;
    v.reason = finding.reason;
    v.detail = finding.rule + (v.detail.empty() ? "" : "; " + v.detail);
  }
  return v;
}

void merge_verdict(safety_verdict& into, const safety_verdict& v) {
  if (v.action == safety_action::allow)
    return;
  if (v.action > into.action) {
    into.action = v.action;
    into.reason = v.reason;
  }
  if (!v.detail.empty() && into.detail.find(v.detail) == std::string::npos)
    into.detail += (into.detail.empty() ? "" : "; ") + v.detail;
  into.redactions += v.redactions;
}

safety_verdict answer_verdict(std::size_t redactions, std::size_t other_person) {
  safety_verdict v;
  if (redactions == 0)
    return v;
  v.action = safety_action::redact;
  v.reason = other_person > 0 ? safety_reason::other_person_data : safety_reason::pii;
  v.redactions = static_cast<uint32_t>(redactions);
  v.detail = "answer x" + std::to_string(redactions);
  return v;
}

std::string refusal_message(safety_reason reason) {
  switch (reason) {
    case safety_reason::off_topic:
      return "That's outside what I can help with here. I can answer questions about our product, your "
             "account, billing and technical issues. What can I do for you?";
    case safety_reason::abusive:
      return "I'd really like to help, and I'll do my best if we keep this respectful. What can I help you "
             "with?";
    case safety_reason::prompt_injection:
      return "I can't do that, but I'm happy to help with questions about your account, billing or our "
             "product.";
    case safety_reason::harmful:
    case safety_reason::moderation:
      return "I can't help with that. If you have a question about your account or our product, I'm happy "
             "to help.";
    case safety_reason::pii:
    case safety_reason::other_person_data:
    case safety_reason::none:
      break;
  }
  return "I can't help with that, but I'm happy to help with questions about your account or our product.";
}

bool knowledge_covers(const retrieval& r) {
  constexpr double covered_share = 0.6;
  return r.question_terms >= 2 && std::any_of(r.passages.begin(), r.passages.end(), [](const passage& p) {
           return p.question_coverage >= covered_share;
         });
}

bool off_topic_candidate(const classification& cls, bool action_requested, const retrieval& r) {
  if (!cls.out_of_scope || action_requested)
    return false;
  bool names_reference = std::any_of(cls.entities.begin(), cls.entities.end(), [](const entity_mention& e) {
    return e.kind == "invoice_id" || e.kind == "ticket_id";
  });
  return !names_reference && !knowledge_covers(r);
}

} // namespace sa::safety
