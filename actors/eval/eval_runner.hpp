// Runs an offline evaluation set through a real in-process node (local classifier, retriever, generator,
// escalation rules; no network) and observes what it did with each row. The session's classifier and
// retriever are wrapped in pass-through "taps" that record the classification (for out_of_scope, which
// turn_completed does not carry) and the top-k passages with their text (for recall@k and groundedness).
// Rows run one at a time, each in a new session, so latencies are those of an idle node.
#pragma once

#include "actors/eval/eval_metrics.hpp"
#include "actors/eval/eval_set.hpp"
#include "actors/node/node.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
}

namespace sa::eval {

struct run_options {
  std::string tenant = "acme";
  std::string user = "alice";
  unsigned k = 5;                                 ///< recall@k: passages looked at per row
  std::chrono::milliseconds turn_wait{20000};     ///< a row without an answer by then counts as failed
  std::size_t progress_every = 25;                ///< call `progress` every N rows (0: never)
  std::function<void(const std::string&)> progress;
};

/// Starts a node on `sys` with `children` (default_children(svc) when empty) wrapped in taps, runs every
/// row, stops the node, and returns one observation per row, in order. `sys` must run no other actors: the
/// call waits for every actor of the system to finish before it returns.
std::vector<eval_observation> run_set(caf::actor_system& sys, std::shared_ptr<const node_services> svc,
                                      const std::vector<eval_row>& rows, const run_options& opts,
                                      session_children children = {});

} // namespace sa::eval
