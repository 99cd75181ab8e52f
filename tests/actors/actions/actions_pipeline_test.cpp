// The tools end to end through sessions on a real node (local classifier and generator, the actions service,
// the embedded account and ticket stores, webhooks to a loopback receiver that verifies signatures):
// proposals and confirmations, lookups, workflows, failures the customer is told about within the turn,
// and tenant isolation. Every wait has a deadline; nothing sleeps.
#include "tests/support/test_node.hpp"
#include "tests/support/webhook_receiver.hpp"

#include "actors/actions/action_rules.hpp"
#include "runtime/exceptions.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace sa;
using namespace sa::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string secret = "whsec-pipeline-7e21";

/// Node services with an `actions` section of the test's own (workflows on the receiver); `tweak` may
/// change the resolved settings (e.g. a confirmation TTL below the config's minimum).
std::shared_ptr<const node_services>
services_with(const std::function<void(config::config&)>& configure = [](config::config&) {},
              const std::function<void(actions::actions_settings&)>& tweak = {}) {
  auto base = shared_services();
  auto svc = std::make_shared<node_services>(*base);
  configure(svc->cfg);
  svc->cfg.retriever.reload_interval_ms = 0;  // no knowledge watcher: these tests ingest nothing
  auto settings = actions::settings_from(svc->cfg, [](const char* name) -> const char* {
    return std::string(name) == "SA_TEST_WORKFLOW_SECRET" ? secret.c_str() : nullptr;
  });
  if (!settings)
    throw std::runtime_error(settings.error());
  auto mutable_settings = std::make_shared<actions::actions_settings>(**settings);
  if (tweak)
    tweak(*mutable_settings);
  svc->actions = mutable_settings;
  auto gen = std::make_shared<generator_deps>(*base->generator);
  gen->rules = svc->actions->rules;
  svc->generator = gen;
  return svc;
}

std::function<void(config::config&)> with_workflow(const webhook_receiver& r) {
  return [url = r.url("/hooks/order")](config::config& c) {
    config::workflow_config wf;
    wf.url = url;
    wf.secret_env = "SA_TEST_WORKFLOW_SECRET";
    wf.description = "escalate a delayed order to fulfilment";
    wf.tenants = {"acme"};
    wf.phrases = {"escalate my order"};
    c.actions.workflows["order_escalation"] = wf;
    c.actions.webhook_timeout_ms = 300;
    c.actions.webhook_backoff_initial_ms = 20;
    c.actions.webhook_backoff_max_ms = 80;
  };
}

