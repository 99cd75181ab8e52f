// Shared pieces of the strategy actors (strategy_support.hpp).
#include "actors/providers/strategies/strategy_support.hpp"

#include "runtime/log.hpp"

namespace sa::providers::strategy {

std::shared_ptr<spdlog::logger> logger() {
  return log::get("strategy");
}

std::string error_name(const caf::error& e) {
  if (auto code = provider_code(e))
    return to_string(*code);
  if (!e)
    return "none";
  if (e.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(e.code()));
  if (e.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(e.code()));
  return "error";
}

uint32_t attempts_of_failure(const caf::error& e) {
  auto code = provider_code(e);
  if (!code)
    return 1;
  switch (*code) {
    case provider_errc::circuit_open:
    case provider_errc::unsupported:
    case provider_errc::deadline:
    case provider_errc::cancelled: return 0;
    default: return 1;
  }
}

void add_spend(completion& total, const completion& part) {
  total.cost_usd += part.cost_usd;
  total.spent_prompt_tokens += part.spent_prompt_tokens;
  total.spent_completion_tokens += part.spent_completion_tokens;
  total.attempts += part.attempts;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty())
      out += "; ";
    out += p;
  }
  return out;
}

bool deadline_passed(steady_deadline d) noexcept {
  return time_left(d).count() <= 0;
}

completion_call member_call_for(const completion_call& upstream, const completion_sink_actor& strategy_sink) {
  completion_call c;
  c.id = next_completion_id();
  c.tenant = upstream.tenant;
  c.task = upstream.task;
  c.intent = upstream.intent;
  c.request = upstream.request;
  c.deadline = upstream.deadline;
  if (upstream.sink)
    c.sink = strategy_sink;
  c.grounding = upstream.grounding;
  return c;
}

std::vector<uint64_t> calls_to(const member_calls& calls, const caf::actor_addr& addr) {
  std::vector<uint64_t> out;
  for (const auto& entry : calls)
    if (entry.second.addr == addr)
      out.push_back(entry.first);
  return out;
}

} // namespace sa::providers::strategy
