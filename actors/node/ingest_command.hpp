// `support-agent ingest --tenant T [PATH...] [--skip-bad]`: builds or updates the tenant's on-disk knowledge
// index (actors/retriever/knowledge_store.hpp) with progress on stderr and a summary on stdout.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace sa {

struct ingest_cli_options {
  std::string tenant;
  std::vector<std::string> paths; ///< empty: the tenant's configured knowledge paths
  bool skip_bad = false;          ///< skip bad sources (keeping their previous version) instead of failing
};

/// Runs the ingest on the calling thread; SIGINT/SIGTERM stop it cleanly (nothing written). Exit codes: 0
/// ingested (or nothing changed), 1 failed (nothing written) or done with bad sources skipped, 2 bad usage,
/// 130 interrupted.
int run_ingest_command(const config::config& cfg, const ingest_cli_options& opts, std::ostream& out, std::ostream& err);

} // namespace sa
