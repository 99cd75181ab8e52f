// The handoff router in one process: fake handoff services stand in for this node's and the other members'
// (a member is "lost" when the cluster actor's view no longer has it). Waits have deadlines.
#include "actors/cluster/handoff_router.hpp"
#include "actors/cluster/rendezvous.hpp"
#include "tests/actors/cluster/collect_events.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <variant>

using namespace sa;
using namespace sa::cluster;
using namespace std::chrono_literals;

namespace {

/// What a fake service tells the test: kind is greet, subscribe, list, attach, probe or an action's op.
struct fake_event {
  std::string member;
  std::string kind;
  std::string detail;  // the handoff id or session
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fake_event& x) {
  return f(caf::meta::type_name("fake_event"), x.member, x.kind, x.detail);
}

handoff_view record(const std::string& id, int64_t created) {
  handoff_view v;
  v.tenant = tenant_id{"acme"};
  v.id = id;
  v.created_unix_ms = created;
  return v;
}

/// What the real service answers about `q`'s session, holding `records`: a stored message is turn 7 (a
/// probe stores nothing: turn 0).
handoff_route route_answer(const std::vector<handoff_view>& records, const handoff_route_request& q) {
  handoff_route r;
  for (auto& rec : records)
    if (rec.tenant == q.tenant && rec.session == q.session) {
      r.open = rec.state == handoff_states::queued || rec.state == handoff_states::assigned;
      r.held = rec.state == handoff_states::assigned;
      r.turn = r.held && !q.probe ? 7 : 0;
      r.had_agent = !r.open && rec.taken_unix_ms > 0;
    }
  return r;
}

/// A handoff service holding `records` (tenant acme) that reports every request to `probe` (kind "route",
/// or "ask" for the router's probes).
handoff_actor spawn_fake_service(caf::actor_system& sys, std::string name, std::vector<handoff_view> records,
                                 caf::actor probe) {
  auto fn = [](handoff_actor::pointer self, std::string name, std::vector<handoff_view> records,
               caf::actor probe) -> handoff_actor::behavior_type {
    auto of = [records](const tenant_id& t) {
      handoff_list l;
      for (auto& r : records)
        if (r.tenant == t)
          l.handoffs.push_back(r);
      return l;
    };
    return {
      [=](handoff_open& o) -> caf::result<handoff_opened> {  // answers with the member's name: where it went
        caf::anon_send(probe, fake_event{name, "open", o.session.value});
        if (o.session.value == "s-broken-at-" + name)
          return caf::make_error(caf::sec::runtime_error, "the store failed");
        return handoff_opened{"HO-" + name};
      },
      [=](handoff_route_request& q) {  // as the real service answers for its record of the session
        caf::anon_send(probe, fake_event{name, q.probe ? "ask" : "route", q.session.value});
        return route_answer(records, q);
      },
      [=](customer_attach& a) {  // the session, and what the client had shown when it says so
        auto shown = a.seen.given ? "@" + a.seen.handoff + ":" + std::to_string(a.seen.seq) : std::string{};
        caf::anon_send(probe, fake_event{name, "attach", a.session.value + shown});
      },
      [=](customer_detach& d) { caf::anon_send(probe, fake_event{name, "detach", d.session.value}); },
      [=](agent_subscribe& s) {
        caf::anon_send(probe, fake_event{name, "subscribe", s.agent});
        return of(s.tenant);
      },
      [=](handoff_list_request& q) -> caf::result<handoff_list> {
        // Answer first, then tell the test: the router has the answer in its mailbox before anything the
        // test sends it next (a greeted member is ready for the test's next request).
        auto rp = self->make_response_promise<handoff_list>();
        rp.deliver(of(q.tenant));
        caf::anon_send(probe, fake_event{name, q.tenant.value.empty() ? "greet" : "list", q.tenant.value});
        return rp;
      },
      [=](agent_action& a) {
        caf::anon_send(probe, fake_event{name, a.op == handoff_ops::history ? "probe" : a.op, a.handoff});
        agent_outcome o;
        o.code = handoff_codes::not_found;
        for (auto& r : records)
          if (r.tenant == a.tenant && r.id == a.handoff)
            o.code.clear(), o.view = r;
        return o;
      },
    };
  };
  return sys.spawn(fn, std::move(name), std::move(records), std::move(probe));
}

/// The cluster view names members by their session routers; these ones take nothing. (Spawned with an
/// argument: CAF 0.17 dereferences a null argument tuple for argument-less spawns.)
session_router_actor spawn_dummy_router(caf::actor_system& sys) {
  auto fn = [](session_router_actor::pointer, int) -> session_router_actor::behavior_type {
    return {[](user_turn&) {}, [](router_stats_request&) { return router_stats{}; }};
  };
  return sys.spawn(fn, 0);
}

using event = std::variant<fake_event, handoff_queue_changed>;

std::vector<event> collect(caf::scoped_actor& self, const std::function<bool(const std::vector<event>&)>& done,
                           std::chrono::milliseconds deadline = 10s) {
  return testing::collect_events<fake_event, handoff_queue_changed>(self, done, deadline);
}

std::vector<fake_event> events(const std::vector<event>& es, const std::string& kind) {
  std::vector<fake_event> out;
  for (auto& e : es)
    if (auto p = std::get_if<fake_event>(&e); p && p->kind == kind)
      out.push_back(*p);
  return out;
}

auto seen(const std::string& member, const std::string& kind) {
  return [member, kind](const std::vector<event>& es) {
    for (auto& e : events(es, kind))
      if (e.member == member)
        return true;
    return false;
  };
}

std::vector<std::string> ids(const std::vector<handoff_view>& vs) {
  std::vector<std::string> out;
  for (auto& v : vs)
    out.push_back(v.id);
  return out;
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  handoff_router_actor router;
  std::vector<caf::actor> spawned;
  std::chrono::milliseconds route_timeout = 2s;

  fixture() {
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
  }
  ~fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    self.reset();
  }
  caf::actor probe() { return caf::actor_cast<caf::actor>(*self); }
  handoff_actor service(const std::string& name, std::vector<handoff_view> records) {
    auto s = spawn_fake_service(*sys, name, std::move(records), probe());
    spawned.push_back(caf::actor_cast<caf::actor>(s));
    return s;
  }
  void start(handoff_actor local) {
    handoff_router_options o;
    o.self_name = "node-a";
    o.member_timeout = 2s;
    o.greet_interval = 20ms;
    o.route_timeout = route_timeout;
    o.store_timeout = 3s;
    router = spawn_handoff_router(*sys, std::move(local), o);
  }
  void view(std::vector<std::pair<std::string, handoff_actor>> members) {
    cluster_view v;
    for (auto& [name, h] : members) {
      auto r = spawn_dummy_router(*sys);
      spawned.push_back(caf::actor_cast<caf::actor>(r));
      v.members.push_back(cluster_view::member{name, r, h});
    }
    (*self)->send(router, std::move(v));
  }
  agent_outcome act(const std::string& op, const std::string& id) {
    agent_outcome out;
    out.code = "no answer";
    (*self)->request(router, 5s, agent_action{tenant_id{"acme"}, "bob", "Bob", op, id, "hi", {}, false})
      .receive([&](agent_outcome& o) { out = std::move(o); }, [&](caf::error&) {});
    return out;
  }
  std::optional<handoff_route> route(const std::string& session) {
    std::optional<handoff_route> out;
    (*self)->request(router, 5s, handoff_route_request{tenant_id{"acme"}, user_id{"alice"}, session_id{session},
                                                       "m-1", "is anyone there?"})
      .receive([&](handoff_route& r) { out = r; }, [&](caf::error&) {});
    return out;
  }
  handoff_list subscribe() {
    handoff_list out;
    (*self)->request(router, 5s, agent_subscribe{tenant_id{"acme"}, "bob", "Bob", caf::actor_cast<handoff_agent_listener>(*self)})
      .receive([&](handoff_list& l) { out = std::move(l); }, [&](caf::error&) {});
    return out;
  }
};

