// The renderers' bytes, decoded by the product's own stream decoders, give the answer text and usage.
#include "actors/providers/fake/fake_render.hpp"
#include "fake_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace sa::providers::fake;
using fake_test::decode;

namespace {

answer_request parsed(provider_kind p, const sa::providers::completion_request& r) {
  auto wire = fake_test::build(p, r);
  auto model = p == provider_kind::gemini ? std::string("test-model") : std::string();
  auto out = parse_answer_request(p, wire.body, model, r.stream);
  REQUIRE(out.ok());
  return *out;
}

std::string joined(const std::vector<sse_frame>& frames) {
  std::string s;
  for (const auto& f : frames)
    s += f.bytes;
  return s;
}

} // namespace

TEST_CASE("the answer is derived from the last user message and is the same on every run") {
  answer_request r;
  r.model = "m";
  r.last_user_text = "Why was I charged twice?";
  auto a = make_answer(r);
  CHECK(a.joined_text().rfind("Answer to: Why was I charged twice? ", 0) == 0);
  CHECK(make_answer(r).joined_text() == a.joined_text());
  r.last_user_text = "Where is my parcel?";
  CHECK(make_answer(r).joined_text() != a.joined_text());
  CHECK(a.output_tokens() == split_tokens(a.joined_text()).size());
}

TEST_CASE("a long user message is quoted truncated at a UTF-8 character boundary") {
  std::string text(38, 'x');
  text += "\xC3\xA9\xC3\xA9\xC3\xA9"; // three two-byte characters straddle the 40-byte cut
  auto quote = truncate_utf8(text, 40);
  CHECK(quote == std::string(38, 'x') + "\xC3\xA9...");
}

TEST_CASE("every provider's stream decodes to the answer text with consistent usage") {
  auto req = fake_test::sample_request();
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto r = parsed(p, req);
      auto a = make_answer(r);
      auto bytes = joined(render_stream(r, a));
      for (std::size_t piece : {std::size_t(0), std::size_t(1), std::size_t(7)}) {
        auto d = decode(p, bytes, piece);
        REQUIRE_FALSE(d.error);
        REQUIRE(d.end);
        CHECK(d.text == a.joined_text());
        CHECK(d.end->finish == sa::providers::finish_kind::stop);
        CHECK(d.end->tokens.reported);
        CHECK(d.end->tokens.prompt_tokens == a.prompt_tokens);
        CHECK(d.end->tokens.completion_tokens == a.output_tokens());
      }
    }
  }
}

TEST_CASE("the OpenAI stream is byte-exact: role chunk, content chunks, finish, usage chunk, [DONE]") {
  auto r = parsed(provider_kind::openai, fake_test::sample_request());
  REQUIRE(r.include_usage);
  auto a = make_answer(r);
  auto frames = render_stream(r, a);
  REQUIRE(frames.size() == a.text.size() + 4);
  std::string head = R"({"id":"chatcmpl-)" + a.id +
                     R"(","object":"chat.completion.chunk","created":1732450000,"model":"test-model","choices":)";
  CHECK(frames[0].bytes ==
        "data: " + head + R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})" + "\n\n");
  CHECK(frames[1].bytes == "data: " + head + R"([{"index":0,"delta":{"content":"Answer"},"finish_reason":null}]})" +
                               "\n\n");
  CHECK(frames[frames.size() - 3].bytes ==
        "data: " + head + R"([{"index":0,"delta":{},"finish_reason":"stop"}]})" + "\n\n");
  CHECK(frames[frames.size() - 2].bytes.find(R"("choices":[],"usage":{"prompt_tokens":)") != std::string::npos);
  CHECK(frames.back().bytes == "data: [DONE]\n\n");
}

TEST_CASE("without stream_options.include_usage the OpenAI stream has no usage chunk") {
  auto r = parsed(provider_kind::openai, fake_test::sample_request());
  r.include_usage = false;
  auto a = make_answer(r);
  auto d = decode(provider_kind::openai, joined(render_stream(r, a)));
  REQUIRE(d.end);
  CHECK_FALSE(d.end->tokens.reported);
}

