// Tool calling in the three wire protocols (docs/llm-provider-protocols.md): streamed tool calls decoded
// whole, byte by byte and split at every single byte boundary; malformed and truncated calls as typed
// errors; and the exact request bodies - tools offered, and the follow-up that sends the model's calls
// (with Anthropic's thinking blocks and Gemini's thought signatures unchanged) and their results back.
#include "actors/providers/anthropic/anthropic_protocol.hpp"
#include "actors/providers/gemini/gemini_protocol.hpp"
#include "actors/providers/openai/openai_protocol.hpp"

#include "stream_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers;
using namespace sa::providers::testing;
using nlohmann::json;

namespace {

const decoder_factory make_openai = [] { return openai_protocol{}.make_decoder(); };
const decoder_factory make_anthropic = [] { return anthropic_protocol{}.make_decoder(); };
const decoder_factory make_gemini = [] { return gemini_protocol{}.make_decoder(); };

bool same_calls(const outcome& a, const outcome& b) {
  if (!a.end || !b.end || a.end->tool_calls.size() != b.end->tool_calls.size())
    return false;
  for (std::size_t i = 0; i < a.end->tool_calls.size(); ++i) {
    const auto& x = a.end->tool_calls[i];
    const auto& y = b.end->tool_calls[i];
    if (x.id != y.id || x.name != y.name || x.arguments_json != y.arguments_json || x.signature != y.signature)
      return false;
  }
  if (a.end->thinking.size() != b.end->thinking.size())
    return false;
  for (std::size_t i = 0; i < a.end->thinking.size(); ++i)
    if (a.end->thinking[i].text != b.end->thinking[i].text || a.end->thinking[i].signature != b.end->thinking[i].signature
        || a.end->thinking[i].redacted != b.end->thinking[i].redacted)
      return false;
  return true;
}

/// Decodes `stream` whole, byte by byte, and cut once at every byte boundary; every run must give the same
/// deltas, end and tool calls as the whole one, with exactly one terminal event. Returns the whole run.
outcome decode_every_split(const decoder_factory& make, const std::string& stream) {
  auto whole = run_whole(make, stream);
  REQUIRE(whole.end);
  REQUIRE(whole.terminals == 1);
  auto bytes = run_bytewise(make, stream);
  CHECK(same_deltas(whole, bytes));
  CHECK(same_end(whole, bytes));
  CHECK(same_calls(whole, bytes));
  std::size_t mismatches = 0;
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    auto o = run(make, stream, {cut});
    if (!same_deltas(whole, o) || !same_end(whole, o) || !same_calls(whole, o) || o.terminals != 1
        || o.events_after_terminal)
      ++mismatches;
  }
  CHECK(mismatches == 0);
  return whole;
}

std::string openai_chunk(const std::string& choices_json, const std::string& extra = "") {
  return "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"gpt-4o-mini\","
         "\"choices\":" + choices_json + extra + "}\n\n";
}

std::string anthropic_event(const std::string& type, const std::string& data) {
  return "event: " + type + "\ndata: " + data + "\n\n";
}

std::string gemini_chunk(const std::string& data) { return "data: " + data + "\r\n\r\n"; }

const std::string lookup_schema =
  R"({"type":"object","properties":{"reference":{"type":"string","description":"order or invoice id","maxLength":64}},"required":["reference"],"additionalProperties":false})";

/// The conversation a follow-up carries: the question, the model's turn with two calls (the session ran
/// the first; the second was not run), and the results.
completion_request follow_up_request(const std::string& model) {
  completion_request r;
  r.model = model;
  r.system = "S";
  r.max_tokens = 100;
  r.messages.push_back({chat_role::user, "Where is invoice INV-1?"});
  chat_message reply{chat_role::assistant, "Let me check."};
  reply.tool_calls.push_back({"call_1", "lookup_order_or_invoice", R"({"reference":"INV-1"})", ""});
  reply.tool_calls.push_back({"call_2", "create_ticket", R"({"subject":"x"})", ""});
  reply.origin = "test";
  r.messages.push_back(reply);
  chat_message results;
  results.tool_results.push_back({"call_1", "lookup_order_or_invoice", R"({"status":"ok","reference":"INV-1"})", false});
  results.tool_results.push_back({"call_2", "create_ticket", "not run", true});
  r.messages.push_back(results);
  r.tools.push_back({"lookup_order_or_invoice", "Looks up an order or invoice", lookup_schema});
  r.tool_choice = tool_choice_mode::none;
  return r;
}

} // namespace

