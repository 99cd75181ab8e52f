// The supervision matrix (README, "Supervision"): for every kind of actor a node runs, make it fail and check
// the documented outcome - restarted within its budget, the turn in flight answered or failed cleanly (never
// left to its deadline), the exhausted budget escalated to the parent, and nothing else disturbed.
//
// Session children fail on a poisoned message: a wrapper in front of the real child throws when the text
// it is asked about contains a marker, and delegates everything else, so only the conversation that sent the
// marker is affected. Node services are killed through their supervisor (supervisor_child_atom).
// Provider actors: tests/actors/providers/llm_pipeline_test.cpp; the cluster: tests/integration/cluster_test.py.
#include "tests/support/prometheus_text.hpp"
#include "tests/support/test_node.hpp"

#include "actors/gateway/connection_actor.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/metrics.hpp"
#include "runtime/service_watch.hpp"
#include "runtime/supervisor.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

using namespace sa;
using namespace sa::test;
using namespace std::chrono_literals;

namespace {

const std::string poison = "#poison";

double restarts(const metrics& m, const std::string& kind) {
  prom_exposition e;
  std::string error;
  REQUIRE(parse_prometheus_text(m.render(), e, error));
  return kind.empty() ? e.sum("sa_actor_restarts_total") : e.sum("sa_actor_restarts_total", {{"kind", kind}});
}

const std::string& text_of(const classify_request& r) { return r.text; }
const std::string& text_of(const retrieve_request& r) { return r.query; }
const std::string& text_of(const generate_request& r) { return r.question; }
const std::string& text_of(const escalation_request& r) { return r.text; }

/// A child that throws on a poisoned request and hands every other one to the real child (spawned linked to
/// it, so the pair lives and dies together). `poisoned` counts the crashes.
template <class Handle, class Request, class Reply>
std::function<Handle(caf::local_actor*)> poisonable(std::function<Handle(caf::local_actor*)> real,
                                                    std::shared_ptr<std::atomic<int>> poisoned) {
  return [real = std::move(real), poisoned](caf::local_actor* parent) -> Handle {
    return parent->spawn<caf::linked>(
      [real, poisoned](typename Handle::pointer self, int) -> typename Handle::behavior_type {
        log_exceptions(self, "poisonable");
        auto inner = real(self);
        return {[self, inner, poisoned](const Request& r) -> caf::result<Reply> {
          if (text_of(r).find(poison) != std::string::npos) {
            ++*poisoned;
            throw std::runtime_error("poisoned request");
          }
          return self->delegate(inner, r);
        }};
      },
      0);
  };
}

/// The node's children with `role`'s made poisonable.
session_children poisoned_children(const std::shared_ptr<const node_services>& svc, const std::string& role,
                                   std::shared_ptr<std::atomic<int>> poisoned) {
  auto c = default_children(svc);
  if (role == "classifier")
    c.classifier = poisonable<classifier_actor, classify_request, classification>(c.classifier, poisoned);
  else if (role == "retriever")
    c.retriever = poisonable<retriever_actor, retrieve_request, retrieval>(c.retriever, poisoned);
  else if (role == "generator")
    c.generator = poisonable<generator_actor, generate_request, generation>(c.generator, poisoned);
  else if (role == "escalation")
    c.escalation = poisonable<escalation_actor, escalation_request, escalation_decision>(c.escalation, poisoned);
  else
    FAIL("unknown role " << role);
  return c;
}

/// True when the turn ended by itself: answered or failed with a clear error, not left to the test's deadline.
bool ended_cleanly(const turn_result& r) {
  return !r.timed_out && (r.completed || (r.failed && !r.failed->message.empty()));
}

caf::actor child_of(caf::scoped_actor& self, const caf::actor& supervisor) {
  caf::actor child;
  self->request(supervisor, 5s, supervisor_child_atom::value)
    .receive([&](caf::actor& c) { child = std::move(c); }, [&](caf::error&) {});
  return child;
}

/// Kills the supervised service's current child and waits (deadline, polling) until a new one serves.
caf::actor kill_and_await_restart(caf::scoped_actor& self, const caf::actor& supervisor) {
  auto old = child_of(self, supervisor);
  REQUIRE(old);
  self->send_exit(old, caf::exit_reason::kill);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = child_of(self, supervisor);
    if (now && now != old)
      return now;
    std::this_thread::yield();
  }
  FAIL("the supervisor did not restart its child within 10 s");
  return {};
}

} // namespace