/// A session owned by `first` among {node-a, first}, and by `second` among {node-a, second}.
std::string session_moving(const std::string& first, const std::string& second) {
  for (int i = 0;; ++i) {
    auto id = "s-" + std::to_string(i);
    if (*rendezvous_owner(id, {"node-a", first}) == first && *rendezvous_owner(id, {"node-a", second}) == second)
      return id;
  }
}

} // namespace

TEST_CASE("an agent action goes only to the member holding the record: found by one probe, then remembered") {
  fixture f;
  f.start(f.service("node-a", {record("HO-a1", 10)}));
  f.view({{"node-b", f.service("node-b", {record("HO-b1", 5)})}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));

  auto taken = f.act(handoff_ops::take, "HO-b1");
  CHECK(taken.code.empty());
  CHECK(taken.view.id == "HO-b1");
  auto es = collect(*f.self, seen("node-b", handoff_ops::take));
  CHECK(events(es, "probe").size() == 2);  // both members asked, read-only
  CHECK(events(es, handoff_ops::take).size() == 1);

  CHECK(f.act(handoff_ops::reply, "HO-b1").code.empty());
  es = collect(*f.self, seen("node-b", handoff_ops::reply));
  CHECK(events(es, "probe").empty());  // remembered
  REQUIRE(events(es, handoff_ops::reply).size() == 1);
  CHECK(events(es, handoff_ops::reply)[0].member == "node-b");

  auto history = f.act(handoff_ops::history, "HO-a1");  // a history is answered by the probe itself
  CHECK(history.code.empty());
  CHECK(history.view.id == "HO-a1");
  es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "probe").size() >= 2; });
  CHECK(events(es, "probe").size() == 2);

  CHECK(f.act(handoff_ops::take, "HO-nowhere").code == handoff_codes::not_found);
  es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "probe").size() >= 2; }, 1s);
  CHECK(events(es, handoff_ops::take).empty());
}

