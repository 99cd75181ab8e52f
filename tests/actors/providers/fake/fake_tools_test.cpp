// The fake provider's tool calling, without sockets: `tool_call` scripts streamed in small fragments in
// each wire format (decoded by the product's own decoders), follow-ups built by the product's own request
// builders answered with the phrased results, and follow-ups in the wrong shape answered with the 400 the
// real API sends.
#include "actors/providers/fake/fake_service.hpp"
#include "fake_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers::fake;
using fake_test::decode;
using fake_test::written;
using nlohmann::json;

namespace {

constexpr provider_kind all_providers[] = {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini};
const std::string question = "Where is invoice INV-2026-0142?";
const std::string lookup_script =
  R"({"fault":"tool_call","tool":"lookup_order_or_invoice","arguments":{"reference":"INV-2026-0142"},"text":"Let me check.","fragment_bytes":3})";

sa::providers::completion_request with_tools(bool thinking = false) {
  auto r = fake_test::sample_request(question);
  r.tools.push_back({"lookup_order_or_invoice", "Looks up an order or invoice",
                     R"({"type":"object","properties":{"reference":{"type":"string"}},"required":["reference"]})"});
  r.tools.push_back({"create_ticket", "Opens a ticket",
                     R"({"type":"object","properties":{"subject":{"type":"string"}},"required":["subject"]})"});
  if (thinking)
    r.thinking_budget = 1024;
  return r;
}

http_in post(provider_kind p, const sa::providers::completion_request& r) {
  auto wire = fake_test::build(p, r);
  return http_in{"POST", wire.path, wire.body, true};
}

struct reply {
  int status = 0;
  fake_test::decoded stream;
  std::string body;
};

reply send(fake_service& svc, provider_kind p, const sa::providers::completion_request& r) {
  auto plan = svc.handle(post(p, r));
  auto bytes = written(plan);
  reply out;
  out.status = std::stoi(bytes.head.substr(9, 3));
  out.body = bytes.body;
  if (out.status == 200)
    out.stream = decode(p, bytes.body, 1);  // one byte at a time
  return out;
}

/// The follow-up the product sends after running `end`'s calls: the model's turn and one result each.
sa::providers::completion_request follow_up(const sa::providers::completion_request& first,
                                            const sa::providers::stream_end& end, const std::string& said) {
  auto r = first;
  sa::providers::chat_message turn{sa::providers::chat_role::assistant, said};
  turn.tool_calls = end.tool_calls;
  turn.thinking = end.thinking;
  r.messages.push_back(turn);
  sa::providers::chat_message results;
  for (const auto& c : end.tool_calls)
    results.tool_results.push_back({c.id, c.name, R"({"status":"ok","reference":"INV-2026-0142","summary":"paid"})", false});
  r.messages.push_back(results);
  r.tool_choice = sa::providers::tool_choice_mode::none;
  return r;
}

std::string error_message(provider_kind p, const reply& r) {
  auto e = fake_test::parse_error(p, r.status, {}, r.body);
  CHECK(e.kind == sa::providers::error_kind::invalid_request);
  CHECK_FALSE(e.retryable);
  return e.message;
}

} // namespace

