// The agent console end to end over real WebSockets (docs/protocol.md, "Agent console"): a customer
// escalates, an agent takes the conversation and replies, the customer reads it in the same session (and,
// after a reconnect, what was sent while away), hands back, and the bot answers the next question with the
// agent's exchange in the session's memory. Then the refusals: roles on the wrong endpoint, another tenant,
// a conversation already taken (two agents at once), a closed one.
#include "tests/actors/gateway/gateway_fixture.hpp"

#include <algorithm>

using namespace sa;
using namespace sa::test;

namespace {

/// The customer asks for a human; returns the handoff id of the `escalated` frame.
std::string escalate(ws_client& customer, std::string& session) {
  REQUIRE(customer.send_json({{"type", "escalate"}}));
  auto final = customer.read_until("final");
  REQUIRE(final);
  CHECK((*final)["escalated"] == true);
  session = (*final)["session"];
  auto e = customer.read_until("escalated");
  REQUIRE(e);
  return (*e)["handoff"];
}

bool in_queue(const json& queue, const std::string& id) {
  for (auto& h : queue["handoffs"])
    if (h["id"] == id)
      return true;
  return false;
}

/// Sends an action and reads up to its ok or error (other frames are skipped).
json agent_do(ws_client& agent, json frame) {
  REQUIRE(agent.send_json(frame));
  auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    auto f = agent.read(10s);
    REQUIRE(f);
    if ((*f)["type"] == "ok" || (*f)["type"] == "error")
      return *f;
  }
  FAIL("no answer to " << frame.dump());
  return {};
}

} // namespace

