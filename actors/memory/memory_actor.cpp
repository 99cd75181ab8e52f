// In-process memory actor: answers memory_load / memory_append from the node's memory_store. Only one
// incarnation runs at a time (its supervisor restarts it after it died), so the store needs no lock.
// Conflicts and foreign owners are errors in the reply, not crashes.
// The other backend, Redis, is actors/memory/redis_memory.cpp (same interface, same store as working copy).
#include "actors/memory/memory_actor.hpp"

#include "messages/errors.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

memory_actor::behavior_type inprocess_memory(memory_actor::stateful_pointer<memory_state> self,
                                             std::shared_ptr<memory_store> store) {
  log_exceptions(self, "memory");
  self->state.store = std::move(store);
  return {
    [self](const memory_load& r) -> conversation_memory {
      return self->state.store->load(r.tenant, r.session, memory_store::clock::now());
    },
    [self](const memory_append& r) -> caf::result<memory_ack> {
      turn_number committed = 0;
      auto outcome = self->state.store->append(r.tenant, r.session, r.owner, r.turn, memory_store::clock::now(),
                                        &committed);
      switch (outcome) {
        case memory_store::append_outcome::committed: return memory_ack{committed, false};
        case memory_store::append_outcome::duplicate: return memory_ack{committed, true};
        case memory_store::append_outcome::conflict: return make_error(support_errc::turn_conflict);
        case memory_store::append_outcome::wrong_owner: return make_error(support_errc::session_forbidden);
      }
      return make_error(support_errc::internal);
    },
    [self](const memory_stats_request&) -> memory_stats {
      memory_stats s;
      s.backend = "inprocess";
      s.sessions = self->state.store->size();
      return s;
    },
  };
}

} // namespace sa
