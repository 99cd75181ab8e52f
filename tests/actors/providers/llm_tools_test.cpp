// Actions through the LLM generator, end to end on a real node: sessions offer the tool registry's tools,
// the fake model (a `tool_call` script) calls them through each provider's tool calling, and the session
// runs them through the same validation and confirmation flow as locally triggered ones. A read-only
// lookup runs at once and its result goes back to the model, which phrases the final answer; a ticket is
// proposed and only opened once the next message confirms it; an invalid call is answered to the model as
// a tool error and never runs; text streamed before a call reaches the customer and survives a failover.
#include "actors/providers/fake/fault_table.hpp"
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/test_node.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using sa::providers::fake::fault_kind;
using sa::providers::fake::fault_spec;
using nlohmann::json;

namespace {

sa::config::endpoint_config endpoint(const std::string& kind, const std::string& base_url, const std::string& model) {
  sa::config::endpoint_config e;
  e.kind = kind;
  e.base_url = base_url;
  e.model = model;
  e.max_retries = 1;
  e.backoff_initial_ms = 5;
  e.backoff_max_ms = 20;
  e.connect_timeout_ms = 1000;
  e.first_byte_timeout_ms = 2000;
  e.idle_timeout_ms = 400;
  e.breaker_failure_threshold = 50;
  return e;
}

/// The shared test node's services with the LLM generator on a fallback chain of `chain` (endpoint names
/// "openai", "anthropic", "gemini" - one per wire kind, all on the fake - and "local").
std::shared_ptr<const sa::node_services> llm_services(const sa::test::fake_provider_fixture& fake,
                                                      std::vector<std::string> chain) {
  auto svc = std::make_shared<sa::node_services>(*sa::test::shared_services());
  auto& cfg = svc->cfg;
  cfg.generator.backend = "llm";
  cfg.classifier.backend = "local";
  cfg.session.turn_timeout_ms = 10000;
  cfg.providers.endpoints["openai"] = endpoint("openai", fake.base_url(), "gpt-4o-mini");
  cfg.providers.endpoints["anthropic"] = endpoint("anthropic", fake.base_url(), "claude-3-5-haiku-latest");
  cfg.providers.endpoints["gemini"] = endpoint("gemini", fake.base_url(), "gemini-2.0-flash");
  sa::config::strategy_config s;
  s.kind = "fallback";
  s.members = std::move(chain);
  cfg.providers.strategies["chain"] = s;
  cfg.providers.root = "chain";
  auto endpoints = sa::providers::all_endpoint_settings(cfg);
  REQUIRE(endpoints.ok());
  svc->endpoints = std::move(endpoints.value());
  return svc;
}

fault_spec script(const std::string& tool, const std::string& arguments_json, const std::string& text = {},
                  const std::string& provider = "*") {
  fault_spec f;
  f.provider = provider;
  f.kind = fault_kind::tool_call;
  f.count = 1;
  f.script.tool = tool;
  f.script.arguments_json = arguments_json;
  f.script.text = text;
  f.script.fragment_bytes = 3;
  return f;
}

std::vector<sa::ticket_info> tickets_of(caf::scoped_actor& self, const sa::test::test_node& node,
                                        const std::string& tenant, const std::string& user) {
  std::vector<sa::ticket_info> out;
  self->request(node.handles.actions, 10s, sa::ticket_list_request{sa::tenant_id{tenant}, sa::user_id{user}})
    .receive([&](sa::ticket_list& l) { out = std::move(l.tickets); },
             [&](caf::error& e) { FAIL("ticket_list: " << self->system().render(e)); });
  return out;
}

bool has_action(const sa::turn_completed& c, const std::string& action) {
  return std::find(c.actions.begin(), c.actions.end(), action) != c.actions.end();
}

const std::string lookup_args = R"({"reference":"INV-2026-0142"})";

} // namespace

