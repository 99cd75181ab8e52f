// Error mapping and retry rules for the three protocols (docs/llm-provider-protocols.md, "Retry policy").
#include "actors/providers/anthropic/anthropic_protocol.hpp"
#include "actors/providers/cost.hpp"
#include "actors/providers/gemini/gemini_protocol.hpp"
#include "actors/providers/openai/openai_protocol.hpp"

#include <catch2/catch.hpp>

using namespace sa::providers;

namespace {

std::string openai_body(const std::string& type, const std::string& code, const std::string& message = "m") {
  return R"({"error":{"message":")" + message + R"(","type":")" + type + R"(","param":null,"code":")" + code + "\"}}";
}

std::string anthropic_body(const std::string& type) {
  return R"({"type":"error","error":{"type":")" + type + R"(","message":"m"}})";
}

} // namespace

TEST_CASE("errors: openai 400 and 401 are not retried") {
  openai_protocol p;
  auto e = p.parse_error(400, {}, openai_body("invalid_request_error", "invalid_value", "bad temperature"));
  CHECK(e.kind == error_kind::invalid_request);
  CHECK_FALSE(e.retryable);
  CHECK(e.http_status == 400);
  CHECK(e.message.find("bad temperature") != std::string::npos);

  e = p.parse_error(401, {{"x-request-id", "req_123"}}, openai_body("invalid_request_error", "invalid_api_key"));
  CHECK(e.kind == error_kind::auth);
  CHECK_FALSE(e.retryable);
  CHECK(e.provider_code == "invalid_api_key");
  CHECK(e.request_id == "req_123");
}

TEST_CASE("errors: openai 429 rate limit is retried after the server's retry-after") {
  openai_protocol p;
  auto e = p.parse_error(429, {{"Retry-After", "2"}}, openai_body("requests", "rate_limit_exceeded"));
  CHECK(e.kind == error_kind::rate_limited);
  CHECK(e.retryable);
  REQUIRE(e.retry_after_ms);
  CHECK(*e.retry_after_ms == 2000);

  e = p.parse_error(429, {{"retry-after", "2"}, {"retry-after-ms", "150.4"}}, openai_body("requests", "rate_limit_exceeded"));
  REQUIRE(e.retry_after_ms);
  CHECK(*e.retry_after_ms == 150); // retry-after-ms wins

  e = p.parse_error(429, {{"retry-after", "0.5"}}, openai_body("requests", "rate_limit_exceeded"));
  CHECK(e.retry_after_ms == 500);

  e = p.parse_error(429, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}, openai_body("requests", "rate_limit_exceeded"));
  CHECK_FALSE(e.retry_after_ms); // HTTP-date: not parsed, the caller's backoff applies
  e = p.parse_error(429, {{"retry-after", "-3"}}, openai_body("requests", "rate_limit_exceeded"));
  CHECK_FALSE(e.retry_after_ms);
}

TEST_CASE("errors: openai 429 insufficient_quota is quota and not retried") {
  auto e = openai_protocol{}.parse_error(429, {{"retry-after", "1"}},
                                         openai_body("insufficient_quota", "insufficient_quota"));
  CHECK(e.kind == error_kind::quota);
  CHECK_FALSE(e.retryable);
}

TEST_CASE("errors: 500, 502, 503, 504, 408 and 409 are retried") {
  openai_protocol p;
  auto e = p.parse_error(500, {}, openai_body("server_error", ""));
  CHECK(e.kind == error_kind::server);
  CHECK(e.retryable);
  e = p.parse_error(503, {}, openai_body("server_error", ""));
  CHECK(e.kind == error_kind::overloaded);
  CHECK(e.retryable);
  e = p.parse_error(502, {}, "<html><body>Bad Gateway</body></html>");
  CHECK(e.kind == error_kind::server);
  CHECK(e.retryable);
  CHECK(e.message.find("Bad Gateway") != std::string::npos);
  CHECK(p.parse_error(504, {}, "").kind == error_kind::timeout);
  CHECK(p.parse_error(408, {}, "").retryable);
  CHECK(p.parse_error(409, {}, "").retryable);
  CHECK_FALSE(p.parse_error(403, {}, "").retryable);
  CHECK_FALSE(p.parse_error(404, {}, "").retryable);
  CHECK(p.parse_error(404, {}, "").kind == error_kind::not_found);
  CHECK_FALSE(p.parse_error(422, {}, "").retryable);
}

