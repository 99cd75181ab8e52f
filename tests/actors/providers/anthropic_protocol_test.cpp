#include "actors/providers/anthropic/anthropic_protocol.hpp"

#include "stream_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers;
using namespace sa::providers::testing;
using nlohmann::json;

namespace {

const decoder_factory make_anthropic = [] { return anthropic_protocol{}.make_decoder(); };

completion_request doc_request() {
  completion_request r;
  r.model = "claude-sonnet-4-5";
  r.max_tokens = 1024;
  r.system = "You are a support agent...";
  r.messages = {{chat_role::user, "Why was I charged twice?"}};
  r.temperature = 0.3;
  r.tools = {{"create_ticket", "...", R"({"type":"object","properties":{"subject":{"type":"string"}}})"}};
  return r;
}

/// The doc's stream with `extra` inserted before the message_delta event.
std::string with_before_message_delta(const std::string& extra) {
  auto s = anthropic_stream;
  s.insert(s.find("event: message_delta"), extra);
  return s;
}

} // namespace

TEST_CASE("anthropic: the request body equals the doc's example, with version header and x-api-key") {
  auto req = anthropic_protocol{}.build_request(doc_request());
  REQUIRE(req.ok());
  auto expected = json::parse(R"({"model":"claude-sonnet-4-5","max_tokens":1024,
 "system":"You are a support agent...",
 "messages":[{"role":"user","content":"Why was I charged twice?"}],
 "temperature":0.3, "stream":true,
 "tools":[{"name":"create_ticket","description":"...","input_schema":{"type":"object","properties":{"subject":{"type":"string"}}}}]})");
  auto body = json::parse(req->body);
  for (auto& [key, value] : expected.items())
    CHECK(body[key] == value);
  CHECK(body == expected);
  CHECK(req->path == "/v1/messages");
  CHECK(req->api_key_header == "x-api-key");
  CHECK(req->api_key_prefix.empty());
  REQUIRE(find_header(req->headers, "anthropic-version"));
  CHECK(*find_header(req->headers, "anthropic-version") == "2023-06-01");
  REQUIRE(find_header(req->headers, "content-type"));
  CHECK(*find_header(req->headers, "content-type") == "application/json");
}

TEST_CASE("anthropic: thinking sends {type enabled, budget_tokens} and leaves temperature unset") {
  auto r = doc_request();
  r.max_tokens = 4096;
  r.thinking_budget = 2048;
  auto req = anthropic_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK(body["thinking"] == json::parse(R"({"type":"enabled","budget_tokens":2048})"));
  CHECK_FALSE(body.contains("temperature"));
  CHECK(body["max_tokens"] == 4096);
}

TEST_CASE("anthropic: the thinking budget must be at least 1024 and below max_tokens") {
  auto r = doc_request();
  r.max_tokens = 4096;
  r.thinking_budget = 1023;
  auto low = anthropic_protocol{}.build_request(r);
  REQUIRE_FALSE(low.ok());
  CHECK(low.error().find("1024") != std::string::npos);
  r.thinking_budget = 4096;
  CHECK_FALSE(anthropic_protocol{}.build_request(r).ok());
  r.thinking_budget = 4095;
  CHECK(anthropic_protocol{}.build_request(r).ok());
  r.thinking_budget = 1024;
  CHECK(anthropic_protocol{}.build_request(r).ok());
  r.max_tokens = 1024;
  CHECK_FALSE(anthropic_protocol{}.build_request(r).ok());
}

TEST_CASE("anthropic: max_tokens is required, the system prompt is never a message") {
  auto r = doc_request();
  r.max_tokens = 0;
  CHECK_FALSE(anthropic_protocol{}.build_request(r).ok());
  r = doc_request();
  r.system.clear();
  r.temperature.reset();
  auto req = anthropic_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK_FALSE(body.contains("system"));
  CHECK_FALSE(body.contains("temperature"));
  CHECK(body["messages"].size() == 1);
}

TEST_CASE("anthropic: the doc's stream gives thinking, text, end_turn and usage (input 812, output 240)") {
  auto o = run_whole(make_anthropic, anthropic_stream);
  CHECK(o.text(true) == "The customer has");
  CHECK(o.text() == "You were charged");
  REQUIRE(o.deltas.size() == 2);
  CHECK(o.deltas[0].thinking);
  CHECK_FALSE(o.deltas[1].thinking);
  REQUIRE(o.end);
  CHECK(o.terminals == 1);
  CHECK(o.end->finish_reason == "end_turn");
  CHECK(o.end->finish == finish_kind::stop);
  CHECK(o.end->tokens.prompt_tokens == 812);
  CHECK(o.end->tokens.completion_tokens == 240);
  CHECK(o.end->tool_calls.empty());
}

