// Names, ids, deadlines and errors of the completion interface (messages/completion.hpp).
#include "messages/completion.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include <atomic>

namespace sa {

const char* to_string(llm_task x) noexcept {
  switch (x) {
    case llm_task::generate: return "generate";
    case llm_task::classify: return "classify";
    case llm_task::judge: return "judge";
    case llm_task::summarize: return "summarize";
    case llm_task::moderate: return "moderate";
  }
  return "generate";
}

bool from_string(const std::string& name, llm_task& out) noexcept {
  for (auto x : {llm_task::generate, llm_task::classify, llm_task::judge, llm_task::summarize, llm_task::moderate})
    if (name == to_string(x)) {
      out = x;
      return true;
    }
  return false;
}

uint64_t next_completion_id() noexcept {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

steady_deadline deadline_in(std::chrono::milliseconds budget) noexcept {
  auto at = std::chrono::steady_clock::now() + budget;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

std::chrono::milliseconds time_left(steady_deadline d) noexcept {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  auto left_ns = d - now;
  // Round up: 0.3 ms left is still time left.
  return std::chrono::milliseconds{left_ns > 0 ? (left_ns + 999'999) / 1'000'000 : left_ns / 1'000'000};
}

const char* to_string(provider_errc x) noexcept {
  switch (x) {
    case provider_errc::rate_limited: return "rate_limited";
    case provider_errc::overloaded: return "overloaded";
    case provider_errc::server: return "server";
    case provider_errc::auth: return "auth";
    case provider_errc::invalid_request: return "invalid_request";
    case provider_errc::not_found: return "not_found";
    case provider_errc::quota: return "quota";
    case provider_errc::timeout: return "timeout";
    case provider_errc::connection: return "connection";
    case provider_errc::malformed: return "malformed";
    case provider_errc::truncated: return "truncated";
    case provider_errc::blocked: return "blocked";
    case provider_errc::circuit_open: return "circuit_open";
    case provider_errc::exhausted: return "exhausted";
    case provider_errc::cancelled: return "cancelled";
    case provider_errc::deadline: return "deadline";
    case provider_errc::retry_budget: return "retry_budget";
    case provider_errc::unsupported: return "unsupported";
  }
  return "server";
}

static_assert(static_cast<uint8_t>(providers::error_kind::rate_limited) == 0
              && static_cast<uint8_t>(providers::error_kind::blocked) == 11,
              "provider_errc 1..12 mirror error_kind + 1");

provider_errc to_errc(providers::error_kind kind) noexcept {
  return static_cast<provider_errc>(static_cast<uint8_t>(kind) + 1);
}

caf::error make_provider_error(provider_errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), provider_error_atom::value,
                    caf::make_message(std::move(message))};
}

std::optional<provider_errc> provider_code(const caf::error& e) noexcept {
  if (!e || e.category() != provider_error_atom::value)
    return std::nullopt;
  return static_cast<provider_errc>(e.code());
}

std::string provider_message(const caf::error& e) {
  if (e.category() != provider_error_atom::value)
    return {};
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace sa
