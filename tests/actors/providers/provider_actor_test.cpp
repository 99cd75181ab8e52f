// provider_actor over real loopback sockets: the fake provider runs in-process (fake_provider_fixture), the
// product's http_client talks to it, and a scoped_actor is both the caller and the call's sink.
//
// Ordering: a provider sends a call's deltas and then its answer, both to the scoped actor, so once the
// answer is in every delta is already in its mailbox (CAF keeps the order of one sender's messages).
// Waiting: 10 s deadlines for everything that should happen; short timeouts only where the test is about
// a timeout, against faults that stall for 60 s. No fixed sleeps: polls with a deadline.
#include "actors/providers/fake/fake_answer.hpp"
#include "actors/providers/provider_actor.hpp"
#include "messages/completion.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/metrics.hpp"
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/prometheus_text.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace sa;
using namespace sa::providers;
using namespace std::chrono_literals;
using fake::fault_kind;
using fake::fault_spec;
using sa::test::fake_provider_fixture;
using sa::test::make_fault;
using sa::test::status_fault;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto wait_limit = 10s;           // anything that should happen, happens well within this
constexpr auto request_timeout = 20s;      // the scoped actor's own limit: hitting it means a hang
const std::string question = "Why was I charged twice?";
const std::string api_key = "test-key-123";

/// A CAF system with the product's types, one shared http client and the fake provider.
struct env {
  explicit env(sa::test::fake_provider_options opts = {}) : fake(opts) {
    sa::register_message_types(cfg);
    register_provider_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    http = std::make_shared<http_client>();
  }
  ~env() {
    http->stop();
    sys.reset(); // waits for every actor: a provider that cannot terminate hangs the test here
  }

  fake_provider_fixture fake;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<http_client> http;
};

const char* kind_name(wire_kind k) {
  switch (k) {
    case wire_kind::openai: return "openai";
    case wire_kind::anthropic: return "anthropic";
    case wire_kind::gemini: return "gemini";
    case wire_kind::openai_compatible: return "openai_compatible";
  }
  return "?";
}

/// The fake's route (and counter) for a kind.
std::string route_of(wire_kind k) {
  switch (k) {
    case wire_kind::anthropic: return "anthropic";
    case wire_kind::gemini: return "gemini";
    default: return "openai";
  }
}

fake::provider_kind fake_kind(wire_kind k) {
  switch (k) {
    case wire_kind::anthropic: return fake::provider_kind::anthropic;
    case wire_kind::gemini: return fake::provider_kind::gemini;
    default: return fake::provider_kind::openai;
  }
}

/// Settings pointing at the fake: quick backoff, a breaker that stays out of the way, a known price.
endpoint_settings settings_for(wire_kind kind, const fake_provider_fixture& fake) {
  endpoint_settings s;
  s.name = std::string("test-") + kind_name(kind);
  s.kind = kind;
  s.base_url = fake.base_url();
  s.model = kind == wire_kind::anthropic ? "claude-test" : kind == wire_kind::gemini ? "gemini-test" : "gpt-test";
  s.api_key = api_key;
  s.max_tokens = 512;
  s.connect_timeout = 2s;
  s.first_byte_timeout = 10s;
  s.idle_timeout = 10s;
  s.max_retries = 2;
  s.backoff.initial = 10ms;
  s.backoff.max = 40ms;
  s.breaker.failure_threshold = 1000;
  s.price = {1.5, 6.0};
  s.seed = 7;
  return s;
}

completion_call make_call(std::chrono::milliseconds budget = wait_limit, const std::string& text = question) {
  completion_call c;
  c.id = next_completion_id();
  c.request.system = "You are a support agent.";
  c.request.messages.push_back({chat_role::user, text});
  c.deadline = deadline_in(budget);
  return c;
}

struct outcome {
  std::optional<completion> value;
  caf::error error;
  std::vector<completion_delta> deltas;
  std::size_t resets = 0;
  std::chrono::milliseconds elapsed{0};

  std::optional<provider_errc> code() const { return provider_code(error); }
  std::string streamed() const {
    std::string s;
    for (const auto& d : deltas)
      s += d.text;
    return s;
  }
};