// --- OpenAI ----------------------------------------------------------------------------------------

TEST_CASE("openai: text, then two tool calls whose arguments stream in fragments, decode at every split") {
  std::string s =
    openai_chunk(R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"content":"Let me check."},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup_order_or_invoice","arguments":""}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"refer"}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ence\":\"INV-"}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"create_ticket","arguments":"{\"subject\":"}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1\"}"}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"Refund \u00e9 €\"}"}}]},"finish_reason":null}])")
    + openai_chunk(R"([{"index":0,"delta":{},"finish_reason":"tool_calls"}])")
    + openai_chunk("[]", R"(,"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70})")
    + "data: [DONE]\n\n";
  auto o = decode_every_split(make_openai, s);
  CHECK(o.text() == "Let me check.");
  CHECK(o.end->finish == finish_kind::tool_use);
  CHECK(std::string(to_string(o.end->finish)) == "tool_call");
  CHECK(o.end->finish_reason == "tool_calls");
  CHECK(o.end->tokens.completion_tokens == 20);
  REQUIRE(o.end->tool_calls.size() == 2);
  CHECK(o.end->tool_calls[0].id == "call_1");
  CHECK(o.end->tool_calls[0].name == "lookup_order_or_invoice");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"reference", "INV-1"}});
  CHECK(o.end->tool_calls[1].id == "call_2");
  CHECK(json::parse(o.end->tool_calls[1].arguments_json) == json{{"subject", "Refund \xc3\xa9 \xe2\x82\xac"}});  // raw UTF-8 split too
}

TEST_CASE("openai: a tool call whose arguments are not a JSON object is a malformed error, not retried") {
  auto base = openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"create_ticket","arguments":"{\"subject\":\"secret-text"}}]},"finish_reason":null}])");
  auto o = run_whole(make_openai, base + openai_chunk(R"([{"index":0,"delta":{},"finish_reason":"tool_calls"}])") + "data: [DONE]\n\n");
  REQUIRE(o.error);
  CHECK_FALSE(o.end);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.error->retryable);
  CHECK(o.error->message.find("tool call 0 'create_ticket'") != std::string::npos);
  CHECK(o.error->message.find("secret-text") == std::string::npos);  // arguments are never quoted
  // Cut by the token limit: truncated, still not retried (the same request would be cut again).
  o = run_whole(make_openai, base + openai_chunk(R"([{"index":0,"delta":{},"finish_reason":"length"}])") + "data: [DONE]\n\n");
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
  CHECK_FALSE(o.error->retryable);
  // Arguments that are JSON but not an object, and a call without a name.
  o = run_whole(make_openai, openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"x","arguments":"[1]"}}]},"finish_reason":"tool_calls"}])") + "data: [DONE]\n\n");
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  o = run_whole(make_openai, openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}])") + "data: [DONE]\n\n");
  REQUIRE(o.error);
  CHECK(o.error->message.find("no tool name") != std::string::npos);
  // A stream cut inside the arguments never ends with a call: truncated (retryable, nothing was final).
  o = run_whole(make_openai, base);
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
}

TEST_CASE("openai: a compatible server's call without id or arguments gets an id and {}") {
  auto s = openai_chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"list_tickets"}}]},"finish_reason":"stop"}])")
           + "data: [DONE]\n\n";
  auto o = decode_every_split(make_openai, s);
  REQUIRE(o.end->tool_calls.size() == 1);
  CHECK(o.end->tool_calls[0].id == "call_0");
  CHECK(o.end->tool_calls[0].arguments_json == "{}");
  CHECK(o.end->finish == finish_kind::tool_use);  // a call was made, whatever the server's word
}

