// Response plans, without sockets: routes, admin API, timing and the effect of each fault on the bytes.
#include "actors/providers/fake/fake_service.hpp"
#include "fake_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa::providers::fake;
using fake_test::decode;
using fake_test::written;

namespace {

http_in chat_request(provider_kind p, bool stream = true) {
  auto req = fake_test::sample_request();
  req.stream = stream;
  auto wire = fake_test::build(p, req);
  return http_in{"POST", wire.path, wire.body, true};
}

response_plan with_fault(provider_kind p, const std::string& fault_json, service_options opts = {}) {
  fake_service svc(opts);
  svc.faults().replace(*parse_faults(fault_json));
  return svc.handle(chat_request(p));
}

std::size_t count_writes(const response_plan& plan) {
  std::size_t n = 0;
  for (const auto& s : plan.steps)
    n += s.what == plan_step::action::write;
  return n;
}

} // namespace

TEST_CASE("each provider's route answers a streamed request with a chunked event stream") {
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      fake_service svc({});
      auto plan = svc.handle(chat_request(p));
      CHECK(plan.keep_alive);
      auto bytes = written(plan);
      CHECK(bytes.head.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", 0) == 0);
      auto d = decode(p, bytes.body);
      REQUIRE(d.end);
      CHECK(d.text.rfind("Answer to: Why was I charged twice?", 0) == 0);
      CHECK(svc.faults().requests(to_string(p)) == 1);
    }
  }
}

TEST_CASE("unknown routes get 404 and GET on a provider route gets 405") {
  fake_service svc({});
  CHECK(written(svc.handle({"POST", "/v2/nothing", "{}", true})).head.rfind("HTTP/1.1 404", 0) == 0);
  CHECK(written(svc.handle({"GET", "/v1/messages", "", true})).head.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(written(svc.handle({"POST", "/v1/messages", "nope", true})).head.rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("time to first token and tokens per second become delays before the token writes") {
  service_options opts;
  opts.ttft_ms = 250;
  opts.tokens_per_s = 20;
  fake_service svc(opts);
  auto plan = svc.handle(chat_request(provider_kind::openai));
  std::vector<uint32_t> delays;
  for (const auto& s : plan.steps)
    delays.push_back(s.delay_ms);
  CHECK(delays[0] == 0);   // headers
  CHECK(delays[1] == 0);   // role chunk
  CHECK(delays[2] == 250); // first token
  CHECK(delays[3] == 50);  // second token
  auto overridden = with_fault(provider_kind::openai, R"({"fault":"timing","ttft_ms":5,"tokens_per_s":0})", opts);
  CHECK(overridden.steps[2].delay_ms == 5);
  CHECK(overridden.steps[3].delay_ms == 0);
}

TEST_CASE("a status fault answers with the provider's error body and retry headers") {
  auto plan = with_fault(provider_kind::openai,
                         R"({"fault":"status","status":429,"retry_after_s":2,"retry_after_ms":1500})");
  auto bytes = written(plan);
  CHECK(bytes.head.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0) == 0);
  CHECK(bytes.head.find("retry-after: 2\r\n") != std::string::npos);
  CHECK(bytes.head.find("retry-after-ms: 1500\r\n") != std::string::npos);
  CHECK(nlohmann::json::parse(bytes.body)["error"]["code"] == "rate_limit_exceeded");
  bytes = written(with_fault(provider_kind::anthropic, R"({"fault":"status","status":529})"));
  CHECK(bytes.head.rfind("HTTP/1.1 529 Overloaded\r\n", 0) == 0);
  CHECK(nlohmann::json::parse(bytes.body)["error"]["type"] == "overloaded_error");
}

TEST_CASE("error_event sends tokens, then the provider's mid-stream error") {
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto plan = with_fault(p, R"({"fault":"error_event","after_tokens":2})");
      auto d = decode(p, written(plan).body);
      CHECK(d.text == "Answer to:");
      REQUIRE(d.error);
      CHECK(d.error->http_status == 200);
    }
  }
}