TEST_CASE("a tool_call script streams its text, then the call in small fragments, in each wire format") {
  for (auto p : all_providers) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      fake_service svc({});
      svc.faults().replace(*parse_faults(lookup_script));
      auto r = send(svc, p, with_tools());
      REQUIRE(r.status == 200);
      REQUIRE_FALSE(r.stream.error);
      REQUIRE(r.stream.end);
      CHECK(r.stream.text == "Let me check.");
      CHECK(r.stream.end->finish == sa::providers::finish_kind::tool_use);
      REQUIRE(r.stream.end->tool_calls.size() == 1);
      const auto& call = r.stream.end->tool_calls[0];
      CHECK(call.name == "lookup_order_or_invoice");
      CHECK(json::parse(call.arguments_json) == json{{"reference", "INV-2026-0142"}});
      if (p == provider_kind::anthropic) {
        CHECK(call.id.rfind("toolu_", 0) == 0);
        // {"reference":"INV-2026-0142"} is 29 bytes: 10 fragments of at most 3
        std::size_t deltas = 0;
        for (auto at = r.body.find("input_json_delta"); at != std::string::npos; at = r.body.find("input_json_delta", at + 1))
          ++deltas;
        CHECK(deltas == 10);
      } else if (p == provider_kind::openai) {
        CHECK(call.id.rfind("call_", 0) == 0);
      } else {
        CHECK(call.id.empty());  // Gemini sends a call whole and without an id
      }
      CHECK(svc.faults().faults(fault_kind::tool_call) == 1);
    }
  }
}

TEST_CASE("a tool_call rule skips requests that offer no tools or answer calls, keeping its count") {
  fake_service svc({});
  auto script = *parse_fault(lookup_script);
  script.count = 1;
  svc.faults().replace({script});
  auto r = send(svc, provider_kind::openai, fake_test::sample_request(question));
  REQUIRE(r.status == 200);
  CHECK(r.stream.end->tool_calls.empty());
  CHECK(r.stream.text.rfind("Answer to: ", 0) == 0);
  CHECK(json::parse(svc.faults().faults_json())[0]["count"] == 1);
  CHECK(json::parse(svc.faults().faults_json())[0]["tool"] == "lookup_order_or_invoice");
  CHECK(svc.faults().faults(fault_kind::tool_call) == 0);
}

TEST_CASE("a follow-up that answers each call in the provider's shape gets an answer phrasing the results") {
  for (auto p : all_providers) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      fake_service svc({});
      svc.faults().replace(*parse_faults(lookup_script));
      auto first = with_tools();
      auto r = send(svc, p, first);
      REQUIRE(r.stream.end);
      auto second = send(svc, p, follow_up(first, *r.stream.end, r.stream.text));
      INFO(second.body);
      REQUIRE(second.status == 200);
      REQUIRE(second.stream.end);
      CHECK(second.stream.end->tool_calls.empty());
      CHECK(second.stream.text.rfind("The lookup_order_or_invoice tool returned: ", 0) == 0);
      CHECK(second.stream.text.find("INV-2026-0142") != std::string::npos);
      CHECK(svc.faults().faults(fault_kind::tool_call) == 1);  // the follow-up is not scripted again
    }
  }
}

TEST_CASE("anthropic with thinking: the call comes after a signed thinking block that must come back unchanged") {
  fake_service svc({});
  svc.faults().replace(*parse_faults(lookup_script));
  auto first = with_tools(true);
  auto r = send(svc, provider_kind::anthropic, first);
  REQUIRE(r.stream.end);
  CHECK_FALSE(r.stream.thinking.empty());
  REQUIRE(r.stream.end->thinking.size() == 1);
  CHECK(r.stream.end->thinking[0].signature == fake_signature("test-model", question));
  CHECK(r.stream.end->thinking[0].text == r.stream.thinking);
  auto good = follow_up(first, *r.stream.end, r.stream.text);
  CHECK(send(svc, provider_kind::anthropic, good).status == 200);

  auto forged = good;
  forged.messages[1].thinking[0].signature = "forged";
  auto bad = send(svc, provider_kind::anthropic, forged);
  REQUIRE(bad.status == 400);
  CHECK(error_message(provider_kind::anthropic, bad) ==
        "anthropic: HTTP 400 invalid_request_error: messages.1.content.0: Invalid `signature` in `thinking` block");

  // Without the thinking block the request must go without thinking: the product's builder does that ...
  auto dropped = good;
  dropped.messages[1].thinking.clear();
  CHECK(send(svc, provider_kind::anthropic, dropped).status == 200);
  // ... and a request that keeps thinking on anyway is refused as the real API refuses it.
  auto body = json::parse(fake_test::build(provider_kind::anthropic, dropped).body);
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}};
  auto plan = svc.handle(http_in{"POST", "/v1/messages", body.dump(), true});
  auto bytes = written(plan);
  CHECK(bytes.head.find("400") != std::string::npos);
  CHECK(bytes.body.find("Expected `thinking` or `redacted_thinking`, but found `text`") != std::string::npos);
}