TEST_CASE("openai: tools go with tool_choice auto, the follow-up sends the calls and one tool message per result") {
  auto r = follow_up_request("gpt-4o-mini");
  auto first = r;
  first.messages.resize(1);
  first.tool_choice = tool_choice_mode::automatic;
  auto req = openai_protocol{}.build_request(first);
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK(body["tool_choice"] == "auto");
  CHECK(body["tools"] == json::parse(R"([{"type":"function","function":{"name":"lookup_order_or_invoice",
    "description":"Looks up an order or invoice","parameters":)" + lookup_schema + "}}]"));

  req = openai_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto expected = json::parse(R"({"model":"gpt-4o-mini",
    "messages":[{"role":"system","content":"S"},
                {"role":"user","content":"Where is invoice INV-1?"},
                {"role":"assistant","content":"Let me check.","tool_calls":[
                   {"id":"call_1","type":"function","function":{"name":"lookup_order_or_invoice","arguments":"{\"reference\":\"INV-1\"}"}},
                   {"id":"call_2","type":"function","function":{"name":"create_ticket","arguments":"{\"subject\":\"x\"}"}}]},
                {"role":"tool","tool_call_id":"call_1","content":"{\"status\":\"ok\",\"reference\":\"INV-1\"}"},
                {"role":"tool","tool_call_id":"call_2","content":"Error: not run"}],
    "max_tokens":100,"stream":true,"stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"lookup_order_or_invoice","description":"Looks up an order or invoice",
              "parameters":)" + lookup_schema + R"(}}],
    "tool_choice":"none"})");
  CHECK(json::parse(req->body) == expected);
  // A call without text: content null, as the API sends it.
  r.messages[1].text.clear();
  req = openai_protocol{}.build_request(r);
  REQUIRE(req.ok());
  CHECK(json::parse(req->body)["messages"][2]["content"].is_null());
}

// --- Anthropic -------------------------------------------------------------------------------------

TEST_CASE("anthropic: thinking, text and a tool_use block with input_json_delta fragments decode at every split") {
  std::string s =
    anthropic_event("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":90,"output_tokens":1}}})")
    + anthropic_event("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The customer wants "}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"an invoice."}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBsig=="}})")
    + anthropic_event("content_block_stop", R"({"type":"content_block_stop","index":0})")
    + anthropic_event("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgB"}})")
    + anthropic_event("content_block_stop", R"({"type":"content_block_stop","index":1})")
    + anthropic_event("content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}})")
    + anthropic_event("ping", R"({"type":"ping"})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Let me check."}})")
    + anthropic_event("content_block_stop", R"({"type":"content_block_stop","index":2})")
    + anthropic_event("content_block_start", R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_01","name":"lookup_order_or_invoice","input":{}}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":""}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"referen"}})")
    + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"ce\": \"INV-1\"}"}})")
    + anthropic_event("content_block_stop", R"({"type":"content_block_stop","index":3})")
    + anthropic_event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":61}})")
    + anthropic_event("message_stop", R"({"type":"message_stop"})");
  auto o = decode_every_split(make_anthropic, s);
  CHECK(o.text() == "Let me check.");
  CHECK(o.text(true) == "The customer wants an invoice.");
  CHECK(o.end->finish == finish_kind::tool_use);
  CHECK(o.end->finish_reason == "tool_use");
  REQUIRE(o.end->tool_calls.size() == 1);
  CHECK(o.end->tool_calls[0].id == "toolu_01");
  CHECK(o.end->tool_calls[0].name == "lookup_order_or_invoice");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"reference", "INV-1"}});
  REQUIRE(o.end->thinking.size() == 2);  // kept in block order, to go back unchanged
  CHECK(o.end->thinking[0].text == "The customer wants an invoice.");
  CHECK(o.end->thinking[0].signature == "EqQBsig==");
  CHECK_FALSE(o.end->thinking[0].redacted);
  CHECK(o.end->thinking[1].redacted);
  CHECK(o.end->thinking[1].signature == "EmwKAhgB");
  // Thinking tokens, unreported by Anthropic: estimated from the 30 characters of thinking text.
  CHECK(o.end->tokens.thinking_tokens == 8);
  CHECK(o.end->tokens.completion_tokens == 61);
}

TEST_CASE("anthropic: thinking blocks are only kept when the answer calls a tool") {
  auto o = run_whole(make_anthropic, anthropic_stream);
  REQUIRE(o.end);
  CHECK(o.end->tool_calls.empty());
  CHECK(o.end->thinking.empty());
}

