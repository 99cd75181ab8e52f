// A real node for actor-level tests: the shipped demo data and config defaults, a model trained once per
// test process into a temporary directory, and helpers that run one turn and collect its events.
#pragma once

#include "actors/node/node.hpp"
#include "config/load.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "messages/session.hpp"

#include "caf/all.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sa::test {

/// Config defaults, with paths resolved against the source tree and the model in a private temp dir.
config::config test_config();

/// Node services built once per process (training and indexing take a second or two).
std::shared_ptr<const node_services> shared_services();

/// Node services like shared_services(), but with `knowledge_dir` as the only knowledge (fresh, not cached).
/// The shared services with a fresh metrics object (and `tune` applied to their config), so a test's counts
/// start at zero.
std::shared_ptr<node_services> services_with_own_metrics(void (*tune)(config::config&) = nullptr);

std::shared_ptr<const node_services> services_with_knowledge(const std::string& knowledge_dir);

/// An actor system with the product's message types and a started node.
struct test_node {
  explicit test_node(session_children children = {}, std::shared_ptr<const node_services> svc = {});
  ~test_node();

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<const node_services> services;
  node_handles handles;
};

/// Everything a client saw for one user turn.
struct turn_result {
  std::vector<turn_delta> deltas;     ///< all of them, in order, before and after any reset
  std::vector<turn_reset> resets;
  std::vector<size_t> reset_at;       ///< per reset: how many deltas had arrived before it
  std::optional<turn_completed> completed;
  std::optional<turn_failed> failed;
  bool timed_out = false;

  /// What a client shows: the deltas after the last reset, concatenated.
  std::string streamed() const;
  /// The deltas after the last reset (all of them when there was none).
  std::vector<turn_delta> final_deltas() const;
  support_errc error() const { return failed ? static_cast<support_errc>(failed->code) : support_errc::ok; }
};

/// The session's stored turns, straight from the node's memory service (FAILs the test on an error).
conversation_memory stored_memory(caf::scoped_actor& self, const test_node& node, const std::string& tenant,
                                  const std::string& session);

/// Sends one turn through the router and waits (up to `deadline`) for its completion or failure.
turn_result run_turn(caf::scoped_actor& self, const session_actor& router, const std::string& tenant,
                     const std::string& user, const std::string& session, const std::string& text,
                     const std::string& client_message_id = {},
                     std::chrono::milliseconds deadline = std::chrono::seconds(20));

} // namespace sa::test