std::vector<ticket_info> bot_tickets(caf::scoped_actor& self, const test_node& node, const std::string& tenant,
                                     const std::string& user) {
  std::vector<ticket_info> out;
  self->request(node.handles.actions, 5s, ticket_list_request{tenant_id{tenant}, user_id{user}})
    .receive([&](ticket_list& l) { out = std::move(l.tickets); }, [&](caf::error& e) { FAIL(to_string(e)); });
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a ticket request is proposed, confirmed, opened, and shows among the customer's tickets",
          "[actions][pipeline]") {
  test_node node{{}, services_with()};
  caf::scoped_actor self{*node.sys};
  auto propose = run_turn(self, node.handles.router, "acme", "bob", "s-ticket",
                          "Please open a ticket about my custom domain certificate still pending");
  REQUIRE(propose.completed);
  auto& p = *propose.completed;
  CHECK(p.actions == std::vector<std::string>{"create_ticket:proposed"});
  CHECK(p.proposal.tool == "create_ticket");
  CHECK(contains(p.proposal.summary, "My custom domain certificate still pending"));
  CHECK(p.proposal.expires_unix_ms > 0);
  CHECK(contains(p.text, "Shall I go ahead?"));
  CHECK_FALSE(p.escalation.escalate);
  CHECK(propose.streamed() == p.text);
  CHECK(bot_tickets(self, node, "acme", "bob").empty());  // nothing happens before the customer says yes

  auto confirm = run_turn(self, node.handles.router, "acme", "bob", "s-ticket", "yes please");
  REQUIRE(confirm.completed);
  auto& c = *confirm.completed;
  CHECK(c.actions == std::vector<std::string>{"create_ticket:ok"});
  CHECK(c.proposal.tool.empty());
  CHECK(contains(c.text, "TCK-7001"));
  CHECK_FALSE(c.escalation.escalate);
  auto tickets = bot_tickets(self, node, "acme", "bob");
  REQUIRE(tickets.size() == 1);
  CHECK(tickets[0].id == "TCK-7001");

  // The ticket is in the customer's account facts from now on, and a lookup finds it.
  auto facts = run_turn(self, node.handles.router, "acme", "bob", "s-ticket",
                        "Do I have any open tickets on my account?");
  REQUIRE(facts.completed);
  INFO("intent " << to_string(facts.completed->intent) << ": " << facts.completed->text);
  CHECK(contains(facts.completed->text, "TCK-7001"));
  auto lookup = run_turn(self, node.handles.router, "acme", "bob", "s-ticket", "What's the status of ticket TCK-7001?");
  REQUIRE(lookup.completed);
  CHECK(lookup.completed->actions == std::vector<std::string>{"lookup_order_or_invoice:ok"});
  CHECK(contains(lookup.completed->text, "status open"));
  // A second "yes" has nothing to confirm: no second ticket.
  auto again = run_turn(self, node.handles.router, "acme", "bob", "s-ticket", "yes");
  REQUIRE(again.completed);
  CHECK(again.completed->actions.empty());
  CHECK(bot_tickets(self, node, "acme", "bob").size() == 1);
  // The outcome is stored with the turn: a retry of the confirmation gets it back without acting again.
  auto retry = run_turn(self, node.handles.router, "acme", "bob", "s-ticket", "yes please", confirm.completed->client_message_id);
  REQUIRE(retry.completed);
  CHECK(contains(retry.completed->text, "TCK-7001"));
  CHECK(bot_tickets(self, node, "acme", "bob").size() == 1);
}

TEST_CASE("a declined proposal changes nothing", "[actions][pipeline]") {
  test_node node{{}, services_with()};
  caf::scoped_actor self{*node.sys};
  auto propose = run_turn(self, node.handles.router, "acme", "dana", "s-decline", "create a support ticket about slow builds");
  REQUIRE(propose.completed);
  REQUIRE(propose.completed->actions == std::vector<std::string>{"create_ticket:proposed"});
  auto decline = run_turn(self, node.handles.router, "acme", "dana", "s-decline", "no thanks");
  REQUIRE(decline.completed);
  CHECK(decline.completed->actions == std::vector<std::string>{"create_ticket:declined"});
  CHECK(contains(decline.completed->text, "OK, I won't open a support ticket"));
  CHECK(contains(decline.completed->text, "Nothing was changed"));
  CHECK(bot_tickets(self, node, "acme", "dana").empty());
}

TEST_CASE("an unrelated message drops the proposal and is answered as a new question", "[actions][pipeline]") {
  test_node node{{}, services_with()};
  caf::scoped_actor self{*node.sys};
  auto propose = run_turn(self, node.handles.router, "acme", "alice", "s-other", "open a ticket about billing emails");
  REQUIRE(propose.completed);
  REQUIRE(propose.completed->proposal.tool == "create_ticket");
  auto other = run_turn(self, node.handles.router, "acme", "alice", "s-other", "How do I add a custom domain?");
  REQUIRE(other.completed);
  auto& o = *other.completed;
  CHECK(o.actions == std::vector<std::string>{"create_ticket:cancelled"});
  CHECK(o.text.rfind("(I did not open a support ticket", 0) == 0);
  CHECK(contains(o.text, "domain"));
  CHECK(other.streamed() == o.text);
  // The proposal is gone: a late "yes" confirms nothing.
  auto late = run_turn(self, node.handles.router, "acme", "alice", "s-other", "yes");
  REQUIRE(late.completed);
  CHECK(late.completed->actions.empty());
  CHECK(bot_tickets(self, node, "acme", "alice").empty());
}