TEST_CASE("an agent takes over an escalated conversation, replies, and hands it back to the bot",
          "[gateway][handoff]") {
  gateway_fixture fx;
  ws_client customer;
  REQUIRE(connect_ready(customer, fx.port(), fx.token("acme", "alice")));
  std::string session;
  auto id = escalate(customer, session);

  ws_client agent;
  auto queue = connect_agent(agent, fx.port(), fx.agent_token("acme", "bob", "Bob"));
  REQUIRE(queue);
  REQUIRE(in_queue(*queue, id));

  auto taken = agent_do(agent, {{"type", "take"}, {"handoff", id}, {"ref", "t1"}});
  REQUIRE(taken["type"] == "ok");
  CHECK(taken["ref"] == "t1");
  auto history = agent.read_until("history");
  REQUIRE(history);
  CHECK((*history)["handoff"]["state"] == "assigned");
  CHECK((*history)["handoff"]["transcript"].size() >= 2);
  auto joined = customer.read_until("agent_joined");
  REQUIRE(joined);
  CHECK((*joined)["agent_name"] == "Bob");

  const std::string answer = "Hi Alice, I refunded the duplicate charge.";
  auto replied = agent_do(agent, {{"type", "reply"}, {"handoff", id}, {"text", answer}});
  REQUIRE(replied["type"] == "ok");
  CHECK(replied["delivered"] == true);
  auto said = customer.read_until("agent_message");
  REQUIRE(said);
  CHECK((*said)["text"] == answer);
  CHECK((*said)["seq"] == 1);

  // The customer writes back: the agent gets it, the customer one final handled by the agent.
  auto x = ask(customer, "c1", "Thank you! Will it show on my next invoice?");
  REQUIRE(x.final);
  CHECK((*x.final)["handled_by"] == "agent");
  CHECK((*x.final)["text"] == "");
  CHECK(x.deltas.empty());
  auto heard = agent.read_until("customer_message");
  REQUIRE(heard);
  CHECK((*heard)["handoff"] == id);
  CHECK((*heard)["turn"] == (*x.final)["turn"]);

  // The customer drops; what the agent sends meanwhile arrives when they resume.
  customer.close();
  std::optional<json> gone;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!gone && std::chrono::steady_clock::now() < until) {
    auto u = agent.read_until("handoff_update");
    REQUIRE(u);
    if ((*u)["handoff"]["id"] == id && (*u)["handoff"]["customer_online"] == false)
      gone = u;
  }
  REQUIRE(gone);  // the agent sees the customer leave
  const std::string later = "Yes, it will show as a credit.";
  auto offline = agent_do(agent, {{"type", "reply"}, {"handoff", id}, {"text", later}});
  REQUIRE(offline["type"] == "ok");
  CHECK(offline["delivered"] == false);
  ws_client back;
  REQUIRE(connect_ready(back, fx.port(), fx.token("acme", "alice"), "&session=" + session));
  auto rejoined = back.read_until("agent_joined");
  REQUIRE(rejoined);
  auto missed = back.read_until("agent_message");
  REQUIRE(missed);
  CHECK((*missed)["text"] == later);
  CHECK((*missed)["seq"] == 2);

  // A client that says which agent message it showed last (agent_seen) gets the later ones again, even those
  // that went to a connection before: one dropping at that moment would have lost them.
  ws_client again;
  REQUIRE(connect_ready(again, fx.port(), fx.token("acme", "alice"),
                        "&session=" + session + "&agent_seen=" + id + "%3A1"));
  REQUIRE(again.read_until("agent_joined"));
  auto resent = again.read_until("agent_message");
  REQUIRE(resent);
  CHECK((*resent)["seq"] == 2);
  CHECK((*resent)["text"] == later);
  again.close();
  ws_client framed;  // the same by the resume frame, nothing shown yet
  REQUIRE(connect_ready(framed, fx.port(), fx.token("acme", "alice")));
  REQUIRE(framed.send_json(
    {{"type", "resume"}, {"session", session}, {"agent_seen", {{"handoff", id}, {"seq", 0}}}}));
  REQUIRE(framed.read_until("agent_joined"));
  for (unsigned seq : {1u, 2u}) {
    auto m = framed.read_until("agent_message");
    REQUIRE(m);
    CHECK((*m)["seq"] == seq);
  }
  framed.close();
  // Shown up to the last one, or an agent_seen that is no cursor (an error frame, then the session resumes
  // as without it): nothing again, the first agent message is the agent's next reply.
  ws_client current, garbled;
  REQUIRE(connect_ready(current, fx.port(), fx.token("acme", "alice"),
                        "&session=" + session + "&agent_seen=" + id + ":2"));
  REQUIRE(current.read_until("agent_joined"));
  REQUIRE(connect_ready(garbled, fx.port(), fx.token("acme", "alice"), "&session=" + session + "&agent_seen=two"));
  auto refused = garbled.read_until("error");
  REQUIRE(refused);
  CHECK((*refused)["code"] == "bad_request");
  CHECK((*refused)["message"].get<std::string>().find("agent_seen") != std::string::npos);
  REQUIRE(garbled.read_until("agent_joined"));
  const std::string third = "The credit note is attached to your account.";
  REQUIRE(agent_do(agent, {{"type", "reply"}, {"handoff", id}, {"text", third}})["type"] == "ok");
  for (auto* c : {&current, &garbled}) {
    auto next = c->read_until("agent_message");
    REQUIRE(next);
    CHECK((*next)["seq"] == 3);
  }
  current.close();
  garbled.close();
  REQUIRE(back.read_until("agent_message"));  // the third reply, on the connection the test goes on with

  auto tagged = agent_do(agent, {{"type", "tag"}, {"handoff", id}, {"intent", "billing"}, {"bot_could_answer", false}});
  CHECK(tagged["type"] == "ok");
  auto returned = agent_do(agent, {{"type", "hand_back"}, {"handoff", id}});
  REQUIRE(returned["type"] == "ok");
  auto left = back.read_until("agent_left");
  REQUIRE(left);
  CHECK((*left)["state"] == "returned_to_bot");

  // The bot answers again, and the agent's exchange is in the conversation's memory, before its answer.
  auto bot = ask(back, "c2", "How do I add a custom domain?");
  REQUIRE(bot.final);
  CHECK_FALSE((*bot.final).contains("handled_by"));
  CHECK_FALSE((*bot.final)["text"].get<std::string>().empty());
  caf::scoped_actor self{*fx.node.sys};
  conversation_memory m;
  self->request(fx.node.handles.memory, 5s, memory_load{tenant_id{"acme"}, session_id{session}})
    .receive([&](conversation_memory& x) { m = std::move(x); }, [&](caf::error&) {});
  std::vector<std::string> agent_lines;
  for (auto& t : m.turns)
    if (t.user_text.empty())
      agent_lines.push_back(t.answer_text);
  CHECK(agent_lines == std::vector<std::string>{answer, later, third});
  CHECK(m.last_turn == (*bot.final)["turn"].get<unsigned>());
  CHECK(m.turns.back().user_text == "How do I add a custom domain?");

  // Handed back: further actions are refused with handed_back, and the queue no longer lists it.
  CHECK(agent_do(agent, {{"type", "reply"}, {"handoff", id}, {"text", "hello?"}})["code"] == "handed_back");
  CHECK(agent_do(agent, {{"type", "take"}, {"handoff", id}})["code"] == "handed_back");
  REQUIRE(agent.send_json({{"type", "list"}}));
  auto listed = agent.read_until("queue");
  REQUIRE(listed);
  CHECK_FALSE(in_queue(*listed, id));
}