TEST_CASE("errors: anthropic types map to kinds, 529 overloaded is retried") {
  anthropic_protocol p;
  auto e = p.parse_error(529, {{"request-id", "req_9"}}, anthropic_body("overloaded_error"));
  CHECK(e.kind == error_kind::overloaded);
  CHECK(e.retryable);
  CHECK(e.request_id == "req_9");
  e = p.parse_error(500, {}, anthropic_body("api_error"));
  CHECK(e.kind == error_kind::server);
  CHECK(e.retryable);
  e = p.parse_error(429, {{"retry-after", "7"}}, anthropic_body("rate_limit_error"));
  CHECK(e.kind == error_kind::rate_limited);
  CHECK(e.retryable);
  CHECK(e.retry_after_ms == 7000);
  e = p.parse_error(401, {}, anthropic_body("authentication_error"));
  CHECK(e.kind == error_kind::auth);
  CHECK_FALSE(e.retryable);
  e = p.parse_error(413, {}, anthropic_body("request_too_large"));
  CHECK(e.kind == error_kind::invalid_request);
  CHECK_FALSE(e.retryable);
  e = p.parse_error(400, {}, anthropic_body("invalid_request_error"));
  CHECK_FALSE(e.retryable);
}

TEST_CASE("errors: x-should-retry overrides the status rule both ways") {
  auto e = openai_protocol{}.parse_error(500, {{"X-Should-Retry", "false"}}, openai_body("server_error", ""));
  CHECK_FALSE(e.retryable);
  e = anthropic_protocol{}.parse_error(400, {{"x-should-retry", "true"}}, anthropic_body("invalid_request_error"));
  CHECK(e.retryable);
  e = gemini_protocol{}.parse_error(429, {{"x-should-retry", "maybe"}}, "");
  CHECK(e.retryable); // not true|false: ignored
}

TEST_CASE("errors: gemini statuses map to kinds") {
  gemini_protocol p;
  auto e = p.parse_error(429, {}, R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})");
  CHECK(e.kind == error_kind::rate_limited);
  CHECK(e.retryable);
  CHECK(e.provider_code == "RESOURCE_EXHAUSTED");
  e = p.parse_error(400, {}, R"({"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}})");
  CHECK(e.kind == error_kind::invalid_request);
  CHECK_FALSE(e.retryable);
  e = p.parse_error(503, {}, R"([{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}])");
  CHECK(e.kind == error_kind::overloaded);
  CHECK(e.retryable);
  CHECK(e.provider_code == "UNAVAILABLE");
  e = p.parse_error(500, {}, R"({"error":{"code":500,"message":"x","status":"INTERNAL"}})");
  CHECK(e.kind == error_kind::server);
  CHECK(e.retryable);
}

TEST_CASE("errors: bodies that are not JSON, or not errors, never throw") {
  for (const char* body : {"", "null", "[]", "{\"error\":\"text\"}", "{\"error\":{\"message\":5}}", "\xff\xfe", "{"}) {
    CHECK(openai_protocol{}.parse_error(400, {}, body).kind == error_kind::invalid_request);
    CHECK(anthropic_protocol{}.parse_error(529, {}, body).kind == error_kind::overloaded);
    CHECK(gemini_protocol{}.parse_error(404, {}, body).kind == error_kind::not_found);
  }
  // a 200 whose body is an error (the transport saw no event stream): still a typed error
  auto e = openai_protocol{}.parse_error(200, {}, openai_body("server_error", ""));
  CHECK(e.kind == error_kind::server);
  CHECK(e.http_status == 200);
}

TEST_CASE("errors: transport failures are retryable and kinds have stable names") {
  auto e = transport_error(error_kind::connection, "connection reset by peer");
  CHECK(e.retryable);
  CHECK(e.http_status == 0);
  CHECK(std::string(to_string(error_kind::rate_limited)) == "rate_limited");
  CHECK(std::string(to_string(error_kind::truncated)) == "truncated");
}

TEST_CASE("cost: prompt and completion tokens at the model's price per million") {
  usage u;
  u.prompt_tokens = 812;
  u.completion_tokens = 96;
  model_price gpt4o_mini{0.15, 0.60};
  CHECK(cost_usd(u, gpt4o_mini) == Approx(812 * 0.15 / 1e6 + 96 * 0.60 / 1e6));
  CHECK(cost_usd(u, model_price{}) == 0.0);
  CHECK(cost_usd(usage{}, gpt4o_mini) == 0.0);
}
