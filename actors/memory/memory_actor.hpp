// memory service: one per node, owns the in-process memory_store (the default backend).
#pragma once

#include "actors/memory/memory_store.hpp"
#include "messages/memory.hpp"

namespace sa {

struct memory_state {
  static inline const char* name = "memory";
  memory_store store{memory_store::limits{}};
};

memory_actor::behavior_type inprocess_memory(memory_actor::stateful_pointer<memory_state> self,
                                             memory_store::limits limits);

} // namespace sa