TEST_CASE("supervision matrix: a session child that crashes is restarted, its turn answered, other sessions "
          "undisturbed",
          "[supervision]") {
  for (std::string role : {"classifier", "retriever", "generator", "escalation"}) {
    DYNAMIC_SECTION(role) {
      auto svc = services_with_own_metrics();
      auto poisoned = std::make_shared<std::atomic<int>>(0);
      test_node node{poisoned_children(svc, role, poisoned), svc};
      caf::scoped_actor self{*node.sys};
      auto& router = node.handles.router;
      // A healthy conversation first, to check it is not disturbed afterwards.
      auto before = run_turn(self, router, "acme", "bob", "s-healthy", "How do I add a custom domain?");
      REQUIRE(before.completed);

      auto r = run_turn(self, router, "acme", "alice", "s-poisoned", "How do I add a custom domain? " + poison);
      // The crashed child is replaced and asked once more; the poisoned text crashes it again, so the turn
      // gets the session's clean outcome for a child that keeps failing: an answer handed to a person
      // (component failure) or a clear error - within the turn, not at its deadline.
      CHECK(*poisoned >= 1);
      CHECK(ended_cleanly(r));
      if (r.completed && r.completed->escalation.escalate) {
        // A failed component, or what it left behind: no evidence for a confident answer.
        auto reason = r.completed->escalation.reason;
        CHECK((reason == escalation_reason::component_failure || reason == escalation_reason::low_confidence
               || reason == escalation_reason::knowledge_unavailable));
      }
      CHECK(restarts(*svc->metrics, role) >= 1);
      CHECK(restarts(*svc->metrics, "session") == 0);  // the session itself survived

      // The same conversation goes on with a healthy message, its turn numbers continuing.
      auto next = run_turn(self, router, "acme", "alice", "s-poisoned", "How do I enable two factor authentication?");
      REQUIRE(next.completed);
      if (r.completed)
        CHECK(next.completed->turn == r.completed->turn + 1);
      // The other conversation is undisturbed, and no other kind of actor restarted.
      auto after = run_turn(self, router, "acme", "bob", "s-healthy", "How do I add a custom domain?");
      REQUIRE(after.completed);
      CHECK(after.completed->turn == before.completed->turn + 1);
      CHECK(restarts(*svc->metrics, "") == restarts(*svc->metrics, role));
    }
  }
}

TEST_CASE("supervision matrix: a session child failing past the restart budget ends each turn cleanly and the "
          "session escalates instead of crash-looping",
          "[supervision]") {
  auto svc = services_with_own_metrics();
  auto poisoned = std::make_shared<std::atomic<int>>(0);
  test_node node{poisoned_children(svc, "retriever", poisoned), svc};
  caf::scoped_actor self{*node.sys};
  auto budget = svc->cfg.session.restart_budget;
  for (int i = 0; i < budget + 2; ++i) {
    INFO("turn " << i);
    auto r = run_turn(self, node.handles.router, "acme", "alice", "s-budget", "custom domain " + poison);
    CHECK(ended_cleanly(r));
    if (r.completed)
      CHECK(r.completed->escalation.escalate);  // no evidence: never a confident answer
  }
  // The budget bounds the restarts: no more than it allows within the window.
  CHECK(restarts(*svc->metrics, "retriever") <= budget);
  CHECK(restarts(*svc->metrics, "session") == 0);
}

TEST_CASE("supervision matrix: a crashed session fails its turn in flight at once and the next message "
          "re-activates it with its conversation intact",
          "[supervision]") {
  auto svc = services_with_own_metrics();
  // The classifier's factory throws once armed, inside the session (the factory runs in the session's
  // context when it replaces a crashed classifier), so the session itself dies.
  auto armed = std::make_shared<std::atomic<bool>>(false);
  auto poisoned = std::make_shared<std::atomic<int>>(0);
  auto c = default_children(svc);
  auto poisonable_classifier = poisonable<classifier_actor, classify_request, classification>(c.classifier, poisoned);
  c.classifier = [poisonable_classifier, armed](caf::local_actor* self) -> classifier_actor {
    if (armed->exchange(false))
      throw std::runtime_error("injected: cannot make a classifier");
    return poisonable_classifier(self);
  };
  test_node node{c, svc};
  caf::scoped_actor self{*node.sys};
  auto& router = node.handles.router;
  auto first = run_turn(self, router, "acme", "alice", "s-dies", "How do I add a custom domain?");
  REQUIRE(first.completed);

  armed->store(true);
  auto start = std::chrono::steady_clock::now();
  auto r = run_turn(self, router, "acme", "alice", "s-dies", "billing question " + poison);
  REQUIRE(r.failed);
  CHECK(r.error() == support_errc::component_failed);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds{svc->cfg.session.turn_timeout_ms});
  // The turn's failure is sent as the session dies; the router counts the crash when it hears of it.
  auto counted = std::chrono::steady_clock::now() + 10s;
  while (restarts(*svc->metrics, "session") < 1 && std::chrono::steady_clock::now() < counted)
    std::this_thread::yield();
  CHECK(restarts(*svc->metrics, "session") == 1);

  auto next = run_turn(self, router, "acme", "alice", "s-dies", "How do I enable two factor authentication?");
  REQUIRE(next.completed);
  CHECK(next.completed->turn == first.completed->turn + 1);  // the first turn is still remembered
}