TEST_CASE("anthropic: the doc's stream decodes the same whole, byte by byte and in 200 random splits") {
  auto whole = run_whole(make_anthropic, anthropic_stream);
  auto bytes = run_bytewise(make_anthropic, anthropic_stream);
  CHECK(same_deltas(whole, bytes));
  CHECK(same_end(whole, bytes));
  int runs = 0;
  run_random(make_anthropic, anthropic_stream, 200, [&](const outcome& o) {
    ++runs;
    CHECK(same_deltas(whole, o));
    CHECK(same_end(whole, o));
    CHECK(o.terminals == 1);
  });
  CHECK(runs == 200);
}

TEST_CASE("anthropic: the doc's stream with CRLF line ends, split inside a CRLF, decodes the same") {
  std::string crlf;
  for (char c : anthropic_stream)
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  auto whole = run_whole(make_anthropic, anthropic_stream);
  std::vector<std::size_t> cuts;
  for (std::size_t i = crlf.find('\r'); i != std::string::npos; i = crlf.find('\r', i + 1))
    cuts.push_back(i + 1); // between every \r and its \n
  auto split = run(make_anthropic, crlf, cuts);
  CHECK(same_deltas(whole, split));
  CHECK(same_end(whole, split));
}

TEST_CASE("anthropic: unknown event types, pings and comments are ignored") {
  auto s = with_before_message_delta(
    "event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"whatever\":[1,2]}\n\n"
    ": a comment\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"citations_delta\",\"citation\":{}}}\n\n");
  auto o = run_whole(make_anthropic, s);
  CHECK_FALSE(o.error);
  REQUIRE(o.end);
  CHECK(o.text() == "You were charged");
}

TEST_CASE("anthropic: an error event after a 200 ends the stream with a typed, retryable error") {
  auto s = anthropic_stream.substr(0, anthropic_stream.find("event: message_delta"))
           + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  auto o = run_bytewise(make_anthropic, s);
  CHECK(o.text() == "You were charged"); // what came before the error was delivered
  REQUIRE(o.error);
  CHECK_FALSE(o.end);
  CHECK(o.error->kind == error_kind::overloaded);
  CHECK(o.error->retryable);
  CHECK(o.error->provider_code == "overloaded_error");
  CHECK(o.error->message.find("Overloaded") != std::string::npos);
  CHECK(o.terminals == 1);

  auto o2 = run_whole(make_anthropic, anthropic_stream.substr(0, anthropic_stream.find("event: ping"))
                                        + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad\"}}\n\n");
  REQUIRE(o2.error);
  CHECK(o2.error->kind == error_kind::invalid_request);
  CHECK_FALSE(o2.error->retryable);
}

TEST_CASE("anthropic: events after message_stop are ignored") {
  auto o = run_whole(make_anthropic, anthropic_stream + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"late\"}}\n\n");
  REQUIRE(o.end);
  CHECK_FALSE(o.error);
  CHECK_FALSE(o.events_after_terminal);
}

TEST_CASE("anthropic: tool_use blocks are assembled from input_json_delta fragments") {
  std::string s =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"create_ticket\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"subj\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ect\\\":\\\"x\\\"}\"}}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":30}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  auto o = run_whole(make_anthropic, s);
  REQUIRE(o.end);
  CHECK(o.end->finish == finish_kind::tool_use);
  REQUIRE(o.end->tool_calls.size() == 1);
  CHECK(o.end->tool_calls[0].id == "toolu_1");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"subject", "x"}});
  CHECK(o.end->tokens.completion_tokens == 30);
}

TEST_CASE("anthropic: missing usage gives zeros, no message_stop is truncated, bad JSON is malformed") {
  auto o = run_whole(make_anthropic, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  REQUIRE(o.end);
  CHECK_FALSE(o.end->tokens.reported);
  CHECK(o.end->tokens.prompt_tokens == 0);

  auto cut = anthropic_stream.substr(0, anthropic_stream.find("event: message_stop"));
  o = run_whole(make_anthropic, cut);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);

  auto half_line = anthropic_stream.substr(0, anthropic_stream.size() - 10);
  o = run_whole(make_anthropic, half_line);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);

  o = run_whole(make_anthropic, with_before_message_delta("event: content_block_delta\ndata: {\"type\":\"content_bl\n\n"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.end);
}
