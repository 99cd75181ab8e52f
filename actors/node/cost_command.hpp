// cost_command: `support-agent cost --conversations N [--turns-per-conversation T] [--model-mix M=S,...]
// [--tokens COMPONENT=IN:OUT,...] [--json FILE]`: prints a monthly cost projection by component from the
// configured price table (providers.prices) and assumed or given token counts (actors/quality/
// cost_projection.hpp has the arithmetic and the assumptions). No network, no node.
#pragma once

#include "config/config.hpp"

#include <iosfwd>
#include <string>

namespace sa {

struct cost_cli_options {
  std::string conversations;           ///< per month; required
  std::string turns_per_conversation;  ///< empty: 4
  std::string model_mix;               ///< empty: providers.root's model, else local
  std::string tokens;                  ///< overrides of the assumed token counts
  std::string json_file;               ///< also write the projection as JSON here; "-": to `out` instead
};

/// 0 on success; 2 on a bad argument (the message names it), 1 when the JSON file cannot be written.
int run_cost_command(const config::config& cfg, const cost_cli_options& opts, std::ostream& out, std::ostream& err);

} // namespace sa