TEST_CASE("a connection that moves to another conversation no longer gets the first one's agent messages",
          "[gateway][handoff]") {
  gateway_fixture fx;
  ws_client customer;
  REQUIRE(connect_ready(customer, fx.port(), fx.token("acme", "alice")));
  std::string first;
  auto id = escalate(customer, first);
  // The same connection starts another conversation.
  const std::string second = first + "-next";
  REQUIRE(customer.send_json({{"type", "resume"}, {"session", second}}));
  auto bound = customer.read_until("session");
  REQUIRE(bound);
  REQUIRE((*bound)["session"] == second);

  ws_client agent;
  REQUIRE(connect_agent(agent, fx.port(), fx.agent_token("acme", "bob", "Bob")));
  REQUIRE(agent_do(agent, {{"type", "take"}, {"handoff", id}})["type"] == "ok");
  const std::string answer = "Hi Alice, about your first question: it is refunded.";
  auto replied = agent_do(agent, {{"type", "reply"}, {"handoff", id}, {"text", answer}});
  REQUIRE(replied["type"] == "ok");
  CHECK(replied["delivered"] == false);  // nobody follows the first conversation now

  // The service sent this connection nothing of it: an answer in the second conversation comes with no agent
  // frame before it (anything sent before the reply above would have arrived first).
  REQUIRE(customer.send_json({{"type", "message"}, {"id", "n1"}, {"text", "How do I add a custom domain?"}}));
  std::vector<std::string> types;
  std::optional<json> f;
  while ((f = customer.read(10s)) && (*f)["type"] != "final")
    types.push_back((*f)["type"]);
  REQUIRE(f);
  CHECK((*f)["session"] == second);
  CHECK(std::count(types.begin(), types.end(), "agent_joined") == 0);
  CHECK(std::count(types.begin(), types.end(), "agent_message") == 0);

  // Back in the first conversation, the agent's message is there: nothing was lost.
  REQUIRE(customer.send_json({{"type", "resume"}, {"session", first}}));
  auto missed = customer.read_until("agent_message");
  REQUIRE(missed);
  CHECK((*missed)["text"] == answer);
}