TEST_CASE("cut_line ends the body in the middle of the finish event, which decodes as truncated") {
  for (auto p : {provider_kind::openai, provider_kind::anthropic, provider_kind::gemini}) {
    DYNAMIC_SECTION("provider " << to_string(p)) {
      auto plan = with_fault(p, R"({"fault":"cut_line"})");
      CHECK(plan.keep_alive); // the HTTP body itself ends cleanly
      auto body = written(plan).body;
      CHECK(body.back() != '\n');
      auto d = decode(p, body);
      REQUIRE(d.error);
      CHECK(d.error->kind == sa::providers::error_kind::truncated);
    }
  }
}

TEST_CASE("bad_json puts invalid JSON in a data line after N tokens") {
  auto plan = with_fault(provider_kind::openai, R"({"fault":"bad_json","after_tokens":1})");
  auto d = decode(provider_kind::openai, written(plan).body);
  CHECK(d.text == "Answer");
  REQUIRE(d.error);
  CHECK(d.error->kind == sa::providers::error_kind::malformed);
}

TEST_CASE("reset and stall_mid_stream stop after N tokens and do not keep the connection") {
  auto plan = with_fault(provider_kind::anthropic, R"({"fault":"reset","after_tokens":3})");
  CHECK_FALSE(plan.keep_alive);
  CHECK(plan.steps.back().what == plan_step::action::reset);
  auto d = decode(provider_kind::anthropic, written(plan).body, 0, false);
  CHECK(d.text == "Answer to: Why");
  CHECK_FALSE(d.end);

  plan = with_fault(provider_kind::gemini, R"({"fault":"stall_mid_stream","after_tokens":2,"stall_ms":700})");
  CHECK(plan.steps.back().what == plan_step::action::close);
  CHECK(plan.steps.back().delay_ms == 700);
  CHECK(decode(provider_kind::gemini, written(plan).body, 0, false).text == "Answer to:");

  plan = with_fault(provider_kind::openai, R"({"fault":"stall_before_headers","stall_ms":900})");
  REQUIRE(plan.steps.size() == 1);
  CHECK(plan.steps[0].what == plan_step::action::close);
  CHECK(plan.steps[0].delay_ms == 900);
  CHECK(count_writes(with_fault(provider_kind::openai, R"({"fault":"reset"})")) == 0);
}

TEST_CASE("drip writes the same bytes one at a time") {
  auto normal = written(with_fault(provider_kind::gemini, "[]"));
  auto plan = with_fault(provider_kind::gemini, R"({"fault":"drip","drip_ms":3})");
  for (const auto& s : plan.steps)
    REQUIRE(s.bytes.size() == 1);
  CHECK(plan.steps[1].delay_ms == 3);
  CHECK(written(plan).body == normal.body);
}

TEST_CASE("the admin API replaces, appends, lists and clears faults, and reports stats") {
  fake_service svc({});
  auto put = svc.handle({"PUT", "/admin/faults", R"({"provider":"openai","fault":"status","status":503,"count":1})", true});
  CHECK(written(put).head.rfind("HTTP/1.1 200", 0) == 0);
  auto post = svc.handle({"POST", "/admin/faults", R"([{"fault":"drip"}])", true});
  auto list = nlohmann::json::parse(written(post).body);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["status"] == 503);
  CHECK(written(svc.handle(chat_request(provider_kind::openai))).head.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(svc.handle(chat_request(provider_kind::openai)).fault == fault_kind::drip);
  CHECK(written(svc.handle({"PUT", "/admin/faults", R"({"fault":"nope"})", true})).head.rfind("HTTP/1.1 400", 0) == 0);
  auto stats = nlohmann::json::parse(written(svc.handle({"GET", "/admin/stats", "", true})).body);
  CHECK(stats["requests"]["openai"] == 2);
  CHECK(stats["faults"]["status"] == 1);
  CHECK(stats["faults"]["drip"] == 1);
  svc.handle({"DELETE", "/admin/faults", "", true});
  CHECK(nlohmann::json::parse(written(svc.handle({"GET", "/admin/faults", "", true})).body).empty());
  CHECK(svc.handle(chat_request(provider_kind::openai)).fault == fault_kind::none);
}