/// Takes whatever deltas are already in `self`'s mailbox.
void drain(caf::scoped_actor& self, outcome& out) {
  bool more = true;
  while (more)
    self->receive([&](completion_delta& d) { out.deltas.push_back(std::move(d)); },
                  [&](completion_reset&) { ++out.resets; },
                  caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
}

completion_sink_actor sink_of(caf::scoped_actor& self) {
  return caf::actor_cast<completion_sink_actor>(self.ptr());
}

/// One call, answered or failed; the scoped actor is the sink unless `with_sink` is false.
outcome run(caf::actor_system& sys, const provider_actor& p, completion_call call, bool with_sink = true) {
  caf::scoped_actor self{sys};
  if (with_sink)
    call.sink = sink_of(self);
  outcome out;
  auto started = steady::now();
  self->request(p, request_timeout, std::move(call))
    .receive([&](completion& c) { out.value = std::move(c); }, [&](caf::error& e) { out.error = std::move(e); });
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  drain(self, out);
  return out;
}

provider_health health_of(caf::actor_system& sys, const provider_actor& p) {
  caf::scoped_actor self{sys};
  provider_health h;
  bool ok = false;
  self->request(p, request_timeout, provider_health_request{})
    .receive([&](provider_health& x) { h = std::move(x); ok = true; }, [&](caf::error&) {});
  REQUIRE(ok);
  return h;
}

/// Polls `f` every few milliseconds until it holds or `limit` passes; returns its last value.
template <class F>
bool eventually(F f, std::chrono::milliseconds limit = wait_limit) {
  auto end = steady::now() + limit;
  while (steady::now() < end) {
    if (f())
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

/// What the fake answered to its last chat request (its answers are deterministic).
fake::answer fake_answer_of(const fake::received_request& last, wire_kind kind, const std::string& model) {
  auto parsed = fake::parse_answer_request(fake_kind(kind), last.request.body, model, true);
  REQUIRE(parsed.ok());
  return fake::make_answer(*parsed);
}

std::string describe(const outcome& o, caf::actor_system& sys) {
  if (o.value)
    return "answered: " + o.value->text;
  return "failed: " + sys.render(o.error);
}

/// Deltas numbered 0, 1, 2, ... for `call`, none of them thinking.
void check_ordered(const outcome& o, uint64_t call) {
  for (std::size_t i = 0; i < o.deltas.size(); ++i) {
    CHECK(o.deltas[i].call == call);
    CHECK(o.deltas[i].seq == i);
    CHECK_FALSE(o.deltas[i].thinking);
  }
}

} // namespace

// --- normal answers -----------------------------------------------------------------------------------

TEST_CASE("each wire kind streams ordered deltas that make up the answer, with usage, cost, model and key") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini, wire_kind::openai_compatible}) {
    INFO("kind " << kind_name(kind));
    auto s = settings_for(kind, e.fake);
    auto p = spawn_provider(*e.sys, s, e.http);
    auto before = e.fake.requests(route_of(kind));
    auto call = make_call();
    auto id = call.id;
    auto out = run(*e.sys, p, call);
    INFO(describe(out, *e.sys));
    REQUIRE(out.value);
    auto& c = *out.value;
    // the stream: ordered, and together the answer
    REQUIRE(out.deltas.size() > 1);
    check_ordered(out, id);
    CHECK(out.streamed() == c.text);
    CHECK(out.resets == 0);
    // the answer is exactly the fake's
    auto last = e.fake.last_request();
    auto a = fake_answer_of(last, kind, s.model);
    CHECK(c.text == a.joined_text());
    CHECK(c.text.rfind("Answer to: " + question, 0) == 0);
    CHECK(out.deltas.size() == a.text.size());
    // usage, cost, identity
    CHECK(c.tokens.reported);
    CHECK(c.tokens.prompt_tokens > 0);
    CHECK(c.tokens.prompt_tokens == a.prompt_tokens);
    CHECK(c.tokens.completion_tokens == a.output_tokens());
    CHECK(c.tokens.completion_tokens > 0);
    CHECK(c.cost_usd == Approx((c.tokens.prompt_tokens * 1.5 + c.tokens.completion_tokens * 6.0) / 1e6));
    CHECK(c.spent_prompt_tokens == c.tokens.prompt_tokens);
    CHECK(c.spent_completion_tokens == c.tokens.completion_tokens);
    CHECK(c.model == s.model);
    CHECK(c.provider == s.name);
    CHECK_FALSE(c.finish_reason.empty());
    CHECK(c.attempts == 1);
    // the request: one, to the right route, with the model and the key in the provider's header
    CHECK(e.fake.requests(route_of(kind)) == before + 1);
    auto body = nlohmann::json::parse(last.request.body);
    switch (kind) {
      case wire_kind::openai:
      case wire_kind::openai_compatible:
        CHECK(last.request.target == "/v1/chat/completions");
        CHECK(body["model"] == s.model);
        CHECK(body["stream"] == true);
        REQUIRE(find_header(last.headers, "authorization"));
        CHECK(*find_header(last.headers, "authorization") == "Bearer " + api_key);
        break;
      case wire_kind::anthropic:
        CHECK(last.request.target == "/v1/messages");
        CHECK(body["model"] == s.model);
        CHECK(body["max_tokens"] == 512);
        REQUIRE(find_header(last.headers, "x-api-key"));
        CHECK(*find_header(last.headers, "x-api-key") == api_key);
        CHECK(find_header(last.headers, "anthropic-version"));
        break;
      case wire_kind::gemini:
        CHECK(last.request.target == "/v1beta/models/gemini-test:streamGenerateContent?alt=sse");
        REQUIRE(find_header(last.headers, "x-goog-api-key"));
        CHECK(*find_header(last.headers, "x-goog-api-key") == api_key);
        break;
    }
    // health
    auto h = health_of(*e.sys, p);
    CHECK(h.name == s.name);
    CHECK(h.breaker == "closed");
    CHECK(h.calls == 1);
    CHECK(h.requests == 1);
    CHECK(h.successes == 1);
    CHECK(h.failures == 0);
    CHECK(h.retries == 0);
    CHECK(h.in_flight == 0);
    CHECK(h.prompt_tokens == c.tokens.prompt_tokens);
    CHECK(h.completion_tokens == c.tokens.completion_tokens);
    CHECK(h.cost_usd == Approx(c.cost_usd));
  }
}