TEST_CASE("agent console refusals: roles, tenants, a taken conversation, a closed one", "[gateway][handoff]") {
  gateway_fixture fx;
  SECTION("a customer token cannot open /agent/ws, an agent token cannot open /ws") {
    ws_client c;
    REQUIRE(c.connect(fx.port(), "/agent/ws?token=" + fx.token("acme", "alice")));
    auto e = c.read();
    REQUIRE(e);
    CHECK((*e)["code"] == "unauthorized");
    CHECK(c.wait_closed());
    CHECK(c.close_code() == 1008);
    ws_client a;
    REQUIRE(a.connect(fx.port(), "/ws?token=" + fx.agent_token("acme", "bob")));
    auto e2 = a.read();
    REQUIRE(e2);
    CHECK((*e2)["code"] == "unauthorized");
    CHECK(a.wait_closed());
    CHECK(a.close_code() == 1008);
  }
  SECTION("another tenant, two takers at once, a closed conversation") {
    ws_client customer;
    REQUIRE(connect_ready(customer, fx.port(), fx.token("acme", "alice")));
    std::string session;
    auto id = escalate(customer, session);
    ws_client gina;
    auto gq = connect_agent(gina, fx.port(), fx.agent_token("globex", "gina"));
    REQUIRE(gq);
    CHECK_FALSE(in_queue(*gq, id));
    for (const char* op : {"take", "history", "hand_back"})
      CHECK(agent_do(gina, {{"type", op}, {"handoff", id}})["code"] == "not_found");
    CHECK(agent_do(gina, {{"type", "reply"}, {"handoff", id}, {"text", "hi"}})["code"] == "not_found");

    ws_client bob, carol;
    REQUIRE(connect_agent(bob, fx.port(), fx.agent_token("acme", "bob")));
    REQUIRE(connect_agent(carol, fx.port(), fx.agent_token("acme", "carol")));
    REQUIRE(bob.send_json({{"type", "take"}, {"handoff", id}}));
    REQUIRE(carol.send_json({{"type", "take"}, {"handoff", id}}));
    std::vector<std::string> outcomes;
    for (auto* c : {&bob, &carol}) {
      auto end = std::chrono::steady_clock::now() + 10s;
      std::optional<json> answer;
      while (!answer && std::chrono::steady_clock::now() < end) {
        auto f = c->read(10s);
        REQUIRE(f);
        if ((*f)["type"] == "ok" || (*f)["type"] == "error")
          answer = *f;
      }
      REQUIRE(answer);
      outcomes.push_back((*answer)["type"] == "ok" ? "ok" : (*answer)["code"].get<std::string>());
    }
    CHECK(std::count(outcomes.begin(), outcomes.end(), "ok") == 1);
    CHECK(std::count(outcomes.begin(), outcomes.end(), "already_taken") == 1);
    auto& holder = outcomes[0] == "ok" ? bob : carol;
    auto& other = outcomes[0] == "ok" ? carol : bob;
    CHECK(agent_do(other, {{"type", "reply"}, {"handoff", id}, {"text", "me too"}})["code"] == "not_assigned");
    CHECK(agent_do(other, {{"type", "close"}, {"handoff", id}})["code"] == "not_assigned");
    auto closed = agent_do(holder, {{"type", "close"}, {"handoff", id}, {"resolution", "refunded"}});
    REQUIRE(closed["type"] == "ok");
    auto left = customer.read_until("agent_left");
    REQUIRE(left);
    CHECK((*left)["state"] == "closed");
    CHECK(agent_do(holder, {{"type", "reply"}, {"handoff", id}, {"text", "hi"}})["code"] == "closed");
    CHECK(agent_do(other, {{"type", "take"}, {"handoff", id}})["code"] == "closed");
    CHECK(agent_do(holder, {{"type", "tag"}, {"handoff", id}, {"intent", "billing"}, {"bot_could_answer", true}})["type"]
          == "ok");
    CHECK(agent_do(holder, {{"type", "tag"}, {"handoff", id}, {"intent", "nope"}, {"bot_could_answer", true}})["code"]
          == "bad_request");
    // Closed: the bot answers the customer again.
    auto x = ask(customer, "c9", "How do I add a custom domain?");
    REQUIRE(x.final);
    CHECK_FALSE((*x.final).contains("handled_by"));
  }
}