TEST_CASE("supervision matrix: a killed node service is restarted and the node keeps serving, the in-process "
          "memory loses no conversation",
          "[supervision]") {
  auto svc = services_with_own_metrics();
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  auto& router = node.handles.router;
  auto first = run_turn(self, router, "acme", "alice", "s-services", "How do I add a custom domain?");
  REQUIRE(first.completed);
  struct service {
    std::string name;
    caf::actor handle;
  };
  std::vector<service> services{{"memory", caf::actor_cast<caf::actor>(node.handles.memory)},
                                {"account", caf::actor_cast<caf::actor>(node.handles.account)},
                                {"audit", caf::actor_cast<caf::actor>(node.handles.audit)},
                                {"actions", caf::actor_cast<caf::actor>(node.handles.actions)}};
  turn_number last = first.completed->turn;
  for (auto& s : services) {
    if (!s.handle)
      continue;  // not configured in this node
    INFO(s.name);
    kill_and_await_restart(self, s.handle);
    CHECK(restarts(*svc->metrics, s.name) == 1);
    auto r = run_turn(self, router, "acme", "alice", "s-services", "What plan am I on and what did my last invoice cost?");
    REQUIRE(r.completed);
    CHECK(r.completed->turn == last + 1);  // the conversation survived every restart, memory's included
    last = r.completed->turn;
  }
  CHECK(restarts(*svc->metrics, "session") == 0);
}

TEST_CASE("supervision matrix: a node service past its restart budget escalates to the node's watcher, and "
          "turns still end cleanly",
          "[supervision]") {
  auto svc = services_with_own_metrics();
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  std::mutex mutex;
  std::vector<std::string> lost;
  auto watcher = watch_services(*node.sys, node_services_to_watch(node.handles),
                                [&](const std::string& name, const caf::error&) {
                                  std::lock_guard<std::mutex> guard{mutex};
                                  lost.push_back(name);
                                });
  auto memory = caf::actor_cast<caf::actor>(node.handles.memory);
  for (int i = 0; i < svc->cfg.session.restart_budget; ++i)
    kill_and_await_restart(self, memory);
  // One more failure within the window: the supervisor gives up and the watcher hears of it.
  self->send_exit(child_of(self, memory), caf::exit_reason::kill);
  self->wait_for(memory);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{mutex};
      if (!lost.empty())
        break;
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::yield();
  }
  {
    std::lock_guard<std::mutex> guard{mutex};
    CHECK(lost == std::vector<std::string>{"memory"});
  }
  // Without its memory the node cannot keep a conversation; a turn still ends at once, cleanly.
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-no-memory", "How do I add a custom domain?");
  CHECK(ended_cleanly(r));
  self->send_exit(watcher, caf::exit_reason::user_shutdown);
}

TEST_CASE("supervision matrix: the node's watcher does not report a node that stops", "[supervision]") {
  auto svc = services_with_own_metrics();
  auto node = std::make_unique<test_node>(session_children{}, svc);
  std::atomic<int> reports{0};
  auto watcher = watch_services(*node->sys, node_services_to_watch(node->handles),
                                [&](const std::string&, const caf::error&) { ++reports; });
  {
    caf::scoped_actor self{*node->sys};
    stop_node(node->handles);
    self->wait_for(watcher);  // it quits once every service has ended
  }
  CHECK(reports == 0);
  node.reset();
}

TEST_CASE("supervision matrix: a gateway connection actor that fails closes its WebSocket with 1011, one that "
          "ends normally closes nothing",
          "[supervision]") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system sys{cfg};
  struct closes {
    std::mutex mutex;
    std::vector<uint16_t> codes;
    size_t size() {
      std::lock_guard<std::mutex> guard{mutex};
      return codes.size();
    }
  };
  auto seen = std::make_shared<closes>();
  auto gateway = gateway::spawn_gateway_actor(sys);
  auto make_link = [seen] {
    return gateway::connection_link{[](std::string) {},
                                    [seen](uint16_t code, std::string) {
                                      std::lock_guard<std::mutex> guard{seen->mutex};
                                      seen->codes.push_back(code);
                                    }};
  };
  auto deps_for = [&gateway](std::string user) {
    gateway::connection_deps d;
    d.gateway = gateway;
    d.tenant = "acme";
    d.user = std::move(user);
    return d;
  };
  caf::scoped_actor self{sys};
  auto failing = gateway::spawn_connection(sys, deps_for("alice"), make_link());
  self->send_exit(failing, caf::exit_reason::kill);
  self->wait_for(failing);
  REQUIRE(seen->size() == 1);
  CHECK(seen->codes.front() == 1011);

  auto leaving = gateway::spawn_connection(sys, deps_for("bob"), make_link());
  self->send(leaving, gateway::connection_closed{});
  self->wait_for(leaving);
  CHECK(seen->size() == 1);
  self->send_exit(gateway, caf::exit_reason::user_shutdown);
}
