// provider_actor: one configured LLM endpoint (OpenAI, Anthropic, Gemini or an OpenAI-compatible server)
// as an actor speaking messages/completion.hpp. It owns the endpoint's health - circuit breaker, retries
// with backoff and jitter that honour retry-after, a retry budget - and streams answers through the
// shared http_client (runtime/http_client.hpp), whose loop thread delivers the response to this actor as
// messages; the actor never blocks.
//
// Per call: the breaker is asked first (open: answered at once with circuit_open, so strategies skip a
// down provider instead of waiting for it); then the request is sent with timeouts cut to the call's
// deadline. The response is decoded on the http client's loop thread, which sends each delta straight to
// the call's sink and this actor one message when the attempt ends (not one per network chunk): the
// actor stays off the per-token path, and a token costs one hop from the loop to the sink; a retryable failure before the first
// delta is retried on this endpoint within the retry budget and the deadline; a failure after a delta
// is not retried here (the strategy restarts the answer elsewhere and tells the client).
//
// Thinking: a call whose request.thinking_budget is non-zero asks for thinking; the endpoint then uses
// its own configured budget (0 = the endpoint does not think) and raises max_tokens by it.
#pragma once

#include "actors/providers/cost.hpp"
#include "actors/providers/health.hpp"
#include "messages/completion.hpp"
#include "runtime/http_client.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace sa {
class metrics;
}

namespace sa::providers {

enum class wire_kind : uint8_t { openai, anthropic, gemini, openai_compatible };
bool wire_kind_from_string(const std::string& name, wire_kind& out) noexcept;

struct endpoint_settings {
  std::string name;              ///< the endpoint's config name, used in logs, metrics and errors
  wire_kind kind = wire_kind::openai;
  std::string base_url;          ///< scheme://host[:port] without trailing slash
  std::string model;
  std::string api_key;           ///< read from the environment by the caller; never logged
  uint32_t max_tokens = 1024;
  double temperature = -1;       ///< < 0: the provider's default
  uint32_t thinking_budget = 0;
  bool use_max_completion_tokens = false;
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds first_byte_timeout{10'000};
  std::chrono::milliseconds idle_timeout{10'000};
  uint32_t max_retries = 2;
  backoff_options backoff;
  retry_budget_options budget;
  breaker_options breaker;
  model_price price;
  uint64_t seed = 0;             ///< jitter; 0: from std::random_device
};

/// Asks a provider actor for its health and counters (metrics, tests, operators).
struct provider_health_request {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_health_request&) {
  return f(caf::meta::type_name("provider_health_request"));
}

struct provider_health {
  std::string name;
  std::string breaker;        ///< closed, open, half_open
  uint64_t breaker_opened = 0;///< times it opened
  uint64_t calls = 0;         ///< completion_calls received
  uint64_t requests = 0;      ///< HTTP requests sent (first attempts and retries)
  uint64_t retries = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;      ///< calls answered with an error (rejections by the open breaker included)
  uint64_t rejected_open = 0; ///< calls answered circuit_open without a request
  uint64_t budget_denied = 0; ///< retries the retry budget refused
  uint64_t in_flight = 0;     ///< calls in progress
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  double cost_usd = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_health& x) {
  return f(caf::meta::type_name("provider_health"), x.name, x.breaker, x.breaker_opened, x.calls, x.requests,
           x.retries, x.successes, x.failures, x.rejected_open, x.budget_denied, x.in_flight,
           x.prompt_tokens, x.completion_tokens, x.cost_usd);
}

/// Internal: how one HTTP attempt ended, decoded on the http client's loop thread (see provider_actor.cpp).
struct attempt_outcome;

/// Internal: an attempt ended (one message per attempt; the deltas went straight to the call's sink).
/// Node-local by design: the outcome is shared, not serialized.
struct provider_attempt_done {
  uint64_t http_id = 0;
  std::shared_ptr<const attempt_outcome> outcome;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_attempt_done& x) {
  return f(caf::meta::type_name("provider_attempt_done"), x.http_id);
}

/// Internal: a scheduled retry of one call came due.
struct provider_retry_due {
  uint64_t call = 0;
  uint32_t attempt = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_retry_due& x) {
  return f(caf::meta::type_name("provider_retry_due"), x.call, x.attempt);
}

using provider_actor = completion_actor::extend<
  caf::replies_to<provider_health_request>::with<provider_health>, caf::reacts_to<provider_attempt_done>,
  caf::reacts_to<provider_retry_due>>;

/// Spawns the actor for one endpoint. `http` is shared by every provider of the node. `metrics` (optional)
/// gets the endpoint's calls by outcome, retries, breaker state, and tokens and cost by tenant and model.
provider_actor spawn_provider(caf::actor_system& sys, endpoint_settings settings, std::shared_ptr<http_client> http,
                              std::shared_ptr<sa::metrics> metrics = nullptr);

/// The same, spawned by `parent` (a supervisor).
provider_actor spawn_provider(caf::local_actor* parent, endpoint_settings settings, std::shared_ptr<http_client> http,
                              std::shared_ptr<sa::metrics> metrics = nullptr);

/// Registers the message types of this header (call from the actor system's config set-up).
void register_provider_types(caf::actor_system_config& cfg);

} // namespace sa::providers
