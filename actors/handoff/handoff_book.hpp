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
// Each change is handed to the store before the call returns; flush() says when those are durable. Owned by
// one actor: not thread-safe.
// Memory stays bounded: open records (queued, assigned) are always kept; of the finished ones (closed or
// handed back) only the `finished_kept` most recently finished stay in memory for history and
// list(include_closed). Older ones live on in the store only (the file log; export-training reads it), and
// the book no longer knows them: an action on one is not_found.
// To add an action: a method here (with its refusals), its op in messages/handoff.hpp and the actor.
#pragma once

#include "actors/handoff/handoff_store.hpp"
#include "actors/safety/output_filter.hpp"
#include "messages/handoff.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa::handoff {

class handoff_book {
public:
  /// `intent_labels`: what tag accepts (the intent model's labels).
  /// `finished_kept` (>= 1): finished records kept in memory. Loads the store's records (and throws what its
  /// load() throws).
  handoff_book(std::unique_ptr<store> s, std::shared_ptr<const safety::pii_scanner> pii,
               std::vector<std::string> intent_labels, std::size_t finished_kept = default_finished_kept);

  static constexpr std::size_t default_finished_kept = 1000;

  struct opened {
    handoff_view* record = nullptr;
    bool created = false;  ///< false: recorded before (a retry), or joined to the record an agent holds
    handoff_view* superseded = nullptr;  ///< the session's queued record this one closed, if any
    std::vector<std::size_t> joined;     ///< held record: its new customer lines (transcript positions)
  };
  /// Records an escalated turn as a queued handoff (idempotent by id). When an agent already holds the
  /// session's record (taken while the turn was answered), no record is created: the agent keeps the
  /// conversation, and the turns its transcript lacks are added to it.
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
  outcome hand_back(const tenant_id& t, const std::string& id, const std::string& agent, int64_t now_ms);
  outcome close(const tenant_id& t, const std::string& id, const std::string& agent, const std::string& resolution,
                int64_t now_ms);
  outcome tag(const tenant_id& t, const std::string& id, const std::string& intent, bool bot_could_answer);
  outcome history(const tenant_id& t, const std::string& id);

  /// The session's queued or assigned record, if any.
  handoff_view* active_for(const tenant_id& t, const session_id& s);
  /// The session's most recent record (any state), if any.
  handoff_view* latest_for(const tenant_id& t, const session_id& s);

  /// A customer message while an agent holds the record: appended (redacted) to its transcript, unless the
  /// transcript's text has reached max_transcript_bytes (the message still reaches the agent live and the
  /// conversation memory; false then). Agent lines are always kept: their delivery is read from the record.
  bool customer_line(handoff_view& r, const std::string& text, turn_number turn, int64_t now_ms);

  /// The most transcript text customer messages can grow a record to: every change rewrites the whole record
  /// in the store, so a customer writing without end would cost quadratic bytes written.
  static constexpr std::size_t max_transcript_bytes = 256 * 1024;
  /// Agent lines up to `seq` reached a customer connection.
  void delivered(handoff_view& r, uint32_t seq);

  /// The tenant's records, oldest first: open ones (queued, assigned), or all.
  std::vector<const handoff_view*> list(const tenant_id& t, bool include_closed) const;

  /// Calls `done` once every change made so far is durable (at once with the memory store, else on the
  /// store's thread: send a message from there, touch nothing of the book).
  void flush(std::function<void()> done);

  std::string redact(const std::string& text) const;
  /// Records in memory (open ones and the finished ones kept).
  std::size_t size() const noexcept { return records_.size(); }

private:
  handoff_view* find(const tenant_id& t, const std::string& id);
  /// not_found / closed / handed_back, or empty when the record is queued or assigned.
  std::string refusal(const handoff_view* r) const;
  void persist(const handoff_view& r);
  /// The record when `agent` holds it (assigned to them), else the refusal (not_assigned, or refusal()'s).
  outcome held_by(const tenant_id& t, const std::string& id, const std::string& agent);

  static constexpr std::size_t no_line = static_cast<std::size_t>(-1);
  /// Appends a memory turn to a transcript, redacted: an agent's turn as the agent's line, else the
  /// customer's line and the bot's. Returns the customer line's position, or no_line.
  std::size_t add_turn(std::vector<handoff_line>& transcript, const turn_record& t) const;

  /// Indexes a record (the next in creation order) and returns it.
  handoff_view& add(handoff_view v);
  /// `r` has just reached closed or returned: remembers it, and forgets the oldest finished records beyond
  /// finished_kept (never `r` itself).
  void finished(const handoff_view& r);
  void forget(uint64_t seq);

  std::unique_ptr<store> store_;
  std::shared_ptr<const safety::pii_scanner> pii_;
  std::vector<std::string> labels_;
  std::size_t finished_kept_;
  uint64_t next_seq_ = 0;
  std::map<uint64_t, handoff_view> records_;                   // creation order; references stay valid
  std::map<std::string, uint64_t> by_id_;                      // tenant \x1f id -> seq
  std::map<std::string, std::vector<uint64_t>> by_session_;    // tenant \x1f session -> seqs, oldest first
  std::deque<uint64_t> finished_;                              // finished records, in the order they finished
};

} // namespace sa::handoff
