// The tool registry: each tool with valid arguments and with each kind of invalid ones, the errors naming
// "<tool>.<argument>" and the problem, per-tenant workflows, and the JSON Schema given to models.
#include "actors/actions/tool_registry.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace sa;
using namespace sa::actions;
using json = nlohmann::json;

namespace {

tool_registry registry() {
  return tool_registry{{{"order_escalation", "escalate a delayed order", {"acme"}},
                        {"status_page", "", {}}}};
}

action_call call(const char* tool, json args) {
  return action_call{"c1", tool, args.dump()};
}

std::string error_of(const result<validated_call>& r) {
  return r ? std::string{"(valid)"} : r.error();
}

} // namespace

TEST_CASE("create_ticket with valid arguments passes, trimmed, with the default priority", "[actions][registry]") {
  auto r = registry().validate("acme", call("create_ticket", {{"subject", "  Build fails since Monday "},
                                                              {"description", "Line one\nLine two"}}));
  REQUIRE(r);
  CHECK(r->tool.name == "create_ticket");
  CHECK(r->text("subject") == "Build fails since Monday");
  CHECK(r->text("description") == "Line one\nLine two");
  CHECK(r->text("priority") == "normal");
  CHECK(registry().mutating("create_ticket"));
}

TEST_CASE("create_ticket refuses a priority outside its enum, naming the argument and the value",
          "[actions][registry]") {
  auto r = registry().validate("acme", call("create_ticket", {{"subject", "Build fails"}, {"priority", "asap"}}));
  CHECK(error_of(r) == "create_ticket.priority: expected one of low, normal, high, urgent, got \"asap\"");
  // Case does not matter; the value is normalised.
  auto ok = registry().validate("acme", call("create_ticket", {{"subject", "Build fails"}, {"priority", "HIGH"}}));
  REQUIRE(ok);
  CHECK(ok->text("priority") == "high");
}

TEST_CASE("create_ticket refuses arguments of the wrong type", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", 42}}))) ==
        "create_ticket.subject: expected a string, got number 42");
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "ok subject"}, {"priority", true}}))) ==
        "create_ticket.priority: expected a string, got true");
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", json::array({"a"})}}))) ==
        "create_ticket.subject: expected a string, got an array");
}

TEST_CASE("create_ticket refuses a missing required argument", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"description", "no subject"}}))) ==
        "create_ticket.subject: required argument missing");
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", nullptr}}))) ==
        "create_ticket.subject: required argument missing");
}

TEST_CASE("create_ticket refuses an unknown argument (no tenant or user can be smuggled in)", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "Build fails"}, {"tenant", "globex"}}))) ==
        "create_ticket.tenant: unknown argument (expected subject, description, priority)");
}

TEST_CASE("create_ticket refuses text that is too long or too short, counted in characters", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", std::string(121, 'x')}}))) ==
        "create_ticket.subject: expected at most 120 characters, got 121");
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "ab"}}))) ==
        "create_ticket.subject: expected at least 3 characters, got 2");
  std::string accents;
  for (int i = 0; i < 120; ++i)
    accents += "\xc3\xa9";  // 120 x "é": 240 bytes, 120 characters
  CHECK(registry().validate("acme", call("create_ticket", {{"subject", accents}})));
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "ok", }, {"description", std::string(2001, 'd')}}))) ==
        "create_ticket.subject: expected at least 3 characters, got 2; create_ticket.description: expected at most "
        "2000 characters, got 2001");
}

TEST_CASE("control characters are refused where a line break has no place", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "Build\r\nX-Injected: 1"}}))) ==
        "create_ticket.subject: control characters and line breaks are not allowed");
  CHECK(error_of(registry().validate("acme", call("create_ticket", {{"subject", "Build"}, {"description", "a\x01" "b"}}))) ==
        "create_ticket.description: control characters other than line breaks and tabs are not allowed");
}

TEST_CASE("arguments that are not a JSON object are refused", "[actions][registry]") {
  CHECK(error_of(registry().validate("acme", action_call{"c", "create_ticket", "{\"subject\": "})) ==
        "create_ticket: arguments are not valid JSON (error at byte 13)");
  CHECK(error_of(registry().validate("acme", action_call{"c", "create_ticket", "[1,2]"})) ==
        "create_ticket: arguments must be a JSON object, got an array");
  // Models send "" for a call without arguments: an empty object, so the required one is missing.
  CHECK(error_of(registry().validate("acme", action_call{"c", "create_ticket", ""})) ==
        "create_ticket.subject: required argument missing");
}

TEST_CASE("an unknown tool is refused with the tools the tenant has", "[actions][registry]") {
  CHECK(error_of(registry().validate("globex", call("delete_account", json::object()))) ==
        "unknown tool \"delete_account\" (available: create_ticket, lookup_order_or_invoice, trigger_workflow)");
}

