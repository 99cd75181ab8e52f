// The actions service on a real actor system: webhooks to a loopback receiver that verifies each request's
// signature and timestamp (as docs/actions.md tells receivers to), retries with one effect per idempotency
// key, honest failures within the deadline, lookups scoped to the caller, audit records, tenant isolation.
// Every wait has a deadline; nothing sleeps.
#include "actors/account/account_actor.hpp"
#include "actors/actions/actions_actor.hpp"
#include "actors/actions/webhook.hpp"
#include "config/load.hpp"
#include "messages/completion.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/supervisor.hpp"
#include "tests/support/webhook_receiver.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <mutex>

using namespace sa;
using namespace sa::actions;
using sa::test::webhook_receiver;
using sa::test::webhook_reply;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string secret = "whsec-test-1f6a0c";

/// Audit events as the audit actor would get them.
struct audit_log {
  std::mutex m;
  std::vector<audit_event> events;
  std::vector<audit_event> snapshot() {
    std::lock_guard<std::mutex> g{m};
    return events;
  }
};

audit_actor::behavior_type fake_audit(audit_actor::pointer, std::shared_ptr<audit_log> log) {
  return {
    [log](audit_event& e) -> audit_receipt {
      std::lock_guard<std::mutex> g{log->m};
      log->events.push_back(std::move(e));
      return audit_receipt{log->events.size(), "h"};
    },
    [](const audit_stats_request&) { return audit_stats{}; },
  };
}

