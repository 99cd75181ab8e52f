// Cluster actor: one per node. It owns the node's view of the cluster: publishes itself on cluster.port,
// joins the addresses the member registry names (with the authenticated handshake of messages/cluster.hpp),
// accepts joins from nodes that know the secret, monitors every member's control actor and cluster
// router, and tells the cluster router the live member set whenever it changes. A member leaves the set
// only when CAF reports it down (node lost: exit_reason::remote_link_unreachable, detected by the
// middleman's heartbeats within cluster.connection_timeout_ms; or its actor stopped).
// To add a control message: a struct in messages/cluster.hpp, registered in messages/registry.cpp, a
// handler here that checks the sender is a member (membership::find_node) before acting on it.
#include "actors/cluster/cluster.hpp"

#include "actors/cluster/cluster_auth.hpp"
#include "actors/cluster/cluster_router.hpp"
#include "actors/cluster/handoff_router.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"
#include "caf/io/middleman.hpp"
#include "caf/io/middleman_actor.hpp"

#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace sa::cluster {

namespace {

/// Private timer: ask the registry for nodes to join.
struct discovery_tick {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, discovery_tick&) {
  return f(caf::meta::type_name("sa::cluster::discovery_tick"));
}

using cluster_impl = cluster_control_actor::extend<caf::reacts_to<discovery_tick>>;

struct peer_handles {
  session_router_actor router;
  cluster_control_actor control;
  handoff_actor handoff;  // may be null
};

struct cluster_state {
  static inline const char* name = "cluster";
  cluster_settings cfg;
  cluster_member self_member;
  std::unique_ptr<membership> members;
  std::map<std::string, peer_handles> handles;               // other members by name
  std::unordered_map<caf::actor_addr, std::string> watched;  // monitored handle -> member name
  std::unique_ptr<challenge_book> challenges;
  std::set<std::string> joining;                             // host:port with an attempt in flight
  std::set<std::string> self_addresses;                      // host:port that turned out to be this node
  cluster_router_actor router;
  handoff_router_actor handoff_router;  // null: this node serves no handoffs to members
  member_registry_actor registry;
  caf::io::middleman_actor mm;
  fatal_fn on_fatal;
  bool joined = false;     // some member accepted us, or we accepted one
  bool fatal_sent = false;
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = cluster_impl::stateful_pointer<cluster_state>;

std::string node_text(const caf::node_id& n) {
  return to_string(n);
}

void publish_view(self_ptr self, const char* why) {
  auto& st = self->state;
  cluster_view v;
  for (auto& [name, h] : st.handles)
    v.members.push_back(cluster_view::member{name, h.router, h.handoff});
  if (st.handoff_router)
    self->send(st.handoff_router, v);
  self->send(st.router, std::move(v));
  st.log->info("event=cluster_members count={} members={} change={}", st.members->names().size(),
               st.members->describe(), why);
}

void unwatch(self_ptr self, const peer_handles& h) {
  auto& st = self->state;
  for (auto addr : {h.router.address(), h.control.address()}) {
    st.watched.erase(addr);
    self->demonitor(addr);
  }
}

/// Admits `m` (its handles already checked to live on one node); monitors it and publishes the view.
membership::admit_outcome admit(self_ptr self, const cluster_member& m) {
  auto& st = self->state;
  member_record rec{m.name, m.host, m.port, node_text(m.control.node())};
  member_record old;
  auto out = st.members->admit(rec, &old);
  if (out == membership::admit_outcome::name_taken || out == membership::admit_outcome::refreshed)
    return out;
  if (out == membership::admit_outcome::replaced) {
    if (auto i = st.handles.find(m.name); i != st.handles.end()) {
      unwatch(self, i->second);
      st.handles.erase(i);
    }
    st.log->warn("event=member_replaced name={} old_node={} new_node={}", m.name, old.node, rec.node);
  }
  st.handles[m.name] = peer_handles{m.router, m.control, m.handoff};
  for (auto addr : {m.router.address(), m.control.address()}) {
    st.watched[addr] = m.name;
    self->monitor(addr);
  }
  st.log->info("event=member_joined name={} address={}:{}", m.name, m.host, m.port);
  publish_view(self, "joined");
  return out;
}

std::vector<member_address> other_members(self_ptr self, const std::string& except) {
  std::vector<member_address> out;
  for (auto& [name, rec] : self->state.members->others())
    if (name != except)
      out.push_back(member_address{rec.host, rec.port, rec.name});
  return out;
}

void refused(self_ptr self, const std::string& address, const std::string& peer, const caf::error& e) {
  auto& st = self->state;
  if (e.category() != cluster_error_atom::value) {
    st.log->warn("event=join_failed address={} peer={} error={}", address, peer, to_string(e));
    return;
  }
  auto code = static_cast<cluster_errc>(e.code());
  st.log->error("event=join_refused_by address={} peer={} reason={}", address, peer, to_string(code));
  if (st.joined || st.fatal_sent || !st.on_fatal)
    return;
  std::string why;
  if (code == cluster_errc::bad_proof)
    why = "it does not accept our cluster secret: every node needs the same secret in the variable named by "
          "cluster.secret_env";
  else if (code == cluster_errc::name_taken)
    why = "another node already uses node.name '" + st.cfg.name + "': give every node its own node.name";
  else
    return;  // transient (an expired challenge): the next discovery round tries again
  st.fatal_sent = true;
  st.on_fatal(2, "cluster member " + peer + " at " + address + " refused this node: " + why);
}

void try_join(self_ptr self, const std::string& host, uint16_t port);

void handshake(self_ptr self, std::string address, cluster_control_actor peer) {
  auto& st = self->state;
  auto t = st.cfg.join_timeout;
  self->request(peer, t, cluster_hello{st.cfg.name})
    .then(
      [self, address, peer, t](cluster_challenge& c) {
        auto& st = self->state;
        auto client_nonce = random_nonce();
        auto proof = join_proof(st.cfg.secret, c.nonce, client_nonce, st.cfg.name, st.cfg.advertise_host,
                                st.cfg.port, c.name);
        self->request(peer, t, cluster_join{st.self_member, c.nonce, client_nonce, std::move(proof)})
          .then(
            [self, address, peer, client_nonce, responder = c.name](cluster_welcome& w) {
              auto& st = self->state;
              st.joining.erase(address);
              if (!equal_constant_time(w.proof, welcome_proof(st.cfg.secret, client_nonce, responder, st.cfg.name))) {
                st.log->error("event=join_failed address={} peer={} reason=bad_welcome_proof", address, responder);
                return;
              }
              auto& m = w.member;
              if (m.name != responder || !m.control || !m.router || m.control.node() != peer.node()
                  || m.router.node() != peer.node() || (m.handoff && m.handoff.node() != peer.node())) {
                st.log->error("event=join_failed address={} peer={} reason=bad_welcome", address, responder);
                return;
              }
              if (admit(self, m) == membership::admit_outcome::name_taken) {
                st.log->error("event=join_failed address={} peer={} reason=name_taken", address, responder);
                return;
              }
              st.joined = true;
              for (auto& x : w.others)
                if (x.name != st.cfg.name && !st.members->find(x.name))
                  try_join(self, x.host, x.port);
            },
            [self, address, responder = c.name](caf::error& e) {
              self->state.joining.erase(address);
              refused(self, address, responder, e);
            });
      },
      [self, address](caf::error& e) {
        self->state.joining.erase(address);
        self->state.log->warn("event=join_failed address={} step=hello error={}", address, to_string(e));
      });
}

void try_join(self_ptr self, const std::string& host, uint16_t port) {
  auto& st = self->state;
  auto address = host + ":" + std::to_string(port);
  if (st.joining.count(address) != 0 || st.self_addresses.count(address) != 0 || st.members->find_address(host, port))
    return;
  if (host == st.cfg.advertise_host && port == st.cfg.port) {
    st.self_addresses.insert(address);
    return;
  }
  st.joining.insert(address);
  self->request(st.mm, st.cfg.join_timeout, caf::connect_atom::value, host, port)
    .then(
      [self, address](caf::node_id& nid, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        auto& st = self->state;
        if (nid == self->node()) {
          st.self_addresses.insert(address);
          st.joining.erase(address);
          return;
        }
        if (st.members->find_node(node_text(nid)) || !ptr) {  // another address of a member, or nothing published
          st.joining.erase(address);
          return;
        }
        handshake(self, address, caf::actor_cast<cluster_control_actor>(std::move(ptr)));
      },
      [self, address](caf::error& e) {
        self->state.joining.erase(address);
        self->state.log->debug("event=join_unreachable address={} error={}", address, to_string(e));
      });
}

cluster_impl::behavior_type cluster_actor(self_ptr self, cluster_settings cfg, cluster_router_actor router,
                                          handoff_router_actor handoff_router, member_registry_actor registry,
                                          fatal_fn on_fatal) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.router = std::move(router);
  st.handoff_router = std::move(handoff_router);
  st.registry = std::move(registry);
  st.on_fatal = std::move(on_fatal);
  st.log = log::get("cluster");
  log_exceptions(self, "cluster");
  st.mm = self->home_system().middleman().actor_handle();
  st.challenges = std::make_unique<challenge_book>(st.cfg.join_timeout);
  st.self_member = cluster_member{st.cfg.name, st.cfg.advertise_host, st.cfg.port,
                                  caf::actor_cast<session_router_actor>(st.router),
                                  caf::actor_cast<cluster_control_actor>(self),
                                  caf::actor_cast<handoff_actor>(st.handoff_router)};
  st.members = std::make_unique<membership>(
    member_record{st.cfg.name, st.cfg.advertise_host, st.cfg.port, node_text(self->node())});
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.watched.find(dm.source);
    if (i == st.watched.end())
      return;
    auto name = i->second;
    st.watched.erase(i);
    if (!st.members->remove(name, node_text(dm.source.node())))
      return;
    if (auto h = st.handles.find(name); h != st.handles.end()) {
      unwatch(self, h->second);
      st.handles.erase(h);
    }
    st.log->warn("event=member_lost name={} reason={}", name, to_string(dm.reason));
    publish_view(self, "lost");
  });
  self->send(self, discovery_tick{});
  return {
    [self](cluster_hello& h) -> cluster_challenge {
      auto& st = self->state;
      st.log->debug("event=join_hello peer={}", h.name);
      return cluster_challenge{st.cfg.name, st.challenges->issue(challenge_book::clock::now())};
    },
    [self](cluster_join& j) -> caf::result<cluster_welcome> {
      auto& st = self->state;
      auto& sender = self->current_sender();
      auto refuse = [&](cluster_errc code) {
        st.log->warn("event=join_refused peer={} node={} reason={}", j.member.name,
                     sender ? node_text(sender->node()) : std::string{"none"}, to_string(code));
        return make_error(code);
      };
      if (!st.challenges->consume(j.server_nonce, challenge_book::clock::now()))
        return refuse(cluster_errc::unknown_challenge);
      auto expected = join_proof(st.cfg.secret, j.server_nonce, j.client_nonce, j.member.name, j.member.host,
                                 j.member.port, st.cfg.name);
      if (!equal_constant_time(expected, j.proof))
        return refuse(cluster_errc::bad_proof);
      auto& m = j.member;
      if (!sender || !m.control || !m.router || sender->node() != m.control.node()
          || sender->node() != m.router.node() || (m.handoff && sender->node() != m.handoff.node())
          || m.name.empty() || m.host.empty() || m.port == 0)
        return refuse(cluster_errc::bad_member);
      auto out = admit(self, m);
      if (out == membership::admit_outcome::name_taken)
        return refuse(cluster_errc::name_taken);
      st.joined = true;
      if (out != membership::admit_outcome::refreshed)
        for (auto& [name, h] : st.handles)
          if (name != m.name)
            self->send(h.control, cluster_member_hint{m.name, m.host, m.port});
      return cluster_welcome{st.self_member, other_members(self, m.name),
                             welcome_proof(st.cfg.secret, j.client_nonce, st.cfg.name, m.name)};
    },
    [self](cluster_member_hint& h) {
      auto& st = self->state;
      auto& sender = self->current_sender();
      if (!sender || !st.members->find_node(node_text(sender->node()))) {
        st.log->warn("event=hint_dropped reason=not_a_member");
        return;
      }
      if (!st.members->find(h.name))
        try_join(self, h.host, h.port);
    },
    [self](discovery_tick) {
      auto& st = self->state;
      auto interval = st.cfg.discovery_interval;
      self->send(st.registry, registry_heartbeat{member_address{st.cfg.advertise_host, st.cfg.port, st.cfg.name},
                                                 static_cast<uint32_t>(interval.count() * 3)});
      self->request(st.registry, interval, registry_lookup{})
        .then(
          [self](registry_members& r) {
            for (auto& a : r.members)
              if (a.name.empty() || !self->state.members->find(a.name))
                try_join(self, a.host, a.port);
          },
          [self](caf::error& e) {
            // The registry is unreachable: keep the member set we have (members leave only when down),
            // and still try the configured seeds, so a node started during a registry outage can join.
            auto& st = self->state;
            st.log->warn("event=registry_lookup_failed error={}", to_string(e));
            for (auto& s : st.cfg.seeds)
              try_join(self, s.host, s.port);
          });
      self->delayed_send(self, interval, discovery_tick{});
    },
  };
}

} // namespace

