// Cluster router and turn relays (see cluster_router.hpp).
//
// Why a relay actor per forwarded turn rather than the router listening for all of them: the events of a
// turn carry only (session id, client message id), which two tenants may share, and a client may resend
// an id while the first is in flight; a relay knows its one listener without any lookup, and its life is
// exactly the turn's. Cost per forwarded turn: one spawn (~2 us), one local hop per event, and CAF's
// proxy bookkeeping for the relay on the owner's node - small next to the network round trip (see
// docs/benchmarks.md, "Cluster"). Turns owned here pay one local hop and no relay.
#include "actors/cluster/cluster_router.hpp"

#include "actors/cluster/rendezvous.hpp"
#include "messages/errors.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace sa::cluster {

namespace {

// --- the turn relay ---------------------------------------------------------------------------------

/// Private: send the turn to this owner instead (the previous one was lost).
struct relay_retarget {
  session_actor target;
  std::string owner;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, relay_retarget& x) {
  return f(caf::meta::type_name("sa::cluster::relay_retarget"), x.target, x.owner);
}

/// Private timer: the backstop for a turn that never ended.
struct relay_deadline {
  uint32_t attempt = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, relay_deadline& x) {
  return f(caf::meta::type_name("sa::cluster::relay_deadline"), x.attempt);
}

using relay_actor =
  session_listener_actor::extend<caf::reacts_to<relay_retarget>, caf::reacts_to<relay_deadline>>;

struct relay_state {
  static inline const char* name = "turn_relay";
  session_listener_actor listener;  // the client's
  user_turn turn;                   // as sent to owners: the relay is its listener
  session_actor target;
  std::string owner;
  std::chrono::milliseconds deadline{0};
  uint32_t attempt = 0;
  bool streamed = false;            // events went to the listener since the last (re)send
};

using relay_ptr = relay_actor::stateful_pointer<relay_state>;

/// Events come from the current owner's node; one without a sender is a dying session's last word
/// (sessions answer what they owe with anon_send) and is taken as well.
bool from_target(relay_ptr self) {
  auto& sender = self->current_sender();
  return !sender || sender->node() == self->state.target.node();
}

void send_turn(relay_ptr self) {
  auto& st = self->state;
  self->send(st.target, st.turn);
  self->delayed_send(self, st.deadline, relay_deadline{st.attempt});
}

relay_actor::behavior_type turn_relay(relay_ptr self, user_turn turn, session_actor target, std::string owner,
                                      std::chrono::milliseconds deadline) {
  auto& st = self->state;
  st.listener = std::move(turn.listener);
  st.turn = std::move(turn);
  st.turn.listener = caf::actor_cast<session_listener_actor>(self);
  st.target = std::move(target);
  st.owner = std::move(owner);
  st.deadline = deadline;
  send_turn(self);
  auto finish = [self](auto&& terminal) {
    self->send(self->state.listener, std::forward<decltype(terminal)>(terminal));
    self->quit();
  };
  return {
    [self](turn_delta& d) {
      if (!from_target(self))
        return;
      self->state.streamed = true;
      self->send(self->state.listener, std::move(d));
    },
    [self](turn_reset& r) {
      if (from_target(self))
        self->send(self->state.listener, std::move(r));
    },
    [self, finish](turn_completed& c) {
      if (from_target(self))
        finish(std::move(c));
    },
    [self, finish](turn_failed& f) {
      if (from_target(self))
        finish(std::move(f));
    },
    [self, finish](relay_retarget& r) {
      auto& st = self->state;
      auto log = log::get("cluster");
      if (st.attempt > 0) {
        log->warn("event=turn_lost_twice tenant={} from={}", st.turn.tenant.value, st.owner);
        finish(turn_failed{st.turn.session, st.turn.client_message_id,
                           static_cast<uint8_t>(support_errc::component_failed),
                           "Sorry, the servers handling this conversation went away. Please send your "
                           "message again."});
        return;
      }
      log->info("event=turn_retried tenant={} from={} to={} streamed={}", st.turn.tenant.value, st.owner,
                r.owner, st.streamed);
      if (st.streamed)
        self->send(st.listener, turn_reset{st.turn.session, st.turn.client_message_id, 0, "node_lost"});
      ++st.attempt;
      st.streamed = false;
      st.target = std::move(r.target);
      st.owner = std::move(r.owner);
      send_turn(self);
    },
    [self, finish](const relay_deadline& d) {
      auto& st = self->state;
      if (d.attempt != st.attempt)
        return;
      log::get("cluster")->warn("event=forwarded_turn_timeout tenant={} owner={}", st.turn.tenant.value,
                                st.owner);
      finish(turn_failed{st.turn.session, st.turn.client_message_id, static_cast<uint8_t>(support_errc::timeout),
                         "Sorry, this is taking longer than it should. Please send your message again."});
    },
  };
}

// --- the cluster router -----------------------------------------------------------------------------

struct inflight {
  std::string session;
  std::string owner;
  caf::node_id node;  // the owner's incarnation the turn went to
  relay_actor relay;
};

struct router_state {
  static inline const char* name = "cluster_router";
  cluster_router_options opts;
  session_router_actor local;
  std::vector<std::string> names;                          // live, this node included, sorted
  std::unordered_map<std::string, session_actor> routers;  // other members by name
  std::set<caf::node_id> member_nodes;
  std::unordered_map<caf::actor_addr, inflight> relays;
  std::shared_ptr<spdlog::logger> log;
};

using router_ptr = cluster_router_actor::stateful_pointer<router_state>;

session_actor target_of(router_ptr self, const std::string& owner) {
  auto& st = self->state;
  if (owner == st.opts.self_name)
    return st.local;
  return st.routers.at(owner);
}

void apply_view(router_ptr self, cluster_view& v) {
  auto& st = self->state;
  st.routers.clear();
  st.member_nodes.clear();
  st.names.assign(1, st.opts.self_name);
  for (auto& m : v.members) {
    if (!m.router || m.name == st.opts.self_name)
      continue;
    st.member_nodes.insert(m.router.node());
    st.names.push_back(m.name);
    st.routers.emplace(m.name, std::move(m.router));
  }
  std::sort(st.names.begin(), st.names.end());
  st.names.erase(std::unique(st.names.begin(), st.names.end()), st.names.end());
  // Turns in flight on a member that left (or came back as a new process before its loss was noticed) go
  // to their session's new owner.
  for (auto& [addr, f] : st.relays) {
    if (f.owner == st.opts.self_name)
      continue;
    if (auto i = st.routers.find(f.owner); i != st.routers.end() && i->second.node() == f.node)
      continue;
    auto owner = *rendezvous_owner(f.session, st.names);
    auto target = target_of(self, owner);
    self->send(f.relay, relay_retarget{target, owner});
    f.owner = std::move(owner);
    f.node = target.node();
  }
}

} // namespace