struct service {
  explicit service(const std::function<void(config::config&, webhook_receiver&)>& configure = {}) {
    log::init("warn", "");
    cfg = config::defaults();
    cfg.actions.webhook_timeout_ms = 300;
    cfg.actions.webhook_connect_timeout_ms = 300;
    cfg.actions.webhook_backoff_initial_ms = 20;
    cfg.actions.webhook_backoff_max_ms = 80;
    cfg.actions.webhook_max_attempts = 4;
    config::workflow_config wf;
    wf.url = receiver.url("/hooks/order");
    wf.secret_env = "SA_TEST_WORKFLOW_SECRET";
    wf.tenants = {"acme"};
    wf.phrases = {"escalate my order"};
    cfg.actions.workflows["order_escalation"] = wf;
    if (configure)
      configure(cfg, receiver);
    auto settings = settings_from(cfg, [](const char* name) -> const char* {
      return std::string(name) == "SA_TEST_WORKFLOW_SECRET" || std::string(name) == "SA_TEST_HELPDESK_SECRET"
               ? secret.c_str()
               : nullptr;
    });
    if (!settings)
      FAIL(settings.error());
    register_message_types(sys_cfg);
    sys = std::make_unique<caf::actor_system>(sys_cfg);
    auto store = account_store::load(std::string(SA_SOURCE_DIR) + "/data/tenants/accounts.json");
    if (!store)
      FAIL(store.error());
    account = sys->spawn(embedded_accounts, *store);
    audit = sys->spawn(fake_audit, audits);
    auto deps = std::make_shared<actions_deps>();
    deps->settings = *settings;
    deps->tickets = std::make_shared<ticket_store>();
    http = std::make_shared<http_client>();
    deps->http = http;
    deps->account = account;
    deps->audit = audit;
    actions = spawn_supervised<actions_actor>(
      *sys, "actions",
      [d = std::shared_ptr<const actions_deps>{deps}](caf::local_actor* self) { return spawn_actions(self, d); },
      supervision_policy{});
  }
  ~service() {
    caf::anon_send_exit(actions, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(account, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(audit, caf::exit_reason::user_shutdown);
    http->stop();
    sys.reset();
  }

  action_request request(const std::string& tenant, const std::string& user, const std::string& tool, json args,
                         std::string key = {}, std::chrono::milliseconds budget = 5s) {
    action_request r;
    r.tenant = tenant_id{tenant};
    r.user = user_id{user};
    r.session = session_id{"s-test"};
    r.call = action_call{"call-1", tool, args.dump()};
    r.idempotency_key = key.empty() ? "key-" + std::to_string(++keys) : key;
    r.deadline = deadline_in(budget);
    return r;
  }

  action_result run(const action_request& r, std::chrono::milliseconds wait = 10s) {
    caf::scoped_actor self{*sys};
    action_result out;
    self->request(actions, wait, r).receive([&](action_result& res) { out = std::move(res); },
                                            [&](caf::error& e) { FAIL("actions service: " << to_string(e)); });
    return out;
  }

  std::vector<ticket_info> tickets(const std::string& tenant, const std::string& user) {
    caf::scoped_actor self{*sys};
    std::vector<ticket_info> out;
    self->request(actions, 5s, ticket_list_request{tenant_id{tenant}, user_id{user}})
      .receive([&](ticket_list& l) { out = std::move(l.tickets); },
               [&](caf::error& e) { FAIL("ticket list: " << to_string(e)); });
    return out;
  }

  webhook_receiver receiver{secret};
  config::config cfg;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<http_client> http;
  account_actor account;
  std::shared_ptr<audit_log> audits = std::make_shared<audit_log>();
  audit_actor audit;
  actions_actor actions;
  int keys = 0;
};

json workflow_args(const std::string& reference = "88213") {
  return {{"workflow", "order_escalation"}, {"reference", reference}, {"note", "two weeks late"}};
}

} // namespace

TEST_CASE("trigger_workflow posts signed JSON that the receiver verifies, and is audited", "[actions][service][webhook]") {
  service s;
  s.receiver.set_default({200, R"({"run_id":"run-42","status":"accepted"})"});
  auto req = s.request("acme", "alice", "trigger_workflow", workflow_args(), "idem-abc");
  auto res = s.run(req);
  CHECK(res.status == action_status::ok);
  CHECK(res.reference == "run-42");
  CHECK(res.attempts == 1);
  CHECK(res.call_id == "call-1");
  CHECK(res.summary.find("order_escalation") != std::string::npos);
  auto got = s.receiver.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].path == "/hooks/order");
  CHECK(got[0].signature_valid);
  CHECK(got[0].header("idempotency-key") == "idem-abc");
  CHECK(got[0].header("content-type") == "application/json");
  auto body = json::parse(got[0].body);
  CHECK(body["event"] == "workflow.trigger");
  CHECK(body["id"] == "idem-abc");
  CHECK(body["tenant"] == "acme");
  CHECK(body["user"] == "alice");
  CHECK(body["workflow"] == "order_escalation");
  CHECK(body["arguments"] == json{{"reference", "88213"}, {"note", "two weeks late"}});
  // The secret travels in no header and no body.
  CHECK(got[0].body.find(secret) == std::string::npos);
  for (auto& [name, value] : got[0].headers)
    CHECK(value.find(secret) == std::string::npos);
  // A tampered body would not pass the receiver's check.
  CHECK_FALSE(verify_signature(secret, got[0].header("x-support-agent-timestamp"), got[0].body + "x",
                               got[0].header("x-support-agent-signature"),
                               std::atoll(got[0].header("x-support-agent-timestamp").c_str())));
  // The audit record is sent without holding up the answer: poll the fake audit actor, with a deadline.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s.audits->snapshot().empty() && std::chrono::steady_clock::now() < deadline) {
    caf::scoped_actor self{*s.sys};
    self->request(s.audit, 1s, audit_stats_request{}).receive([](audit_stats&) {}, [](caf::error&) {});
  }
  auto audits = s.audits->snapshot();
  REQUIRE(audits.size() == 1);
  CHECK(audits[0].tenant.value == "acme");
  CHECK(audits[0].actor == "bot");
  CHECK(audits[0].action == "trigger_workflow");
  CHECK(audits[0].result == "ok");
  CHECK(json::parse(audits[0].arguments)["reference"] == "88213");
  CHECK(audits[0].session.value == "s-test");
}

TEST_CASE("a webhook that times out and then succeeds acts once, thanks to the idempotency key",
          "[actions][service][webhook]") {
  service s;
  s.receiver.script({{200, R"({"run_id":"late"})", 1500ms}, {200, R"({"run_id":"run-2"})"}});
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args()));
  CHECK(res.status == action_status::ok);
  CHECK(res.attempts == 2);
  CHECK(res.reference == "run-2");
  auto got = s.receiver.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[0].header("idempotency-key") == got[1].header("idempotency-key"));
  CHECK(got[0].body == got[1].body);  // the same bytes, signed afresh
  CHECK(got[0].signature_valid);
  CHECK(got[1].signature_valid);
  CHECK(s.receiver.effects() == 1);
}