TEST_CASE("an agent action on a record nobody admits to while a member is silent is unavailable, not not_found") {
  fixture f;
  f.start(f.service("node-a", {}));
  auto b = f.service("node-b", {record("HO-b1", 5)});
  f.view({{"node-b", b}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  caf::anon_send_exit(b, caf::exit_reason::kill);  // gone, and the cluster actor has not noticed yet
  CHECK(f.act(handoff_ops::take, "HO-b1").code == handoff_codes::unavailable);
}

TEST_CASE("an agent sees every member's queue merged, and members leaving and joining replace its queue") {
  fixture f;
  f.start(f.service("node-a", {record("HO-a1", 10)}));
  f.view({{"node-b", f.service("node-b", {record("HO-b1", 5)})}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));

  auto snapshot = f.subscribe();
  CHECK(ids(snapshot.handoffs) == std::vector<std::string>{"HO-b1", "HO-a1"});
  auto es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "subscribe").size() >= 2; });
  CHECK(events(es, "subscribe").size() == 2);  // each member sends its changes to the agent itself

  f.view({});  // node-b lost
  auto has_queue = [](const std::vector<event>& es) {
    for (auto& e : es)
      if (std::holds_alternative<handoff_queue_changed>(e))
        return true;
    return false;
  };
  auto queue_of = [](const std::vector<event>& es) {
    for (auto& e : es)
      if (auto q = std::get_if<handoff_queue_changed>(&e))
        return ids(q->handoffs);
    return std::vector<std::string>{"none"};
  };
  es = collect(*f.self, has_queue);
  CHECK(queue_of(es) == std::vector<std::string>{"HO-a1"});

  f.view({{"node-c", f.service("node-c", {record("HO-c1", 1)})}});  // node-c joins
  es = collect(*f.self, has_queue);
  CHECK(seen("node-c", "subscribe")(es));  // this node's agent is subscribed at the newcomer too
  CHECK(queue_of(es) == std::vector<std::string>{"HO-c1", "HO-a1"});

  handoff_list listed;
  (*f.self)->request(f.router, 5s, handoff_list_request{tenant_id{"acme"}, false})
    .receive([&](handoff_list& l) { listed = std::move(l); }, [&](caf::error&) {});
  CHECK(ids(listed.handoffs) == std::vector<std::string>{"HO-c1", "HO-a1"});
}

