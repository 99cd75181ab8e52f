// cost_command: `support-agent cost --conversations N [--turns-per-conversation T] [--model-mix M=S,...]
// [--tokens COMPONENT=IN:OUT,...] [--from-metrics URL|FILE] [--json FILE]`: prints a monthly cost projection
// by component from the configured price table (providers.prices) and assumed, measured or given token
// counts (actors/quality/cost_projection.hpp has the arithmetic and the assumptions). With --from-metrics
// the tokens per turn (and, unless given, the turns per conversation) come from a node's /metrics - fetched
// over HTTP (bearer token from gateway.metrics_token_env when set) or read from a saved file - and the
// output names the components that kept their assumptions. No node is started.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace sa {

struct cost_cli_options {
  std::string conversations;           ///< per month; required
  std::string turns_per_conversation;  ///< empty: 4
  std::string model_mix;               ///< empty: providers.root's model, else local
  std::string tokens;                  ///< overrides of the assumed (or measured) token counts
  std::string json_file;               ///< also write the projection as JSON here; "-": to `out` instead
  std::string from_metrics;            ///< http(s)://host:port/metrics or a file of /metrics text; empty: none
};

/// 0 on success; 2 on a bad argument (the message names it), 1 when the JSON file cannot be written.
int run_cost_command(const config::config& cfg, const cost_cli_options& opts, std::ostream& out, std::ostream& err);

} // namespace sa
