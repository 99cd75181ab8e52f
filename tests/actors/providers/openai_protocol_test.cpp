#include "actors/providers/openai/openai_protocol.hpp"

#include "stream_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers;
using namespace sa::providers::testing;
using nlohmann::json;

namespace {

const decoder_factory make_openai = [] { return openai_protocol{}.make_decoder(); };

completion_request doc_request() {
  completion_request r;
  r.model = "gpt-4o-mini";
  r.system = "You are a support agent...";
  r.messages = {{chat_role::user, "Why was I charged twice?"}};
  r.temperature = 0.3;
  r.max_tokens = 512;
  r.json_mode = true;
  r.tools = {{"create_ticket", "...",
              R"({"type":"object","properties":{"subject":{"type":"string"}},"required":["subject"]})"}};
  return r;
}

std::string chunk(const std::string& choices_json, const std::string& extra = "") {
  return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":" + choices_json + extra + "}\n\n";
}

} // namespace

TEST_CASE("openai: the request body equals the doc's example") {
  auto req = openai_protocol{}.build_request(doc_request());
  REQUIRE(req.ok());
  // The doc's example plus "tool_choice":"auto", which the product always states next to its tools.
  auto expected = json::parse(R"({"model":"gpt-4o-mini","tool_choice":"auto",
 "messages":[{"role":"system","content":"You are a support agent..."},
             {"role":"user","content":"Why was I charged twice?"}],
 "temperature":0.3, "max_tokens":512,
 "stream":true, "stream_options":{"include_usage":true},
 "response_format":{"type":"json_object"},
 "tools":[{"type":"function","function":{"name":"create_ticket","description":"...",
           "parameters":{"type":"object","properties":{"subject":{"type":"string"}},"required":["subject"]}}}]})");
  auto body = json::parse(req->body);
  for (auto& [key, value] : expected.items())
    CHECK(body[key] == value);
  CHECK(body == expected);
  CHECK(req->path == "/v1/chat/completions");
  CHECK(req->method == "POST");
  CHECK(req->api_key_header == "Authorization");
  CHECK(req->api_key_prefix == "Bearer ");
  REQUIRE(find_header(req->headers, "content-type"));
  CHECK(*find_header(req->headers, "content-type") == "application/json");
  CHECK(req->body.find("0.3") != std::string::npos);
}

TEST_CASE("openai: reasoning models get max_completion_tokens, optional fields stay out") {
  openai_options opts;
  opts.use_max_completion_tokens = true;
  completion_request r;
  r.model = "o3-mini";
  r.messages = {{chat_role::user, "hi"}, {chat_role::assistant, "hello"}, {chat_role::user, "help"}};
  r.max_tokens = 2000;
  r.stream = false;
  auto req = openai_protocol{opts}.build_request(r);
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK(body["max_completion_tokens"] == 2000);
  CHECK_FALSE(body.contains("max_tokens"));
  CHECK_FALSE(body.contains("temperature"));
  CHECK_FALSE(body.contains("stream_options"));
  CHECK_FALSE(body.contains("response_format"));
  CHECK_FALSE(body.contains("tools"));
  CHECK(body["stream"] == false);
  REQUIRE(body["messages"].size() == 3); // no system message when there is no system prompt
  CHECK(body["messages"][1] == json{{"role", "assistant"}, {"content", "hello"}});
}

TEST_CASE("openai: an invalid request is refused before sending") {
  completion_request r = doc_request();
  r.tools[0].parameters_json = "{not json";
  CHECK_FALSE(openai_protocol{}.build_request(r).ok());
  r = doc_request();
  r.messages.clear();
  CHECK_FALSE(openai_protocol{}.build_request(r).ok());
  r = doc_request();
  r.model.clear();
  CHECK_FALSE(openai_protocol{}.build_request(r).ok());
}

TEST_CASE("openai: the doc's stream gives its text, finish reason and usage") {
  auto o = run_whole(make_openai, openai_stream);
  CHECK(o.text() == "You were");
  CHECK(o.deltas.size() == 1); // the empty first content is not a delta
  REQUIRE(o.end);
  CHECK_FALSE(o.error);
  CHECK(o.terminals == 1);
  CHECK(o.end->finish_reason == "stop");
  CHECK(o.end->finish == finish_kind::stop);
  CHECK(o.end->tokens.reported);
  CHECK(o.end->tokens.prompt_tokens == 812);
  CHECK(o.end->tokens.completion_tokens == 96);
  CHECK(o.end->tokens.thinking_tokens == 0);
}

