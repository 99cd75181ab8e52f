#include "actors/providers/gemini/gemini_protocol.hpp"

#include "stream_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers;
using namespace sa::providers::testing;
using nlohmann::json;

namespace {

const decoder_factory make_gemini = [] { return gemini_protocol{}.make_decoder(); };

completion_request doc_request() {
  completion_request r;
  r.model = "gemini-2.5-flash";
  r.system = "You are a support agent...";
  r.messages = {{chat_role::user, "Why was I charged twice?"}};
  r.temperature = 0.3;
  r.max_tokens = 512;
  r.json_mode = true;
  r.thinking_budget = 1024;
  r.tools = {{"create_ticket", "...", R"({"type":"object","properties":{"subject":{"type":"string"}}})"}};
  return r;
}

std::string sse(const std::string& json_text) { return "data: " + json_text + "\r\n\r\n"; }

} // namespace

TEST_CASE("gemini: the request body equals the doc's example (without responseSchema), path and key header") {
  auto req = gemini_protocol{}.build_request(doc_request());
  REQUIRE(req.ok());
  auto expected = json::parse(R"({"systemInstruction":{"parts":[{"text":"You are a support agent..."}]},
 "contents":[{"role":"user","parts":[{"text":"Why was I charged twice?"}]}],
 "generationConfig":{"temperature":0.3,"maxOutputTokens":512,
                     "responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"intent":{"type":"STRING"}}},
                     "thinkingConfig":{"thinkingBudget":1024}},
 "tools":[{"functionDeclarations":[{"name":"create_ticket","description":"...","parameters":{"type":"OBJECT","properties":{"subject":{"type":"STRING"}}}}]}]})");
  expected["generationConfig"].erase("responseSchema"); // json_schema answers are not in the common model yet
  auto body = json::parse(req->body);
  for (auto& [key, value] : expected.items())
    CHECK(body[key] == value);
  CHECK(body == expected);
  CHECK(req->path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  CHECK(req->api_key_header == "x-goog-api-key");
  CHECK(req->api_key_prefix.empty());
}

TEST_CASE("gemini: assistant turns are role model, no generationConfig when nothing is set, unary path") {
  completion_request r;
  r.model = "models/gemini-2.5-flash";
  r.messages = {{chat_role::user, "hi"}, {chat_role::assistant, "hello"}, {chat_role::user, "help"}};
  r.stream = false;
  auto req = gemini_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK(body["contents"][1]["role"] == "model");
  CHECK_FALSE(body.contains("generationConfig"));
  CHECK_FALSE(body.contains("systemInstruction"));
  CHECK(req->path == "/v1beta/models/gemini-2.5-flash:generateContent");
}

TEST_CASE("gemini: a model id that would change the URL is refused") {
  auto r = doc_request();
  r.model = "gemini/../../v1/evil?x=";
  CHECK_FALSE(gemini_protocol{}.build_request(r).ok());
  r.model.clear();
  CHECK_FALSE(gemini_protocol{}.build_request(r).ok());
}

TEST_CASE("gemini: the CRLF stream ends at finishReason with the last chunk's usage") {
  auto o = run_whole(make_gemini, gemini_stream);
  CHECK(o.text() == "Hello. You were charged twice because");
  REQUIRE(o.end);
  CHECK(o.terminals == 1);
  CHECK(o.end->finish_reason == "STOP");
  CHECK(o.end->finish == finish_kind::stop);
  CHECK(o.end->tokens.prompt_tokens == 812);
  CHECK(o.end->tokens.completion_tokens == 96);
  CHECK(o.end->tokens.thinking_tokens == 0);
}

TEST_CASE("gemini: the stream decodes the same whole, byte by byte and in 200 random splits") {
  auto whole = run_whole(make_gemini, gemini_stream);
  auto bytes = run_bytewise(make_gemini, gemini_stream);
  CHECK(same_deltas(whole, bytes));
  CHECK(same_end(whole, bytes));
  int runs = 0;
  run_random(make_gemini, gemini_stream, 200, [&](const outcome& o) {
    ++runs;
    CHECK(same_deltas(whole, o));
    CHECK(same_end(whole, o));
    CHECK(o.terminals == 1);
  });
  CHECK(runs == 200);
}

TEST_CASE("gemini: a CRLF split between chunks is one line end") {
  auto first_crlf = gemini_stream.find("\r\n");
  auto o = run(make_gemini, gemini_stream, {first_crlf + 1, first_crlf + 3});
  auto whole = run_whole(make_gemini, gemini_stream);
  CHECK(same_deltas(whole, o));
  CHECK(same_end(whole, o));
}

TEST_CASE("gemini: thoughts are thinking deltas and thoughtsTokenCount is billed as output") {
  std::string s =
    sse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Two invoices...","thought":true}]},"index":0}]})")
    + sse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Refunded."}]},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":115,"thoughtsTokenCount":100}})");
  auto o = run_bytewise(make_gemini, s);
  CHECK(o.text(true) == "Two invoices...");
  CHECK(o.text() == "Refunded.");
  REQUIRE(o.end);
  CHECK(o.end->finish == finish_kind::length);
  CHECK(o.end->tokens.thinking_tokens == 100);
  CHECK(o.end->tokens.completion_tokens == 105);
}

TEST_CASE("gemini: a stream that ends without finishReason is truncated") {
  auto o = run_whole(make_gemini, sse(gemini_first_chunk));
  CHECK(o.text() == "Hello. ");
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
  CHECK(o.error->retryable);
  CHECK_FALSE(o.end);
}

TEST_CASE("gemini: promptFeedback.blockReason is a blocked error") {
  auto o = run_whole(make_gemini, sse(R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}})"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::blocked);
  CHECK_FALSE(o.error->retryable);
  CHECK(o.error->provider_code == "SAFETY");
}

TEST_CASE("gemini: functionCall parts become tool calls") {
  auto o = run_whole(make_gemini, sse(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"create_ticket","args":{"subject":"x"}}}]},"finishReason":"STOP","index":0}]})"));
  REQUIRE(o.end);
  CHECK(o.end->finish == finish_kind::tool_use);
  CHECK_FALSE(o.end->tokens.reported);
  REQUIRE(o.end->tool_calls.size() == 1);
  CHECK(o.end->tool_calls[0].name == "create_ticket");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"subject", "x"}});
}

TEST_CASE("gemini: malformed JSON and an error object inside the stream are typed errors") {
  auto o = run_whole(make_gemini, sse(gemini_first_chunk) + "data: {\"candidates\":[\r\n\r\n" + sse(gemini_last_chunk));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.end);

  o = run_whole(make_gemini, sse(R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::overloaded);
  CHECK(o.error->retryable);
}