TEST_CASE("a webhook that answers 500 and then succeeds acts once", "[actions][service][webhook]") {
  service s;
  s.receiver.script({{500, R"({"error":"boom"})"}, {503, "{}"}, {200, R"({"run_id":"run-3"})"}});
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args()));
  CHECK(res.status == action_status::ok);
  CHECK(res.attempts == 3);
  CHECK(s.receiver.request_count() == 3);
  CHECK(s.receiver.effects() == 1);
}

TEST_CASE("a 429 with Retry-After waits that long before the next attempt", "[actions][service][webhook]") {
  service s;
  s.receiver.script({{429, "{}", 0ms, false, {{"Retry-After", "1"}}}, {200, "{}"}});
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args()));
  CHECK(res.status == action_status::ok);
  auto got = s.receiver.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[1].at - got[0].at >= 1s);
}

TEST_CASE("a webhook that keeps failing is reported honestly, before the deadline", "[actions][service][webhook]") {
  service s;
  s.receiver.set_default({500, R"({"error":"down"})"});
  auto start = std::chrono::steady_clock::now();
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args(), {}, 5s));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(res.status == action_status::failed);
  CHECK(res.attempts == 4);
  CHECK(s.receiver.request_count() == 4);
  CHECK(res.summary.find("couldn't start") != std::string::npos);
  CHECK(res.summary.find("HTTP 500") != std::string::npos);
  CHECK(res.summary.find("Nothing was done") != std::string::npos);
}

TEST_CASE("a webhook that never answers is cut at the action's deadline", "[actions][service][webhook]") {
  service s([](config::config& c, webhook_receiver&) { c.actions.webhook_timeout_ms = 5000; });
  s.receiver.set_default({200, "{}", 0ms, true});
  auto start = std::chrono::steady_clock::now();
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args(), {}, 700ms));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 600ms);
  CHECK(took < 3s);
  CHECK(res.status == action_status::timeout);
  CHECK(res.summary.find("did not confirm it in time") != std::string::npos);
  CHECK(res.summary.find("won't be done twice") != std::string::npos);
}

TEST_CASE("a webhook that refuses the request (400) is not retried", "[actions][service][webhook]") {
  service s;
  s.receiver.set_default({400, R"({"error":"bad"})"});
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", workflow_args()));
  CHECK(res.status == action_status::failed);
  CHECK(res.attempts == 1);
  CHECK(res.summary.find("refused the request (HTTP 400)") != std::string::npos);
}

TEST_CASE("the same idempotency key never acts twice, in sequence or at the same time", "[actions][service][webhook]") {
  service s;
  s.receiver.set_default({200, R"({"run_id":"run-once"})", 200ms});
  auto req = s.request("acme", "alice", "trigger_workflow", workflow_args(), "same-key");
  // Two at once: the second joins the first's job.
  caf::scoped_actor self{*s.sys};
  self->send(s.actions, req);  // fire and forget; its answer is dropped
  auto second = s.run(req);
  CHECK(second.status == action_status::ok);
  // Again, later: the remembered outcome, no new request.
  auto third = s.run(req);
  CHECK(third.status == action_status::ok);
  CHECK(third.reference == "run-once");
  CHECK(s.receiver.request_count() == 1);
  CHECK(s.receiver.effects() == 1);
}

TEST_CASE("create_ticket goes to the helpdesk webhook when one is configured", "[actions][service][webhook]") {
  service s([](config::config& c, webhook_receiver& r) {
    c.actions.ticket_webhook_url = r.url("/helpdesk/tickets");
    c.actions.ticket_webhook_secret_env = "SA_TEST_HELPDESK_SECRET";
  });
  s.receiver.set_default({201, R"({"ticket_id":"HD-991"})"});
  auto res = s.run(s.request("acme", "alice", "create_ticket", {{"subject", "Build fails"}, {"priority", "high"}}));
  CHECK(res.status == action_status::ok);
  CHECK(res.reference == "HD-991");
  CHECK(res.summary.find("HD-991") != std::string::npos);
  auto got = s.receiver.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].path == "/helpdesk/tickets");
  CHECK(got[0].signature_valid);
  auto body = json::parse(got[0].body);
  CHECK(body["event"] == "ticket.create");
  CHECK(body["ticket"] == json{{"subject", "Build fails"}, {"priority", "high"}});
  // The helpdesk's ticket shows among the customer's tickets at once.
  auto tickets = s.tickets("acme", "alice");
  REQUIRE(tickets.size() == 1);
  CHECK(tickets[0].id == "HD-991");
  CHECK(s.tickets("acme", "bob").empty());
}

