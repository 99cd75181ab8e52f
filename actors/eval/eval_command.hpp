// `support-agent eval SET [--json FILE] [--rows FILE] [--k N] [--limit N] [--tenant T] [--user U]`: runs a
// labeled set (data/eval/README.md) through an in-process node on the local pipeline and prints a table,
// then the figures as one JSON line (also written to FILE with --json); --rows writes each row's outcome.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace sa::eval {

struct eval_cli_options {
  std::string set;        ///< path of the JSONL set
  std::string json_file;  ///< empty: JSON on stdout only
  std::string rows_file;  ///< non-empty: every row's observation, one JSON line each
  std::string k = "5";
  std::string limit;      ///< empty: every row
  std::string tenant = "acme";
  std::string user = "alice";
};

/// The config the evaluation runs on: `cfg` with every networked or persistent part swapped for its local,
/// in-process form (local classifier and generator, BM25 only, embedded accounts and tickets, in-process
/// memory, no quality sampling, audit records in `scratch_dir`).
config::config offline_config(config::config cfg, const std::string& scratch_dir);

/// Exit codes: 0 done, 1 the node could not start or some row got no answer, 2 bad usage or a bad set.
int run_eval_command(const config::config& cfg, const eval_cli_options& opts, std::ostream& out,
                     std::ostream& err);

} // namespace sa::eval