TEST_CASE("an Anthropic request with thinking gets a thinking block with a signature, then ping and text") {
  auto req = fake_test::sample_request();
  req.thinking_budget = 1024;
  auto r = parsed(provider_kind::anthropic, req);
  REQUIRE(r.thinking);
  auto a = make_answer(r);
  auto bytes = joined(render_stream(r, a));
  CHECK(bytes.rfind("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_", 0) == 0);
  CHECK(bytes.find(R"("content_block":{"type":"thinking","thinking":""})") != std::string::npos);
  CHECK(bytes.find(R"({"type":"signature_delta","signature":")" + a.signature) != std::string::npos);
  auto ping = bytes.find("event: ping\ndata: {\"type\":\"ping\"}\n\n");
  REQUIRE(ping != std::string::npos);
  CHECK(ping > bytes.find(R"("index":1,"content_block":{"type":"text","text":""})"));
  CHECK(bytes.find(R"("usage":{"output_tokens":)" + std::to_string(a.output_tokens()) + "}}") != std::string::npos);
  const std::string stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  CHECK(bytes.substr(bytes.size() - stop.size()) == stop);
  auto d = decode(provider_kind::anthropic, bytes, 5);
  REQUIRE(d.end);
  CHECK(d.thinking == a.joined_thinking());
  CHECK(d.text == a.joined_text());
  CHECK(d.end->finish_reason == "end_turn");
}

TEST_CASE("a Gemini stream uses CRLF line ends, thought parts, and usage only on the last chunk") {
  auto req = fake_test::sample_request();
  req.thinking_budget = 512;
  auto r = parsed(provider_kind::gemini, req);
  REQUIRE(r.thinking);
  auto a = make_answer(r);
  auto frames = render_stream(r, a);
  for (const auto& f : frames) {
    CHECK(f.bytes.rfind("data: {", 0) == 0);
    CHECK(f.bytes.substr(f.bytes.size() - 4) == "\r\n\r\n");
    CHECK((f.bytes.find("usageMetadata") != std::string::npos) == f.finish);
  }
  CHECK(frames.back().finish);
  auto d = decode(provider_kind::gemini, joined(frames));
  REQUIRE(d.end);
  CHECK(d.end->finish_reason == "STOP");
  CHECK(d.thinking == a.joined_thinking());
  CHECK(d.end->tokens.thinking_tokens == a.thinking.size());
  CHECK(d.end->tokens.completion_tokens == a.output_tokens());
}

TEST_CASE("max_tokens cuts the answer and the finish reason says length") {
  auto req = fake_test::sample_request();
  req.max_tokens = 3;
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto r = parsed(p, req);
      auto a = make_answer(r);
      CHECK(a.text.size() == 3);
      auto d = decode(p, joined(render_stream(r, a)));
      REQUIRE(d.end);
      CHECK(d.end->finish == sa::providers::finish_kind::length);
      CHECK(d.text == "Answer to: Why");
    }
  }
}

TEST_CASE("non-streamed answers carry the same text and usage as the stream") {
  auto req = fake_test::sample_request();
  req.stream = false;
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto r = parsed(p, req);
      CHECK_FALSE(r.stream);
      auto a = make_answer(r);
      auto j = nlohmann::json::parse(render_json(r, a));
      if (p == provider_kind::openai) {
        CHECK(j["choices"][0]["message"]["content"] == a.joined_text());
        CHECK(j["usage"]["completion_tokens"] == a.output_tokens());
      } else if (p == provider_kind::anthropic) {
        CHECK(j["content"][0]["text"] == a.joined_text());
        CHECK(j["usage"]["output_tokens"] == a.output_tokens());
      } else {
        CHECK(j["candidates"][0]["content"]["parts"][0]["text"] == a.joined_text());
        CHECK(j["usageMetadata"]["promptTokenCount"] == a.prompt_tokens);
      }
    }
  }
}

TEST_CASE("error bodies are classified by the product's parse_error like the real providers'") {
  using sa::providers::error_kind;
  auto e = fake_test::parse_error(provider_kind::openai, 429, {},
                                  render_error_body(provider_kind::openai, 429, "insufficient_quota"));
  CHECK(e.kind == error_kind::quota);
  CHECK_FALSE(e.retryable);
  e = fake_test::parse_error(provider_kind::openai, 429, {{"retry-after", "2"}},
                             render_error_body(provider_kind::openai, 429));
  CHECK(e.kind == error_kind::rate_limited);
  CHECK(e.retryable);
  CHECK(e.retry_after_ms == 2000);
  e = fake_test::parse_error(provider_kind::anthropic, 529, {}, render_error_body(provider_kind::anthropic, 529));
  CHECK(e.kind == error_kind::overloaded);
  CHECK(e.retryable);
  CHECK(e.provider_code == "overloaded_error");
  e = fake_test::parse_error(provider_kind::gemini, 429, {}, render_error_body(provider_kind::gemini, 429));
  CHECK(e.kind == error_kind::rate_limited);
  CHECK(e.provider_code == "RESOURCE_EXHAUSTED");
  e = fake_test::parse_error(provider_kind::gemini, 500, {}, render_error_body(provider_kind::gemini, 500));
  CHECK(e.kind == error_kind::server);
  CHECK(e.retryable);
}

