// Registers every message type with CAF, once, under stable names, so messages can cross nodes.
#pragma once

namespace caf {
class actor_system_config;
}

namespace sa {

/// Adds every type in messages/ (and the support error category) to `cfg`. Call on every node.
void register_message_types(caf::actor_system_config& cfg);

} // namespace sa