TEST_CASE("non-streamed requests and embeddings get plain JSON answers") {
  fake_service svc({});
  auto bytes = written(svc.handle(chat_request(provider_kind::anthropic, false)));
  CHECK(bytes.head.find("Content-Type: application/json") != std::string::npos);
  CHECK(nlohmann::json::parse(bytes.body)["type"] == "message");
  auto gem = chat_request(provider_kind::gemini, false);
  CHECK(gem.target.find(":generateContent") != std::string::npos);
  CHECK(nlohmann::json::parse(written(svc.handle(gem)).body)["candidates"][0]["finishReason"] == "STOP");
  auto emb = written(svc.handle({"POST", "/v1/embeddings", R"({"input":"hello"})", true}));
  CHECK(nlohmann::json::parse(emb.body)["data"][0]["embedding"].size() == 16);
}

TEST_CASE("a non-streamed request under cut_line gets half a JSON body") {
  fake_service svc({});
  svc.faults().replace(*parse_faults(R"({"fault":"cut_line"})"));
  auto bytes = written(svc.handle(chat_request(provider_kind::openai, false)));
  CHECK(bytes.head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(nlohmann::json::parse(bytes.body, nullptr, false).is_discarded());
}

TEST_CASE("Gemini embedContent and batchEmbedContents answer with the same vectors as OpenAI embeddings") {
  service_options opts;
  opts.embedding_dim = 64;
  fake_service svc(opts);
  auto openai = nlohmann::json::parse(
    written(svc.handle({"POST", "/v1/embeddings", R"({"model":"m","input":["billing invoice","custom domain"]})", true}))
      .body);
  auto one = written(svc.handle({"POST", "/v1beta/models/gemini-embedding-001:embedContent",
                                 R"({"content":{"parts":[{"text":"billing invoice"}]},"taskType":"RETRIEVAL_QUERY"})",
                                 true}));
  CHECK(one.head.rfind("HTTP/1.1 200", 0) == 0);
  auto j1 = nlohmann::json::parse(one.body);
  CHECK(j1["embedding"]["values"] == openai["data"][0]["embedding"]);
  auto batch = nlohmann::json::parse(
    written(svc.handle({"POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents",
                        R"({"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"billing invoice"}]}},)"
                        R"({"model":"models/gemini-embedding-001","content":{"parts":[{"text":"custom domain"}]}}]})",
                        true}))
      .body);
  REQUIRE(batch["embeddings"].size() == 2);
  CHECK(batch["embeddings"][1]["values"] == openai["data"][1]["embedding"]);
  auto bad = written(svc.handle({"POST", "/v1beta/models/g:batchEmbedContents", R"({"requests":3})", true}));
  CHECK(bad.head.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(svc.faults().requests("embeddings") == 4);
}

TEST_CASE("embedding faults apply to rules for provider embeddings only, never to '*' rules") {
  fake_service svc({});
  svc.faults().replace(*parse_faults(R"([{"provider":"*","fault":"status","status":500}])"));
  CHECK(written(svc.handle({"POST", "/v1/embeddings", R"({"input":"x"})", true})).head.rfind("HTTP/1.1 200", 0) == 0);
  svc.faults().replace(*parse_faults(R"([{"provider":"embeddings","fault":"status","status":503,"count":1}])"));
  auto failed = written(svc.handle({"POST", "/v1/embeddings", R"({"input":"x"})", true}));
  CHECK(failed.head.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(nlohmann::json::parse(failed.body).contains("error"));
  CHECK(written(svc.handle({"POST", "/v1/embeddings", R"({"input":"x"})", true})).head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(svc.faults().faults(fault_kind::status) == 1);
  svc.faults().replace(*parse_faults(R"([{"provider":"embeddings","fault":"stall_before_headers","stall_ms":1234}])"));
  auto stalled = svc.handle({"POST", "/v1beta/models/g:embedContent", R"({"content":{"parts":[{"text":"x"}]}})", true});
  REQUIRE(stalled.steps.size() == 1);
  CHECK(stalled.steps[0].what == plan_step::action::close);
  CHECK(stalled.steps[0].delay_ms == 1234);
  CHECK_FALSE(stalled.keep_alive);
  svc.faults().replace(*parse_faults(R"([{"provider":"embeddings","fault":"timing","ttft_ms":250}])"));
  auto slow = svc.handle({"POST", "/v1/embeddings", R"({"input":"x"})", true});
  REQUIRE(slow.steps.size() == 1);
  CHECK(slow.steps[0].delay_ms == 250);
}
