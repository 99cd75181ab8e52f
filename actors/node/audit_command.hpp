// `support-agent audit verify|show` and the hook command-line tools use to audit admin operations.
#pragma once

#include "config/config.hpp"
#include "messages/audit.hpp"
#include "runtime/result.hpp"

#include <chrono>
#include <iosfwd>
#include <string>

namespace sa {

struct audit_cli_options {
  std::string subcommand;  ///< verify or show
  std::string file;        ///< --file PATH: this audit file instead of the configured one
  bool redis = false;      ///< --redis: the node's Redis stream (memory.redis_*) instead of the file
  std::string tenant;      ///< --tenant T: show needs it; verify counts that tenant's records
  std::string node;        ///< --node N: another node's file or stream; empty = node.name
  std::string limit;       ///< --limit N: show at most the last N records (default 20)
};

/// Exit codes of `audit`: the chain is intact / the records were shown; a link is broken (tampering or
/// corruption; the first one is printed); the file or stream could not be read; bad usage.
constexpr int audit_exit_ok = 0;
constexpr int audit_exit_unreadable = 1;
constexpr int audit_exit_usage = 2;
constexpr int audit_exit_broken = 3;

/// Runs `support-agent audit <subcommand>`; prints to `out` (results) and `err` (problems).
int run_audit_command(const config::config& cfg, const audit_cli_options& o, std::ostream& out, std::ostream& err);

/// Records an admin operation done from the command line (train-intents, ingest, ...) in this node's audit
/// trail (the configured backend; the file is shared safely with a node running beside it) and waits until
/// it is stored. `e.actor` defaults to "admin". Blocking: for command-line code only, never an actor.
status record_admin_event(const config::config& cfg, audit_event e,
                          std::chrono::milliseconds within = std::chrono::seconds(10));

} // namespace sa
