// cost: what a completion cost, from its token usage and the model's list price.
#pragma once

#include "actors/providers/provider_types.hpp"

namespace sa::providers {

/// US dollars per million tokens. Thinking tokens are billed as output by all three providers.
struct model_price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};

/// prompt * input + completion (thinking included) * output, per million tokens. 0 for a free model.
double cost_usd(const usage& u, const model_price& price) noexcept;

/// The part of cost_usd(u, price) spent on thinking tokens (min(thinking, completion) x output price).
double thinking_cost_usd(const usage& u, const model_price& price) noexcept;

} // namespace sa::providers