TEST_CASE("a customer connection is attached at every member, and at one that joins or restarts once greeted") {
  // The session's record may be on its owner or where the session ran before it moved: every member's service
  // has the connection, and only the one holding the record sends it frames. What the client had shown
  // (agent_seen) goes to the first owner only. A member that restarts under the same name (a new service)
  // gets the connection again.
  fixture f;
  f.start(f.service("node-a", {}));
  auto b = f.service("node-b", {});
  f.view({{"node-b", b}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  auto s = session_moving("node-b", "node-c");
  (*f.self)->send(f.router, customer_attach{tenant_id{"acme"}, session_id{s}, caf::actor_cast<handoff_customer_actor>(*f.self),
                                            agent_seen{true, "HO-b1", 2}});
  auto both = [](const std::vector<event>& es) { return events(es, "attach").size() >= 2; };
  auto es = collect(*f.self, both);
  REQUIRE(events(es, "attach").size() == 2);
  for (auto& e : events(es, "attach"))  // what the client had shown: to the owner only
    CHECK(e.detail == (e.member == "node-b" ? s + "@HO-b1:2" : s));
  CHECK((seen("node-a", "attach")(es) && seen("node-b", "attach")(es)));

  auto c = f.service("node-c", {});
  f.view({{"node-b", b}, {"node-c", c}});  // node-c joins and owns the session
  es = collect(*f.self, seen("node-c", "attach"));
  CHECK(seen("node-c", "greet")(es));
  REQUIRE(events(es, "attach").size() == 1);  // node-a and node-b have it already
  CHECK(events(es, "attach")[0].detail == s);  // a later owner: only what was never delivered

  // node-b restarts before its old connection was seen to drop: one view names its new service.
  f.view({{"node-b", f.service("node-b", {})}, {"node-c", c}});
  es = collect(*f.self, seen("node-b", "attach"));
  CHECK(seen("node-b", "greet")(es));
  REQUIRE(events(es, "attach").size() == 1);
  CHECK(events(es, "attach")[0].member == "node-b");
}

TEST_CASE("a customer connection that moves to another conversation is attached anew at every member") {
  // One entry per connection: each member's service ends the previous conversation when the new attach comes.
  fixture f;
  f.start(f.service("node-a", {}));
  f.view({{"node-b", f.service("node-b", {})}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  auto me = caf::actor_cast<handoff_customer_actor>(*f.self);
  auto two = [](const std::vector<event>& es) { return events(es, "attach").size() >= 2; };
  (*f.self)->send(f.router, customer_attach{tenant_id{"acme"}, session_id{"s-1"}, me, {}});
  REQUIRE(events(collect(*f.self, two), "attach").size() == 2);
  (*f.self)->send(f.router, customer_attach{tenant_id{"acme"}, session_id{"s-1"}, me, {}});  // again: no change
  (*f.self)->send(f.router, customer_attach{tenant_id{"acme"}, session_id{"s-2"}, me, {}});
  auto es = collect(*f.self, two);
  REQUIRE(events(es, "attach").size() == 2);
  for (auto& e : events(es, "attach"))
    CHECK(e.detail == "s-2");
  CHECK(events(es, "detach").empty());
}

namespace {

handoff_view session_record(const std::string& id, const std::string& session, const char* state, int64_t taken) {
  auto v = record(id, 5);
  v.session = session_id{session};
  v.user = user_id{"alice"};
  v.state = state;
  v.taken_unix_ms = taken;
  return v;
}

/// node-a (this node) with s-here in `here_state`; node-b, whose agent holds s-moved; node-c with s-waiting
/// queued and s-was-helped handed back after an agent wrote into it. Returns once both members are greeted.
void sessions_spread(fixture& f, const char* here_state) {
  f.start(f.service("node-a", {session_record("HO-a1", "s-here", here_state, 0)}));
  f.view({{"node-b", f.service("node-b", {session_record("HO-b1", "s-moved", handoff_states::assigned, 6)})},
          {"node-c", f.service("node-c", {session_record("HO-c1", "s-waiting", handoff_states::queued, 0),
                                           session_record("HO-c2", "s-was-helped", handoff_states::returned, 6)})}});
  REQUIRE(seen("node-c", "greet")(collect(*f.self, [](const std::vector<event>& es) {
    return events(es, "greet").size() >= 2;
  })));
}

} // namespace

TEST_CASE("a customer message of a session that moved here goes to the member whose agent holds it") {
  fixture f;
  sessions_spread(f, handoff_states::assigned);

  // Held on node-b: the message is stored there for the agent (turn 7), the bot stays quiet. Here first,
  // then both members probed, then node-b alone asked for real.
  auto moved = f.route("s-moved");
  REQUIRE(moved);
  CHECK(moved->held);
  CHECK(moved->open);
  CHECK(moved->turn == 7);
  auto es = collect(*f.self, [](const std::vector<event>& es) {
    return events(es, "route").size() >= 3 || (events(es, "route").size() >= 2 && events(es, "ask").size() >= 2);
  });
  CHECK(events(es, "ask").size() == 2);
  auto routes = events(es, "route");
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].member == "node-a");
  CHECK(routes[1].member == "node-b");

  auto waiting = f.route("s-waiting");  // queued on node-c: open, nobody holds it yet
  REQUIRE(waiting);
  CHECK(waiting->open);
  CHECK_FALSE(waiting->held);
  auto helped = f.route("s-was-helped");  // an agent wrote into it there: the session reloads its memory
  REQUIRE(helped);
  CHECK_FALSE(helped->open);
  CHECK(helped->had_agent);
  auto unknown = f.route("s-new");
  REQUIRE(unknown);
  CHECK_FALSE(unknown->open);
  CHECK_FALSE(unknown->had_agent);
  // Each asked here, then probed on both members; the open and the helped one asked again where they are.
  collect(*f.self, [](const std::vector<event>& es) {
    return events(es, "route").size() >= 5 && events(es, "ask").size() >= 6;
  });

  // A record here answers at once: the members are not asked.
  auto here = f.route("s-here");
  REQUIRE(here);
  CHECK(here->held);
  es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "route").size() >= 2; }, 500ms);
  REQUIRE(events(es, "route").size() == 1);
  CHECK(events(es, "route")[0].member == "node-a");
  CHECK(events(es, "ask").empty());
}

