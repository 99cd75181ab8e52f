#include "actors/handoff/handoff_book.hpp"

#include "actors/handoff/handoff_record.hpp"
#include "runtime/log.hpp"

#include <algorithm>

namespace sa::handoff {

namespace {

std::string key(const std::string& tenant, const std::string& x) {
  return tenant + '\x1f' + x;
}

/// Memory turns an agent wrote carry this client message id prefix (handoff_actor.cpp writes them).
bool agent_turn(const turn_record& t) {
  return t.client_message_id.rfind("agent:", 0) == 0;
}

std::string clip(const std::string& s, std::size_t n) {
  if (s.size() <= n)
    return s;
  auto cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)  // not inside a UTF-8 sequence
    --cut;
  return s.substr(0, cut) + "…";
}

} // namespace

handoff_book::handoff_book(std::unique_ptr<store> s, std::shared_ptr<const safety::pii_scanner> pii,
                           std::vector<std::string> intent_labels)
  : store_(std::move(s)), pii_(std::move(pii)), labels_(std::move(intent_labels)) {
  for (auto& v : store_->load()) {
    auto at = records_.size();
    by_id_[key(v.tenant.value, v.id)] = at;
    by_session_[key(v.tenant.value, v.session.value)].push_back(at);
    records_.push_back(std::move(v));
  }
}

std::string handoff_book::redact(const std::string& text) const {
  return pii_ ? pii_->redact(text) : text;
}

void handoff_book::persist(const handoff_view& r) {
  std::string error;
  if (!store_->save(r, error))
    log::get("handoff")->error("event=handoff_store_failed store={} handoff={} error=\"{}\"", store_->describe(),
                               r.id, error);
}

handoff_view* handoff_book::find(const tenant_id& t, const std::string& id) {
  auto it = by_id_.find(key(t.value, id));
  return it == by_id_.end() ? nullptr : &records_[it->second];
}

handoff_book::opened handoff_book::open(const handoff_open& o, int64_t now_ms) {
  auto id = handoff_id(o.session.value, o.turn);
  if (auto* r = find(o.tenant, id))
    return {r, false};
  // The conversation escalated again while still waiting in the queue: the new record (with the longer
  // transcript) replaces the old one, which is closed as superseded.
  handoff_view* superseded = nullptr;
  if (auto* old = active_for(o.tenant, o.session); old && old->state == handoff_states::queued) {
    old->state = handoff_states::closed;
    old->resolution = "superseded by " + id;
    old->closed_unix_ms = now_ms;
    persist(*old);
    superseded = old;
  }
  handoff_view v;
  v.id = id;
  v.tenant = o.tenant;
  v.user = o.user;
  v.session = o.session;
  v.turn = o.turn;
  v.created_unix_ms = now_ms;
  v.reason = o.reason;
  v.detail = o.detail;
  v.intent = o.intent;
  v.facts = o.facts;
  std::string asked;
  for (const auto& t : o.turns) {
    if (agent_turn(t)) {
      v.transcript.push_back({"agent", redact(t.answer_text), t.number, t.at_unix_ms, {}, 0});
      continue;
    }
    if (!t.user_text.empty()) {
      v.transcript.push_back({"user", redact(t.user_text), t.number, t.at_unix_ms, {}, 0});
      asked += (asked.empty() ? "" : " / ") + clip(v.transcript.back().text, 200);
    }
    if (!t.answer_text.empty())
      v.transcript.push_back({"bot", redact(t.answer_text), t.number, t.at_unix_ms, {}, 0});
    if (t.number == o.turn)
      v.question = redact(t.user_text);
  }
  v.summary = o.summary.empty() ? "" : redact(o.summary) + "\n";
  v.summary += "Customer wrote: " + (asked.empty() ? std::string{"(nothing)"} : asked);
  auto at = records_.size();
  by_id_[key(v.tenant.value, v.id)] = at;
  by_session_[key(v.tenant.value, v.session.value)].push_back(at);
  records_.push_back(std::move(v));
  persist(records_.back());
  return {&records_.back(), true, superseded};
}

std::string handoff_book::refusal(const handoff_view* r) const {
  if (!r)
    return handoff_codes::not_found;
  if (r->state == handoff_states::closed)
    return handoff_codes::closed;
  if (r->state == handoff_states::returned)
    return handoff_codes::handed_back;
  return {};
}

