// The cluster router in one process: fake routers stand in for the local session router and for other
// members (a member is "lost" when the cluster actor's view no longer has it). Waits have deadlines.
#include "actors/cluster/cluster_router.hpp"
#include "actors/cluster/rendezvous.hpp"
#include "tests/actors/cluster/collect_events.hpp"
#include "messages/errors.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <variant>

using namespace sa;
using namespace sa::cluster;
using namespace std::chrono_literals;

namespace {

/// What a fake router tells the test about a turn it received.
struct fake_got {
  std::string router;
  std::string session;
  std::string client_message_id;
  bool direct = false;  // the listener was the client itself (no relay in between)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fake_got& x) {
  return f(caf::meta::type_name("fake_got"), x.router, x.session, x.client_message_id, x.direct);
}

/// A session router that streams one delta and then answers (or holds the turn forever).
session_router_actor spawn_fake(caf::actor_system& sys, std::string name, bool answers, caf::actor probe) {
  auto fn = [](session_router_actor::pointer self, std::string name, bool answers,
               caf::actor probe) -> session_router_actor::behavior_type {
    return {
      [=](user_turn& t) {
        caf::anon_send(probe, fake_got{name, t.session.value, t.client_message_id, t.listener.address() == probe.address()});
        self->send(t.listener, turn_delta{t.session, t.client_message_id, 1, 0, name + "-partial"});
        if (answers) {
          turn_completed c;
          c.session = t.session;
          c.client_message_id = t.client_message_id;
          c.turn = 1;
          c.text = name + "-answer";
          self->send(t.listener, std::move(c));
        }
      },
      [](router_stats_request&) { return router_stats{}; },
    };
  };
  return sys.spawn(fn, std::move(name), answers, std::move(probe));
}

using event = std::variant<fake_got, turn_delta, turn_reset, turn_completed, turn_failed>;

/// Receives events until `done` holds for the events so far, or the deadline passes.
std::vector<event> collect(caf::scoped_actor& self, const std::function<bool(const std::vector<event>&)>& done,
                           std::chrono::milliseconds deadline = 10s) {
  return testing::collect_events<fake_got, turn_delta, turn_reset, turn_completed, turn_failed>(self, done, deadline);
}

template <class T>
std::vector<T> all_of_type(const std::vector<event>& es) {
  std::vector<T> out;
  for (auto& e : es)
    if (auto p = std::get_if<T>(&e))
      out.push_back(*p);
  return out;
}

template <class T>
auto count_of(size_t n) {
  return [n](const std::vector<event>& es) { return all_of_type<T>(es).size() >= n; };
}

/// A session id owned by `owner` among `members` (and, if given, by `then` once `owner` is gone).
std::string session_owned_by(const std::string& owner, std::vector<std::string> members,
                             const std::string& then = {}) {
  for (int i = 0;; ++i) {
    auto id = "s-" + std::to_string(i);
    if (*rendezvous_owner(id, members) != owner)
      continue;
    if (then.empty())
      return id;
    auto rest = members;
    rest.erase(std::find(rest.begin(), rest.end(), owner));
    if (*rendezvous_owner(id, rest) == then)
      return id;
  }
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  cluster_router_actor router;

  fixture() {
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
  }
  ~fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    self.reset();
  }
  caf::actor probe() { return caf::actor_cast<caf::actor>(*self); }
  void start(session_router_actor local, std::chrono::milliseconds relay_deadline = 30s) {
    router = spawn_cluster_router(*sys, std::move(local), cluster_router_options{"node-a", relay_deadline});
  }
  void view(std::vector<std::pair<std::string, session_router_actor>> members) {
    cluster_view v;
    for (auto& [name, r] : members)
      v.members.push_back(cluster_view::member{name, r, {}});
    (*self)->send(router, std::move(v));
  }
  void turn(const std::string& session, const std::string& cmid) {
    (*self)->send(router, user_turn{tenant_id{"acme"}, user_id{"alice"}, session_id{session}, cmid, "hello",
                                    caf::actor_cast<session_listener_actor>(*self)});
  }
};

} // namespace

TEST_CASE("A turn owned here goes straight to the local router, one owned elsewhere through a relay to its owner") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  auto b = spawn_fake(*f.sys, "node-b", true, f.probe());
  f.start(local);
  f.view({{"node-b", b}});
  auto mine = session_owned_by("node-a", {"node-a", "node-b"});
  auto theirs = session_owned_by("node-b", {"node-a", "node-b"});
  f.turn(mine, "m1");
  f.turn(theirs, "m2");
  auto es = collect(*f.self, count_of<turn_completed>(2));
  auto got = all_of_type<fake_got>(es);
  REQUIRE(got.size() == 2);
  for (auto& g : got) {
    if (g.session == mine) {
      CHECK(g.router == "node-a");
      CHECK(g.direct);
    } else {
      CHECK(g.router == "node-b");
      CHECK_FALSE(g.direct);
      CHECK(g.client_message_id == "m2");
    }
  }
  auto done = all_of_type<turn_completed>(es);
  REQUIRE(done.size() == 2);
  for (auto& c : done)
    CHECK(c.text == (c.session.value == mine ? "node-a-answer" : "node-b-answer"));
  CHECK(all_of_type<turn_delta>(es).size() == 2);
}

