// cost_command: see the header.
#include "actors/node/cost_command.hpp"

#include "actors/quality/cost_projection.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <ostream>

namespace sa {
namespace {

bool whole_number(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(s);
  return true;
}

} // namespace

int run_cost_command(const config::config& cfg, const cost_cli_options& opts, std::ostream& out, std::ostream& err) {
  quality::projection_input in;
  if (!whole_number(opts.conversations, in.conversations) || in.conversations == 0) {
    err << "support-agent: cost needs --conversations N, a whole number > 0 of conversations per month"
        << (opts.conversations.empty() ? "" : " (got \"" + opts.conversations + "\")") << "\n";
    return 2;
  }
  if (!opts.turns_per_conversation.empty()) {
    char* end = nullptr;
    in.turns_per_conversation = std::strtod(opts.turns_per_conversation.c_str(), &end);
    if (end != opts.turns_per_conversation.c_str() + opts.turns_per_conversation.size() ||
        !std::isfinite(in.turns_per_conversation) || in.turns_per_conversation <= 0 ||
        in.turns_per_conversation > 1000) {
      err << "support-agent: --turns-per-conversation must be a number in (0, 1000] (got \""
          << opts.turns_per_conversation << "\")\n";
      return 2;
    }
  }
  if (opts.model_mix.empty()) {
    in.mix = quality::default_mix(cfg);
  } else {
    auto mix = quality::parse_model_mix(opts.model_mix);
    if (!mix) {
      err << "support-agent: " << mix.error() << "\n";
      return 2;
    }
    in.mix = std::move(*mix);
  }
  in.embedding_model = cfg.retriever.embedding.provider.empty() ? std::string{} : cfg.retriever.embedding.model;
  in.prices = cfg.providers.prices;
  in.components = quality::default_components(cfg);
  if (!opts.tokens.empty())
    if (auto applied = quality::apply_token_overrides(opts.tokens, in.components); !applied) {
      err << "support-agent: " << applied.error() << "\n";
      return 2;
    }
  auto p = quality::project_cost(in);
  if (!p) {
    err << "support-agent: " << p.error() << "\n";
    return 2;
  }
  if (opts.json_file == "-") {
    out << quality::projection_json(in, *p) << "\n";
    return 0;
  }
  out << quality::format_projection(in, *p);
  if (!opts.json_file.empty()) {
    std::ofstream f(opts.json_file);
    f << quality::projection_json(in, *p) << "\n";
    if (!f) {
      err << "support-agent: cannot write " << opts.json_file << "\n";
      return 1;
    }
  }
  return 0;
}

} // namespace sa