TEST_CASE("a call without a sink gets the same answer, and the request's own model wins over the default") {
  env e;
  auto s = settings_for(wire_kind::openai, e.fake);
  auto p = spawn_provider(*e.sys, s, e.http);
  auto call = make_call();
  call.request.model = "gpt-other";
  auto out = run(*e.sys, p, call, false);
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(out.deltas.empty());
  CHECK(out.value->model == "gpt-other");
  CHECK(nlohmann::json::parse(e.fake.last_request().request.body)["model"] == "gpt-other");
  CHECK(out.value->text.rfind("Answer to: " + question, 0) == 0);
}

TEST_CASE("a call asking for no stream (as the LLM classifier does) is answered") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    INFO("kind " << kind_name(kind));
    auto s = settings_for(kind, e.fake);
    auto p = spawn_provider(*e.sys, s, e.http);
    auto call = make_call();
    call.request.stream = false;
    auto out = run(*e.sys, p, call, false);
    INFO(describe(out, *e.sys));
    REQUIRE(out.value);
    CHECK(out.value->text.rfind("Answer to: " + question, 0) == 0);
    CHECK(out.value->tokens.completion_tokens > 0);
    CHECK(e.fake.requests(route_of(kind)) == 1);
  }
}

TEST_CASE("Anthropic thinking: the endpoint's budget is used, thinking never reaches the text, tokens count it") {
  env e;
  auto s = settings_for(wire_kind::anthropic, e.fake);
  s.thinking_budget = 2048;
  s.temperature = 0.3;
  auto p = spawn_provider(*e.sys, s, e.http);
  auto call = make_call();
  call.request.thinking_budget = 1; // "think": the endpoint decides how much
  auto out = run(*e.sys, p, call);
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  auto& c = *out.value;
  auto last = e.fake.last_request();
  auto body = nlohmann::json::parse(last.request.body);
  CHECK(body["thinking"]["type"] == "enabled");
  CHECK(body["thinking"]["budget_tokens"] == 2048);
  CHECK(body["max_tokens"] == 512 + 2048);
  CHECK_FALSE(body.contains("temperature")); // thinking allows only the default
  auto a = fake_answer_of(last, wire_kind::anthropic, s.model);
  REQUIRE_FALSE(a.thinking.empty());
  CHECK(c.text == a.joined_text());
  CHECK(c.text.find(a.joined_thinking()) == std::string::npos);
  CHECK(c.text.find("The customer asked:") == std::string::npos);
  check_ordered(out, call.id);
  CHECK(out.streamed() == c.text);
  CHECK(out.streamed().find("The customer asked:") == std::string::npos);
  CHECK(out.deltas.size() == a.text.size());
  CHECK(c.tokens.completion_tokens == a.thinking.size() + a.text.size());
  CHECK(c.tokens.completion_tokens > out.deltas.size());
  CHECK(c.cost_usd == Approx((c.tokens.prompt_tokens * 1.5 + c.tokens.completion_tokens * 6.0) / 1e6));

  SECTION("an endpoint without a budget does not think even when asked") {
    auto plain = settings_for(wire_kind::anthropic, e.fake);
    auto q = spawn_provider(*e.sys, plain, e.http);
    auto again = make_call();
    again.request.thinking_budget = 1;
    auto o2 = run(*e.sys, q, again);
    REQUIRE(o2.value);
    auto b2 = nlohmann::json::parse(e.fake.last_request().request.body);
    CHECK_FALSE(b2.contains("thinking"));
    CHECK(b2["max_tokens"] == 512);
  }
}

TEST_CASE("JSON mode on OpenAI and Gemini returns the fake's JSON classification") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::gemini}) {
    INFO("kind " << kind_name(kind));
    auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
    auto call = make_call();
    call.request.json_mode = true;
    auto out = run(*e.sys, p, call);
    INFO(describe(out, *e.sys));
    REQUIRE(out.value);
    CHECK(out.value->text == fake::json_answer(question));
    CHECK(out.streamed() == out.value->text);
    auto j = nlohmann::json::parse(out.value->text);
    CHECK(j["intent"] == "billing");
  }
}

// --- faults -------------------------------------------------------------------------------------------

