// Handoff router (see handoff_router.hpp): routing by session owner, fan-out and merge per tenant, and the
// probe that finds a record's member. The decisions themselves are in handoff_fanout.hpp.
#include "actors/cluster/handoff_router.hpp"

#include "actors/cluster/handoff_fanout.hpp"
#include "actors/cluster/rendezvous.hpp"
#include "messages/cluster.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace sa::cluster {

namespace {

/// Private timer: try again to greet a member that joined (generation: which incarnation).
struct greet_tick {
  std::string member;
  uint64_t generation = 0;
  int attempt = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, greet_tick& x) {
  return f(caf::meta::type_name("sa::cluster::greet_tick"), x.member, x.generation, x.attempt);
}

using router_impl = handoff_router_actor::extend<caf::reacts_to<greet_tick>>;

struct member_info {
  handoff_actor handoff;  // null: the member serves no handoffs
  caf::node_id node;
  uint64_t generation = 0;
  bool ready = false;     // answered a request of ours: it knows us as a member
};

struct agent_sub {
  tenant_id tenant;
  std::string agent;
  std::string name;
  handoff_agent_listener listener;
};

struct customer_sub {
  tenant_id tenant;
  session_id session;
  handoff_customer_actor listener;
  std::set<std::string> attached;  // the members whose service has it (this node included)
  agent_seen seen;                 // what the client had shown: for the first owner attached only
};

struct router_state {
  static inline const char* name = "handoff_router";
  handoff_router_options opts;
  handoff_actor local;
  std::vector<std::string> names;               // live, this node included, sorted
  std::map<std::string, member_info> members;   // other members by name
  std::set<caf::node_id> member_nodes;
  uint64_t next_generation = 0;
  std::vector<agent_sub> agents;                // this node's agent connections
  std::vector<customer_sub> customers;          // this node's customer connections
  location_cache where;
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = router_impl::stateful_pointer<router_state>;

enum class origin { local, member, stranger };

/// Who sent the current message: this node (connections; no sender counts as local), a member (its router
/// fanning out: serve locally), or a node that is not a member.
origin origin_of(self_ptr self) {
  auto& sender = self->current_sender();
  if (!sender || sender->node() == self->node())
    return origin::local;
  return self->state.member_nodes.count(sender->node()) != 0 ? origin::member : origin::stranger;
}

caf::error refuse_stranger(self_ptr self, const char* what) {
  auto& sender = self->current_sender();
  self->state.log->warn("event=handoff_request_dropped reason=not_a_member what={} node={}", what,
                        sender ? to_string(sender->node()) : std::string{"none"});
  return make_error(cluster_errc::bad_member);
}

/// The handoff service of `member` when it can be used now (this node: the local service).
handoff_actor target_of(self_ptr self, const std::string& member) {
  auto& st = self->state;
  if (member == st.opts.self_name)
    return st.local;
  auto it = st.members.find(member);
  if (it == st.members.end() || !it->second.ready)
    return {};
  return it->second.handoff;
}

/// This node first, then the ready members by name.
std::vector<std::pair<std::string, handoff_actor>> targets(self_ptr self) {
  auto& st = self->state;
  std::vector<std::pair<std::string, handoff_actor>> out{{st.opts.self_name, st.local}};
  for (auto& [name, m] : st.members)
    if (m.ready && m.handoff)
      out.emplace_back(name, m.handoff);
  return out;
}

// --- fan-out ------------------------------------------------------------------------------------------

template <class Answer>
struct gather {
  std::vector<std::string> members;
  std::vector<std::optional<Answer>> answers;  // nullopt: failed or timed out
  std::size_t pending = 0;
  std::function<void(gather&)> done;
};

/// Sends `req` to every target and calls `done` once with every answer (each member answers or times out).
template <class Answer, class Request>
void fan_out(self_ptr self, const Request& req, std::function<void(gather<Answer>&)> done) {
  auto ts = targets(self);
  auto g = std::make_shared<gather<Answer>>();
  g->answers.resize(ts.size());
  g->pending = ts.size();
  g->done = std::move(done);
  auto finish = [g] {
    if (--g->pending == 0)
      g->done(*g);
  };
  for (std::size_t i = 0; i < ts.size(); ++i) {
    g->members.push_back(ts[i].first);
    self->request(ts[i].second, self->state.opts.member_timeout, req)
      .then([g, i, finish](Answer& a) { g->answers[i] = std::move(a), finish(); },
            [self, g, i, finish](caf::error& e) {
              self->state.log->warn("event=handoff_member_unanswered member={} error={}", g->members[i], to_string(e));
              finish();
            });
  }
}

/// The gathered lists as one, remembering which member holds which record.
std::vector<handoff_view> merged(self_ptr self, gather<handoff_list>& g) {
  std::vector<member_list> lists;
  for (std::size_t i = 0; i < g.answers.size(); ++i) {
    member_list l{g.members[i], g.answers[i].has_value(), {}};
    if (l.ok) {
      l.handoffs = std::move(g.answers[i]->handoffs);
      for (auto& h : l.handoffs)
        self->state.where.remember(h.tenant, h.id, l.member);
    }
    lists.push_back(std::move(l));
  }
  return merge_lists(lists);
}

/// Asks every member (this node included) for its list and answers with the merged one.
template <class Request>
caf::result<handoff_list> merged_answer(self_ptr self, const Request& req) {
  auto rp = self->make_response_promise<handoff_list>();
  fan_out<handoff_list>(self, req, [self, rp](gather<handoff_list>& g) mutable {
    rp.deliver(handoff_list{merged(self, g)});
  });
  return rp;
}

/// Every agent connection here gets its tenant's merged queue again (the member set changed).
void refresh_agents(self_ptr self) {
  std::set<std::string> tenants;
  for (auto& a : self->state.agents)
    tenants.insert(a.tenant.value);
  for (auto& t : tenants)
    fan_out<handoff_list>(self, handoff_list_request{tenant_id{t}, false}, [self, t](gather<handoff_list>& g) {
      handoff_queue_changed q{merged(self, g)};
      for (auto& a : self->state.agents)
        if (a.tenant.value == t)
          self->send(a.listener, q);
    });
}

// --- a session's customer message -----------------------------------------------------------------------

/// Rank of an answer about one session: held (an agent has it) > open > had an agent > nothing.
int rank(const handoff_route& r) { return r.held ? 3 : r.open ? 2 : r.had_agent ? 1 : 0; }

/// The position of the highest-ranked answer that outranks `floor`; npos if none does.
std::size_t strongest(const std::vector<std::optional<handoff_route>>& answers, const handoff_route& floor) {
  std::size_t best = std::string::npos;
  int best_rank = rank(floor);
  for (std::size_t i = 0; i < answers.size(); ++i)
    if (answers[i] && rank(*answers[i]) > best_rank)
      best = i, best_rank = rank(*answers[i]);
  return best;
}

/// A member other than this node that may have a session's record.
struct member_ref {
  std::string name;
  handoff_actor service;
  handoff_route answer;  // what it said about the session
};

/// Probes the ready members other than this node about `q`'s session (read-only: nothing is stored, and the
/// customer's words are not sent) and calls `done` with the member whose answer outranks `floor` (usually
/// this node's own answer), if any. A member that does not answer within route_timeout counts as knowing
/// nothing.
void probe_members(self_ptr self, handoff_route_request q, handoff_route floor,
                   std::function<void(std::optional<member_ref>)> done) {
  std::vector<std::pair<std::string, handoff_actor>> others;
  for (auto& [name, m] : self->state.members)
    if (m.ready && m.handoff)
      others.emplace_back(name, m.handoff);
  if (others.empty()) {
    done(std::nullopt);
    return;
  }
  struct pending {
    std::vector<std::optional<handoff_route>> answers;
    std::size_t left = 0;
  };
  auto g = std::make_shared<pending>();
  g->answers.resize(others.size());
  g->left = others.size();
  auto finish = [g, floor, others, done]() {
    if (--g->left != 0)
      return;
    auto best = strongest(g->answers, floor);
    if (best == std::string::npos)
      done(std::nullopt);
    else
      done(member_ref{others[best].first, others[best].second, *g->answers[best]});
  };
  q.probe = true;
  q.text.clear();  // the members that do not know the session never see the customer's words
  for (std::size_t i = 0; i < others.size(); ++i)
    self->request(others[i].second, self->state.opts.route_timeout, q)
      .then([g, i, finish](handoff_route& r) { g->answers[i] = r, finish(); },
            [self, member = others[i].first, finish](caf::error& e) {
              self->state.log->warn("event=handoff_member_unanswered member={} what=route_probe error={}", member,
                                    to_string(e));
              finish();
            });
}

/// A customer message of a session running here (handoff.hpp: routing). This node's service answers when it
/// has an open record of the session. Otherwise the ready members are probed, because a session that moved here
/// (a member joined, or this node took over from a lost one) left its record where it ran before, and a record
/// here that an agent once wrote into may be older than one on another member. The member whose answer
/// outranks this node's is then sent the message itself: if its agent holds the conversation, it stores the
/// message for them.
caf::result<handoff_route> route_message(self_ptr self, handoff_route_request q) {
  auto rp = self->make_response_promise<handoff_route>();
  auto& st = self->state;
  self->request(st.local, st.opts.store_timeout, q)
    .then(
      [self, rp, q](handoff_route& here) mutable {
        if (here.held || here.open) {
          rp.deliver(here);
          return;
        }
        probe_members(self, q, here, [self, rp, q, here](std::optional<member_ref> best) mutable {
          if (!best) {
            rp.deliver(here);
            return;
          }
          self->state.log->info("event=handoff_route_remote session={} member={} held={}",
                                log::tag(q.tenant.value + "/" + q.session.value), best->name, best->answer.held);
          self->request(best->service, self->state.opts.store_timeout, q)
            .then([rp](handoff_route& r) mutable { rp.deliver(r); },
                  [self, rp, member = best->name](caf::error& e) mutable {
                    self->state.log->warn("event=handoff_member_unanswered member={} what=route error={}", member,
                                          to_string(e));
                    rp.deliver(std::move(e));
                  });
        });
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

/// Time left until `deadline`, at least 1 ms (a request with a timeout of 0 would wait for ever).
std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds{1});
}

/// An escalation of a session running here. It is recorded where the session's open record is, so that, as on
/// one node, it joins the record an agent holds or replaces a queued one: here when this node's service has
/// it (or no member does), else on the member that has it (the session moved here after its record was
/// opened there). If that member fails to record it, this node does: an escalation is never left unrecorded
/// for want of the better place. All of it within store_timeout, which is as long as the session waits.
caf::result<handoff_opened> route_open(self_ptr self, handoff_open o) {
  auto rp = self->make_response_promise<handoff_opened>();
  auto& st = self->state;
  auto deadline = std::chrono::steady_clock::now() + st.opts.store_timeout;
  auto record_here = [self, rp, o, deadline]() mutable {
    self->request(self->state.local, left_until(deadline), o)
      .then([rp](handoff_opened& r) mutable { rp.deliver(r); },
            [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  };
  handoff_route_request q{o.tenant, o.user, o.session, {}, {}, true};
  self->request(st.local, std::min(st.opts.route_timeout, left_until(deadline)), q)
    .then(
      [self, rp, o, q, deadline, record_here](const handoff_route& here) mutable {
        if (here.open) {
          record_here();
          return;
        }
        // Only an open record elsewhere takes the escalation: the floor outranks "had an agent".
        handoff_route floor;
        floor.had_agent = true;
        auto chosen = [self, rp, o, deadline, record_here](std::optional<member_ref> best) mutable {
          if (!best) {
            record_here();
            return;
          }
          self->state.log->info("event=handoff_open_remote session={} member={} held={}",
                                log::tag(o.tenant.value + "/" + o.session.value), best->name, best->answer.held);
          self->request(best->service, left_until(deadline), o)
            .then([rp](handoff_opened& r) mutable { rp.deliver(r); },
                  [self, member = best->name, record_here](caf::error& e) mutable {
                    self->state.log->warn("event=handoff_member_unanswered member={} what=open error={}", member,
                                          to_string(e));
                    record_here();
                  });
        };
        probe_members(self, q, floor, std::move(chosen));
      },
      // The probe failed: this node's service records it, or fails.
      [record_here](caf::error&) mutable { record_here(); });
  return rp;
}

// --- members joining and leaving ------------------------------------------------------------------------

/// Attaches every customer connection at each ready member (this node included) that does not have it yet.
/// The session's record may live on any of them - its owner's, or the member where the session ran before
/// it moved - and only the service holding it sends the connection the agent's frames; the others just
/// remember the connection (and drop the conversation it followed before, if any). What the client had
/// shown (agent_seen) goes to the session's owner only, the first time, as before connections went to every
/// member: another member's record of the session may be an older one, whose every line a client naming a
/// newer handoff would get again. (So a member holding a moved session's record sends what was never
/// delivered, but not lines that went to a connection as it was dropping.)
void attach_pending(self_ptr self) {
  auto& st = self->state;
  auto ts = targets(self);
  for (auto& c : st.customers) {
    const auto& owner = *rendezvous_owner(c.session.value, st.names);
    for (auto& [name, target] : ts)
      if (c.attached.insert(name).second)
        self->send(target, customer_attach{c.tenant, c.session, c.listener,
                                           name == owner ? std::exchange(c.seen, agent_seen{}) : agent_seen{}});
  }
}

void greeted(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto& m = st.members.at(name);
  m.ready = true;
  st.log->info("event=handoff_member_ready member={} agents={}", name, st.agents.size());
  for (auto& a : st.agents)
    self->request(m.handoff, st.opts.member_timeout, agent_subscribe{a.tenant, a.agent, a.name, a.listener})
      .then([self, name](handoff_list& l) {
              for (auto& h : l.handoffs)
                self->state.where.remember(h.tenant, h.id, name);
            },
            [self, name](caf::error& e) {
              self->state.log->warn("event=handoff_subscribe_failed member={} error={}", name, to_string(e));
            });
  attach_pending(self);
  if (!st.agents.empty())
    refresh_agents(self);  // after the subscriptions: the member answers them in order
}

void greet(self_ptr self, const std::string& name, uint64_t generation, int attempt) {
  auto& st = self->state;
  auto it = st.members.find(name);
  if (it == st.members.end() || it->second.generation != generation || !it->second.handoff)
    return;
  self->request(it->second.handoff, st.opts.member_timeout, handoff_list_request{tenant_id{}, false})
    .then(
      [self, name, generation](handoff_list&) {
        auto it = self->state.members.find(name);
        if (it != self->state.members.end() && it->second.generation == generation && !it->second.ready)
          greeted(self, name);
      },
      [self, name, generation, attempt](caf::error& e) {
        auto& st = self->state;
        if (attempt + 1 >= st.opts.greet_attempts) {
          st.log->error("event=handoff_member_unreachable member={} error={}", name, to_string(e));
          return;
        }
        self->delayed_send(self, st.opts.greet_interval, greet_tick{name, generation, attempt + 1});
      });
}

void apply_view(self_ptr self, cluster_view& v) {
  auto& st = self->state;
  std::map<std::string, member_info> next;
  std::vector<std::string> joined;
  st.member_nodes.clear();
  st.names.assign(1, st.opts.self_name);
  for (auto& m : v.members) {
    if (!m.router || m.name == st.opts.self_name)
      continue;
    auto node = m.router.node();
    st.member_nodes.insert(node);
    st.names.push_back(m.name);
    auto old = st.members.find(m.name);
    // The same incarnation: the same node and service. Otherwise it restarted (perhaps before its old
    // connection was seen to drop) and knows nothing of what this router told the old one.
    if (old != st.members.end() && old->second.node == node && old->second.handoff == m.handoff) {
      next.emplace(m.name, std::move(old->second));
      continue;
    }
    next.emplace(m.name, member_info{std::move(m.handoff), node, ++st.next_generation, false});
    joined.push_back(m.name);
  }
  std::sort(st.names.begin(), st.names.end());
  st.names.erase(std::unique(st.names.begin(), st.names.end()), st.names.end());
  bool lost = false;
  for (auto& [name, m] : st.members) {
    auto it = next.find(name);
    if (it == next.end() || it->second.generation != m.generation) {
      st.where.forget_member(name);
      for (auto& c : st.customers)
        c.attached.erase(name);  // attached again once the new incarnation is greeted
      lost = true;
    }
  }
  st.members = std::move(next);
  for (auto& name : joined) {
    auto& m = st.members.at(name);
    greet(self, name, m.generation, 0);
  }
  attach_pending(self);
  if (lost && !st.agents.empty())
    refresh_agents(self);
}

// --- requests from this node --------------------------------------------------------------------------

caf::result<agent_outcome> route_action(self_ptr self, agent_action& a) {
  auto& st = self->state;
  static const std::set<std::string> ops{handoff_ops::take,  handoff_ops::reply, handoff_ops::hand_back,
                                         handoff_ops::close, handoff_ops::tag,   handoff_ops::history};
  if (a.handoff.empty() || ops.count(a.op) == 0)
    return self->delegate(st.local, std::move(a));  // refused there (bad_request / not_found)
  if (auto* m = st.where.find(a.tenant, a.handoff))
    if (auto target = target_of(self, *m))
      return self->delegate(target, std::move(a));
  auto rp = self->make_response_promise<agent_outcome>();
  agent_action probe = a;
  probe.op = handoff_ops::history;
  probe.text.clear();
  fan_out<agent_outcome>(self, probe, [self, rp, a](gather<agent_outcome>& g) mutable {
    std::vector<probe_answer> answers;
    for (std::size_t i = 0; i < g.answers.size(); ++i)
      answers.push_back({g.members[i], g.answers[i].has_value(), g.answers[i] ? g.answers[i]->code : std::string{}});
    auto loc = locate(answers);
    if (loc.what != location::kind::found) {
      agent_outcome o;
      o.code = loc.what == location::kind::not_found ? handoff_codes::not_found : handoff_codes::unavailable;
      rp.deliver(std::move(o));
      return;
    }
    self->state.where.remember(a.tenant, a.handoff, loc.member);
    if (a.op == handoff_ops::history) {
      for (std::size_t i = 0; i < g.members.size(); ++i)
        if (g.members[i] == loc.member)
          rp.deliver(std::move(*g.answers[i]));
      return;
    }
    auto target = target_of(self, loc.member);
    if (!target) {  // left between the probe and now
      agent_outcome o;
      o.code = handoff_codes::unavailable;
      rp.deliver(std::move(o));
      return;
    }
    self->request(target, self->state.opts.member_timeout, a)
      .then([rp](agent_outcome& o) mutable { rp.deliver(std::move(o)); },
            [rp](caf::error&) mutable {
              agent_outcome o;
              o.code = handoff_codes::unavailable;
              rp.deliver(std::move(o));
            });
  });
  return rp;
}

void forget_connection(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  st.agents.erase(std::remove_if(st.agents.begin(), st.agents.end(),
                                 [&](const agent_sub& a) { return a.listener.address() == who; }),
                  st.agents.end());
  st.customers.erase(std::remove_if(st.customers.begin(), st.customers.end(),
                                    [&](const customer_sub& c) { return c.listener.address() == who; }),
                     st.customers.end());
}

} // namespace

handoff_router_actor spawn_handoff_router(caf::actor_system& sys, handoff_actor local, handoff_router_options options) {
  auto fn = [](self_ptr self, handoff_actor local, handoff_router_options opts) -> router_impl::behavior_type {
    auto& st = self->state;
    st.local = std::move(local);
    st.opts = std::move(opts);
    st.names.assign(1, st.opts.self_name);
    st.log = log::get("cluster");
    log_exceptions(self, "handoff_router");
    self->set_down_handler([self](caf::down_msg& dm) { forget_connection(self, dm.source); });
    return {
      [self](handoff_open& o) -> caf::result<handoff_opened> {
        auto from = origin_of(self);
        if (from == origin::stranger)
          return refuse_stranger(self, "handoff_open");
        if (from == origin::member)
          return self->delegate(self->state.local, std::move(o));
        return route_open(self, std::move(o));
      },
      [self](handoff_route_request& q) -> caf::result<handoff_route> {
        auto from = origin_of(self);
        if (from == origin::stranger)
          return refuse_stranger(self, "handoff_route_request");
        if (from == origin::member)
          return self->delegate(self->state.local, std::move(q));
        return route_message(self, std::move(q));
      },
      [self](customer_attach& a) {
        auto& st = self->state;
        auto from = origin_of(self);
        if (from == origin::stranger) {
          refuse_stranger(self, "customer_attach");
          return;
        }
        if (from == origin::member || !a.listener) {
          self->send(st.local, std::move(a));
          return;
        }
        // One entry per connection: it follows one conversation at a time.
        auto prev = std::find_if(st.customers.begin(), st.customers.end(),
                                 [&](const customer_sub& c) { return c.listener == a.listener; });
        if (prev == st.customers.end()) {
          self->monitor(a.listener);
        } else {
          if (prev->session == a.session && prev->tenant == a.tenant)
            return;
          // It moved to another conversation: every member's service gets the new attach, which ends the
          // previous one there.
          st.customers.erase(prev);
        }
        st.customers.push_back(customer_sub{a.tenant, a.session, a.listener, {}, std::move(a.seen)});
        attach_pending(self);
      },
      [self](customer_detach& d) {
        // From a member's router (this version attaches a moved connection everywhere instead).
        auto from = origin_of(self);
        if (from == origin::stranger) {
          refuse_stranger(self, "customer_detach");
          return;
        }
        self->send(self->state.local, std::move(d));
      },
      [self](agent_subscribe& s) -> caf::result<handoff_list> {
        auto& st = self->state;
        auto from = origin_of(self);
        if (from == origin::stranger)
          return refuse_stranger(self, "agent_subscribe");
        if (from == origin::member || !s.listener)
          return self->delegate(st.local, std::move(s));
        self->monitor(s.listener);
        st.agents.push_back(agent_sub{s.tenant, s.agent, s.name, s.listener});
        return merged_answer(self, s);
      },
      [self](handoff_list_request& q) -> caf::result<handoff_list> {
        auto from = origin_of(self);
        if (from == origin::stranger)
          return refuse_stranger(self, "handoff_list_request");
        if (from == origin::member)
          return self->delegate(self->state.local, std::move(q));
        return merged_answer(self, q);
      },
      [self](agent_action& a) -> caf::result<agent_outcome> {
        auto from = origin_of(self);
        if (from == origin::stranger)
          return refuse_stranger(self, "agent_action");
        if (from == origin::member)
          return self->delegate(self->state.local, std::move(a));
        return route_action(self, a);
      },
      [self](cluster_view& v) {
        if (origin_of(self) == origin::local)
          apply_view(self, v);
      },
      [self](greet_tick& t) {
        if (origin_of(self) == origin::local)
          greet(self, t.member, t.generation, t.attempt);
      },
    };
  };
  return caf::actor_cast<handoff_router_actor>(sys.spawn(fn, std::move(local), std::move(options)));
}

} // namespace sa::cluster
