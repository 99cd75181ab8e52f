// The actor side of one agent console WebSocket (/agent/ws, docs/protocol.md "Agent console"): subscribes
// to its tenant's handoff queue, turns the agent's frames into agent_action requests for the handoff
// service and the service's updates into JSON frames. Spawned by the io thread once the token verified with
// role agent; it never touches the socket (connection_link posts to the connection's strand).
#pragma once

#include "actors/gateway/connection_actor.hpp"
#include "actors/gateway/gateway_messages.hpp"

#include <string>

namespace sa::gateway {

struct agent_connection_deps {
  handoff_actor handoff;
  gateway_actor gateway;  ///< its going away (node shutdown) ends the connection
  std::string tenant;
  std::string agent;
  std::string name;       ///< what customers see
};

agent_connection_actor spawn_agent_connection(caf::actor_system& sys, agent_connection_deps deps,
                                              connection_link link);

} // namespace sa::gateway