TEST_CASE("an expired proposal is never run", "[actions][pipeline]") {
  auto svc = services_with([](config::config&) {},
                           [](actions::actions_settings& s) { s.confirmation_ttl = std::chrono::seconds{0}; });
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  auto propose = run_turn(self, node.handles.router, "acme", "alice", "s-expired", "open a ticket about invoices");
  REQUIRE(propose.completed);
  REQUIRE(propose.completed->proposal.tool == "create_ticket");
  auto confirm = run_turn(self, node.handles.router, "acme", "alice", "s-expired", "yes");
  REQUIRE(confirm.completed);
  CHECK(confirm.completed->actions == std::vector<std::string>{"create_ticket:expired"});
  CHECK(contains(confirm.completed->text, "expired"));
  CHECK(bot_tickets(self, node, "acme", "alice").empty());
}

TEST_CASE("a lookup runs at once, without asking, and reports the caller's invoice", "[actions][pipeline]") {
  test_node node{{}, services_with()};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-lookup", "What's the status of invoice INV-2026-0142?");
  REQUIRE(r.completed);
  auto& c = *r.completed;
  CHECK(c.actions == std::vector<std::string>{"lookup_order_or_invoice:ok"});
  CHECK(c.proposal.tool.empty());
  CHECK(contains(c.text, "Invoice INV-2026-0142 from 2026-11-01: 250.00 USD, status paid"));
  CHECK_FALSE(c.escalation.escalate);
  CHECK(r.streamed() == c.text);
  auto missing = run_turn(self, node.handles.router, "acme", "alice", "s-lookup", "check invoice INV-2020-0001 please");
  REQUIRE(missing.completed);
  CHECK(missing.completed->actions == std::vector<std::string>{"lookup_order_or_invoice:not_found"});
  CHECK(contains(missing.completed->text, "couldn't find an invoice"));
}

TEST_CASE("an order escalation starts the tenant's workflow through a signed webhook once confirmed",
          "[actions][pipeline][webhook]") {
  webhook_receiver receiver{secret};
  receiver.set_default({202, R"({"run_id":"run-77"})"});
  test_node node{{}, services_with(with_workflow(receiver))};
  caf::scoped_actor self{*node.sys};
  auto propose = run_turn(self, node.handles.router, "acme", "alice", "s-wf",
                          "Please escalate my order 88213, it is two weeks late");
  REQUIRE(propose.completed);
  CHECK(propose.completed->actions == std::vector<std::string>{"trigger_workflow:proposed"});
  CHECK(contains(propose.completed->text, "start the \u201corder_escalation\u201d workflow for 88213"));
  CHECK(receiver.request_count() == 0);
  auto confirm = run_turn(self, node.handles.router, "acme", "alice", "s-wf", "go ahead");
  REQUIRE(confirm.completed);
  CHECK(confirm.completed->actions == std::vector<std::string>{"trigger_workflow:ok"});
  CHECK(contains(confirm.completed->text, "run-77"));
  auto got = receiver.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].signature_valid);
  auto body = json::parse(got[0].body);
  CHECK(body["tenant"] == "acme");
  CHECK(body["user"] == "alice");
  CHECK(body["workflow"] == "order_escalation");
  CHECK(body["arguments"]["reference"] == "88213");
  CHECK(got[0].header("idempotency-key").size() == 32);
  // Globex is not offered acme's workflow: the same words open a ticket proposal instead.
  auto globex = run_turn(self, node.handles.router, "globex", "carol", "s-wf-g", "Please escalate my order 88213");
  REQUIRE(globex.completed);
  CHECK(globex.completed->actions == std::vector<std::string>{"create_ticket:proposed"});
}

TEST_CASE("a workflow webhook that keeps failing: the customer is told, and the turn ends in time",
          "[actions][pipeline][webhook]") {
  webhook_receiver receiver{secret};
  receiver.set_default({500, R"({"error":"down"})"});
  test_node node{{}, services_with(with_workflow(receiver))};
  caf::scoped_actor self{*node.sys};
  REQUIRE(run_turn(self, node.handles.router, "acme", "alice", "s-wf-500", "escalate my order 4411").completed);
  auto confirm = run_turn(self, node.handles.router, "acme", "alice", "s-wf-500", "yes");
  REQUIRE(confirm.completed);
  CHECK(confirm.completed->actions == std::vector<std::string>{"trigger_workflow:failed"});
  CHECK(contains(confirm.completed->text, "I couldn't start the \u201corder_escalation\u201d workflow"));
  CHECK(contains(confirm.completed->text, "Nothing was done"));
  CHECK(receiver.request_count() == 4);
  CHECK(receiver.effects() == 0);
}