TEST_CASE("an escalation is recorded where the session's open record is, else here") {
  // The session moved here after its record was opened on another member: the escalation goes there, so it
  // joins the record an agent holds (or replaces a queued one) instead of opening a second one here.
  fixture f;
  sessions_spread(f, handoff_states::queued);
  auto open = [&](const std::string& session) {
    std::string where = "no answer";
    handoff_open o;
    o.tenant = tenant_id{"acme"};
    o.user = user_id{"alice"};
    o.session = session_id{session};
    o.turn = 3;
    (*f.self)->request(f.router, 5s, o).receive([&](handoff_opened& r) { where = r.id; }, [&](caf::error&) {});
    return where;
  };
  CHECK(open("s-moved") == "HO-node-b");    // an agent holds it on node-b
  CHECK(open("s-waiting") == "HO-node-c");  // queued on node-c
  CHECK(open("s-here") == "HO-node-a");     // open here: the members are not asked
  CHECK(open("s-was-helped") == "HO-node-a");  // finished there: a new record, here
  CHECK(open("s-new") == "HO-node-a");
  auto es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "open").size() >= 5; });
  CHECK(events(es, "open").size() == 5);
}

TEST_CASE("an escalation the member with the open record fails to record is recorded here") {
  fixture f;
  f.start(f.service("node-a", {}));
  f.view({{"node-b",
           f.service("node-b", {session_record("HO-b9", "s-broken-at-node-b", handoff_states::assigned, 6)})}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  handoff_open o;
  o.tenant = tenant_id{"acme"};
  o.user = user_id{"alice"};
  o.session = session_id{"s-broken-at-node-b"};
  o.turn = 3;
  std::string where = "no answer";
  (*f.self)->request(f.router, 5s, o).receive([&](handoff_opened& r) { where = r.id; }, [&](caf::error&) {});
  CHECK(where == "HO-node-a");  // node-b was asked first and failed
  auto es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "open").size() >= 2; });
  REQUIRE(events(es, "open").size() == 2);
  CHECK(events(es, "open")[0].member == "node-b");
  CHECK(events(es, "open")[1].member == "node-a");
}

TEST_CASE("a record here that an agent once wrote into does not hide a member whose agent holds the session") {
  // The session ran here, escalated, an agent closed it; it ran on node-b meanwhile (this node was cut off),
  // escalated again, and an agent there holds it now.
  fixture f;
  f.start(f.service("node-a", {session_record("HO-a1", "s-back", handoff_states::closed, 6)}));
  f.view({{"node-b", f.service("node-b", {session_record("HO-b1", "s-back", handoff_states::assigned, 9)})}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  auto r = f.route("s-back");
  REQUIRE(r);
  CHECK(r->held);
  CHECK(r->turn == 7);  // stored on node-b for its agent
  auto es = collect(*f.self, [](const std::vector<event>& es) { return events(es, "route").size() >= 2; });
  auto routes = events(es, "route");
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].member == "node-a");
  CHECK(routes[1].member == "node-b");
}