TEST_CASE("anthropic: a tool_use block with broken or cut input JSON is a typed error") {
  auto head = anthropic_event("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"create_ticket","input":{}}})")
              + anthropic_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"subject\": \"abc"}})");
  auto tail = [](const char* stop) {
    return anthropic_event("message_delta", std::string(R"({"type":"message_delta","delta":{"stop_reason":")") + stop
                                              + R"("},"usage":{"output_tokens":9}})")
           + anthropic_event("message_stop", R"({"type":"message_stop"})");
  };
  auto o = run_whole(make_anthropic, head + tail("tool_use"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.error->retryable);
  o = run_whole(make_anthropic, head + tail("max_tokens"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
  CHECK_FALSE(o.error->retryable);
  o = run_whole(make_anthropic, head);  // no message_stop: the stream itself was cut
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::truncated);
  CHECK(o.error->retryable);
}

TEST_CASE("anthropic: the follow-up sends thinking unchanged, text and tool_use, then tool_result blocks") {
  auto r = follow_up_request("claude-sonnet-4-5");
  r.max_tokens = 4096;
  r.thinking_budget = 2048;
  r.temperature = 0.3;
  r.messages[1].thinking.push_back({"The customer wants an invoice.", "EqQBsig==", false});
  r.messages[1].thinking.push_back({"", "EmwKAhgB", true});
  auto req = anthropic_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto expected = json::parse(R"({"model":"claude-sonnet-4-5","max_tokens":4096,"system":"S",
    "messages":[{"role":"user","content":"Where is invoice INV-1?"},
                {"role":"assistant","content":[
                   {"type":"thinking","thinking":"The customer wants an invoice.","signature":"EqQBsig=="},
                   {"type":"redacted_thinking","data":"EmwKAhgB"},
                   {"type":"text","text":"Let me check."},
                   {"type":"tool_use","id":"call_1","name":"lookup_order_or_invoice","input":{"reference":"INV-1"}},
                   {"type":"tool_use","id":"call_2","name":"create_ticket","input":{"subject":"x"}}]},
                {"role":"user","content":[
                   {"type":"tool_result","tool_use_id":"call_1","content":"{\"status\":\"ok\",\"reference\":\"INV-1\"}"},
                   {"type":"tool_result","tool_use_id":"call_2","content":"not run","is_error":true}]}],
    "thinking":{"type":"enabled","budget_tokens":2048},"stream":true,
    "tools":[{"name":"lookup_order_or_invoice","description":"Looks up an order or invoice","input_schema":)"
                              + lookup_schema + R"(}],
    "tool_choice":{"type":"none"}})");
  CHECK(json::parse(req->body) == expected);  // no temperature: thinking allows only the default
}

TEST_CASE("anthropic: a final tool turn without its thinking block goes without thinking, auto choice is implicit") {
  auto r = follow_up_request("claude-sonnet-4-5");
  r.max_tokens = 4096;
  r.thinking_budget = 2048;
  r.temperature = 0.3;
  auto req = anthropic_protocol{}.build_request(r);  // the calls came without thinking (another endpoint)
  REQUIRE(req.ok());
  auto body = json::parse(req->body);
  CHECK_FALSE(body.contains("thinking"));
  CHECK(body["temperature"] == 0.3);
  // The first request of the exchange: thinking on, tool_choice left to its default (auto).
  r.messages.resize(1);
  r.tool_choice = tool_choice_mode::automatic;
  req = anthropic_protocol{}.build_request(r);
  REQUIRE(req.ok());
  body = json::parse(req->body);
  CHECK(body["thinking"]["budget_tokens"] == 2048);
  CHECK_FALSE(body.contains("tool_choice"));
  // Arguments that are not a JSON object cannot become a tool_use input.
  r = follow_up_request("claude-sonnet-4-5");
  r.messages[1].tool_calls[0].arguments_json = "{broken";
  CHECK_FALSE(anthropic_protocol{}.build_request(r).ok());
}

// --- Gemini ----------------------------------------------------------------------------------------

TEST_CASE("gemini: text, then functionCall parts with a thought signature, decode at every split") {
  std::string s =
    gemini_chunk(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Let me check."}]},"index":0}],"usageMetadata":{"promptTokenCount":40,"totalTokenCount":40},"modelVersion":"gemini-2.5-flash"})")
    + gemini_chunk(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"lookup_order_or_invoice","args":{"reference":"INV-1"}},"thoughtSignature":"CiQBsig"},{"functionCall":{"id":"fc-2","name":"create_ticket","args":{"subject":"x"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":12,"totalTokenCount":60,"thoughtsTokenCount":8},"modelVersion":"gemini-2.5-flash"})");
  auto o = decode_every_split(make_gemini, s);
  CHECK(o.text() == "Let me check.");
  CHECK(o.end->finish == finish_kind::tool_use);
  CHECK(o.end->tokens.completion_tokens == 20);
  REQUIRE(o.end->tool_calls.size() == 2);
  CHECK(o.end->tool_calls[0].id.empty());  // Gemini's id is optional
  CHECK(o.end->tool_calls[0].signature == "CiQBsig");
  CHECK(json::parse(o.end->tool_calls[0].arguments_json) == json{{"reference", "INV-1"}});
  CHECK(o.end->tool_calls[1].id == "fc-2");
  CHECK(o.end->tool_calls[1].signature.empty());
}

TEST_CASE("gemini: MALFORMED_FUNCTION_CALL and non-object args are malformed errors") {
  auto o = run_whole(make_gemini, gemini_chunk(R"({"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"MALFORMED_FUNCTION_CALL","index":0}]})"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  CHECK_FALSE(o.error->retryable);
  CHECK(o.error->provider_code == "MALFORMED_FUNCTION_CALL");
  o = run_whole(make_gemini, gemini_chunk(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"x","args":"oops"}}]},"finishReason":"STOP","index":0}]})"));
  REQUIRE(o.error);
  CHECK(o.error->kind == error_kind::malformed);
  // A call without args is a call without arguments.
  o = run_whole(make_gemini, gemini_chunk(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"x"}}]},"finishReason":"STOP","index":0}]})"));
  REQUIRE(o.end);
  CHECK(o.end->tool_calls[0].arguments_json == "{}");
}

