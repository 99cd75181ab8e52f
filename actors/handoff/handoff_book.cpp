#include "actors/handoff/handoff_book.hpp"

#include "actors/handoff/handoff_record.hpp"
#include "runtime/log.hpp"

#include <algorithm>
#include <vector>

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
                           std::vector<std::string> intent_labels, std::size_t finished_kept)
  : store_(std::move(s)), pii_(std::move(pii)), labels_(std::move(intent_labels)),
    finished_kept_(std::max<std::size_t>(finished_kept, 1)) {
  // The store gives the open records and the most recently finished ones, in creation order; which finished
  // one is forgotten first follows the order they finished.
  std::vector<const handoff_view*> done;
  for (auto& v : store_->load(finished_kept_)) {
    auto& r = add(std::move(v));
    if (is_finished(r))
      done.push_back(&r);
  }
  std::stable_sort(done.begin(), done.end(),
                   [](const auto* a, const auto* b) { return finished_unix_ms(*a) < finished_unix_ms(*b); });
  for (const auto* r : done)
    finished(*r);
}

handoff_view& handoff_book::add(handoff_view v) {
  auto seq = next_seq_++;
  by_id_[key(v.tenant.value, v.id)] = seq;
  by_session_[key(v.tenant.value, v.session.value)].push_back(seq);
  return records_.emplace(seq, std::move(v)).first->second;
}

void handoff_book::finished(const handoff_view& r) {
  auto it = by_id_.find(key(r.tenant.value, r.id));
  if (it == by_id_.end())
    return;
  finished_.push_back(it->second);
  while (finished_.size() > finished_kept_) {  // r itself is the newest and finished_kept_ >= 1
    forget(finished_.front());
    finished_.pop_front();
  }
}

void handoff_book::forget(uint64_t seq) {
  auto it = records_.find(seq);
  if (it == records_.end())
    return;
  const auto& r = it->second;
  by_id_.erase(key(r.tenant.value, r.id));
  auto s = by_session_.find(key(r.tenant.value, r.session.value));
  if (s != by_session_.end()) {
    s->second.erase(std::remove(s->second.begin(), s->second.end(), seq), s->second.end());
    if (s->second.empty())
      by_session_.erase(s);
  }
  records_.erase(it);
}

std::string handoff_book::redact(const std::string& text) const {
  return pii_ ? pii_->redact(text) : text;
}

void handoff_book::persist(const handoff_view& r) {
  store_->save(r);
}

void handoff_book::flush(std::function<void()> done) {
  store_->flush(std::move(done));
}

handoff_view* handoff_book::find(const tenant_id& t, const std::string& id) {
  auto it = by_id_.find(key(t.value, id));
  return it == by_id_.end() ? nullptr : &records_.at(it->second);
}

std::size_t handoff_book::add_turn(std::vector<handoff_line>& transcript, const turn_record& t) const {
  if (agent_turn(t)) {
    transcript.push_back({"agent", redact(t.answer_text), t.number, t.at_unix_ms, {}, 0});
    return no_line;
  }
  auto at = no_line;
  if (!t.user_text.empty()) {
    transcript.push_back({"user", redact(t.user_text), t.number, t.at_unix_ms, {}, 0});
    at = transcript.size() - 1;
  }
  if (!t.answer_text.empty())
    transcript.push_back({"bot", redact(t.answer_text), t.number, t.at_unix_ms, {}, 0});
  return at;
}

handoff_book::opened handoff_book::open(const handoff_open& o, int64_t now_ms) {
  auto id = handoff_id(o.tenant.value, o.session.value, o.turn);
  if (auto* r = find(o.tenant, id))
    return {r, false, nullptr, {}};
  // An agent took the conversation while this turn was being answered (it was queued when the turn began):
  // the agent keeps it. A new queued record would become the session's latest, route the customer back to
  // the bot and cut the agent off; instead the turns the record lacks join its transcript.
  if (auto* held = active_for(o.tenant, o.session); held && held->state == handoff_states::assigned) {
    turn_number seen = 0;
    for (const auto& l : held->transcript)
      if (l.role != "agent")
        seen = std::max(seen, l.turn);
    opened out{held, false, nullptr, {}};
    auto before = held->transcript.size();
    for (const auto& t : o.turns) {
      if (agent_turn(t) || t.number <= seen)
        continue;
      if (auto at = add_turn(held->transcript, t); at != no_line)
        out.joined.push_back(at);
    }
    if (held->transcript.size() != before)  // not a retry
      persist(*held);
    return out;
  }
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
    auto at = add_turn(v.transcript, t);
    if (at == no_line)
      continue;
    asked += (asked.empty() ? "" : " / ") + clip(v.transcript[at].text, 200);
    if (t.number == o.turn)
      v.question = v.transcript[at].text;
  }
  v.summary = o.summary.empty() ? "" : redact(o.summary) + "\n";
  v.summary += "Customer wrote: " + (asked.empty() ? std::string{"(nothing)"} : asked);
  auto& added = add(std::move(v));
  persist(added);
  // Only now: forgetting older finished records must not take `superseded` before the caller sees it.
  if (superseded)
    finished(*superseded);
  return {&added, true, superseded, {}};
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

handoff_book::outcome handoff_book::hand_back(const tenant_id& t, const std::string& id, const std::string& agent,
                                              int64_t now_ms) {
  auto held = held_by(t, id, agent);
  if (!held.code.empty())
    return held;
  auto* r = held.record;
  r->state = handoff_states::returned;
  r->closed_unix_ms = now_ms;  // when it finished: which finished records a restart keeps follows it
  persist(*r);
  finished(*r);
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
  finished(*r);
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
  return &records_.at(it->second.back());
}

handoff_view* handoff_book::active_for(const tenant_id& t, const session_id& s) {
  auto* r = latest_for(t, s);
  return r && refusal(r).empty() ? r : nullptr;
}

bool handoff_book::customer_line(handoff_view& r, const std::string& text, turn_number turn, int64_t now_ms) {
  auto line = redact(text);
  std::size_t bytes = line.size();
  for (const auto& l : r.transcript)
    bytes += l.text.size();
  if (bytes > max_transcript_bytes)
    return false;
  r.transcript.push_back({"user", std::move(line), turn, now_ms, {}, 0});
  persist(r);
  return true;
}

void handoff_book::delivered(handoff_view& r, uint32_t seq) {
  if (seq <= r.delivered_seq)
    return;
  r.delivered_seq = seq;
  persist(r);
}

std::vector<const handoff_view*> handoff_book::list(const tenant_id& t, bool include_closed) const {
  std::vector<const handoff_view*> out;
  for (const auto& [seq, r] : records_)
    if (r.tenant == t && (include_closed || refusal(&r).empty()))
      out.push_back(&r);
  return out;
}

} // namespace sa::handoff