TEST_CASE("A turn in flight on a lost member is retried once on the new owner with the same message id, "
          "its partial answer voided, and answered exactly once") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  auto b = spawn_fake(*f.sys, "node-b", false, f.probe());  // holds the turn: it is in flight when b is lost
  f.start(local);
  f.view({{"node-b", b}});
  auto s = session_owned_by("node-b", {"node-a", "node-b"});
  f.turn(s, "m1");
  auto before = collect(*f.self, [](const std::vector<event>& es) {
    return all_of_type<fake_got>(es).size() == 1 && all_of_type<turn_delta>(es).size() == 1;
  });
  REQUIRE(all_of_type<turn_delta>(before).size() == 1);
  CHECK(all_of_type<turn_delta>(before)[0].text == "node-b-partial");
  f.view({});  // node-b lost
  auto after = collect(*f.self, count_of<turn_completed>(1));
  auto resets = all_of_type<turn_reset>(after);
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].reason == "node_lost");
  CHECK(resets[0].client_message_id == "m1");
  auto got = all_of_type<fake_got>(after);
  REQUIRE(got.size() == 1);
  CHECK(got[0].router == "node-a");
  CHECK(got[0].client_message_id == "m1");
  CHECK_FALSE(got[0].direct);  // still through the relay, which owes the client its one answer
  // The reset comes before the new owner's first delta.
  size_t reset_at = 0, delta_at = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    if (std::holds_alternative<turn_reset>(after[i]))
      reset_at = i;
    if (std::holds_alternative<turn_delta>(after[i]))
      delta_at = i;
  }
  CHECK(reset_at < delta_at);
  auto done = all_of_type<turn_completed>(after);
  REQUIRE(done.size() == 1);
  CHECK(done[0].text == "node-a-answer");
  // Nothing else arrives for this message.
  auto extra = collect(*f.self, count_of<turn_completed>(1), 300ms);
  CHECK(all_of_type<turn_completed>(extra).empty());
  CHECK(all_of_type<turn_failed>(extra).empty());
}

TEST_CASE("A turn answered before its owner was lost is not sent again") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  auto b = spawn_fake(*f.sys, "node-b", true, f.probe());
  f.start(local);
  f.view({{"node-b", b}});
  auto s = session_owned_by("node-b", {"node-a", "node-b"});
  f.turn(s, "m1");
  auto es = collect(*f.self, count_of<turn_completed>(1));
  REQUIRE(all_of_type<turn_completed>(es).size() == 1);
  f.view({});
  auto extra = collect(*f.self, count_of<fake_got>(1), 300ms);
  CHECK(all_of_type<fake_got>(extra).empty());
  CHECK(all_of_type<turn_reset>(extra).empty());
}

TEST_CASE("A turn whose new owner is lost too fails once, telling the customer to send it again") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  auto b = spawn_fake(*f.sys, "node-b", false, f.probe());
  auto c = spawn_fake(*f.sys, "node-c", false, f.probe());
  f.start(local);
  f.view({{"node-b", b}, {"node-c", c}});
  auto s = session_owned_by("node-b", {"node-a", "node-b", "node-c"}, "node-c");
  f.turn(s, "m1");
  auto first = collect(*f.self, count_of<fake_got>(1));
  REQUIRE(all_of_type<fake_got>(first).at(0).router == "node-b");
  f.view({{"node-c", c}});
  auto second = collect(*f.self, count_of<fake_got>(1));
  REQUIRE(all_of_type<fake_got>(second).at(0).router == "node-c");
  f.view({});
  auto last = collect(*f.self, count_of<turn_failed>(1));
  auto failed = all_of_type<turn_failed>(last);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].code == static_cast<uint8_t>(support_errc::component_failed));
  CHECK(failed[0].client_message_id == "m1");
  CHECK(all_of_type<fake_got>(last).empty());
  auto extra = collect(*f.self, count_of<turn_failed>(1), 300ms);
  CHECK(all_of_type<turn_failed>(extra).empty());
  CHECK(all_of_type<turn_completed>(extra).empty());
}

TEST_CASE("A forwarded turn that never ends fails with timeout at the relay's deadline") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  auto b = spawn_fake(*f.sys, "node-b", false, f.probe());
  f.start(local, 300ms);
  f.view({{"node-b", b}});
  f.turn(session_owned_by("node-b", {"node-a", "node-b"}), "m1");
  auto es = collect(*f.self, count_of<turn_failed>(1));
  auto failed = all_of_type<turn_failed>(es);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].code == static_cast<uint8_t>(support_errc::timeout));
}

TEST_CASE("A turn without a sender is dropped") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  f.start(local);
  caf::anon_send(f.router, user_turn{tenant_id{"acme"}, user_id{"alice"}, session_id{"s-1"}, "m1", "hello",
                                     caf::actor_cast<session_listener_actor>(*f.self)});
  auto es = collect(*f.self, count_of<fake_got>(1), 300ms);
  CHECK(es.empty());
}

TEST_CASE("Router stats are the local router's") {
  fixture f;
  auto local = spawn_fake(*f.sys, "node-a", true, f.probe());
  f.start(local);
  bool answered = false;
  (*f.self)->request(f.router, 5s, router_stats_request{}).receive([&](router_stats&) { answered = true; },
                                                                     [&](caf::error&) {});
  CHECK(answered);
}