TEST_CASE("create_ticket into the embedded store, once per key", "[actions][service]") {
  service s;
  auto req = s.request("acme", "bob", "create_ticket", {{"subject", "SSL pending"}}, "k-ticket");
  auto a = s.run(req);
  CHECK(a.status == action_status::ok);
  CHECK(a.reference == "TCK-7001");
  CHECK(a.summary.find("TCK-7001") != std::string::npos);
  auto b = s.run(req);
  CHECK(b.reference == "TCK-7001");
  auto tickets = s.tickets("acme", "bob");
  REQUIRE(tickets.size() == 1);
  CHECK(tickets[0].subject == "SSL pending");
  CHECK(s.receiver.request_count() == 0);
}

TEST_CASE("invalid arguments run nothing and say which argument is wrong", "[actions][service]") {
  service s;
  auto res = s.run(s.request("acme", "alice", "trigger_workflow", {{"workflow", "order_escalation"}, {"reference", 5}}));
  CHECK(res.status == action_status::invalid_arguments);
  CHECK(res.detail == "trigger_workflow.reference: expected a string, got number 5");
  CHECK(res.summary == "I couldn't do that: trigger_workflow.reference: expected a string, got number 5.");
  auto unknown = s.run(s.request("acme", "alice", "drop_database", json::object()));
  CHECK(unknown.status == action_status::invalid_arguments);
  CHECK(s.receiver.request_count() == 0);
}

TEST_CASE("lookups find the caller's own invoices and tickets", "[actions][service]") {
  service s;
  auto inv = s.run(s.request("acme", "alice", "lookup_order_or_invoice", {{"reference", "INV-2026-0143"}}));
  CHECK(inv.status == action_status::ok);
  CHECK(inv.reference == "INV-2026-0143");
  CHECK(inv.summary.find("250.00 USD") != std::string::npos);
  CHECK(inv.summary.find("refunded") != std::string::npos);
  CHECK(json::parse(inv.data_json)["status"] == "refunded");
  auto by_number = s.run(s.request("acme", "alice", "lookup_order_or_invoice", {{"reference", "0142"}, {"kind", "invoice"}}));
  CHECK(by_number.reference == "INV-2026-0142");
  auto ticket = s.run(s.request("acme", "bob", "lookup_order_or_invoice", {{"reference", "TCK-5019"}}));
  CHECK(ticket.status == action_status::ok);
  CHECK(ticket.summary.find("SSL certificate pending") != std::string::npos);
  auto missing = s.run(s.request("acme", "alice", "lookup_order_or_invoice", {{"reference", "INV-1999-0001"}}));
  CHECK(missing.status == action_status::not_found);
  CHECK(missing.summary.find("couldn't find an invoice") != std::string::npos);
  auto order = s.run(s.request("acme", "alice", "lookup_order_or_invoice", {{"reference", "A-88213"}, {"kind", "order"}}));
  CHECK(order.status == action_status::not_found);
  // A ticket the bot opened is found for its owner.
  auto created = s.run(s.request("acme", "dana", "create_ticket", {{"subject", "Dana's question"}}));
  REQUIRE(created.status == action_status::ok);
  auto found = s.run(s.request("acme", "dana", "lookup_order_or_invoice", {{"reference", created.reference}}));
  CHECK(found.status == action_status::ok);
  CHECK(found.summary.find("Dana's question") != std::string::npos);
}