TEST_CASE("the model looks up an invoice: it runs at once, the result goes back, the model's answer streams",
          "[llm][actions]") {
  for (std::string kind : {"openai", "anthropic", "gemini"}) {
    DYNAMIC_SECTION("wire kind " << kind) {
      sa::test::fake_provider_fixture fake;
      fake.set_faults({script("lookup_order_or_invoice", lookup_args, "Let me check that invoice.")});
      sa::test::test_node node{{}, llm_services(fake, {kind, "local"})};
      caf::scoped_actor self{*node.sys};
      auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "tools-lookup-" + kind,
                                  "What is the status of invoice INV-2026-0142?");
      REQUIRE(r.completed);
      INFO(r.completed->text);
      CHECK(r.completed->provider == kind);
      CHECK(has_action(*r.completed, "lookup_order_or_invoice:ok"));
      CHECK(r.completed->proposal.tool.empty());
      // The text before the call, then the model's answer from the result (the fake quotes it).
      CHECK(r.completed->text.rfind("Let me check that invoice.\n\nThe lookup_order_or_invoice tool returned: ", 0) == 0);
      CHECK(r.completed->text.find("INV-2026-0142") != std::string::npos);
      if (kind != "gemini")  // the fake reads Gemini's response object with its keys sorted
        CHECK(r.completed->text.find("\"status\":\"ok\"") != std::string::npos);
      CHECK(r.streamed() == r.completed->text);
      CHECK(r.resets.empty());
      CHECK(r.completed->escalation.escalate == false);
      CHECK(r.completed->usage.prompt_tokens > 0);
      CHECK(fake.requests(kind) == 2);  // the call, then the follow-up with the result
      auto follow_up = json::parse(fake.last_request().request.body);
      if (kind == "openai") {
        auto& msgs = follow_up["messages"];
        CHECK(msgs[msgs.size() - 1]["role"] == "tool");
        CHECK(msgs[msgs.size() - 2]["tool_calls"][0]["function"]["name"] == "lookup_order_or_invoice");
        CHECK(follow_up["tool_choice"] == "none");
      } else if (kind == "anthropic") {
        CHECK(follow_up["messages"].back()["content"][0]["type"] == "tool_result");
      } else {
        CHECK(follow_up["contents"].back()["parts"][0]["functionResponse"]["name"] == "lookup_order_or_invoice");
      }
    }
  }
}

TEST_CASE("the model asks to open a ticket: it is proposed, and opened only when the next message confirms it",
          "[llm][actions]") {
  sa::test::fake_provider_fixture fake;
  fake.set_faults({script("create_ticket",
                          R"({"subject":"Charged twice for March","description":"Two charges on one invoice","priority":"high"})")});
  sa::test::test_node node{{}, llm_services(fake, {"openai", "local"})};
  caf::scoped_actor self{*node.sys};
  auto before = tickets_of(self, node, "acme", "bob").size();
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "bob", "tools-ticket",
                              "I was charged twice this month, please open a ticket for it");
  REQUIRE(r.completed);
  INFO(r.completed->text);
  CHECK(r.completed->proposal.tool == "create_ticket");
  CHECK(r.completed->proposal.summary.find("Charged twice for March") != std::string::npos);
  CHECK(has_action(*r.completed, "create_ticket:proposed"));
  CHECK(r.completed->text.find("Shall I go ahead?") != std::string::npos);
  CHECK(tickets_of(self, node, "acme", "bob").size() == before);  // nothing ran yet
  CHECK(fake.requests("openai") == 1);  // proposing needs no follow-up

  auto yes = sa::test::run_turn(self, node.handles.router, "acme", "bob", "tools-ticket", "yes please");
  REQUIRE(yes.completed);
  INFO(yes.completed->text);
  CHECK(has_action(*yes.completed, "create_ticket:ok"));
  auto tickets = tickets_of(self, node, "acme", "bob");
  REQUIRE(tickets.size() == before + 1);
  CHECK(tickets.back().subject == "Charged twice for March");
  CHECK(yes.completed->text.find(tickets.back().id) != std::string::npos);
  CHECK(fake.requests("openai") == 1);  // the confirmation runs the proposed call, not the model
}

TEST_CASE("a declined proposal never runs", "[llm][actions]") {
  sa::test::fake_provider_fixture fake;
  fake.set_faults({script("create_ticket", R"({"subject":"Please call me back"})")});
  sa::test::test_node node{{}, llm_services(fake, {"openai", "local"})};
  caf::scoped_actor self{*node.sys};
  auto before = tickets_of(self, node, "acme", "dana").size();
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "dana", "tools-decline", "open a ticket please");
  REQUIRE(r.completed);
  CHECK(r.completed->proposal.tool == "create_ticket");
  auto no = sa::test::run_turn(self, node.handles.router, "acme", "dana", "tools-decline", "no");
  REQUIRE(no.completed);
  CHECK(has_action(*no.completed, "create_ticket:declined"));
  CHECK(tickets_of(self, node, "acme", "dana").size() == before);
}