TEST_CASE("a gemini thinking model's call carries a thought signature that the follow-up sends back") {
  fake_service svc({});
  svc.faults().replace(*parse_faults(lookup_script));
  auto first = with_tools(true);
  auto r = send(svc, provider_kind::gemini, first);
  REQUIRE(r.stream.end);
  REQUIRE(r.stream.end->tool_calls.size() == 1);
  CHECK(r.stream.end->tool_calls[0].signature == fake_signature("test-model", question));
  auto wire = fake_test::build(provider_kind::gemini, follow_up(first, *r.stream.end, r.stream.text));
  CHECK(wire.body.find("\"thoughtSignature\":\"" + fake_signature("test-model", question) + "\"") != std::string::npos);
}

TEST_CASE("openai: a follow-up in the wrong shape gets the API's 400") {
  fake_service svc({});
  svc.faults().replace(*parse_faults(lookup_script));
  auto first = with_tools();
  auto r = send(svc, provider_kind::openai, first);
  REQUIRE(r.stream.end);
  auto good = json::parse(fake_test::build(provider_kind::openai, follow_up(first, *r.stream.end, "")).body);
  auto id = r.stream.end->tool_calls[0].id;
  auto refused = [&](json body) {
    auto plan = svc.handle(http_in{"POST", "/v1/chat/completions", body.dump(), true});
    auto bytes = written(plan);
    reply out;
    out.status = std::stoi(bytes.head.substr(9, 3));
    out.body = bytes.body;
    REQUIRE(out.status == 400);
    return error_message(provider_kind::openai, out);
  };
  auto no_result = good;
  no_result["messages"].erase(no_result["messages"].size() - 1);  // the tool message
  CHECK(refused(no_result).find("did not have response messages: " + id) != std::string::npos);
  auto orphan = good;
  orphan["messages"].erase(orphan["messages"].size() - 2);  // the assistant message with the calls
  CHECK(refused(orphan).find("messages with role 'tool' must be a response to a preceeding message with "
                             "'tool_calls'") != std::string::npos);
  auto object_args = good;
  auto& call = object_args["messages"][object_args["messages"].size() - 2]["tool_calls"][0]["function"];
  call["arguments"] = json::parse(call["arguments"].get<std::string>());
  CHECK(refused(object_args).find("Invalid type for 'messages[2].tool_calls[0].function.arguments': expected a "
                                  "string, but got an object instead.") != std::string::npos);
}