TEST_CASE("1,000 attempts by one tenant to read or act on another tenant's records all fail",
          "[actions][service][isolation]") {
  service s;
  // Records of the other side: acme's invoices and tickets, globex's ticket, and tickets the bot opened.
  auto acme_created = s.run(s.request("acme", "alice", "create_ticket", {{"subject", "Acme secret plans"}}));
  auto globex_created = s.run(s.request("globex", "carol", "create_ticket", {{"subject", "Globex secret plans"}}));
  REQUIRE(acme_created.status == action_status::ok);
  REQUIRE(globex_created.status == action_status::ok);
  // Both stores number from the same start: the same id exists in each tenant and must resolve to each
  // tenant's own ticket only.
  std::vector<std::string> acme_refs{"INV-2026-0142", "INV-2026-0143", "INV-2026-0118", "INV-2026-0099",
                                     "INV-2026-0097", "INV-2026-0071", "TCK-5012",      "TCK-5019",
                                     "0142",          "5012"};
  std::vector<std::string> globex_refs{"TCK-5021", "5021"};
  int attempts = 0, leaks = 0;
  auto leaked = [&](const action_result& r, const std::string& foreign) {
    return r.status == action_status::ok || r.summary.find(foreign) != std::string::npos ||
           r.data_json.find(foreign) != std::string::npos;
  };
  for (int round = 0; attempts < 1000; ++round) {
    for (auto& ref : acme_refs) {  // globex reads acme's invoices and tickets
      auto r = s.run(s.request("globex", "carol", "lookup_order_or_invoice", {{"reference", ref}}));
      leaks += leaked(r, "Acme") || leaked(r, "250.00") ? 1 : 0;
      ++attempts;
    }
    for (auto& ref : globex_refs) {  // acme reads globex's ticket
      auto r = s.run(s.request("acme", "alice", "lookup_order_or_invoice", {{"reference", ref}}));
      leaks += leaked(r, "Build killed") ? 1 : 0;
      ++attempts;
    }
    // Tickets the bot opened: the same id in the other tenant finds only that tenant's own, or nothing.
    auto mine = s.run(s.request("globex", "carol", "lookup_order_or_invoice", {{"reference", acme_created.reference}}));
    leaks += mine.summary.find("Acme secret") != std::string::npos ? 1 : 0;
    ++attempts;
    auto theirs = s.run(s.request("acme", "bob", "lookup_order_or_invoice", {{"reference", globex_created.reference}}));
    leaks += theirs.summary.find("Globex secret") != std::string::npos || theirs.status == action_status::ok ? 1 : 0;
    ++attempts;
    // Acting: acme's workflow from globex, and arguments that try to name another tenant or user.
    auto wf = s.run(s.request("globex", "carol", "trigger_workflow", workflow_args()));
    leaks += wf.status != action_status::invalid_arguments ? 1 : 0;
    ++attempts;
    auto smuggled = s.run(s.request("globex", "carol", "create_ticket", {{"subject", "x-tenant"}, {"tenant", "acme"}}));
    leaks += smuggled.status != action_status::invalid_arguments ? 1 : 0;
    ++attempts;
    auto as_user = s.run(s.request("globex", "carol", "lookup_order_or_invoice", {{"reference", "TCK-5012"}, {"user", "alice"}}));
    leaks += as_user.status != action_status::invalid_arguments ? 1 : 0;
    ++attempts;
  }
  CHECK(attempts >= 1000);
  CHECK(leaks == 0);
  CHECK(s.receiver.request_count() == 0);  // globex never reached acme's workflow
  // And the other side's records are all still there for their owners.
  CHECK(s.tickets("acme", "alice").size() == 1);
  CHECK(s.tickets("globex", "carol").size() == 1);
}

TEST_CASE("a caller waiting on a webhook is answered when the actions service dies", "[actions][service]") {
  service s;
  s.receiver.set_default({200, "{}", 0ms, true});
  caf::scoped_actor self{*s.sys};
  auto req = s.request("acme", "alice", "trigger_workflow", workflow_args(), {}, 10s);
  auto pending = self->request(s.actions, 20s, req);
  REQUIRE(s.receiver.wait_for_requests(1, 5s));
  caf::actor child;
  self->request(caf::actor_cast<caf::actor>(s.actions), 5s, supervisor_child_atom::value)
    .receive([&](caf::actor& c) { child = c; }, [&](caf::error& e) { FAIL(to_string(e)); });
  self->send_exit(child, caf::exit_reason::kill);
  auto start = std::chrono::steady_clock::now();
  caf::error got;
  pending.receive([&](action_result&) { FAIL("answered as if the webhook had finished"); },
                  [&](caf::error& e) { got = std::move(e); });
  CHECK(got == caf::sec::request_receiver_down);
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // at once, not at the request's timeout
}