TEST_CASE("gemini: tools as Schema (known keywords, upper-case types), the follow-up answers with functionResponse parts") {
  auto r = follow_up_request("gemini-2.5-flash");
  r.messages[1].tool_calls[0].signature = "CiQBsig";
  r.tools.push_back({"odd", "A schema with everything",
                     R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
                         "properties":{"type":{"type":"string","enum":["a","b"]},"description":{"type":["integer","null"],"minimum":1},
                                       "tags":{"type":"array","items":{"type":"string","const":"x"}}},"required":["type"]})"});
  auto req = gemini_protocol{}.build_request(r);
  REQUIRE(req.ok());
  auto expected = json::parse(R"({"systemInstruction":{"parts":[{"text":"S"}]},
    "contents":[{"role":"user","parts":[{"text":"Where is invoice INV-1?"}]},
                {"role":"model","parts":[{"text":"Let me check."},
                   {"functionCall":{"name":"lookup_order_or_invoice","args":{"reference":"INV-1"},"id":"call_1"},"thoughtSignature":"CiQBsig"},
                   {"functionCall":{"name":"create_ticket","args":{"subject":"x"},"id":"call_2"}}]},
                {"role":"user","parts":[
                   {"functionResponse":{"name":"lookup_order_or_invoice","id":"call_1","response":{"output":{"status":"ok","reference":"INV-1"}}}},
                   {"functionResponse":{"name":"create_ticket","id":"call_2","response":{"error":"not run"}}}]}],
    "generationConfig":{"maxOutputTokens":100},
    "tools":[{"functionDeclarations":[
       {"name":"lookup_order_or_invoice","description":"Looks up an order or invoice",
        "parameters":{"type":"OBJECT","properties":{"reference":{"type":"STRING","description":"order or invoice id","maxLength":64}},"required":["reference"]}},
       {"name":"odd","description":"A schema with everything",
        "parameters":{"type":"OBJECT","properties":{"type":{"type":"STRING","enum":["a","b"]},"description":{"nullable":true,"type":"INTEGER","minimum":1},
                      "tags":{"type":"ARRAY","items":{"type":"STRING"}}},"required":["type"]}}]}],
    "toolConfig":{"functionCallingConfig":{"mode":"NONE"}}})");
  CHECK(json::parse(req->body) == expected);
  CHECK(req->path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  // The first request of the exchange: AUTO is the default, no toolConfig.
  r.messages.resize(1);
  r.tool_choice = tool_choice_mode::automatic;
  req = gemini_protocol{}.build_request(r);
  REQUIRE(req.ok());
  CHECK_FALSE(json::parse(req->body).contains("toolConfig"));
}

// --- provider-neutral ------------------------------------------------------------------------------

TEST_CASE("reasoning from another endpoint is dropped before a request, its own is kept") {
  auto r = follow_up_request("m");
  r.messages[1].thinking.push_back({"t", "sig", false});
  r.messages[1].tool_calls[0].signature = "CiQ";
  auto kept = r;
  drop_foreign_reasoning(kept, "test");
  CHECK(kept.messages[1].thinking.size() == 1);
  CHECK(kept.messages[1].tool_calls[0].signature == "CiQ");
  drop_foreign_reasoning(r, "other-endpoint");
  CHECK(r.messages[1].thinking.empty());
  CHECK(r.messages[1].tool_calls[0].signature.empty());
  CHECK(r.messages[1].tool_calls.size() == 2);  // the calls themselves stay
}
