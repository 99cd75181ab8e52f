// csat_command: `support-agent csat [--tenant T] [--since WHEN] [--file PATH] [--json FILE|-]`: the CSAT
// the node stored (ratings of answers and end-of-conversation surveys, actors/quality/csat_report.hpp) by
// intent, by escalation reason and per conversation. Reads every node's CSAT files under quality.dir
// (default <node.state_dir>/quality), or the one file --file names. No node is started.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace sa {

struct csat_cli_options {
  std::string tenant;     ///< empty: every tenant
  std::string since;      ///< empty: every record
  std::string file;       ///< empty: the CSAT files of the quality directory
  std::string json_file;  ///< also write the report as JSON here; "-": to `out` instead of the tables
};

/// 0 on success (also with no record: it says so); 2 on a bad argument (the message names it); 1 when the
/// records cannot be read or the JSON file cannot be written.
int run_csat_command(const config::config& cfg, const csat_cli_options& opts, std::ostream& out, std::ostream& err);

} // namespace sa
