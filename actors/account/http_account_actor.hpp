// The HTTP account backend: account_actor over the company's own REST API (account.backend = "http").
// One per node, supervised like the embedded one, sharing the node's account http client.
#pragma once

#include "actors/account/account_api.hpp"
#include "config/config.hpp"
#include "messages/account.hpp"
#include "runtime/result.hpp"

#include "caf/fwd.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sa {

class http_client;
class metrics;

/// The backend's counters, kept across restarts of the actor (atomics: read at /metrics scrape time).
struct account_http_stats {
  std::atomic<uint64_t> requests{0};       ///< account_requests received
  std::atomic<uint64_t> lookups{0};        ///< HTTP lookups sent
  std::atomic<uint64_t> lookup_failures{0};///< lookups that failed (timeouts included)
  std::atomic<uint64_t> cache_hits{0};     ///< requests answered from the cache alone
  std::atomic<uint64_t> coalesced{0};      ///< requests that joined a fetch already in flight
  std::atomic<uint64_t> partial{0};        ///< answers with some lookups missing
  std::atomic<uint64_t> unavailable{0};    ///< answers without account facts
};

/// Reads an environment variable; nullptr when unset. Replaceable in tests.
using account_env_lookup = std::function<const char*(const char*)>;

/// The settings of account.http: URL templates parsed, the auth header's value read from the variable
/// named by auth_header_env. Fails naming the key or the variable (never quoting the value).
result<account_api::http_settings> account_http_settings_from(const config::account_config& cfg,
                                                              const account_env_lookup& env = {});

/// The actor. `client` is the node's account http client (its loop thread does the I/O and reads the
/// responses); `stats` is shared with the node's metrics.
account_actor spawn_http_accounts(caf::local_actor* parent, std::shared_ptr<const account_api::http_settings> settings,
                                  std::shared_ptr<http_client> client, std::shared_ptr<account_http_stats> stats);
account_actor spawn_http_accounts(caf::actor_system& sys, std::shared_ptr<const account_api::http_settings> settings,
                                  std::shared_ptr<http_client> client, std::shared_ptr<account_http_stats> stats);

/// Adds sa_account_* figures (read from `stats`) to the node's metrics; false when a name was taken.
bool add_account_http_metrics(metrics& m, const std::shared_ptr<account_http_stats>& stats);

} // namespace sa