TEST_CASE("lookup_order_or_invoice with valid and invalid arguments", "[actions][registry]") {
  auto ok = registry().validate("acme", call("lookup_order_or_invoice", {{"reference", "INV-2026-0142"}}));
  REQUIRE(ok);
  CHECK_FALSE(registry().mutating("lookup_order_or_invoice"));
  CHECK(ok->text("kind").empty());
  CHECK(error_of(registry().validate("acme", call("lookup_order_or_invoice", {{"reference", 142}}))) ==
        "lookup_order_or_invoice.reference: expected a string, got number 142");
  CHECK(error_of(registry().validate("acme", call("lookup_order_or_invoice", json::object()))) ==
        "lookup_order_or_invoice.reference: required argument missing");
  CHECK(error_of(registry().validate("acme", call("lookup_order_or_invoice", {{"reference", std::string(65, '9')}}))) ==
        "lookup_order_or_invoice.reference: expected at most 64 characters, got 65");
  CHECK(error_of(registry().validate("acme", call("lookup_order_or_invoice", {{"reference", "INV-1"}, {"kind", "refund"}}))) ==
        "lookup_order_or_invoice.kind: expected one of invoice, order, ticket, got \"refund\"");
  CHECK(error_of(registry().validate("acme", call("lookup_order_or_invoice", {{"reference", "INV-1"}, {"user", "carol"}}))) ==
        "lookup_order_or_invoice.user: unknown argument (expected reference, kind)");
}

TEST_CASE("trigger_workflow accepts exactly the tenant's own workflows", "[actions][registry][isolation]") {
  auto reg = registry();
  auto ok = reg.validate("acme", call("trigger_workflow", {{"workflow", "order_escalation"}, {"reference", "1234"}}));
  REQUIRE(ok);
  CHECK(reg.mutating("trigger_workflow"));
  // globex may start status_page (every tenant) but not acme's order_escalation.
  CHECK(error_of(reg.validate("globex", call("trigger_workflow", {{"workflow", "order_escalation"}}))) ==
        "trigger_workflow.workflow: expected one of status_page, got \"order_escalation\"");
  CHECK(error_of(reg.validate("acme", call("trigger_workflow", {{"workflow", 7}}))) ==
        "trigger_workflow.workflow: expected a string, got number 7");
  CHECK(error_of(reg.validate("acme", call("trigger_workflow", {{"workflow", "status_page"}, {"reference", ""}}))) ==
        "trigger_workflow.reference: expected at least 1 characters, got 0");
  CHECK(error_of(reg.validate("acme", call("trigger_workflow", {{"workflow", "status_page"}, {"run_as", "admin"}}))) ==
        "trigger_workflow.run_as: unknown argument (expected workflow, reference, note)");
  CHECK(error_of(reg.validate("acme", call("trigger_workflow", {{"reference", "1"}}))) ==
        "trigger_workflow.workflow: required argument missing");
  // A tenant without workflows is not offered the tool at all.
  tool_registry none;
  CHECK(error_of(none.validate("acme", call("trigger_workflow", {{"workflow", "x"}}))) ==
        "unknown tool \"trigger_workflow\" (available: create_ticket, lookup_order_or_invoice)");
}

TEST_CASE("each tool exports a JSON Schema with types, required arguments, enums and limits", "[actions][registry]") {
  auto tools = registry().tools_for("acme");
  REQUIRE(tools.size() == 3);
  CHECK(tools[0].name == "create_ticket");
  CHECK(tools[0].mutating);
  auto schema = json::parse(tools[0].parameters_json);
  CHECK(schema["type"] == "object");
  CHECK(schema["additionalProperties"] == false);
  CHECK(schema["required"] == json::array({"subject"}));
  CHECK(schema["properties"]["subject"]["type"] == "string");
  CHECK(schema["properties"]["subject"]["maxLength"] == 120);
  CHECK(schema["properties"]["priority"]["enum"] == json::array({"low", "normal", "high", "urgent"}));
  CHECK(schema["properties"]["priority"]["default"] == "normal");
  CHECK(tools[1].name == "lookup_order_or_invoice");
  CHECK_FALSE(tools[1].mutating);
  CHECK(tools[2].name == "trigger_workflow");
  auto wf = json::parse(tools[2].parameters_json);
  CHECK(wf["properties"]["workflow"]["enum"] == json::array({"order_escalation", "status_page"}));
  CHECK(tools[2].description.find("order_escalation (escalate a delayed order)") != std::string::npos);
  // Another tenant's schema never names acme's workflow.
  auto globex = registry().tools_for("globex");
  REQUIRE(globex.size() == 3);
  CHECK(globex[2].parameters_json.find("order_escalation") == std::string::npos);
  CHECK(globex[2].description.find("order_escalation") == std::string::npos);
}

TEST_CASE("a proposal describes what will happen in plain words", "[actions][registry]") {
  auto r = registry().validate("acme", call("create_ticket", {{"subject", "Build fails"}, {"priority", "urgent"}}));
  REQUIRE(r);
  CHECK(tool_registry::describe(*r) == "open a support ticket titled \u201c" "Build fails\u201d with urgent priority");
  auto w = registry().validate("acme", call("trigger_workflow", {{"workflow", "order_escalation"}, {"reference", "1234"}}));
  REQUIRE(w);
  CHECK(tool_registry::describe(*w) == "start the \u201corder_escalation\u201d workflow for 1234");
}