TEST_CASE("a mid-stream error event and a bad JSON line end the decoded stream with an error") {
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto d = decode(p, render_error_event(p));
      REQUIRE(d.error);
      CHECK(d.error->http_status == 200);
      CHECK(d.error->retryable);
      d = decode(p, render_bad_json_event(p));
      REQUIRE(d.error);
      CHECK(d.error->kind == sa::providers::error_kind::malformed);
    }
  }
}

TEST_CASE("embeddings are deterministic unit vectors of the configured dimension") {
  auto body = render_embeddings(R"({"model":"text-embedding-3-small","input":["text a","text b"]})", 8);
  REQUIRE(body.ok());
  auto j = nlohmann::json::parse(*body);
  REQUIRE(j["data"].size() == 2);
  double norm = 0;
  for (double x : j["data"][0]["embedding"])
    norm += x * x;
  CHECK(j["data"][0]["embedding"].size() == 8);
  CHECK(std::abs(norm - 1.0) < 1e-4);
  CHECK(j["data"][0]["embedding"] != j["data"][1]["embedding"]);
  CHECK(*render_embeddings(R"({"input":"text a"})", 8) == *render_embeddings(R"({"input":"text a"})", 8));
  CHECK_FALSE(render_embeddings(R"({"input":3})", 8).ok());
}

TEST_CASE("a user message naming a request's tool gets a streamed tool call with schema-shaped arguments") {
  auto req = fake_test::sample_request("Please create_ticket for my refund");
  req.tools.push_back({"lookup_order", "Finds an order", R"({"type":"object","properties":{"order_id":{"type":"string"}}})"});
  req.tools.push_back({"create_ticket", "Opens a ticket",
                       R"({"type":"object","properties":{"subject":{"type":"string"},"priority":{"type":"integer"}},"required":["subject"]})"});
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto r = parsed(p, req);
      REQUIRE(r.tool_names.size() == 2);
      auto a = make_answer(r);
      REQUIRE(a.tool);
      CHECK(a.text.empty());
      auto bytes = joined(render_stream(r, a));
      for (std::size_t piece : {std::size_t(0), std::size_t(3)}) {
        auto d = decode(p, bytes, piece);
        REQUIRE_FALSE(d.error);
        REQUIRE(d.end);
        CHECK(d.end->finish == sa::providers::finish_kind::tool_use);
        REQUIRE(d.end->tool_calls.size() == 1);
        CHECK(d.end->tool_calls[0].name == "create_ticket");
        CHECK(nlohmann::json::parse(d.end->tool_calls[0].arguments_json) ==
              nlohmann::json{{"subject", "Please create_ticket for my refund"}});
        CHECK(d.end->tokens.completion_tokens == a.output_tokens());
      }
      auto j = nlohmann::json::parse(render_json(r, a));
      if (p == provider_kind::openai)
        CHECK(j["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "create_ticket");
      else if (p == provider_kind::anthropic)
        CHECK(j["content"][0]["input"]["subject"] == "Please create_ticket for my refund");
      else
        CHECK(j["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "create_ticket");
    }
  }
}

TEST_CASE("fake embeddings point texts that share words the same way, and unrelated texts apart") {
  auto dot = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      s += a[i] * b[i];
    return s;
  };
  auto q = fake_embedding("How do I download my invoices?", 256);
  auto related = fake_embedding("Where can I download invoices and receipts", 256);
  auto unrelated = fake_embedding("Configure a custom domain with a CNAME record", 256);
  CHECK(std::abs(dot(q, q) - 1.0) < 1e-9);
  CHECK(dot(q, related) > 0.4);
  CHECK(dot(q, unrelated) < 0.2);
  CHECK(dot(q, related) > dot(q, unrelated) + 0.3);
  CHECK(fake_embedding("builds", 64) == fake_embedding("build", 64)); // plural stripped
  CHECK(fake_embedding("", 8)[0] == 1.0);                               // empty text: still a unit vector
  CHECK(fake_embedding("the and of", 8)[0] == 1.0);                     // stop words only
}