TEST_CASE("a member slow to store a message for its agent is waited for, as long as the session waits") {
  fixture f;
  f.route_timeout = 200ms;
  f.start(f.service("node-a", {}));
  // Answers the probe at once, then takes longer than route_timeout to store the message (its memory is slow):
  // it is not a silent member, and the bot must not answer a message the agent receives. The store's answer
  // comes 600 ms later by a delayed message to itself.
  using stored_atom = caf::atom_constant<caf::atom("stored")>;
  using slow_service = handoff_actor::extend<caf::reacts_to<stored_atom>>;
  struct storing {
    caf::typed_response_promise<handoff_route> rp;
    handoff_route_request q;
  };
  auto slow_fn = [](slow_service::pointer self, caf::actor probe) -> slow_service::behavior_type {
    auto records = std::vector<handoff_view>{session_record("HO-b1", "s-moved", handoff_states::assigned, 6)};
    auto pending = std::make_shared<std::optional<storing>>();
    return {
      [](handoff_open&) { return handoff_opened{"HO-x"}; },
      [self, probe, records, pending](handoff_route_request& q) -> caf::result<handoff_route> {
        caf::anon_send(probe, fake_event{"node-b", q.probe ? "ask" : "route", q.session.value});
        if (q.probe)
          return route_answer(records, q);
        auto rp = self->make_response_promise<handoff_route>();
        *pending = storing{rp, q};
        self->delayed_send(self, 600ms, stored_atom::value);
        return rp;
      },
      [records, pending](stored_atom) {
        if (*pending)
          (*pending)->rp.deliver(route_answer(records, (*pending)->q));
        pending->reset();
      },
      [](customer_attach&) {},
      [](customer_detach&) {},
      [](agent_subscribe&) { return handoff_list{}; },
      [self, probe](handoff_list_request&) -> caf::result<handoff_list> {
        // Answer first, then tell the test (as the fake service does): the router is ready for node-b
        // before the test's route request arrives.
        auto rp = self->make_response_promise<handoff_list>();
        rp.deliver(handoff_list{});
        caf::anon_send(probe, fake_event{"node-b", "greet", {}});
        return rp;
      },
      [](agent_action&) { return agent_outcome{}; },
    };
  };
  auto slow = caf::actor_cast<handoff_actor>(f.sys->spawn(slow_fn, f.probe()));
  f.spawned.push_back(caf::actor_cast<caf::actor>(slow));
  f.view({{"node-b", slow}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  auto r = f.route("s-moved");
  REQUIRE(r);
  CHECK(r->held);
  CHECK(r->turn == 7);
}

TEST_CASE("a silent member holds a customer message up for route_timeout at most, then the bot answers") {
  fixture f;
  f.route_timeout = 200ms;
  f.start(f.service("node-a", {}));
  // Greeted (it answers list requests), then never answers a route request: a member the cluster actor has
  // not yet found dead.
  auto silent = f.sys->spawn([](handoff_actor::pointer self, caf::actor probe) -> handoff_actor::behavior_type {
    return {
      [](handoff_open&) { return handoff_opened{"HO-x"}; },
      [self, probe](handoff_route_request& q) {
        caf::anon_send(probe, fake_event{"node-b", "route", q.session.value});
        return self->make_response_promise<handoff_route>();  // never delivered
      },
      [](customer_attach&) {},
      [](customer_detach&) {},
      [](agent_subscribe&) { return handoff_list{}; },
      [self, probe](handoff_list_request&) -> caf::result<handoff_list> {
        // Answer first, then tell the test (as the fake service does): the router is ready for node-b
        // before the test's route request arrives (telling first made it route before, about one run in 20).
        auto rp = self->make_response_promise<handoff_list>();
        rp.deliver(handoff_list{});
        caf::anon_send(probe, fake_event{"node-b", "greet", {}});
        return rp;
      },
      [](agent_action&) { return agent_outcome{}; },
    };
  }, f.probe());
  f.spawned.push_back(caf::actor_cast<caf::actor>(silent));
  f.view({{"node-b", silent}});
  REQUIRE(seen("node-b", "greet")(collect(*f.self, seen("node-b", "greet"))));
  auto started = std::chrono::steady_clock::now();
  auto r = f.route("s-moved");
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(r);
  CHECK_FALSE(r->open);
  CHECK(took >= 200ms);  // it was asked, and waited for
  CHECK(took < 2s);      // route_timeout, not member_timeout
}
