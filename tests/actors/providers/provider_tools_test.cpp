// Tool calling over real loopback sockets, per wire kind: a provider actor offers tools, the fake model
// (a `tool_call` script) streams text and a call in small fragments, the completion carries the call and
// the provider-neutral finish "tool_call"; the follow-up built as the LLM generator builds it (the model's
// turn with its reasoning, then one result per call) gets the answer phrasing the results. Follow-ups the
// API would refuse, and malformed calls, end as typed errors without a retry.
#include "actors/providers/fake/fake_answer.hpp"
#include "actors/providers/provider_actor.hpp"
#include "messages/completion.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "tests/support/fake_provider_fixture.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace sa;
using namespace sa::providers;
using namespace std::chrono_literals;
using sa::test::fake_provider_fixture;
using nlohmann::json;

namespace {

constexpr auto request_timeout = 20s;
const std::string question = "Where is invoice INV-2026-0142?";

struct env {
  env() {
    sa::register_message_types(cfg);
    register_provider_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    http = std::make_shared<http_client>();
  }
  ~env() {
    http->stop();
    sys.reset();
  }

  fake_provider_fixture fake;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<http_client> http;
};

std::string route_of(wire_kind k) {
  return k == wire_kind::anthropic ? "anthropic" : k == wire_kind::gemini ? "gemini" : "openai";
}

endpoint_settings settings_for(wire_kind kind, const fake_provider_fixture& fake, uint32_t thinking_budget = 0) {
  endpoint_settings s;
  s.name = "tools-" + route_of(kind);
  s.kind = kind;
  s.base_url = fake.base_url();
  s.model = kind == wire_kind::anthropic ? "claude-test" : kind == wire_kind::gemini ? "gemini-test" : "gpt-test";
  s.api_key = "test-key";
  s.max_tokens = 512;
  s.thinking_budget = thinking_budget;
  s.max_retries = 2;
  s.backoff.initial = 10ms;
  s.backoff.max = 40ms;
  s.breaker.failure_threshold = 1000;
  s.seed = 7;
  return s;
}

completion_call tool_call_request(bool thinking = false) {
  completion_call c;
  c.id = next_completion_id();
  c.request.system = "You are a support agent.";
  c.request.messages.push_back({chat_role::user, question});
  c.request.tools.push_back({"lookup_order_or_invoice", "Looks up an order or invoice",
                             R"({"type":"object","properties":{"reference":{"type":"string"}},"required":["reference"],"additionalProperties":false})"});
  c.request.thinking_budget = thinking ? 1 : 0;
  c.deadline = deadline_in(10s);
  return c;
}

/// The follow-up, as the LLM generator builds it from a completion with tool calls.
completion_call follow_up(const completion_call& first, const completion& c, const std::string& result,
                          std::string origin = {}) {
  auto next = first;
  next.id = next_completion_id();
  chat_message turn{chat_role::assistant, c.text};
  turn.tool_calls = c.tool_calls;
  for (std::size_t i = 0; i < turn.tool_calls.size(); ++i)
    if (turn.tool_calls[i].id.empty())
      turn.tool_calls[i].id = "call_" + std::to_string(i + 1);
  turn.thinking = c.thinking;
  turn.origin = origin.empty() ? c.provider : origin;
  next.request.messages.push_back(turn);
  chat_message results;
  for (const auto& call : turn.tool_calls)
    results.tool_results.push_back({call.id, call.name, result, false});
  next.request.messages.push_back(results);
  next.request.tool_choice = tool_choice_mode::none;
  next.deadline = deadline_in(10s);
  return next;
}

struct outcome {
  std::optional<completion> value;
  caf::error error;
  std::string streamed;
};

outcome run(caf::actor_system& sys, const provider_actor& p, completion_call call) {
  caf::scoped_actor self{sys};
  call.sink = caf::actor_cast<completion_sink_actor>(self.ptr());
  outcome out;
  self->request(p, request_timeout, std::move(call))
    .receive([&](completion& c) { out.value = std::move(c); }, [&](caf::error& e) { out.error = std::move(e); });
  bool more = true;
  while (more)
    self->receive([&](completion_delta& d) { out.streamed += d.text; }, [&](completion_reset&) {},
                  caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
  return out;
}

fake::fault_spec lookup_script() {
  auto f = *fake::parse_fault(
    R"({"fault":"tool_call","tool":"lookup_order_or_invoice","arguments":{"reference":"INV-2026-0142"},"text":"Let me check.","fragment_bytes":2})");
  return f;
}

constexpr wire_kind all_kinds[] = {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini};

} // namespace

TEST_CASE("each wire kind: a tool call streams in over loopback and its follow-up gets the phrased answer") {
  for (auto kind : all_kinds) {
    DYNAMIC_SECTION("wire kind " << route_of(kind)) {
      env e;
      e.fake.set_faults({lookup_script()});
      auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
      auto first = tool_call_request();
      auto r = run(*e.sys, p, first);
      INFO((r.value ? r.value->text : e.sys->render(r.error)));
      REQUIRE(r.value);
      CHECK(r.value->finish == "tool_call");
      CHECK(r.value->text == "Let me check.");
      CHECK(r.streamed == "Let me check.");  // the text before the call reached the sink
      REQUIRE(r.value->tool_calls.size() == 1);
      CHECK(r.value->tool_calls[0].name == "lookup_order_or_invoice");
      CHECK(json::parse(r.value->tool_calls[0].arguments_json) == json{{"reference", "INV-2026-0142"}});
      auto wire = json::parse(e.fake.last_request().request.body);
      if (kind == wire_kind::openai)
        CHECK(wire["tool_choice"] == "auto");
      else if (kind == wire_kind::gemini)
        CHECK(wire["tools"][0]["functionDeclarations"][0]["parameters"] ==
              json::parse(R"({"type":"OBJECT","properties":{"reference":{"type":"STRING"}},"required":["reference"]})"));

      auto second = run(*e.sys, p, follow_up(first, *r.value, R"({"status":"ok","reference":"INV-2026-0142"})"));
      INFO((second.value ? second.value->text : e.sys->render(second.error)));
      REQUIRE(second.value);
      CHECK(second.value->finish == "stop");
      CHECK(second.value->tool_calls.empty());
      CHECK(second.value->text.rfind("The lookup_order_or_invoice tool returned: ", 0) == 0);
      CHECK(second.value->text.find("INV-2026-0142") != std::string::npos);
      CHECK(second.streamed == second.value->text);
      CHECK(e.fake.requests(route_of(kind)) == 2);
      anon_send_exit(p, caf::exit_reason::user_shutdown);
    }
  }
}

TEST_CASE("anthropic with thinking: the signed thinking block goes back with the calls, another endpoint's does not") {
  env e;
  e.fake.set_faults({lookup_script()});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::anthropic, e.fake, 1024), e.http);
  auto first = tool_call_request(true);
  auto r = run(*e.sys, p, first);
  REQUIRE(r.value);
  CHECK(r.streamed == "Let me check.");  // thinking is never streamed
  REQUIRE(r.value->thinking.size() == 1);
  CHECK(r.value->thinking[0].signature == fake::fake_signature("claude-test", question));
  auto second = run(*e.sys, p, follow_up(first, *r.value, R"({"status":"ok"})"));
  INFO((second.value ? second.value->text : e.sys->render(second.error)));
  REQUIRE(second.value);
  auto wire = json::parse(e.fake.last_request().request.body);
  CHECK(wire["thinking"]["type"] == "enabled");
  CHECK(wire["messages"][1]["content"][0]["type"] == "thinking");
  CHECK(wire["tool_choice"] == json{{"type", "none"}});
  // The same exchange made by another endpoint: its reasoning is not valid here, so it is dropped and the
  // request goes without thinking (the fake, like the API, would refuse thinking without the block).
  auto foreign = follow_up(first, *r.value, R"({"status":"ok"})", "another-endpoint");
  auto third = run(*e.sys, p, foreign);
  INFO((third.value ? third.value->text : e.sys->render(third.error)));
  REQUIRE(third.value);
  wire = json::parse(e.fake.last_request().request.body);
  CHECK_FALSE(wire.contains("thinking"));
  CHECK(wire["messages"][1]["content"][0]["type"] == "text");
  anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_CASE("a follow-up without the tool result is refused as the API refuses it, and not retried") {
  for (auto kind : all_kinds) {
    DYNAMIC_SECTION("wire kind " << route_of(kind)) {
      env e;
      e.fake.set_faults({lookup_script()});
      auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
      auto first = tool_call_request();
      auto r = run(*e.sys, p, first);
      REQUIRE(r.value);
      auto next = follow_up(first, *r.value, "{}");
      next.request.messages.back() = chat_message{chat_role::user, "and?"};  // the results are missing
      auto refused = run(*e.sys, p, next);
      REQUIRE_FALSE(refused.value);
      CHECK(provider_code(refused.error) == provider_errc::invalid_request);
      CHECK(provider_message(refused.error).find("HTTP 400") != std::string::npos);
      CHECK(e.fake.requests(route_of(kind)) == 2);  // no retry of a 400
      anon_send_exit(p, caf::exit_reason::user_shutdown);
    }
  }
}

TEST_CASE("a malformed tool call from the model is a malformed error, not retried and never a crash") {
  for (auto kind : all_kinds) {
    DYNAMIC_SECTION("wire kind " << route_of(kind)) {
      env e;
      e.fake.set_faults({*fake::parse_fault(
        R"({"fault":"tool_call","tool":"lookup_order_or_invoice","arguments":{"reference":"INV-1"},"malformed":true})")});
      auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
      auto r = run(*e.sys, p, tool_call_request());
      REQUIRE_FALSE(r.value);
      CHECK(provider_code(r.error) == provider_errc::malformed);
      CHECK(e.fake.requests(route_of(kind)) == 1);
      // The provider is fine afterwards: the next call (no script left for it) is answered.
      e.fake.clear_faults();
      auto next = run(*e.sys, p, tool_call_request());
      CHECK(next.value);
      anon_send_exit(p, caf::exit_reason::user_shutdown);
    }
  }
}
