// The gateway: a Boost.Beast HTTP + WebSocket server on one port, run by io thread(s) it owns, bridged
// to CAF by messages only. `gateway::start` binds and starts; `stop` (or the destructor) shuts down
// gracefully: stop accepting, close every WebSocket with 1001, wait up to shutdown_grace_ms, join.
// Beast types stay inside server.cpp; this header is cheap to include.
#pragma once

#include "actors/account/account_store.hpp"
#include "actors/gateway/token_auth.hpp"
#include "config/config.hpp"
#include "messages/handoff.hpp"
#include "messages/quality.hpp"
#include "messages/session.hpp"
#include "runtime/result.hpp"

#include "caf/fwd.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace sa {
class metrics;
}

namespace sa::gateway {

struct gateway_settings {
  config::gateway_config cfg;
  token_keys keys;
  std::shared_ptr<const account_store> accounts;  ///< for /dev/tenants and /dev/token checks (optional)
  /// The node's figures: GET /metrics renders them (cfg.metrics_enabled), connections and CSAT ratings
  /// update them. Null: /metrics answers 404.
  std::shared_ptr<sa::metrics> metrics;
  /// The bearer token GET /metrics requires; empty: none (see load_metrics_token).
  std::string metrics_token;
  /// The node's handoff service: the agent console (/agent/ws) and the agent frames of customers' sessions.
  /// Null: /agent/ws answers 404.
  handoff_actor handoff;
  /// The node's quality service: customers' ratings and surveys are stored there. Null: counted only.
  quality_actor quality;
};

/// Reads the /metrics token from the environment variable named by gateway.metrics_token_env (nothing to
/// read when it is empty or metrics are off). Fails, naming the variable, when it is unset or empty.
bool load_metrics_token(const config::gateway_config& cfg, std::string& out, std::string& error);

class gateway {
public:
  /// Binds cfg.listen_address:cfg.port (0 = any free port) and starts serving.
  static result<std::unique_ptr<gateway>> start(caf::actor_system& sys, session_actor router,
                                                gateway_settings settings);

  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// The bound port.
  uint16_t port() const noexcept;

  /// Open WebSocket connections right now.
  int connections() const noexcept;

  /// Graceful shutdown; idempotent. Blocks the caller up to shutdown_grace_ms (never call it from an actor).
  void stop();

  struct impl;

private:
  explicit gateway(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace sa::gateway