TEST_CASE("an invalid call is answered to the model as a tool error and never runs", "[llm][actions]") {
  sa::test::fake_provider_fixture fake;
  sa::test::test_node node{{}, llm_services(fake, {"openai", "local"})};
  caf::scoped_actor self{*node.sys};
  SECTION("wrong argument type") {
    fake.set_faults({script("lookup_order_or_invoice", R"({"reference":42})")});
    auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "tools-invalid-1",
                                "What is the status of invoice INV-2026-0142?");
    REQUIRE(r.completed);
    INFO(r.completed->text);
    CHECK(has_action(*r.completed, "lookup_order_or_invoice:invalid_arguments"));
    // OpenAI has no error flag: the result says so in its content.
    CHECK(r.completed->text.rfind("The lookup_order_or_invoice tool returned: Error: ", 0) == 0);
    CHECK(r.completed->text.find("invalid_arguments") != std::string::npos);
    auto body = json::parse(fake.last_request().request.body);
    auto tool_msg = body["messages"].back();
    CHECK(tool_msg["role"] == "tool");
    CHECK(tool_msg["content"].get<std::string>().rfind("Error: ", 0) == 0);
    CHECK(tool_msg["content"].get<std::string>().find("lookup_order_or_invoice.reference") != std::string::npos);
  }
  SECTION("unknown tool") {
    auto before = tickets_of(self, node, "acme", "alice").size();
    fake.set_faults({script("grant_credit", R"({"amount":1000})")});
    auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "tools-invalid-2", "Can you give me store credit for all of it?");
    REQUIRE(r.completed);
    INFO(r.completed->text);
    CHECK(has_action(*r.completed, "grant_credit:invalid_arguments"));
    CHECK(r.completed->text.rfind("The grant_credit tool returned: Error: ", 0) == 0);
    CHECK(r.completed->proposal.tool.empty());
    CHECK(tickets_of(self, node, "acme", "alice").size() == before);
    CHECK(fake.requests("openai") == 2);
  }
}

TEST_CASE("text streamed before a call survives a provider failing mid-follow-up: only the follow-up restarts",
          "[llm][actions]") {
  sa::test::fake_provider_fixture fake;
  auto stall = sa::test::make_fault(fault_kind::stall_mid_stream, 1, "openai");
  stall.after_tokens = 3;
  stall.stall_ms = 60000;
  // The call comes from openai; openai's follow-up stalls after three words; anthropic answers it instead.
  fake.set_faults({script("lookup_order_or_invoice", lookup_args, "Let me check.", "openai"), stall});
  sa::test::test_node node{{}, llm_services(fake, {"openai", "anthropic", "local"})};
  caf::scoped_actor self{*node.sys};
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "tools-failover",
                              "What is the status of invoice INV-2026-0142?");
  REQUIRE(r.completed);
  INFO(r.completed->text);
  CHECK(r.completed->provider == "anthropic");
  REQUIRE(r.resets.size() == 1);
  CHECK(r.completed->text.rfind("Let me check.\n\nThe lookup_order_or_invoice tool returned: ", 0) == 0);
  CHECK(r.streamed() == r.completed->text);  // the text before the call was streamed again after the reset
  CHECK(has_action(*r.completed, "lookup_order_or_invoice:ok"));
  CHECK(fake.requests("openai") == 2);
  CHECK(fake.requests("anthropic") == 1);
  // anthropic got openai's call ids with the results, in its own shape
  auto body = json::parse(fake.last_request().request.body);
  CHECK(body["messages"][1]["content"].back()["type"] == "tool_use");
  CHECK(body["messages"][2]["content"][0]["type"] == "tool_result");
}

TEST_CASE("every provider failing on the follow-up: the result is reported as it is", "[llm][actions]") {
  sa::test::fake_provider_fixture fake;
  fake.set_faults({script("lookup_order_or_invoice", lookup_args), sa::test::status_fault(400)});
  sa::test::test_node node{{}, llm_services(fake, {"openai", "local"})};
  caf::scoped_actor self{*node.sys};
  auto r = sa::test::run_turn(self, node.handles.router, "acme", "alice", "tools-down",
                              "What is the status of invoice INV-2026-0142?");
  REQUIRE(r.completed);
  INFO(r.completed->text);
  CHECK(has_action(*r.completed, "lookup_order_or_invoice:ok"));
  CHECK(r.completed->text.rfind("Invoice INV-2026-0142 from ", 0) == 0);  // the lookup's own summary
  CHECK(r.completed->provider == "local");
  CHECK(r.streamed() == r.completed->text);
}