TEST_CASE("a workflow webhook that never answers is cut short of the turn deadline: the turn is answered",
          "[actions][pipeline][webhook]") {
  webhook_receiver receiver{secret};
  receiver.set_default({200, "{}", 0ms, true});
  auto svc = services_with([&](config::config& c) {
    with_workflow(receiver)(c);
    c.session.turn_timeout_ms = 2000;
    c.actions.webhook_timeout_ms = 10000;
  });
  test_node node{{}, svc};
  caf::scoped_actor self{*node.sys};
  REQUIRE(run_turn(self, node.handles.router, "acme", "alice", "s-wf-stall", "escalate my order 4411").completed);
  auto start = std::chrono::steady_clock::now();
  auto confirm = run_turn(self, node.handles.router, "acme", "alice", "s-wf-stall", "yes", {}, 10s);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(confirm.completed);  // answered, not turn_failed{timeout}
  CHECK(took < 2s);
  CHECK(confirm.completed->actions == std::vector<std::string>{"trigger_workflow:timeout"});
  CHECK(contains(confirm.completed->text, "did not confirm it in time"));
}

TEST_CASE("a tool call with invalid arguments is refused with the argument and the problem, and nothing runs",
          "[actions][pipeline]") {
  // A generator that asks for a ticket with a priority outside the enum, then reports the results it gets.
  auto factory = [](caf::local_actor* self) -> generator_actor {
    // (CAF 0.17 needs at least one argument after the function: a spawn without one trips UBSan.)
    return self->spawn<caf::linked>([](generator_actor::pointer g, int) -> generator_actor::behavior_type {
      log_exceptions(g, "generator");
      return {[](const generate_request& r) -> generation {
        if (auto step = actions::local_tool_step(r, nullptr))
          return *step;  // the second round: the refusal, as the session reports it
        generation out;
        out.provider = "scripted";
        out.confidence = 1.0;
        out.tool_calls.push_back(action_call{"call_9", "create_ticket", R"({"subject":"Build fails","priority":"asap"})"});
        return out;
      }};
    }, 0);
  };
  auto svc = shared_services();
  auto children = default_children(svc);
  children.generator = factory;
  test_node node{children, services_with()};
  caf::scoped_actor self{*node.sys};
  auto r = run_turn(self, node.handles.router, "acme", "alice", "s-invalid", "my builds fail, do something");
  REQUIRE(r.completed);
  CHECK(r.completed->actions == std::vector<std::string>{"create_ticket:invalid_arguments"});
  CHECK(contains(r.completed->text,
                 "create_ticket.priority: expected one of low, normal, high, urgent, got \"asap\""));
  CHECK(r.completed->proposal.tool.empty());
  CHECK(bot_tickets(self, node, "acme", "alice").empty());
}

TEST_CASE("through sessions, one tenant never reads another tenant's invoices or tickets", "[actions][pipeline][isolation]") {
  test_node node{{}, services_with()};
  caf::scoped_actor self{*node.sys};
  const std::vector<std::pair<std::string, std::string>> foreign{
    {"INV-2026-0142", "250.00"}, {"INV-2026-0097", "250.00"}, {"TCK-5012", "Charged twice"},
    {"TCK-5019", "SSL certificate"}};
  int leaks = 0, turns = 0;
  for (int i = 0; i < 25; ++i)
    for (auto& [ref, content] : foreign) {
      auto r = run_turn(self, node.handles.router, "globex", "carol", "s-iso-" + std::to_string(i),
                        "What's the status of " + std::string(ref[0] == 'I' ? "invoice " : "ticket ") + ref + "?");
      ++turns;
      REQUIRE(r.completed);
      leaks += contains(r.completed->text, content) || contains(r.completed->text, "Acme") ? 1 : 0;
      INFO(ref << " -> escalated " << r.completed->escalation.escalate << " ("
               << to_string(r.completed->escalation.reason) << "), safety " << to_string(r.completed->safety.action)
               << "/" << to_string(r.completed->safety.reason) << ": " << r.completed->text);
      CHECK(r.completed->actions == std::vector<std::string>{"lookup_order_or_invoice:not_found"});
    }
  CHECK(turns == 100);
  CHECK(leaks == 0);
}

