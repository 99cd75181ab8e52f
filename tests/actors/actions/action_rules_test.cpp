// The local rules: explicit requests become the right tool call with arguments from the message and the
// classifier's entities; everything else is left to the composer. Also the confirmation reader.
#include "actors/actions/action_rules.hpp"
#include "actors/actions/tool_registry.hpp"
#include "actors/classifier/entity_extractor.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace sa;
using namespace sa::actions;
using json = nlohmann::json;

namespace {

std::vector<entity_mention> entities_of(const std::string& text) {
  static const classifier::entity_extractor extractor;
  std::vector<entity_mention> out;
  for (auto& e : extractor.extract(text))
    out.push_back({e.kind, e.value});
  return out;
}

struct fixture {
  tool_registry with_workflow{{{"order_escalation", "", {"acme"}}}};
  tool_registry plain;
  action_rules rules{{{"order_escalation", {"escalate my order", "order is late"}}}};

  std::optional<action_call> match(const std::string& text, const tool_registry& reg, const std::string& tenant = "acme") {
    return rules.match(text, entities_of(text), reg.tools_for(tenant));
  }
  /// The arguments of the call, validated by the registry (a rule must never produce an invalid call).
  json args(const action_call& c, const tool_registry& reg, const std::string& tenant = "acme") {
    auto v = reg.validate(tenant, c);
    INFO(c.arguments_json);
    REQUIRE(v);
    return v->arguments;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "open a ticket about ... becomes create_ticket with that subject", "[actions][rules]") {
  auto c = match("Please open a ticket about my build failing since Monday.", plain);
  REQUIRE(c);
  CHECK(c->tool == "create_ticket");
  auto a = args(*c, plain);
  CHECK(a["subject"] == "My build failing since Monday");
  CHECK(a["priority"] == "normal");
  CHECK(a["description"] == "Please open a ticket about my build failing since Monday.");
}

TEST_CASE_METHOD(fixture, "ticket requests take their priority and subject from the message", "[actions][rules]") {
  auto c = match("Can you create an urgent support ticket: our docs site returns 502 for every page", plain);
  REQUIRE(c);
  auto a = args(*c, plain);
  CHECK(a["subject"] == "Our docs site returns 502 for every page");
  CHECK(a["priority"] == "urgent");
  auto low = match("file a support case regarding the sidebar colours, no rush", plain);
  REQUIRE(low);
  CHECK(args(*low, plain)["priority"] == "low");
  CHECK(args(*low, plain)["subject"] == "The sidebar colours, no rush");
  // The subject before the request when nothing follows it.
  auto before = match("My custom domain still shows a certificate error, please open a ticket", plain);
  REQUIRE(before);
  CHECK(args(*before, plain)["subject"] == "My custom domain still shows a certificate error");
  auto plain_create = match("create ticket for the broken search page", plain);
  REQUIRE(plain_create);
  CHECK(args(*plain_create, plain)["subject"] == "The broken search page");
  auto raise = match("could you raise a new support case for the webhook errors", plain);
  REQUIRE(raise);
  CHECK(args(*raise, plain)["subject"] == "The webhook errors");
  auto bare = match("open a ticket", plain);
  REQUIRE(bare);
  CHECK(args(*bare, plain)["subject"] == "Support request");
}

TEST_CASE_METHOD(fixture, "a long request is cut to a valid subject at a word", "[actions][rules]") {
  std::string text = "open a ticket about ";
  for (int i = 0; i < 40; ++i)
    text += "builds fail ";
  auto c = match(text, plain);
  REQUIRE(c);
  auto subject = args(*c, plain)["subject"].get<std::string>();
  CHECK(subject.size() <= 120);
  CHECK(subject.substr(subject.size() - 3) == "...");
}

TEST_CASE_METHOD(fixture, "status of invoice INV-... becomes lookup_order_or_invoice", "[actions][rules]") {
  auto c = match("What's the status of invoice INV-2026-0142?", plain);
  REQUIRE(c);
  CHECK(c->tool == "lookup_order_or_invoice");
  auto a = args(*c, plain);
  CHECK(a["reference"] == "INV-2026-0142");
  CHECK(a["kind"] == "invoice");
  auto t = match("can you check ticket TCK-5012 for me", plain);
  REQUIRE(t);
  CHECK(args(*t, plain)["reference"] == "TCK-5012");
  CHECK(args(*t, plain)["kind"] == "ticket");
  auto o = match("where is my order #A-88213", plain);
  REQUIRE(o);
  CHECK(args(*o, plain)["reference"] == "A-88213");
  CHECK(args(*o, plain)["kind"] == "order");
}

TEST_CASE_METHOD(fixture, "escalate my order starts the workflow configured for it", "[actions][rules]") {
  auto c = match("Please escalate my order 88213, it is two weeks late", with_workflow);
  REQUIRE(c);
  CHECK(c->tool == "trigger_workflow");
  auto a = args(*c, with_workflow);
  CHECK(a["workflow"] == "order_escalation");
  CHECK(a["reference"] == "88213");
  CHECK(a["note"] == "Please escalate my order 88213, it is two weeks late");
  auto named = match("run the order_escalation workflow for order 5", with_workflow);
  REQUIRE(named);
  CHECK(args(*named, with_workflow)["workflow"] == "order_escalation");
}

TEST_CASE_METHOD(fixture, "without a workflow for it, an order escalation becomes a high-priority ticket",
                 "[actions][rules]") {
  auto c = match("escalate my order 88213 please", plain);
  REQUIRE(c);
  CHECK(c->tool == "create_ticket");
  auto a = args(*c, plain);
  CHECK(a["subject"] == "Escalation of order 88213");
  CHECK(a["priority"] == "high");
  // Another tenant is not offered acme's workflow: the phrase then opens a ticket.
  auto other = match("escalate my order 88213 please", with_workflow, "globex");
  REQUIRE(other);
  CHECK(other->tool == "create_ticket");
}

TEST_CASE_METHOD(fixture, "questions and tools not offered are left to the composer", "[actions][rules]") {
  CHECK_FALSE(match("How do I add a custom domain?", plain));
  // Existing tickets are not a request for a new one.
  CHECK_FALSE(match("Show me my open support tickets", plain));
  CHECK_FALSE(match("Do I have any open tickets on my account?", plain));
  CHECK_FALSE(match("Can you show me my account details and open tickets?", plain));
  CHECK_FALSE(match("which tickets did I open last week", plain));
  CHECK_FALSE(match("I can't log in to see my ticket", plain));
  CHECK_FALSE(match("I placed my order 2 weeks ago, what is going on?", plain));
  CHECK_FALSE(match("Why was I charged twice on my invoice this month?", plain));
  CHECK_FALSE(match("let me talk to a human", plain));
  CHECK_FALSE(rules.match("open a ticket about X", {}, {}));  // no tools offered
  CHECK_FALSE(match("run the launch_rockets workflow", with_workflow));  // no such workflow
}

TEST_CASE_METHOD(fixture, "explicit tool requests are recognised as such", "[actions][rules]") {
  CHECK(rules.asks_for_action("please open a support ticket"));
  CHECK(rules.asks_for_action("Escalate my order now"));
  CHECK(rules.asks_for_action("my order is late"));
  CHECK_FALSE(rules.asks_for_action("let me talk to a human"));
  CHECK_FALSE(rules.asks_for_action("what is the status of invoice INV-2026-0142"));
}

TEST_CASE("a confirmation is a short yes, a refusal a short no, anything else neither", "[actions][rules]") {
  for (auto* yes : {"yes", "Yes!", "yes please", "Confirm", "go ahead", "ok, do it", "Sure, go ahead thanks", "yep",
                    "OK"})
    CHECK(read_confirmation(yes) == reply_kind::confirm);
  for (auto* no : {"no", "No thanks", "cancel", "don't", "do not", "nope, never mind", "stop"})
    CHECK(read_confirmation(no) == reply_kind::decline);
  for (auto* other : {"", "yes but change the title to Billing", "how do I add a domain?", "thanks",
                      "no wait, yes", "yes I want to cancel my subscription", "maybe"})
    CHECK(read_confirmation(other) == reply_kind::other);
}

TEST_CASE("tool results are reported by their summaries", "[actions][rules]") {
  action_result a;
  a.summary = "Invoice INV-1: paid.";
  action_result b;
  b.summary = "Ticket TCK-1: open.";
  CHECK(render_results({a, b}) == "Invoice INV-1: paid.\n\nTicket TCK-1: open.");
  generate_request r;
  r.tool_results = {a};
  auto g = local_tool_step(r, nullptr);
  REQUIRE(g);
  CHECK(g->text == "Invoice INV-1: paid.");
  CHECK(g->tool_calls.empty());
}
