// memory service: one per node, serves the in-process memory_store (the default backend).
//
// The store belongs to the node, not to the actor: a memory actor restarted by its supervisor after a crash
// carries on with every conversation (only one incarnation runs at a time, so the store needs no lock).
#pragma once

#include "actors/memory/memory_store.hpp"
#include "messages/memory.hpp"

#include <memory>

namespace sa {

struct memory_state {
  static inline const char* name = "memory";
  std::shared_ptr<memory_store> store;
};

memory_actor::behavior_type inprocess_memory(memory_actor::stateful_pointer<memory_state> self,
                                             std::shared_ptr<memory_store> store);

} // namespace sa