TEST_CASE("429 with retry-after: retried after the server's delay, then answered") {
  env e;
  auto f = status_fault(429, 1);
  f.retry_after_s = 0.4;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::openai, e.fake); // backoff 10 ms: the wait is the server's
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call());
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(out.elapsed >= 400ms);
  CHECK(out.value->attempts == 2);
  CHECK(out.streamed() == out.value->text);
  CHECK(e.fake.requests("openai") == 2);
  CHECK(e.fake.faults(fault_kind::status) == 1);
  auto h = health_of(*e.sys, p);
  CHECK(h.retries == 1);
  CHECK(h.requests == 2);
  CHECK(h.successes == 1);
  CHECK(h.failures == 0);
}

TEST_CASE("a retry-after longer than the backoff allows is not waited for") {
  env e;
  auto f = status_fault(429, 1);
  f.retry_after_s = 60;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.backoff.max_retry_after = 1s;
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::rate_limited);
  CHECK(out.elapsed < 5s);
  CHECK(e.fake.requests("openai") == 1);
}

TEST_CASE("500 once: retried and answered") {
  env e;
  e.fake.set_faults({status_fault(500, 1)});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::gemini, e.fake), e.http);
  auto out = run(*e.sys, p, make_call());
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(out.value->attempts == 2);
  CHECK(e.fake.requests("gemini") == 2);
  auto h = health_of(*e.sys, p);
  CHECK(h.retries == 1);
  CHECK(h.successes == 1);
}

TEST_CASE("503 and Anthropic 529 that persist: overloaded after max_retries + 1 requests") {
  env e;
  SECTION("OpenAI 503") {
    e.fake.set_faults({status_fault(503, 1000)});
    auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
    auto out = run(*e.sys, p, make_call());
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::overloaded);
    CHECK(e.fake.requests("openai") == 3);
    auto h = health_of(*e.sys, p);
    CHECK(h.retries == 2);
    CHECK(h.requests == 3);
    CHECK(h.failures == 1);
  }
  SECTION("Anthropic 529") {
    e.fake.set_faults({status_fault(529, 1000, "anthropic")});
    auto s = settings_for(wire_kind::anthropic, e.fake);
    s.max_retries = 3;
    auto p = spawn_provider(*e.sys, s, e.http);
    auto out = run(*e.sys, p, make_call());
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::overloaded);
    CHECK(e.fake.requests("anthropic") == 4);
    CHECK(e.fake.faults(fault_kind::status) == 4);
    CHECK(health_of(*e.sys, p).retries == 3);
  }
}

TEST_CASE("401 is auth and is not retried") {
  env e;
  e.fake.set_faults({status_fault(401)});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::anthropic, e.fake), e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::auth);
  CHECK(e.fake.requests("anthropic") == 1);
  auto h = health_of(*e.sys, p);
  CHECK(h.retries == 0);
  CHECK(h.failures == 1);
}

TEST_CASE("OpenAI 429 insufficient_quota is quota and is not retried") {
  env e;
  auto f = status_fault(429, -1, "openai");
  f.code = "insufficient_quota";
  e.fake.set_faults({f});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::quota);
  CHECK(e.fake.requests("openai") == 1);
  CHECK(health_of(*e.sys, p).retries == 0);
}

TEST_CASE("a stall before headers runs into first_byte_timeout: timeout, retried like the SDKs do") {
  env e;
  auto f = make_fault(fault_kind::stall_before_headers);
  f.stall_ms = 60000;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.first_byte_timeout = 200ms;
  s.max_retries = 1;
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::timeout);
  CHECK(out.elapsed >= 400ms);
  CHECK(out.elapsed < 10s);
  CHECK(e.fake.requests("openai") == 2);
  CHECK(eventually([&] { return e.http->in_flight() == 0; }));
}

TEST_CASE("a stall mid-stream after 3 tokens: 3 deltas, then timeout, not retried") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    INFO("kind " << kind_name(kind));
    e.fake.reset_stats();
    auto f = make_fault(fault_kind::stall_mid_stream);
    f.after_tokens = 3;
    f.stall_ms = 60000;
    e.fake.set_faults({f});
    auto s = settings_for(kind, e.fake);
    s.idle_timeout = 200ms;
    auto p = spawn_provider(*e.sys, s, e.http);
    auto call = make_call();
    auto out = run(*e.sys, p, call);
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::timeout);
    CHECK(out.elapsed < 10s);
    REQUIRE(out.deltas.size() == 3);
    check_ordered(out, call.id);
    CHECK(out.streamed() == "Answer to: Why");
    CHECK(e.fake.requests(route_of(kind)) == 1);
    CHECK(health_of(*e.sys, p).retries == 0);
  }
}

TEST_CASE("a reset before any byte is a connection error and is retried") {
  env e;
  SECTION("once: answered on the retry") {
    e.fake.set_faults({make_fault(fault_kind::reset, 1)});
    auto p = spawn_provider(*e.sys, settings_for(wire_kind::anthropic, e.fake), e.http);
    auto out = run(*e.sys, p, make_call());
    INFO(describe(out, *e.sys));
    REQUIRE(out.value);
    CHECK(e.fake.requests("anthropic") == 2);
    CHECK(e.fake.faults(fault_kind::reset) == 1);
    CHECK(health_of(*e.sys, p).retries == 1);
  }
  SECTION("always: connection after max_retries + 1 requests") {
    e.fake.set_faults({make_fault(fault_kind::reset)});
    auto s = settings_for(wire_kind::anthropic, e.fake);
    s.max_retries = 1;
    auto p = spawn_provider(*e.sys, s, e.http);
    auto out = run(*e.sys, p, make_call());
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::connection);
    CHECK(e.fake.requests("anthropic") == 2);
  }
}

