// audit: the node's tamper-evident trail of actions, escalations and admin operations (issue #6).
// One audit actor per node appends each event as a record hash-chained to the previous one (file per node,
// or a Redis stream); `support-agent audit verify` detects edited, removed or reordered records.
//
// Callers send an audit_event. Fire and forget with `anon_send`/`send` when losing the record on a crash is
// acceptable; `request` it (with a timeout) and wait for the audit_receipt when it is not: the receipt comes
// only once the record is stored as durably as the audit.fsync policy promises. Arguments are redacted by
// the audit actor (PII scanner) before they are hashed or stored, but do not put user text in them anyway.
#pragma once

#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>

namespace sa {

/// Stable actor names for audit_event::actor (agents are "agent:<id>").
namespace audit_actors {
constexpr const char* bot = "bot";
constexpr const char* admin = "admin";
constexpr const char* system = "system";
} // namespace audit_actors

/// One thing that happened. The audit actor stamps the time, node, sequence number and hashes.
struct audit_event {
  tenant_id tenant;       ///< whose record; empty only for node-wide admin operations (config_reload, ...)
  std::string actor;      ///< who: "bot", "agent:<id>", "admin", "system"
  std::string action;     ///< what: "escalate", "create_ticket", "trigger_workflow", "ingest", ...
  std::string arguments;  ///< a JSON object as text ("" means {}); redacted before it is hashed or stored (text
                          ///< that is not a JSON object is stored redacted as {"unparsed": "..."}, not refused)
  std::string result;     ///< the outcome: "ok", "refused", "error:<code>", an escalation reason; no user text
  session_id session;     ///< the conversation, when there is one
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_event& x) {
  return f(caf::meta::type_name("audit_event"), x.tenant, x.actor, x.action, x.arguments, x.result, x.session);
}

/// The stored record's place in the chain. Errors instead: support_errc::busy (the write queue is full; the
/// record was not stored), support_errc::internal (no actor or action given, or the store failed),
/// support_errc::shutting_down (the store stopped before the record was stored).
struct audit_receipt {
  uint64_t seq = 0;   ///< 1, 2, 3, ... per node (per chain)
  std::string hash;   ///< the record's SHA-256, lower-case hex
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_receipt& x) {
  return f(caf::meta::type_name("audit_receipt"), x.seq, x.hash);
}

/// Asks the audit actor for its counters (metrics, tests).
struct audit_stats_request {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_stats_request&) {
  return f(caf::meta::type_name("audit_stats_request"));
}

struct audit_stats {
  std::string backend;        ///< "file" or "redis"
  uint64_t last_seq = 0;      ///< the chain's head (records appended so far, including earlier runs)
  uint64_t appended = 0;      ///< records appended since this actor started
  uint64_t durable = 0;       ///< of those, stored durably (fsynced / confirmed by Redis)
  uint64_t queued = 0;        ///< appended but not yet durable
  uint64_t refused = 0;       ///< events refused (queue full, bad arguments): never stored, never acknowledged
  uint64_t redactions = 0;    ///< argument values the PII scanner rewrote
  uint64_t store_errors = 0;  ///< failed writes/flushes (retried; a record is acknowledged only once stored)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_stats& x) {
  return f(caf::meta::type_name("audit_stats"), x.backend, x.last_seq, x.appended, x.durable, x.queued,
           x.refused, x.redactions, x.store_errors);
}

using audit_actor = caf::typed_actor<caf::replies_to<audit_event>::with<audit_receipt>,
                                     caf::replies_to<audit_stats_request>::with<audit_stats>>;

} // namespace sa
