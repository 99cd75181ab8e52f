// Audit actor: owns the promises of events waiting for their store and the counters. The store calls back on
// its own thread; the callback only sends this actor an audit_stored message (anon_send: thread-safe, never
// blocks), which delivers the receipt. A new kind of check on events goes in `admit`.
#include "actors/audit/audit_actor.hpp"

#include "messages/errors.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <unordered_map>

namespace sa {

namespace {

/// Private: the store's outcome for one event (by this actor's ticket).
struct audit_stored {
  uint64_t ticket = 0;
  bool ok = false;
  bool shutting_down = false;
  uint64_t seq = 0;
  std::string hash;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_stored& x) {
  return f(caf::meta::type_name("sa::audit_stored"), x.ticket, x.ok, x.shutting_down, x.seq, x.hash);
}

using audit_impl = audit_actor::extend<caf::reacts_to<audit_stored>>;

struct audit_state {
  static inline const char* name = "audit";
  std::shared_ptr<const audit_deps> deps;
  std::unordered_map<uint64_t, caf::typed_response_promise<audit_receipt>> waiting;
  uint64_t next_ticket = 1;
  audit_stats counters;
  std::shared_ptr<spdlog::logger> log = log::get("audit");
};

using self_ptr = audit_impl::stateful_pointer<audit_state>;

/// Why an event cannot be recorded at all (empty when it can).
std::string admit(const audit_event& e) {
  if (e.actor.empty())
    return "no actor";
  if (e.action.empty())
    return "no action";
  return {};
}

} // namespace

namespace {

audit_impl::behavior_type audit_service(self_ptr self, std::shared_ptr<const audit_deps> deps) {
  log_exceptions(self, "audit");
  self->state.deps = std::move(deps);
  self->state.counters.backend = self->state.deps->store->backend();
  return {
    [self](audit_event& e) -> caf::result<audit_receipt> {
      auto& st = self->state;
      if (auto why = admit(e); !why.empty()) {
        ++st.counters.refused;
        st.log->error("event=audit_refused reason=\"{}\" tenant={} action={}", why, e.tenant.value, e.action);
        return make_error(support_errc::internal);
      }
      std::size_t redactions = 0;
      bool was_object = true;
      audit::entry x;
      x.at = std::chrono::system_clock::now();
      x.tenant = std::move(e.tenant.value);
      x.actor = std::move(e.actor);
      x.action = std::move(e.action);
      x.args = st.deps->redactor->arguments(e.arguments, &redactions, &was_object);
      x.result = st.deps->redactor->text(e.result, &redactions);
      x.session = std::move(e.session.value);
      if (!was_object)
        st.log->warn("event=audit_arguments_not_an_object action={} (stored as unparsed)", x.action);
      st.counters.redactions += redactions;
      auto ticket = st.next_ticket++;
      auto me = caf::actor_cast<caf::actor>(self);
      auto accepted = st.deps->store->submit(std::move(x), [me, ticket](const audit::stored& s) {
        caf::anon_send(me, audit_stored{ticket, s.ok, s.shutting_down, s.seq, s.hash});
      });
      if (!accepted) {
        ++st.counters.refused;
        st.log->warn("event=audit_refused reason=queue_full backend={} where={}", st.deps->store->backend(),
                     st.deps->store->where());
        return make_error(support_errc::busy);
      }
      ++st.counters.appended;
      auto rp = self->make_response_promise<audit_receipt>();
      st.waiting.emplace(ticket, rp);
      return rp;
    },
    [self](const audit_stats_request&) -> audit_stats {
      auto& st = self->state;
      auto s = st.counters;
      auto store = st.deps->store->stats();
      s.last_seq = store.last_seq;
      s.durable = store.durable;
      s.queued = store.queued;
      s.store_errors = store.store_errors;
      return s;
    },
    [self](const audit_stored& m) {
      auto& st = self->state;
      auto i = st.waiting.find(m.ticket);
      if (i == st.waiting.end())
        return;
      auto rp = std::move(i->second);
      st.waiting.erase(i);
      if (m.ok)
        rp.deliver(audit_receipt{m.seq, m.hash});
      else
        rp.deliver(make_error(m.shutting_down ? support_errc::shutting_down : support_errc::internal));
    },
  };
}

} // namespace

audit_actor spawn_audit(caf::local_actor* parent, std::shared_ptr<const audit_deps> deps) {
  return parent->spawn(audit_service, std::move(deps));
}

audit_actor spawn_audit(caf::actor_system& sys, std::shared_ptr<const audit_deps> deps) {
  return sys.spawn(audit_service, std::move(deps));
}

} // namespace sa