TEST_CASE("a reset after tokens is a connection error and is not retried") {
  env e;
  auto f = make_fault(fault_kind::reset);
  f.after_tokens = 2;
  e.fake.set_faults({f});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::connection);
  CHECK(out.deltas.size() == 2);
  CHECK(e.fake.requests("openai") == 1);
}

TEST_CASE("invalid JSON in the stream is malformed") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    INFO("kind " << kind_name(kind));
    e.fake.reset_stats();
    e.fake.set_faults({make_fault(fault_kind::bad_json)});
    auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
    auto out = run(*e.sys, p, make_call());
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::malformed);
    CHECK(out.deltas.empty());
    CHECK(e.fake.requests(route_of(kind)) == 1);
    CHECK(eventually([&] { return e.http->in_flight() == 0; }));
  }
}

TEST_CASE("a stream cut in the middle of its last line is truncated") {
  env e;
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    INFO("kind " << kind_name(kind));
    e.fake.reset_stats();
    e.fake.set_faults({make_fault(fault_kind::cut_line)});
    auto p = spawn_provider(*e.sys, settings_for(kind, e.fake), e.http);
    auto call = make_call();
    auto out = run(*e.sys, p, call);
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::truncated);
    CHECK_FALSE(out.deltas.empty());
    check_ordered(out, call.id);
    CHECK(out.streamed().rfind("Answer to: " + question, 0) == 0);
    CHECK(e.fake.requests(route_of(kind)) == 1); // deltas went out: not retried here
  }
}

TEST_CASE("an error event after tokens fails with the provider's kind, not retried") {
  env e;
  struct expectation {
    wire_kind kind;
    provider_errc code;
  };
  for (auto x : {expectation{wire_kind::openai, provider_errc::server},
                 expectation{wire_kind::anthropic, provider_errc::overloaded},
                 expectation{wire_kind::gemini, provider_errc::overloaded}}) {
    INFO("kind " << kind_name(x.kind));
    e.fake.reset_stats();
    auto f = make_fault(fault_kind::error_event);
    f.after_tokens = 2;
    e.fake.set_faults({f});
    auto p = spawn_provider(*e.sys, settings_for(x.kind, e.fake), e.http);
    auto call = make_call();
    auto out = run(*e.sys, p, call);
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == x.code);
    CHECK(out.deltas.size() == 2);
    check_ordered(out, call.id);
    CHECK(e.fake.requests(route_of(x.kind)) == 1);
    CHECK(eventually([&] { return e.http->in_flight() == 0; }));
  }
}

TEST_CASE("an error event before any token is retried (nothing was streamed yet)") {
  env e;
  e.fake.set_faults({make_fault(fault_kind::error_event, 1, "anthropic")});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::anthropic, e.fake), e.http);
  auto out = run(*e.sys, p, make_call());
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(e.fake.requests("anthropic") == 2);
  CHECK(out.streamed() == out.value->text);
  CHECK(health_of(*e.sys, p).retries == 1);
}

TEST_CASE("a dripped stream (one byte per write) is answered in full") {
  env e;
  auto f = make_fault(fault_kind::drip);
  f.drip_ms = 1;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::openai, e.fake);
  auto p = spawn_provider(*e.sys, s, e.http);
  auto call = make_call();
  auto out = run(*e.sys, p, call);
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(e.fake.faults(fault_kind::drip) == 1);
  auto a = fake_answer_of(e.fake.last_request(), wire_kind::openai, s.model);
  CHECK(out.value->text == a.joined_text());
  CHECK(out.streamed() == out.value->text);
  check_ordered(out, call.id);
  CHECK(out.value->tokens.completion_tokens == a.output_tokens());
}

// --- breaker, budget ------------------------------------------------------------------------------------

TEST_CASE("circuit breaker: opens after the threshold, rejects without a request, recovers half-open") {
  env e;
  e.fake.set_faults({status_fault(500)});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.max_retries = 0;
  s.breaker.failure_threshold = 3;
  s.breaker.window = 30s;
  s.breaker.open_for = 200ms;
  s.breaker.half_open_probes = 1;
  auto p = spawn_provider(*e.sys, s, e.http);
  for (int i = 0; i < 3; ++i) {
    auto out = run(*e.sys, p, make_call());
    REQUIRE_FALSE(out.value);
    CHECK(out.code() == provider_errc::server);
  }
  CHECK(e.fake.requests("openai") == 3);
  auto rejected = run(*e.sys, p, make_call());
  REQUIRE_FALSE(rejected.value);
  CHECK(rejected.code() == provider_errc::circuit_open);
  CHECK(rejected.elapsed < 1s);
  CHECK(e.fake.requests("openai") == 3); // no request reached the fake
  auto h = health_of(*e.sys, p);
  CHECK(h.breaker_opened == 1);
  CHECK(h.rejected_open == 1);
  CHECK(h.failures == 4);
  CHECK(h.requests == 3);

  e.fake.clear_faults();
  CHECK(eventually([&] { return health_of(*e.sys, p).breaker == "half_open"; }));
  auto probe = run(*e.sys, p, make_call());
  INFO(describe(probe, *e.sys));
  REQUIRE(probe.value);
  CHECK(e.fake.requests("openai") == 4);
  h = health_of(*e.sys, p);
  CHECK(h.breaker == "closed");
  CHECK(h.successes == 1);
  auto after = run(*e.sys, p, make_call());
  CHECK(after.value);
}

