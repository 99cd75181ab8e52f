// cost: see the header.
#include "actors/providers/cost.hpp"

namespace sa::providers {

double cost_usd(const usage& u, const model_price& price) noexcept {
  return (static_cast<double>(u.prompt_tokens) * price.input_per_mtok
          + static_cast<double>(u.completion_tokens) * price.output_per_mtok)
         / 1'000'000.0;
}

double thinking_cost_usd(const usage& u, const model_price& price) noexcept {
  auto thinking = u.thinking_tokens < u.completion_tokens ? u.thinking_tokens : u.completion_tokens;
  return static_cast<double>(thinking) * price.output_per_mtok / 1'000'000.0;
}

} // namespace sa::providers