member_registry_actor spawn_seed_registry(caf::actor_system& sys, std::vector<host_port> seeds) {
  auto fn = [](member_registry_actor::pointer self, std::vector<host_port> seeds) -> member_registry_actor::behavior_type {
    (void) self;
    return {
      [](registry_heartbeat&) {},
      [seeds](registry_lookup&) {
        registry_members out;
        for (auto& s : seeds)
          out.members.push_back(member_address{s.host, s.port, {}});
        return out;
      },
    };
  };
  return sys.spawn(fn, std::move(seeds));
}

result<cluster_settings> settings_from(const config::config& cfg,
                                       const std::function<const char*(const char*)>& getenv) {
  const auto& c = cfg.cluster;
  cluster_settings s;
  s.name = cfg.node.name;
  s.listen_address = c.listen_address;
  s.advertise_host = c.advertise_host.empty() ? c.listen_address : c.advertise_host;
  s.port = static_cast<uint16_t>(c.port);
  for (const auto& seed : c.seeds) {
    auto hp = parse_host_port(seed);
    if (!hp)
      return failure{"cluster.seeds: \"" + seed + "\" is not host:port"};
    s.seeds.push_back(*hp);
  }
  const char* secret = getenv(c.secret_env.c_str());
  if (!secret || !*secret)
    return failure{"cluster.port is set but the environment variable " + c.secret_env +
                   " (cluster.secret_env) is empty: every node of a cluster needs the same secret there, e.g. "
                   "export " + c.secret_env + "=\"$(openssl rand -hex 32)\" on one node and copy it to the others"};
  s.secret = secret;
  if (s.secret.size() < min_secret_bytes)
    return failure{"the cluster secret in " + c.secret_env + " is " + std::to_string(s.secret.size()) +
                   " bytes; at least " + std::to_string(min_secret_bytes) + " are needed (openssl rand -hex 32)"};
  s.join_timeout = std::chrono::milliseconds{c.join_timeout_ms};
  s.discovery_interval = std::chrono::milliseconds{c.discovery_interval_ms};
  // A forwarded turn may wait behind one turn in its session, then runs its own; past that (plus the time
  // to notice a lost node) something was lost without the node being lost.
  s.relay_deadline = std::chrono::milliseconds{2 * cfg.session.turn_timeout_ms + c.connection_timeout_ms};
  return s;
}