TEST_CASE("circuit breaker: a half-open probe that fails opens it again") {
  env e;
  e.fake.set_faults({status_fault(500)});
  auto s = settings_for(wire_kind::anthropic, e.fake);
  s.max_retries = 0;
  s.breaker.failure_threshold = 1;
  s.breaker.open_for = 200ms;
  auto p = spawn_provider(*e.sys, s, e.http);
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::server);
  CHECK(health_of(*e.sys, p).breaker == "open");
  CHECK(eventually([&] { return health_of(*e.sys, p).breaker == "half_open"; }));
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::server); // the probe
  auto h = health_of(*e.sys, p);
  CHECK(h.breaker == "open");
  CHECK(h.breaker_opened == 2);
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::circuit_open);
  CHECK(e.fake.requests("anthropic") == 2);
}

TEST_CASE("circuit breaker: a cancelled half-open probe gives its slot back") {
  env e;
  e.fake.set_faults({status_fault(500, 1)});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.max_retries = 0;
  s.breaker.failure_threshold = 1;
  s.breaker.open_for = 200ms;
  s.breaker.half_open_probes = 1;
  auto p = spawn_provider(*e.sys, s, e.http);
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::server);
  REQUIRE(eventually([&] { return health_of(*e.sys, p).breaker == "half_open"; }));
  auto stall = make_fault(fault_kind::stall_before_headers, 1);
  stall.stall_ms = 60000;
  e.fake.set_faults({stall});
  caf::scoped_actor self{*e.sys};
  auto probe = make_call();
  auto pending = self->request(p, request_timeout, probe);
  REQUIRE(eventually([&] { return e.fake.requests("openai") == 2; }));
  // the only probe slot is taken
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::circuit_open);
  self->send(p, completion_cancel{probe.id});
  caf::error err;
  pending.receive([](completion&) {}, [&](caf::error& x) { err = x; });
  CHECK(provider_code(err) == provider_errc::cancelled);
  // the slot is free again: the next call is the probe, and it closes the breaker
  auto out = run(*e.sys, p, make_call());
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(health_of(*e.sys, p).breaker == "closed");
}

TEST_CASE("retry budget: with no budget a retryable failure is answered retry_budget") {
  env e;
  e.fake.set_faults({status_fault(500)});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.budget.min_concurrent = 0;
  s.budget.ratio = 0;
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::retry_budget);
  CHECK(e.fake.requests("openai") == 1);
  auto h = health_of(*e.sys, p);
  CHECK(h.budget_denied == 1);
  CHECK(h.retries == 0);
  auto again = run(*e.sys, p, make_call());
  CHECK(again.code() == provider_errc::retry_budget);
  CHECK(health_of(*e.sys, p).budget_denied == 2);
}

// --- cancel, deadline, lifetime -------------------------------------------------------------------------

TEST_CASE("cancel: a call stalled before headers is answered cancelled at once and its request freed") {
  env e;
  auto f = make_fault(fault_kind::stall_before_headers);
  f.stall_ms = 60000;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::gemini, e.fake);
  s.first_byte_timeout = 30s;
  auto p = spawn_provider(*e.sys, s, e.http);
  caf::scoped_actor self{*e.sys};
  auto call = make_call(30s);
  call.sink = sink_of(self);
  auto pending = self->request(p, request_timeout, call);
  REQUIRE(eventually([&] { return e.fake.requests("gemini") == 1 && e.http->in_flight() == 1; }));
  auto cancelled_at = steady::now();
  self->send(p, completion_cancel{call.id});
  caf::error err;
  bool answered = false;
  pending.receive([&](completion&) { answered = true; }, [&](caf::error& x) { err = x; });
  CHECK_FALSE(answered);
  CHECK(provider_code(err) == provider_errc::cancelled);
  CHECK(steady::now() - cancelled_at < 5s);
  CHECK(eventually([&] { return e.http->in_flight() == 0; }));
  auto h = health_of(*e.sys, p);
  CHECK(h.in_flight == 0);
  CHECK(h.failures == 1);
  CHECK(e.fake.requests("gemini") == 1);
  // cancelling an unknown or finished call is harmless
  self->send(p, completion_cancel{call.id});
  self->send(p, completion_cancel{987654321});
  CHECK(health_of(*e.sys, p).calls == 1);
}

