// The actor side of one WebSocket connection: receives the client's parsed frames from the io thread and
// the session's turn events, and sends JSON frames back through a connection_link (which posts to the
// connection's strand). It never touches the socket.
#pragma once

#include "actors/gateway/gateway_messages.hpp"

#include "caf/fwd.hpp"

#include <functional>
#include <memory>
#include <string>

namespace sa {
class metrics;
}

namespace sa::gateway {

/// How the actor reaches its socket: both functions only post to the io thread, from any thread.
struct connection_link {
  std::function<void(std::string frame)> send;
  std::function<void(uint16_t close_code, std::string reason)> close;
};

struct connection_deps {
  session_actor router;
  gateway_actor gateway;
  std::string tenant;
  std::string user;
  std::shared_ptr<sa::metrics> metrics;  ///< CSAT ratings by intent and escalation reason; optional
  handoff_actor handoff;                 ///< agent frames of the bound session; null: none
  quality_actor quality;                 ///< stores ratings and surveys per conversation; null: counted only
};

connection_actor spawn_connection(caf::actor_system& sys, connection_deps deps, connection_link link);

/// The gateway actor (session id bindings), with up to `max_bindings` remembered ids.
gateway_actor spawn_gateway_actor(caf::actor_system& sys, size_t max_bindings = 1000000);

} // namespace sa::gateway