result<cluster_handles> start_cluster(caf::actor_system& sys, session_router_actor local, cluster_settings settings,
                                      fatal_fn on_fatal, member_registry_actor registry,
                                      handoff_router_actor handoff_router) {
  cluster_handles h;
  auto router = spawn_cluster_router(sys, std::move(local), cluster_router_options{settings.name, settings.relay_deadline});
  h.router = router;
  if (handoff_router)
    h.handoff = caf::actor_cast<handoff_actor>(handoff_router);
  h.registry = registry ? std::move(registry) : spawn_seed_registry(sys, settings.seeds);
  auto listen = settings.listen_address;
  auto port = settings.port;
  // The cluster actor and router are not restarted: a node whose cluster view or routing failed could
  // disagree with the others about every owner, so it stops (through on_fatal) and is restarted whole.
  auto watch = [on_fatal](const char* what) {
    return [on_fatal, what](const caf::error& reason) {
      if (reason && reason != caf::exit_reason::user_shutdown && reason != caf::exit_reason::kill && on_fatal)
        on_fatal(1, std::string{"the cluster "} + what + " failed (" + to_string(reason) + ")");
    };
  };
  router->attach_functor(watch("router"));
  if (handoff_router)
    handoff_router->attach_functor(watch("handoff router"));
  auto actor = sys.spawn(cluster_actor, std::move(settings), router, handoff_router, h.registry, on_fatal);
  actor->attach_functor(watch("actor"));
  h.control = actor;
  auto bound = sys.middleman().publish(h.control, port, listen.c_str(), true);
  if (!bound) {
    stop_cluster(h);
    return failure{"cannot listen for cluster nodes on " + listen + ":" + std::to_string(port) + ": " +
                   sys.render(bound.error())};
  }
  h.port = *bound;
  return h;
}

void stop_cluster(const cluster_handles& h) {
  if (h.control)
    caf::anon_send_exit(h.control, caf::exit_reason::user_shutdown);
  if (h.router)
    caf::anon_send_exit(h.router, caf::exit_reason::user_shutdown);
  if (h.handoff)
    caf::anon_send_exit(h.handoff, caf::exit_reason::user_shutdown);
  if (h.registry)
    caf::anon_send_exit(h.registry, caf::exit_reason::user_shutdown);
}

} // namespace sa::cluster
