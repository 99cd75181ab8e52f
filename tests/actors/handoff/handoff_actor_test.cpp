// The handoff service on a real node: an escalated turn opens a record; two agents taking it at once get
// exactly one success; while an agent holds the conversation the customer's messages reach the agent (one
// final each, provider "agent") and both sides' turns land in the conversation memory; after the hand-back
// the bot answers again, with turn numbers continuing after the agent's turns (the session reloaded them).
// A turn that escalates after an agent took the conversation (its answer held back by a gated generator
// until the take) names the agent's handoff, which the escalation joined.
#include "actors/handoff/handoff_record.hpp"
#include "tests/support/test_node.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <unistd.h>

using namespace sa;
using namespace std::chrono_literals;

namespace {

std::string unique_session(const char* prefix) {
  static std::atomic<int> n{0};
  return std::string{prefix} + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

agent_outcome act(caf::scoped_actor& self, const handoff_actor& h, agent_action a) {
  agent_outcome out;
  out.code = "no_answer";
  self->request(h, 5s, std::move(a)).receive([&](agent_outcome& o) { out = std::move(o); }, [&](caf::error&) {});
  return out;
}

agent_action action(const char* op, const std::string& id, const std::string& agent = "bob",
                    const std::string& tenant = "acme") {
  agent_action a;
  a.tenant = tenant_id{tenant};
  a.agent = agent;
  a.name = agent;
  a.op = op;
  a.handoff = id;
  return a;
}

/// Escalates a fresh conversation of acme/alice; returns (session, handoff id as the turn names it).
std::pair<std::string, std::string> escalate(caf::scoped_actor& self, test::test_node& node) {
  auto session = unique_session("s-handoff-");
  auto t = test::run_turn(self, node.handles.router, "acme", "alice", session, "let me talk to a human please");
  REQUIRE(t.completed);
  REQUIRE(t.completed->escalation.escalate);
  CHECK(t.completed->handoff == handoff::handoff_id("acme", session, t.completed->turn));
  return {session, t.completed->handoff};
}

/// The open records of acme, after every message sent to the service so far.
handoff_list open_records(caf::scoped_actor& self, const handoff_actor& h) {
  handoff_list out;
  self->request(h, 5s, handoff_list_request{tenant_id{"acme"}, false})
    .receive([&](handoff_list& l) { out = std::move(l); }, [&](caf::error&) {});
  return out;
}

bool listed(const handoff_list& l, const std::string& id) {
  for (auto& v : l.handoffs)
    if (v.id == id)
      return true;
  return false;
}

/// Waits for the record the session opens (the session sends it before the customer's final; the deadline
/// only guards against it never coming).
void wait_listed(caf::scoped_actor& self, const handoff_actor& h, const std::string& id) {
  auto end = std::chrono::steady_clock::now() + 5s;
  while (!listed(open_records(self, h), id) && std::chrono::steady_clock::now() < end) {
  }
  REQUIRE(listed(open_records(self, h), id));
}

/// Subscribes `agent` as acme's agent bob (returns the queue snapshot it got), then bob takes `id`.
handoff_list subscribe_and_take(caf::scoped_actor& self, caf::scoped_actor& agent, const handoff_actor& h,
                                const std::string& id) {
  handoff_list snapshot;
  agent->request(h, 5s, agent_subscribe{tenant_id{"acme"}, "bob", "Bob", caf::actor_cast<handoff_agent_listener>(agent)})
    .receive([&](handoff_list& l) { snapshot = std::move(l); }, [&](caf::error&) {});
  REQUIRE(act(self, h, action(handoff_ops::take, id)).code.empty());
  return snapshot;
}

using gate_wait_atom = caf::atom_constant<caf::atom("gate_wait")>;
using gate_open_atom = caf::atom_constant<caf::atom("gate_open")>;

/// Holds generations back until the test opens it, and tells the test (through `reached`) when the first
/// one arrived: a turn's answer can then be made to finish after something else happened.
struct gate_state {
  std::shared_ptr<std::promise<void>> reached;
  bool open = false;
  std::vector<caf::typed_response_promise<bool>> held;
};

caf::behavior generation_gate(caf::stateful_actor<gate_state>* self, std::shared_ptr<std::promise<void>> reached) {
  self->state.reached = std::move(reached);
  return {
    [self](gate_wait_atom) -> caf::result<bool> {
      if (self->state.open)
        return true;
      if (auto r = std::exchange(self->state.reached, nullptr))
        r->set_value();
      auto rp = self->make_response_promise<bool>();
      self->state.held.push_back(rp);
      return rp;
    },
    [self](gate_open_atom) {
      self->state.open = true;
      for (auto& rp : self->state.held)
        rp.deliver(true);
      self->state.held.clear();
    },
  };
}

/// A generator that answers unsure (confidence 0.1: the turn escalates) once `gate` lets it.
generator_actor::behavior_type gated_unsure(generator_actor::pointer self, caf::actor gate) {
  return {
    [self, gate](const generate_request& r) -> caf::result<generation> {
      auto rp = self->make_response_promise<generation>();
      self->request(gate, caf::infinite, gate_wait_atom::value).then([self, rp, r](bool) mutable {
        self->send(r.sink, generation_delta{r.session, r.turn, 0, "I am not sure about that."});
        generation g;
        g.text = "I am not sure about that.";
        g.confidence = 0.1;
        g.provider = "gated";
        rp.deliver(std::move(g));
      });
      return rp;
    },
  };
}

/// Session children whose generator is gated_unsure, held by the gate in `slot` (spawned once the node is up,
/// before its first session). The gate is a spawn argument: CAF 0.17 dereferences a null argument tuple
/// when an actor is spawned without one.
session_children gated_unsure_generator(std::shared_ptr<caf::actor> slot) {
  auto c = default_children(test::shared_services());
  c.generator = [slot](caf::local_actor* parent) -> generator_actor {
    return parent->spawn<caf::linked>(gated_unsure, *slot);
  };
  return c;
}

} // namespace

TEST_CASE("an escalated turn opens a queued handoff record", "[handoff][node]") {
  test::test_node node;
  caf::scoped_actor self{*node.sys};
  auto [session, id] = escalate(self, node);
  // The turn completes once the record it names is stored: it is listed at once.
  CHECK(listed(open_records(self, node.handles.handoff), id));
  auto h = act(self, node.handles.handoff, action(handoff_ops::history, id));
  REQUIRE(h.code.empty());
  CHECK(h.view.state == handoff_states::queued);
  CHECK(h.view.session.value == session);
  CHECK(h.view.reason == "user_requested");
  CHECK_FALSE(h.view.transcript.empty());
  // Another tenant's agent cannot see it.
  CHECK(act(self, node.handles.handoff, action(handoff_ops::history, id, "gina", "globex")).code
        == handoff_codes::not_found);
}

TEST_CASE("a turn that escalates while an agent takes the conversation names the agent's handoff",
          "[handoff][node]") {
  // Through the session: the customer's second message reaches the bot while H1 is queued, Bob takes H1
  // while the answer is being generated, and the answer then escalates (low confidence). The turn's
  // handoff - what the customer's `escalated` frame shows - is H1, not the id derived from turn 2.
  auto reached = std::make_shared<std::promise<void>>();
  auto bot_reached = reached->get_future();
  auto slot = std::make_shared<caf::actor>();
  test::test_node node{gated_unsure_generator(slot)};
  auto gate = node.sys->spawn(generation_gate, reached);
  *slot = gate;
  caf::scoped_actor self{*node.sys};
  auto& h = node.handles.handoff;
  auto [session, id] = escalate(self, node);  // an explicit request: answered without the generator
  wait_listed(self, h, id);

  std::promise<test::turn_result> second;
  auto second_done = second.get_future();
  std::thread customer([&] {
    caf::scoped_actor c{*node.sys};
    second.set_value(test::run_turn(c, node.handles.router, "acme", "alice", session,
                                    "how do I share my project with a secret link?", "c-2"));
  });
  bool generating = bot_reached.wait_for(20s) == std::future_status::ready;
  CHECK(generating);
  caf::scoped_actor agent{*node.sys};
  if (generating)
    subscribe_and_take(self, agent, h, id);
  caf::anon_send(gate, gate_open_atom::value);
  customer.join();
  auto t = second_done.get();
  REQUIRE(t.completed);
  INFO("reason " << to_string(t.completed->escalation.reason) << ", provider " << t.completed->provider << ": "
                 << t.completed->text);
  CHECK(t.completed->escalation.escalate);
  CHECK(t.completed->handoff == id);
  CHECK(t.completed->handoff != handoff::handoff_id("acme", session, t.completed->turn));
  std::size_t open_for_session = 0;
  for (auto& v : open_records(self, h).handoffs)
    if (v.session.value == session) {
      ++open_for_session;
      CHECK(v.state == handoff_states::assigned);
    }
  CHECK(open_for_session == 1);
  caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
}

TEST_CASE("two agents taking the same conversation at once: exactly one wins", "[handoff][node]") {
  test::test_node node;
  caf::scoped_actor self{*node.sys};
  for (int round = 0; round < 5; ++round) {
    auto [session, id] = escalate(self, node);
    wait_listed(self, node.handles.handoff, id);
    caf::scoped_actor bob{*node.sys};
    caf::scoped_actor carol{*node.sys};
    bob->send(node.handles.handoff, action(handoff_ops::take, id, "bob"));
    carol->send(node.handles.handoff, action(handoff_ops::take, id, "carol"));
    std::vector<std::string> codes;
    for (auto* who : {&bob, &carol})
      (*who)->receive([&](agent_outcome& o) { codes.push_back(o.code); },
                      caf::after(5s) >> [&] { codes.push_back("timeout"); });
    REQUIRE(codes.size() == 2);
    CHECK(std::count(codes.begin(), codes.end(), "") == 1);
    CHECK(std::count(codes.begin(), codes.end(), handoff_codes::already_taken) == 1);
  }
}

TEST_CASE("while an agent holds the conversation the bot does not answer, after hand-back it does",
          "[handoff][node]") {
  test::test_node node;
  caf::scoped_actor self{*node.sys};
  auto& h = node.handles.handoff;
  auto [session, id] = escalate(self, node);
  wait_listed(self, h, id);
  caf::scoped_actor agent{*node.sys};
  CHECK(listed(subscribe_and_take(self, agent, h, id), id));

  // Queued or not, the customer writes: the message goes to the agent, one final with no text.
  auto held = test::run_turn(self, node.handles.router, "acme", "alice", session, "thanks, my card is 4111 1111 1111 1111",
                             "c-1");
  REQUIRE(held.completed);
  CHECK(held.completed->provider == "agent");
  CHECK(held.completed->text.empty());
  CHECK(held.deltas.empty());
  std::optional<handoff_customer_said> said;
  auto end = std::chrono::steady_clock::now() + 5s;
  while (!said && std::chrono::steady_clock::now() < end)
    agent->receive([&](handoff_customer_said& m) { said = m; }, [](handoff_changed&) {}, caf::after(5s) >> [] {});
  REQUIRE(said);
  CHECK(said->handoff == id);
  CHECK(said->turn == held.completed->turn);
  CHECK(said->text.find("4111") == std::string::npos);  // the agent's copy is redacted

  auto reply = action(handoff_ops::reply, id);
  reply.text = "I have refunded the duplicate charge of 49 EUR.";
  auto replied = act(self, h, reply);
  REQUIRE(replied.code.empty());
  CHECK_FALSE(replied.delivered);  // no customer connection attached in this test
  REQUIRE(act(self, h, action(handoff_ops::hand_back, id)).code.empty());

  auto bot = test::run_turn(self, node.handles.router, "acme", "alice", session, "How do I add a custom domain?", "c-2");
  REQUIRE(bot.completed);
  CHECK(bot.completed->provider != "agent");
  CHECK_FALSE(bot.completed->text.empty());
  // The agent's reply is a turn of the conversation, between the held message and the bot's answer.
  conversation_memory m;
  self->request(node.handles.memory, 5s, memory_load{tenant_id{"acme"}, session_id{session}})
    .receive([&](conversation_memory& x) { m = std::move(x); }, [&](caf::error&) {});
  CHECK(bot.completed->turn == held.completed->turn + 2);
  CHECK(m.last_turn == bot.completed->turn);
  bool agent_turn = false;
  for (auto& t : m.turns)
    if (t.answer_text == reply.text && t.user_text.empty() && t.number == held.completed->turn + 1)
      agent_turn = true;
  CHECK(agent_turn);
}

TEST_CASE("a turn that escalates after an agent took the conversation stays with that agent", "[handoff][node]") {
  // The race: the customer's next message went to the bot while the record was queued, an agent took the
  // record, then that turn escalated too. The agent keeps the conversation and is told what was asked; no
  // second record appears, and the customer's next message still goes to the agent.
  test::test_node node;
  caf::scoped_actor self{*node.sys};
  auto& h = node.handles.handoff;
  auto [session, id] = escalate(self, node);
  wait_listed(self, h, id);
  caf::scoped_actor agent{*node.sys};
  subscribe_and_take(self, agent, h, id);

  handoff_open late;
  late.tenant = tenant_id{"acme"};
  late.user = user_id{"alice"};
  late.session = session_id{session};
  late.turn = 2;
  late.reason = "low_confidence";
  turn_record t;
  t.number = 2;
  t.client_message_id = "c-late";
  t.user_text = "the export still fails, mail me at alice@example.com";
  t.answer_text = "I am not sure about that.";
  late.turns.push_back(t);
  std::string opened;
  self->request(h, 5s, late).receive([&](handoff_opened& o) { opened = o.id; }, [](caf::error&) {});
  CHECK(opened == id);

  std::optional<handoff_customer_said> said;
  auto end = std::chrono::steady_clock::now() + 5s;
  while (!said && std::chrono::steady_clock::now() < end)
    agent->receive([&](handoff_customer_said& m) { said = m; }, [](handoff_changed&) {}, caf::after(5s) >> [] {});
  REQUIRE(said);
  CHECK(said->handoff == id);
  CHECK(said->turn == 2);
  CHECK(said->text.find("the export still fails") != std::string::npos);
  CHECK(said->text.find("alice@example.com") == std::string::npos);
  std::vector<handoff_view> mine;  // other tests' records may share the service
  for (auto& v : open_records(self, h).handoffs)
    if (v.session.value == session)
      mine.push_back(v);
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].id == id);
  CHECK(mine[0].state == handoff_states::assigned);

  auto next = test::run_turn(self, node.handles.router, "acme", "alice", session, "are you still there?", "c-3");
  REQUIRE(next.completed);
  CHECK(next.completed->provider == "agent");
}
