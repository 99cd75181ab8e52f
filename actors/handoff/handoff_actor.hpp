// handoff_actor: the node's handoff service (messages/handoff.hpp). It owns the handoff_book (records and
// their store), the agent connections subscribed per tenant and the customer connections attached per
// session, and writes the turns of a held conversation (the customer's messages, the agent's replies) into
// the conversation memory, one write at a time per session, so the bot sees them after a hand-back.
//
// Supervised like the other node services (actors/node/node.cpp): the book and the subscriber lists live in
// a hub shared by every incarnation, so a restart loses neither records nor subscriptions. The file store
// writes and fsyncs on a thread of its own; an action or an opened handoff is answered once its change is
// durable there (notifications to agents and customers do not wait). Agent actions are audited (agent id,
// handoff id, outcome; never text) and counted (sa_handoffs_total, sa_handoff_time_to_take_seconds).
// To add an agent action: handle its op in on_action (handoff_actor.cpp) after adding it to the book.
#pragma once

#include "actors/handoff/handoff_book.hpp"
#include "messages/audit.hpp"
#include "messages/handoff.hpp"
#include "messages/memory.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class metrics;

namespace handoff {

/// State that outlives restarts of the service.
struct hub {
  explicit hub(handoff_book b) : book(std::move(b)) {}
  handoff_book book;
  struct agent_sub {
    tenant_id tenant;
    std::string agent;
    handoff_agent_listener listener;
  };
  std::vector<agent_sub> agents;
  std::map<std::string, std::vector<handoff_customer_actor>> customers;  // tenant \x1f session -> connections
  /// connection -> the conversation (tenant \x1f session) it follows here: one at a time, and found without
  /// scanning every conversation (clustered, every member's service has every customer connection).
  std::map<caf::actor_addr, std::string> following;
};

struct handoff_deps {
  std::shared_ptr<hub> state;            ///< the pointer is const, the hub is the service's own
  memory_actor memory;
  audit_actor audit;                     ///< null: agent actions are not audited
  std::shared_ptr<sa::metrics> metrics;  ///< null: not counted
  std::chrono::milliseconds memory_timeout{2000};
};

/// Spawns the service as a child of `parent` (its supervisor).
handoff_actor spawn_handoff(caf::local_actor* parent, std::shared_ptr<const handoff_deps> deps);

/// Limits of an agent's reply (bytes of UTF-8).
constexpr std::size_t max_reply_bytes = 4000;

} // namespace handoff
} // namespace sa