TEST_CASE("openai: the doc's stream decodes the same whole, byte by byte and in 200 random splits") {
  auto whole = run_whole(make_openai, openai_stream);
  auto bytes = run_bytewise(make_openai, openai_stream);
  CHECK(same_deltas(whole, bytes));
  CHECK(same_end(whole, bytes));
  int runs = 0;
  run_random(make_openai, openai_stream, 200, [&](const outcome& o) {
    ++runs;
    CHECK(same_deltas(whole, o));
    CHECK(same_end(whole, o));
    CHECK(o.terminals == 1);
    CHECK_FALSE(o.events_after_terminal);
  });
  CHECK(runs == 200);
}

TEST_CASE("openai: comments (keep-alives) between chunks are ignored") {
  std::string s = ": OPENROUTER PROCESSING\n\n" + openai_stream;
  s.insert(s.find("data: [DONE]"), ": keep-alive\n");
  auto o = run_whole(make_openai, s);
  REQUIRE(o.end);
  CHECK(o.text() == "You were");
}

TEST_CASE("openai: tool_calls deltas are assembled by index") {
  std::string s =
    chunk(R"([{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"create_ticket","arguments":""}}]},"finish_reason":null}])")
    + chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"subj"}}]},"finish_reason":null}])")
    + chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ect\":\"x\"}"}}]},"finish_reason":null}])")
    + chunk(R"([{"index":0,"delta":{},"finish_reason":"tool_calls"}])") + "data: [DONE]\n\n";
  auto o = run_bytewise(make_openai, s);
  REQUIRE(o.end);
  CHECK(o.deltas.empty());
  CHECK(o.end->finish == finish_kind::tool_use);
  CHECK_FALSE(o.end->tokens.reported); // no usage chunk: zeros, not a failure
  REQUIRE(o.end->tool_calls.size() == 1);
  CHECK(o.end->tool_calls[0].id == "call_1");
  CHECK(o.end->tool_calls[0].name == "create_ticket");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"subject", "x"}});
}

TEST_CASE("openai: reasoning_content from compatible servers is a thinking delta, reasoning tokens are read") {
  std::string s = chunk(R"([{"index":0,"delta":{"reasoning_content":"hmm"},"finish_reason":null}])")
                  + chunk(R"([{"index":0,"delta":{"content":"ok"},"finish_reason":"length"}])")
                  + chunk("[]", R"(,"usage":{"prompt_tokens":5,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":4}})")
                  + "data: [DONE]\n\n";
  auto o = run_whole(make_openai, s);
  REQUIRE(o.end);
  CHECK(o.text(true) == "hmm");
  CHECK(o.text() == "ok");
  CHECK(o.end->finish == finish_kind::length);
  CHECK(o.end->tokens.thinking_tokens == 4);
  CHECK(o.end->tokens.completion_tokens == 9);
}

TEST_CASE("openai: a malformed JSON data line ends the stream with a malformed error") {
  std::string s = chunk(R"([{"index":0,"delta":{"content":"a"},"finish_reason":null}])") + "data: {\"choices\":[{\n\n"
                  + openai_stream;
  auto o = run_whole(make_openai, s);
  CHECK(o.text() == "a");
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.end);
  CHECK(o.terminals == 1);
  CHECK_FALSE(o.events_after_terminal);
}

TEST_CASE("openai: wrong JSON types in a chunk are ignored or typed, never thrown") {
  std::string s = chunk(R"("not an array")") + chunk(R"([42, {"index":"x","delta":[]}, {"delta":{"content":7}}])")
                  + chunk("[]", R"(,"usage":{"prompt_tokens":-3,"completion_tokens":"many"})") + "data: [1,2]\n\n";
  auto o = run_whole(make_openai, s);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
}

TEST_CASE("openai: an error object inside a 200 stream becomes a typed error") {
  std::string s = chunk(R"([{"index":0,"delta":{"content":"a"},"finish_reason":null}])")
                  + R"(data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})"
                  + "\n\n";
  auto o = run_whole(make_openai, s);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::rate_limited);
  CHECK(o.error->retryable);
  CHECK(o.error->http_status == 200);
}

TEST_CASE("openai: a stream cut before [DONE] and before any finish reason is truncated") {
  auto cut = openai_stream.substr(0, openai_stream.find("\"finish_reason\":\"stop\"") - 40);
  auto o = run_whole(make_openai, cut);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
  CHECK(o.error->retryable);
  auto clean_but_early = openai_stream.substr(0, openai_stream.find("data: {", 10));
  o = run_whole(make_openai, clean_but_early);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
}

TEST_CASE("openai: a server that closes after the finish reason without [DONE] still ends") {
  auto no_done = openai_stream.substr(0, openai_stream.find("data: [DONE]"));
  auto o = run_whole(make_openai, no_done);
  REQUIRE(o.end);
  CHECK(o.end->tokens.prompt_tokens == 812);
}
