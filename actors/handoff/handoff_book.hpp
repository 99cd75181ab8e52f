// handoff_book: the handoff records of one node and their state machine (docs/protocol.md, "Agent
// console"), independent of actors and sockets so every transition and refusal is unit-tested:
//
//   queued --take--> assigned(agent) --hand_back--> returned_to_bot
//      |                  |
//      +------close-------+-----------> closed(resolution)
//
// Every lookup names the tenant: another tenant's record is "not_found", exactly like an unknown id.
// Refusals, checked in this order: not_found, closed, handed_back, then the action's own (already_taken
// for take, not_assigned for reply/hand_back/close). tag and history work in every state. Text that
// enters a record (transcript, summary, the escalated question) is redacted by the PII scanner first.
// Each change is written to the store before the call returns. Owned by one actor: not thread-safe.
// To add an action: a method here (with its refusals), its op in messages/handoff.hpp and the actor.
#pragma once

#include "actors/handoff/handoff_store.hpp"
#include "actors/safety/output_filter.hpp"
#include "messages/handoff.hpp"

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa::handoff {

class handoff_book {
public:
  /// `intent_labels`: what tag accepts (the intent model's labels).
  handoff_book(std::unique_ptr<store> s, std::shared_ptr<const safety::pii_scanner> pii,
               std::vector<std::string> intent_labels);

  struct opened {
    handoff_view* record = nullptr;
    bool created = false;  ///< false: this escalation was recorded before (a retry)
    handoff_view* superseded = nullptr;  ///< the session's queued record this one closed, if any
  };
  /// Records an escalated turn as a queued handoff (idempotent by id).
  opened open(const handoff_open& o, int64_t now_ms);

  /// The outcome of an agent action: code empty when done; record set unless not_found.
  struct outcome {
    std::string code;
    handoff_view* record = nullptr;
    uint32_t seq = 0;  ///< reply: the agent line's number
  };
  outcome take(const tenant_id& t, const std::string& id, const std::string& agent, const std::string& name,
               int64_t now_ms);
  outcome reply(const tenant_id& t, const std::string& id, const std::string& agent, const std::string& text,
                int64_t now_ms);
  outcome hand_back(const tenant_id& t, const std::string& id, const std::string& agent);
  outcome close(const tenant_id& t, const std::string& id, const std::string& agent, const std::string& resolution,
                int64_t now_ms);
  outcome tag(const tenant_id& t, const std::string& id, const std::string& intent, bool bot_could_answer);
  outcome history(const tenant_id& t, const std::string& id);

  /// The session's queued or assigned record, if any.
  handoff_view* active_for(const tenant_id& t, const session_id& s);
  /// The session's most recent record (any state), if any.
  handoff_view* latest_for(const tenant_id& t, const session_id& s);

  /// A customer message while an agent holds the record: appended (redacted) to its transcript.
  void customer_line(handoff_view& r, const std::string& text, turn_number turn, int64_t now_ms);
  /// Agent lines up to `seq` reached a customer connection.
  void delivered(handoff_view& r, uint32_t seq);

  /// The tenant's records, oldest first: open ones (queued, assigned), or all.
  std::vector<const handoff_view*> list(const tenant_id& t, bool include_closed) const;

  std::string redact(const std::string& text) const;
  std::size_t size() const noexcept { return records_.size(); }

private:
  handoff_view* find(const tenant_id& t, const std::string& id);
  /// not_found / closed / handed_back, or empty when the record is queued or assigned.
  std::string refusal(const handoff_view* r) const;
  void persist(const handoff_view& r);
  /// The record when `agent` holds it (assigned to them), else the refusal (not_assigned, or refusal()'s).
  outcome held_by(const tenant_id& t, const std::string& id, const std::string& agent);

  std::unique_ptr<store> store_;
  std::shared_ptr<const safety::pii_scanner> pii_;
  std::vector<std::string> labels_;
  std::deque<handoff_view> records_;                // creation order (references stay valid)
  std::map<std::string, std::size_t> by_id_;        // tenant \x1f id -> index
  std::map<std::string, std::vector<std::size_t>> by_session_;  // tenant \x1f session -> indexes
};

} // namespace sa::handoff