cluster_router_actor spawn_cluster_router(caf::actor_system& sys, session_router_actor local,
                                          cluster_router_options options) {
  auto fn = [](router_ptr self, session_router_actor local,
               cluster_router_options opts) -> cluster_router_actor::behavior_type {
    auto& st = self->state;
    st.local = std::move(local);
    st.opts = std::move(opts);
    st.names.assign(1, st.opts.self_name);
    st.log = log::get("cluster");
    log_exceptions(self, "cluster_router");
    self->set_down_handler([self](caf::down_msg& dm) { self->state.relays.erase(dm.source); });
    self->set_exit_handler([self](caf::exit_msg& m) {
      for (auto& [addr, f] : self->state.relays)
        self->send_exit(f.relay, m.reason ? m.reason : caf::error{caf::exit_reason::user_shutdown});
      self->quit(m.reason);
    });
    return {
      [self](user_turn& t) {
        auto& st = self->state;
        auto& sender = self->current_sender();
        if (!sender) {
          st.log->warn("event=turn_dropped reason=no_sender tenant={}", t.tenant.value);
          return;
        }
        if (sender->node() != self->node()) {
          if (st.member_nodes.count(sender->node()) == 0) {
            st.log->warn("event=turn_dropped reason=not_a_member node={}", to_string(sender->node()));
            return;
          }
          self->send(st.local, std::move(t));
          return;
        }
        const auto& owner = *rendezvous_owner(t.session.value, st.names);
        if (owner == st.opts.self_name || !t.listener) {
          self->send(st.local, std::move(t));  // the local router validates and answers bad input
          return;
        }
        auto session = t.session.value;
        const auto& target = st.routers.at(owner);
        auto relay = self->spawn<caf::monitored>(turn_relay, std::move(t), target, owner, st.opts.relay_deadline);
        st.relays.emplace(relay.address(), inflight{std::move(session), owner, target.node(), relay});
      },
      [self](cluster_view& v) { apply_view(self, v); },
      [self](router_stats_request& r) -> caf::delegated<router_stats> {
        return self->delegate(self->state.local, r);
      },
    };
  };
  return sys.spawn(fn, std::move(local), std::move(options));
}

} // namespace sa::cluster