TEST_CASE("anthropic: a follow-up in the wrong shape gets the API's 400") {
  fake_service svc({});
  auto good = json::parse(R"({"model":"m","max_tokens":100,"stream":true,
    "tools":[{"name":"t","description":"d","input_schema":{"type":"object"}}],
    "messages":[{"role":"user","content":"q"},
                {"role":"assistant","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"t","input":{}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}]})");
  auto status_of = [&](const json& body, std::string* message = nullptr) {
    auto bytes = written(svc.handle(http_in{"POST", "/v1/messages", body.dump(), true}));
    if (message)
      *message = bytes.body;
    return std::stoi(bytes.head.substr(9, 3));
  };
  CHECK(status_of(good) == 200);
  std::string msg;
  auto missing = good;
  missing["messages"][2]["content"] = "no result here";
  CHECK(status_of(missing, &msg) == 400);
  CHECK(msg.find("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1")
        != std::string::npos);
  auto unknown = good;
  unknown["messages"][2]["content"][0]["tool_use_id"] = "toolu_9";
  CHECK(status_of(unknown, &msg) == 400);
  CHECK(msg.find("unexpected `tool_use_id` found in `tool_result` blocks: toolu_9") != std::string::npos);
  auto no_tools = good;
  no_tools.erase("tools");
  CHECK(status_of(no_tools, &msg) == 400);
  CHECK(msg.find("must define tools") != std::string::npos);
  auto text_first = good;
  text_first["messages"][2]["content"].insert(text_first["messages"][2]["content"].begin(),
                                              json{{"type", "text"}, {"text", "here"}});
  CHECK(status_of(text_first, &msg) == 400);
  auto bad_input = good;
  bad_input["messages"][1]["content"][1]["input"] = "{}";
  CHECK(status_of(bad_input, &msg) == 400);
  CHECK(msg.find("messages.1.content.1.tool_use.input: Input should be a valid dictionary") != std::string::npos);
}

TEST_CASE("gemini: a follow-up in the wrong shape gets the API's 400") {
  fake_service svc({});
  auto good = json::parse(R"({"contents":[{"role":"user","parts":[{"text":"q"}]},
    {"role":"model","parts":[{"functionCall":{"name":"t","args":{}}}]},
    {"role":"user","parts":[{"functionResponse":{"name":"t","response":{"output":"done"}}}]}],
    "tools":[{"functionDeclarations":[{"name":"t","description":"d","parameters":{"type":"OBJECT"}}]}]})");
  auto status_of = [&](const json& body, std::string* message = nullptr) {
    auto bytes = written(svc.handle(http_in{"POST", "/v1beta/models/m:streamGenerateContent?alt=sse", body.dump(), true}));
    if (message)
      *message = bytes.body;
    return std::stoi(bytes.head.substr(9, 3));
  };
  CHECK(status_of(good) == 200);
  std::string msg;
  auto two = good;
  two["contents"][2]["parts"].push_back(good["contents"][2]["parts"][0]);
  CHECK(status_of(two, &msg) == 400);
  CHECK(msg.find("the number of function response parts is equal to the number of function call parts") != std::string::npos);
  CHECK(msg.find("INVALID_ARGUMENT") != std::string::npos);
  auto missing = good;
  missing["contents"][2]["parts"] = json::array({{{"text", "no response"}}});
  CHECK(status_of(missing, &msg) == 400);
  CHECK(msg.find("function response turn comes immediately after a function call turn") != std::string::npos);
  auto not_object = good;
  not_object["contents"][2]["parts"][0]["functionResponse"]["response"] = "done";
  CHECK(status_of(not_object, &msg) == 400);
  CHECK(msg.find("function_response.response") != std::string::npos);
}

TEST_CASE("a malformed tool_call script gives a call the product's decoders refuse as malformed") {
  for (auto p : all_providers) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      fake_service svc({});
      svc.faults().replace(*parse_faults(
        R"({"fault":"tool_call","tool":"create_ticket","arguments":{"subject":"Refund"},"malformed":true})"));
      auto r = send(svc, p, with_tools());
      REQUIRE(r.status == 200);
      REQUIRE(r.stream.error);
      CHECK(r.stream.error->kind == sa::providers::error_kind::malformed);
      CHECK_FALSE(r.stream.error->retryable);
    }
  }
}

TEST_CASE("tool_call faults are parsed strictly") {
  CHECK_FALSE(parse_fault(R"({"fault":"tool_call"})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"tool_call","tool":"x","arguments":"{}"})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"tool_call","tool":"x","fragment_bytes":0})").ok());
  CHECK_FALSE(parse_fault(R"({"fault":"tool_call","tool":"x","malformed":"yes"})").ok());
  auto f = parse_fault(R"({"fault":"tool_call","tool":"x","provider":"gemini","count":2})");
  REQUIRE(f.ok());
  CHECK(f->kind == fault_kind::tool_call);
  CHECK(f->script.tool == "x");
  CHECK(f->script.arguments_json.empty());
  CHECK(f->script.fragment_bytes == 8);
}