TEST_CASE("cancel while a retry is waiting: answered cancelled, the retry never goes out, its slot is freed") {
  env e;
  auto f = status_fault(429, 1);
  f.retry_after_s = 2; // long enough to cancel during the wait (the scheduled retry delays teardown this long)
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::openai, e.fake);
  s.budget.min_concurrent = 1; // one retry at a time
  s.budget.ratio = 0;
  auto p = spawn_provider(*e.sys, s, e.http);
  caf::scoped_actor self{*e.sys};
  auto call = make_call(30s);
  auto pending = self->request(p, request_timeout, call);
  REQUIRE(eventually([&] { return health_of(*e.sys, p).retries == 1; }));
  self->send(p, completion_cancel{call.id});
  caf::error err;
  pending.receive([](completion&) {}, [&](caf::error& x) { err = x; });
  CHECK(provider_code(err) == provider_errc::cancelled);
  CHECK(e.fake.requests("openai") == 1);
  // the waiting retry's budget slot was given back: the next call may retry
  e.fake.set_faults({status_fault(500, 1)});
  auto out = run(*e.sys, p, make_call());
  INFO(describe(out, *e.sys));
  REQUIRE(out.value);
  CHECK(e.fake.requests("openai") == 3);
  auto h = health_of(*e.sys, p);
  CHECK(h.retries == 2);
  CHECK(h.budget_denied == 0);
}

TEST_CASE("deadline: a call whose deadline has passed is refused without a request") {
  env e;
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
  auto call = make_call();
  call.deadline = deadline_in(-1000ms);
  auto out = run(*e.sys, p, call);
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::deadline);
  CHECK(e.fake.total_requests() == 0);
  auto h = health_of(*e.sys, p);
  CHECK(h.requests == 0);
  CHECK(h.calls == 1);
  CHECK(h.failures == 1);
}

TEST_CASE("deadline: a stall longer than the call's deadline ends at the deadline") {
  env e;
  auto f = make_fault(fault_kind::stall_before_headers);
  f.stall_ms = 60000;
  e.fake.set_faults({f});
  auto s = settings_for(wire_kind::anthropic, e.fake); // first_byte_timeout 10 s: the deadline is shorter
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call(300ms));
  REQUIRE_FALSE(out.value);
  auto code = out.code();
  CHECK((code == provider_errc::timeout || code == provider_errc::deadline));
  CHECK(out.elapsed >= 250ms);
  CHECK(out.elapsed < 5s);
  CHECK(eventually([&] { return e.http->in_flight() == 0; }));
  CHECK(health_of(*e.sys, p).in_flight == 0);
}

TEST_CASE("the provider killed while a call streams: the caller gets an error and the request is freed") {
  env e;
  auto f = make_fault(fault_kind::stall_mid_stream);
  f.after_tokens = 3;
  f.stall_ms = 60000;
  e.fake.set_faults({f});
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
  caf::scoped_actor self{*e.sys};
  auto call = make_call(30s);
  call.sink = sink_of(self);
  auto started = steady::now();
  auto pending = self->request(p, request_timeout, call);
  std::size_t deltas = 0;
  bool timed_out = false;
  while (deltas < 3 && !timed_out)
    self->receive([&](completion_delta&) { ++deltas; }, caf::after(wait_limit) >> [&] { timed_out = true; });
  REQUIRE(deltas == 3);
  REQUIRE(e.http->in_flight() == 1);
  self->send_exit(p, caf::exit_reason::user_shutdown);
  caf::error err;
  bool answered = false;
  pending.receive([&](completion&) { answered = true; }, [&](caf::error& x) { err = x; });
  CHECK_FALSE(answered);
  CHECK(err);
  CHECK(err != caf::sec::request_timeout); // an answer, not the caller giving up
  CHECK(steady::now() - started < wait_limit);
  CHECK(eventually([&] { return e.http->in_flight() == 0; }));
}

TEST_CASE("dropping the last handle of an idle provider ends it (nothing keeps it alive)") {
  env e;
  caf::scoped_actor self{*e.sys};
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), e.http);
  REQUIRE(run(*e.sys, p, make_call()).value);
  self->monitor(p);
  p = nullptr;
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(wait_limit) >> [] {});
  CHECK(down);
}

TEST_CASE("an http client stopped under a call: the call is answered, not left hanging") {
  env e;
  auto f = make_fault(fault_kind::stall_before_headers);
  f.stall_ms = 60000;
  e.fake.set_faults({f});
  auto own_http = std::make_shared<http_client>();
  auto p = spawn_provider(*e.sys, settings_for(wire_kind::openai, e.fake), own_http);
  caf::scoped_actor self{*e.sys};
  auto pending = self->request(p, request_timeout, make_call(30s));
  REQUIRE(eventually([&] { return own_http->in_flight() == 1; }));
  auto stopped_at = steady::now();
  own_http->stop();
  caf::error err;
  bool answered = false;
  pending.receive([&](completion&) { answered = true; }, [&](caf::error& x) { err = x; });
  CHECK_FALSE(answered);
  CHECK(err);
  CHECK(err != caf::sec::request_timeout);
  CHECK(steady::now() - stopped_at < 5s);
  CHECK(health_of(*e.sys, p).in_flight == 0);
}

