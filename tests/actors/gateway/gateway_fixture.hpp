// The gateway over real sockets, for the gateway's tests: a node, its gateway on 127.0.0.1 port 0, an HS256
// key, and helpers that connect a Beast WebSocket client and run one exchange. Every wait has a deadline.
#pragma once

#include "actors/gateway/gateway.hpp"
#include "tests/support/test_node.hpp"
#include "tests/support/ws_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sa::test {

using namespace std::chrono_literals;
using nlohmann::json;

inline const std::string secret = "gateway-test-secret-0123456789abcdef-0123456789";

inline gateway::token_keys hs256_keys() {
  gateway::token_keys k;
  k.algorithm = "HS256";
  k.secret = secret;
  return k;
}

/// A node with a gateway on an ephemeral port. `svc` defaults to the shared services (whose metrics
/// object all fixtures of one process share); the /metrics token is loaded as serve() loads it.
struct gateway_fixture {
  explicit gateway_fixture(gateway::token_keys keys = hs256_keys(),
                           void (*tune)(config::gateway_config&) = nullptr, session_children children = {},
                           std::shared_ptr<const node_services> svc = {})
    : node(std::move(children), std::move(svc)) {
    gateway::gateway_settings s;
    s.cfg.port = 0;
    s.cfg.web_root = std::string(SA_SOURCE_DIR) + "/web";
    s.cfg.shutdown_grace_ms = 2000;
    if (tune)
      tune(s.cfg);
    s.keys = std::move(keys);
    s.accounts = node.services->accounts;
    s.metrics = node.services->metrics;
    s.handoff = node.handles.handoff;
    s.quality = node.handles.quality;
    keys_ = s.keys;
    std::string error;
    if (!gateway::load_metrics_token(s.cfg, s.metrics_token, error))
      FAIL(error);
    auto started = gateway::gateway::start(*node.sys, node.handles.router, s);
    if (!started)
      FAIL(started.error());
    gw = std::move(*started);
  }

  std::string token(const std::string& tenant, const std::string& user, std::chrono::seconds ttl = 600s) const {
    return gateway::mint_token(keys_, tenant, user, ttl);
  }

  /// A token for the agent console (claim role: agent).
  std::string agent_token(const std::string& tenant, const std::string& agent, const std::string& name = {},
                          std::chrono::seconds ttl = 600s) const {
    return gateway::mint_token(keys_, tenant, agent, ttl, gateway::token_extras{gateway::roles::agent, name});
  }

  uint16_t port() const { return gw->port(); }

  test_node node;
  std::unique_ptr<gateway::gateway> gw;
  gateway::token_keys keys_;
};

/// Connects with ?token= and waits for the ready frame.
inline bool connect_ready(ws_client& c, uint16_t port, const std::string& token, const std::string& extra = {}) {
  if (!c.connect(port, "/ws?token=" + token + extra))
    return false;
  auto r = c.read();
  return r && (*r)["type"] == "ready";
}

/// Connects an agent console and reads agent_ready and the queue snapshot (nullopt if either is missing).
inline std::optional<json> connect_agent(ws_client& c, uint16_t port, const std::string& token) {
  if (!c.connect(port, "/agent/ws?token=" + token))
    return std::nullopt;
  auto ready = c.read();
  if (!ready || (*ready)["type"] != "agent_ready")
    return std::nullopt;
  return c.read_until("queue");
}

/// Sends a message and collects deltas up to its final (or error) frame.
struct exchange {
  std::vector<json> deltas;
  std::optional<json> final;
  std::optional<json> error;
  std::optional<json> session;
  std::vector<json> others;
  std::string streamed() const {
    std::string s;
    for (auto& d : deltas)
      s += d["text"].get<std::string>();
    return s;
  }
};

inline exchange ask(ws_client& c, const std::string& id, const std::string& text) {
  exchange x;
  REQUIRE(c.send_json({{"type", "message"}, {"id", id}, {"text", text}}));
  auto end = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < end) {
    auto f = c.read(20s);
    if (!f)
      break;
    auto type = (*f)["type"].get<std::string>();
    if (type == "delta")
      x.deltas.push_back(*f);
    else if (type == "session")
      x.session = *f;
    else if (type == "final") {
      x.final = *f;
      break;
    } else if (type == "error") {
      x.error = *f;
      break;
    } else
      x.others.push_back(*f);
  }
  return x;
}

} // namespace sa::test