handoff_book::outcome handoff_book::held_by(const tenant_id& t, const std::string& id, const std::string& agent) {
  auto* r = find(t, id);
  if (auto code = refusal(r); !code.empty())
    return {code, r};
  if (r->state != handoff_states::assigned || r->agent != agent)
    return {handoff_codes::not_assigned, r};
  return {{}, r};
}

handoff_book::outcome handoff_book::take(const tenant_id& t, const std::string& id, const std::string& agent,
                                         const std::string& name, int64_t now_ms) {
  auto* r = find(t, id);
  if (auto code = refusal(r); !code.empty())
    return {code, r};
  if (r->state == handoff_states::assigned)
    return {r->agent == agent ? "" : handoff_codes::already_taken, r};  // taking it again is a no-op
  r->state = handoff_states::assigned;
  r->agent = agent;
  r->agent_name = name.empty() ? agent : name;
  r->taken_unix_ms = now_ms;
  persist(*r);
  return {{}, r};
}

handoff_book::outcome handoff_book::reply(const tenant_id& t, const std::string& id, const std::string& agent,
                                          const std::string& text, int64_t now_ms) {
  auto held = held_by(t, id, agent);
  if (!held.code.empty())
    return held;
  auto* r = held.record;
  auto seq = ++r->agent_messages;
  // The agent's own words go to the customer as written; the transcript (what other agents and the store
  // see) is redacted like everything else.
  r->transcript.push_back({"agent", redact(text), 0, now_ms, r->agent_name, seq});
  persist(*r);
  return {{}, r, seq};
}

handoff_book::outcome handoff_book::hand_back(const tenant_id& t, const std::string& id, const std::string& agent) {
  auto held = held_by(t, id, agent);
  if (!held.code.empty())
    return held;
  auto* r = held.record;
  r->state = handoff_states::returned;
  persist(*r);
  return {{}, r};
}

handoff_book::outcome handoff_book::close(const tenant_id& t, const std::string& id, const std::string& agent,
                                          const std::string& resolution, int64_t now_ms) {
  auto* r = find(t, id);
  if (auto code = refusal(r); !code.empty())
    return {code, r};
  if (r->state == handoff_states::assigned && r->agent != agent)
    return {handoff_codes::not_assigned, r};
  r->state = handoff_states::closed;
  if (r->agent.empty()) {
    r->agent = agent;  // closed straight from the queue: who closed it
    r->agent_name = agent;
  }
  r->resolution = redact(resolution);
  r->closed_unix_ms = now_ms;
  persist(*r);
  return {{}, r};
}

handoff_book::outcome handoff_book::tag(const tenant_id& t, const std::string& id, const std::string& intent,
                                        bool bot_could_answer) {
  auto* r = find(t, id);
  if (!r)
    return {handoff_codes::not_found, nullptr};
  if (std::find(labels_.begin(), labels_.end(), intent) == labels_.end())
    return {handoff_codes::bad_request, r};
  r->tagged = true;
  r->tag_intent = intent;
  r->bot_could_answer = bot_could_answer;
  persist(*r);
  return {{}, r};
}

handoff_book::outcome handoff_book::history(const tenant_id& t, const std::string& id) {
  auto* r = find(t, id);
  return {r ? "" : handoff_codes::not_found, r};
}

handoff_view* handoff_book::latest_for(const tenant_id& t, const session_id& s) {
  auto it = by_session_.find(key(t.value, s.value));
  if (it == by_session_.end() || it->second.empty())
    return nullptr;
  return &records_[it->second.back()];
}

handoff_view* handoff_book::active_for(const tenant_id& t, const session_id& s) {
  auto* r = latest_for(t, s);
  return r && refusal(r).empty() ? r : nullptr;
}

void handoff_book::customer_line(handoff_view& r, const std::string& text, turn_number turn, int64_t now_ms) {
  r.transcript.push_back({"user", redact(text), turn, now_ms, {}, 0});
  persist(r);
}

void handoff_book::delivered(handoff_view& r, uint32_t seq) {
  if (seq <= r.delivered_seq)
    return;
  r.delivered_seq = seq;
  persist(r);
}

std::vector<const handoff_view*> handoff_book::list(const tenant_id& t, bool include_closed) const {
  std::vector<const handoff_view*> out;
  for (const auto& r : records_)
    if (r.tenant == t && (include_closed || refusal(&r).empty()))
      out.push_back(&r);
  return out;
}

} // namespace sa::handoff