TEST_CASE("two calls in flight on one provider stream to their own sinks") {
  env e;
  auto s = settings_for(wire_kind::anthropic, e.fake);
  auto p = spawn_provider(*e.sys, s, e.http);
  caf::scoped_actor a{*e.sys}, b{*e.sys};
  auto ca = make_call(wait_limit, "How do I reset my password?");
  auto cb = make_call(wait_limit, "Where is my invoice?");
  ca.sink = sink_of(a);
  cb.sink = sink_of(b);
  auto pa = a->request(p, request_timeout, ca);
  auto pb = b->request(p, request_timeout, cb);
  outcome oa, ob;
  pa.receive([&](completion& c) { oa.value = c; }, [&](caf::error& x) { oa.error = x; });
  pb.receive([&](completion& c) { ob.value = c; }, [&](caf::error& x) { ob.error = x; });
  drain(a, oa);
  drain(b, ob);
  REQUIRE(oa.value);
  REQUIRE(ob.value);
  CHECK(oa.streamed() == oa.value->text);
  CHECK(ob.streamed() == ob.value->text);
  check_ordered(oa, ca.id);
  check_ordered(ob, cb.id);
  CHECK(oa.value->text.find("password") != std::string::npos);
  CHECK(ob.value->text.find("invoice") != std::string::npos);
  CHECK(health_of(*e.sys, p).successes == 2);
}

TEST_CASE("a TLS handshake failure is a connection error, retried, and never hangs the call") {
  env e;
  auto s = settings_for(wire_kind::openai, e.fake);
  s.base_url = "https://127.0.0.1:" + std::to_string(e.fake.port()); // the fake speaks plain HTTP
  s.max_retries = 1;
  auto p = spawn_provider(*e.sys, s, e.http);
  auto out = run(*e.sys, p, make_call());
  REQUIRE_FALSE(out.value);
  CHECK(out.code() == provider_errc::connection);
  CHECK(health_of(*e.sys, p).retries == 1);
}

// --- metrics ----------------------------------------------------------------------------------------------

TEST_CASE("metrics: calls by outcome, retries and breaker state per provider, tokens and cost by tenant and model",
          "[metrics]") {
  env e;
  auto m = std::make_shared<sa::metrics>();
  auto s = settings_for(wire_kind::openai, e.fake);
  s.max_retries = 1;
  s.breaker.failure_threshold = 2;
  auto p = spawn_provider(*e.sys, s, e.http, m);
  auto scrape = [&] {
    sa::test::prom_exposition x;
    std::string error;
    auto text = m->render();
    INFO(text);
    REQUIRE(sa::test::parse_prometheus_text(text, x, error));
    return x;
  };
  const std::map<std::string, std::string> of_provider{{"provider", s.name}};

  // A 500, retried, then an answer: one call, ok, one retry; its tokens and cost under its tenant and model.
  e.fake.set_faults({status_fault(500, 1)});
  auto call = make_call();
  call.tenant = tenant_id{"acme"};
  auto ok = run(*e.sys, p, call);
  INFO(describe(ok, *e.sys));
  REQUIRE(ok.value);
  auto x = scrape();
  CHECK(x.sum("sa_provider_requests_total", {{"provider", s.name}, {"outcome", "ok"}}) == 1);
  CHECK(x.sum("sa_provider_retries_total", of_provider) == 1);
  CHECK(x.sum("sa_provider_breaker_state", of_provider) == 0);
  const std::map<std::string, std::string> billed{{"tenant", "acme"}, {"model", s.model}};
  auto with_kind = [&](const char* kind) {
    auto labels = billed;
    labels["kind"] = kind;
    return x.sum("sa_tokens_total", labels);
  };
  auto& t = ok.value->tokens;
  CHECK(with_kind("input") == t.prompt_tokens);
  CHECK(with_kind("output") + with_kind("thinking") == t.completion_tokens);
  CHECK(x.sum("sa_cost_usd_total", billed) == Approx(ok.value->cost_usd));

  // Two failed attempts open the breaker (threshold 2); the next call is refused without a request.
  e.fake.set_faults({status_fault(500)});
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::server);
  CHECK(run(*e.sys, p, make_call()).code() == provider_errc::circuit_open);
  x = scrape();
  CHECK(x.sum("sa_provider_requests_total", {{"provider", s.name}, {"outcome", "server"}}) == 1);
  CHECK(x.sum("sa_provider_requests_total", {{"provider", s.name}, {"outcome", "circuit_open"}}) == 1);
  CHECK(x.sum("sa_provider_breaker_state", of_provider) == 2);
  // A call without a tenant is billed to "none"; the first one's figures stay acme's.
  CHECK(x.sum("sa_tokens_total", {{"tenant", "none"}}) == 0);
}
