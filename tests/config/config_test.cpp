// The configuration loader: defaults, the shipped file, every rejection, overrides and their precedence.
#include "tests/support/temp_file.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace cfg = sa::config;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

const std::string shipped_file = std::string(SA_SOURCE_DIR) + "/config/default.jsonc";

/// Files written by the tests (removed at scope exit).
class temp_file : public sa::test::temp_file {
public:
  explicit temp_file(const std::string& text) : sa::test::temp_file(text, ".jsonc") {}
};

sa::result<cfg::config> load_text(const std::string& text, std::vector<std::string> overrides = {},
                                  std::vector<std::string> env = {}) {
  temp_file f{text};
  return cfg::load({f.path(), std::move(overrides), std::move(env)});
}

/// The error of a load that must fail.
std::string error_of(const sa::result<cfg::config>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) + 1;
}

} // namespace

TEST_CASE("Loading without a file or overrides gives the struct defaults and the default routes") {
  auto r = cfg::load({});
  REQUIRE(r.ok());
  const auto& c = *r;
  CHECK(c.node.name == "node-1");
  CHECK(c.node.log_level == "info");
  CHECK(c.session.turn_timeout_ms == 15000);
  CHECK(c.memory.backend == "inprocess");
  CHECK(c.classifier.min_confidence == Approx(0.45));
  CHECK(c.retriever.knowledge_paths == std::vector<std::string>{"data/kb"});
  CHECK(c.retriever.tenant_knowledge_paths.empty());
  CHECK(c.escalation.sensitive_topics.size() == 7);
  REQUIRE(c.retriever.routes.size() == 5);
  CHECK(c.retriever.routes.at("billing").source_weights.at("faq") == Approx(1.3));
  CHECK(c.retriever.routes.at("billing").account_context);
  CHECK(c.retriever.routes.at("technical").source_weights.at("doc") == Approx(1.2));
  CHECK_FALSE(c.retriever.routes.at("technical").account_context);
  CHECK(c.retriever.routes.at("account").account_context);
  CHECK(c.retriever.routes.at("general").source_weights.at("ticket") == Approx(0.5));
  CHECK(c.retriever.routes.at("escalation_request").source_weights.at("ticket") == 0.0);
  CHECK(cfg::to_json_text(c) == cfg::to_json_text(cfg::defaults()));
}

TEST_CASE("Loading the shipped default.jsonc gives exactly the defaults") {
  auto r = cfg::load({shipped_file, {}, {}});
  REQUIRE(r.ok());
  CHECK(cfg::to_json_text(*r) == cfg::to_json_text(cfg::defaults()));
}

TEST_CASE("The shipped default.jsonc spells out every key of the schema") {
  std::ifstream in(shipped_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = nlohmann::json::parse(text, nullptr, true, true);
  // The file as parsed equals the dump of the defaults: same keys, same values, nothing left out.
  CHECK(doc == nlohmann::json::parse(cfg::to_json_text(cfg::defaults())));
  for (const auto& k : cfg::schema::keys()) {
    INFO(k.path);
    CHECK_FALSE(k.doc.empty());
    const auto& last = k.segments.back();
    bool spelled = cfg::schema::is_map_segment(last) || text.find('"' + last + '"') != std::string::npos;
    CHECK(spelled);
  }
}

TEST_CASE("Comments are allowed anywhere in the config file") {
  auto r = load_text(R"(// leading comment
    { /* block */ "session": { "turn_timeout_ms": 2000 // trailing
    } })");
  REQUIRE(r.ok());
  CHECK(r->session.turn_timeout_ms == 2000);
  CHECK(r->session.idle_timeout_s == 900);
}

TEST_CASE("An unknown section is rejected with the list of known sections") {
  auto e = error_of(load_text(R"({"memmory": {"max_turns": 3}})"));
  CHECK_THAT(e, Contains("config error: memmory: unknown section (known: node, limits, session, memory, audit, "
                         "handoff, quality, classifier, retriever, generator, escalation, safety, tenants, account, "
                         "actions, gateway, cluster, providers)"));
}

TEST_CASE("An unknown key inside a section is rejected naming its path") {
  auto e = error_of(load_text(R"({"session": {"turn_timeout": 3}})"));
  CHECK_THAT(e, Contains("config error: session.turn_timeout: unknown key (known: idle_timeout_s, turn_timeout_ms"));
}

TEST_CASE("Unknown keys inside a route, unknown intents and unknown source kinds are rejected") {
  auto e = error_of(load_text(R"({"retriever": {"routes": {
      "billing": {"account_contxt": true, "source_weights": {"video": 1.0}},
      "shipping": {"account_context": true}}}})"));
  CHECK_THAT(e, Contains("config error: retriever.routes.billing.account_contxt: unknown key (known: "
                         "source_weights, account_context)"));
  CHECK_THAT(e, Contains("config error: retriever.routes.billing.source_weights.video: unknown source "
                         "(known: doc, faq, ticket)"));
  CHECK_THAT(e, Contains("config error: retriever.routes.shipping: unknown intent (known: billing, technical, "
                         "account, general, escalation_request)"));
  CHECK(count_lines(e) == 3);
}

TEST_CASE("A value of the wrong type is rejected naming key, value and expected type") {
  auto e = error_of(load_text(R"({
    "escalation": {"confidence_threshold": "high", "sensitive_topics": "legal"},
    "retriever": {"routes": {"billing": {"account_context": 1}}, "top_k": 2.5},
    "node": {"name": 5}, "limits": {"max_message_bytes": null},
    "session": 7})"));
  CHECK_THAT(e, Contains("config error: escalation.confidence_threshold = \"high\": expected a number in [0, 1]"));
  CHECK_THAT(e, Contains("config error: escalation.sensitive_topics = \"legal\": expected a list of non-empty strings"));
  CHECK_THAT(e, Contains("config error: retriever.routes.billing.account_context = 1: expected true or false"));
  CHECK_THAT(e, Contains("config error: retriever.top_k = 2.5: expected an integer in [1, 100]"));
  CHECK_THAT(e, Contains("config error: node.name = 5: expected a non-empty string"));
  CHECK_THAT(e, Contains("config error: limits.max_message_bytes = null: expected an integer in [64, 1048576]"));
  CHECK_THAT(e, Contains("config error: session = 7: expected an object"));
}

TEST_CASE("An out-of-range number is rejected with the allowed range") {
  auto e = error_of(load_text(R"({"session": {"turn_timeout_ms": -5}, "classifier": {"min_confidence": 1.5}})"));
  CHECK_THAT(e, Contains("config error: session.turn_timeout_ms = -5: expected an integer in [100, 600000]"));
  CHECK_THAT(e, Contains("config error: classifier.min_confidence = 1.5: expected a number in [0, 1]"));
  auto low = error_of(load_text(R"({"memory": {"max_turns": 0}})"));
  CHECK_THAT(low, StartsWith("config error: memory.max_turns = 0: expected an integer in [1, 1000] (from "));
  CHECK_THAT(low, EndsWith(".jsonc)"));  // names the file the value came from
  auto big = error_of(load_text(R"({"memory": {"max_sessions": 18446744073709551615}})"));
  CHECK_THAT(big, Contains("memory.max_sessions = 18446744073709551615: expected an integer in [1, 100000000]"));
}

TEST_CASE("A value outside an allowed set is rejected with the allowed values") {
  auto e = error_of(load_text(R"({"node": {"log_level": "loud"}, "memory": {"backend": "memcached"},
    "classifier": {"backend": "fasttext"}, "generator": {"backend": "openai"}})"));
  CHECK_THAT(e, Contains("config error: node.log_level = \"loud\": expected one of trace, debug, info, warn, error, off"));
  CHECK_THAT(e, Contains("config error: memory.backend = \"memcached\": expected one of inprocess, redis"));
  CHECK_THAT(e, Contains("config error: classifier.backend = \"fasttext\": expected one of local, llm"));
  CHECK_THAT(e, Contains("config error: generator.backend = \"openai\": expected one of local, llm"));
}

TEST_CASE("A negative source weight is rejected") {
  auto e = error_of(load_text(R"({"retriever": {"routes": {"technical": {"source_weights": {"faq": -0.5}}}}})"));
  CHECK_THAT(e, Contains("config error: retriever.routes.technical.source_weights.faq = -0.5: expected a number in [0, 100]"));
}

TEST_CASE("A config file that does not exist is rejected naming the path") {
  auto r = cfg::load({"/nonexistent/support-agent.jsonc", {}, {}});
  CHECK(error_of(r) == "config error: /nonexistent/support-agent.jsonc: no such file");
  auto dir = cfg::load({std::filesystem::temp_directory_path().string(), {}, {}});
  CHECK_THAT(error_of(dir), Contains("not a regular file"));
}

TEST_CASE("A JSON syntax error names the file, line and column") {
  temp_file f{"{\n  \"node\": {\n    \"name\": \"x\",\n  }\n}\n"};
  auto e = error_of(cfg::load({f.path(), {}, {}}));
  CHECK_THAT(e, Contains("config error: " + f.path() + ": invalid JSON at line 4, column 3"));
}

// Found by the fuzz target tests/fuzz/config_fuzz.cpp (the exception escaped load()).
TEST_CASE("A number too large for a double is a config error naming the file, not a crash") {
  temp_file f{"{\"session\": {\"turn_timeout_ms\": 1e999}}"};
  auto e = error_of(cfg::load({f.path(), {}, {}}));
  CHECK_THAT(e, Contains("config error: " + f.path() + ": invalid JSON: number overflow parsing '1e999'"));
}

TEST_CASE("A file whose top level is not an object is rejected") {
  auto e = error_of(load_text("[1, 2]"));
  CHECK_THAT(e, Contains("expected a JSON object of sections at the top level, got [1,2]"));
}

TEST_CASE("Every error in the file and the overrides is reported at once, one per line") {
  auto r = load_text(R"({"memmory": {}, "session": {"turn_timeout_ms": -5, "idle_timeout_s": "x"},
                         "node": {"log_level": "loud"}})",
                     {"session.bogus=1"}, {"SUPPORT_AGENT_LIMITS__MAX_MESSAGE_BYTES=1"});
  auto e = error_of(r);
  CHECK(count_lines(e) == 6);
  CHECK_THAT(e, Contains("memmory: unknown section"));
  CHECK_THAT(e, Contains("session.turn_timeout_ms = -5"));
  CHECK_THAT(e, Contains("session.idle_timeout_s = \"x\""));
  CHECK_THAT(e, Contains("node.log_level = \"loud\""));
  CHECK_THAT(e, Contains("session.bogus: unknown key"));
  CHECK_THAT(e, Contains("limits.max_message_bytes = 1: expected an integer in [64, 1048576] "
                         "(from SUPPORT_AGENT_LIMITS__MAX_MESSAGE_BYTES)"));
}

TEST_CASE("The environment overrides the file and --set overrides the environment") {
  const std::string file = R"({"session": {"turn_timeout_ms": 1000, "idle_timeout_s": 60, "child_timeout_ms": 500}})";
  auto r = load_text(file, {"session.turn_timeout_ms=3000"},
                     {"SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS=2000", "SUPPORT_AGENT_SESSION__IDLE_TIMEOUT_S=120"});
  REQUIRE(r.ok());
  CHECK(r->session.turn_timeout_ms == 3000);   // --set beats env beats file
  CHECK(r->session.idle_timeout_s == 120);     // env beats file
  CHECK(r->session.child_timeout_ms == 500);   // file beats defaults
  CHECK(r->session.restart_budget == 3);       // default

  SECTION("the last of several --set items for one key wins") {
    auto again = cfg::load({"", {"node.log_level=debug", "node.log_level=warn"}, {}});
    REQUIRE(again.ok());
    CHECK(again->node.log_level == "warn");
  }
}

TEST_CASE("Override values are JSON when they parse and plain text otherwise") {
  auto r = cfg::load({"",
                      {"node.log_level=debug", "node.name=42", "retriever.knowledge_paths=[\"kb\", \"more\"]",
                       "escalation.confidence_threshold=0.25", "node.log_file=\"/var/log/sa.log\"",
                       "session={\"restart_budget\": 5}"},
                      {"SUPPORT_AGENT_NODE__DATA_DIR=/srv/data", "SUPPORT_AGENT_NODE__STATE_DIR=true"}});
  REQUIRE(r.ok());
  CHECK(r->node.log_level == "debug");
  CHECK(r->node.name == "42");          // a string key takes the text of a number
  CHECK(r->node.state_dir == "true");
  CHECK(r->node.data_dir == "/srv/data");
  CHECK(r->node.log_file == "/var/log/sa.log");
  CHECK(r->retriever.knowledge_paths == std::vector<std::string>{"kb", "more"});
  CHECK(r->escalation.confidence_threshold == Approx(0.25));
  CHECK(r->session.restart_budget == 5);
  CHECK(r->session.turn_timeout_ms == 15000);  // objects merge
}

TEST_CASE("Overrides are validated exactly like the file") {
  auto e = error_of(cfg::load({"", {"session.turn_timeout_ms=50", "retriever.knowledge_paths=kb"},
                               {"SUPPORT_AGENT_MEMORY__BACKEND=memcached"}}));
  CHECK_THAT(e, Contains("config error: session.turn_timeout_ms = 50: expected an integer in [100, 600000] (from --set)"));
  CHECK_THAT(e, Contains("config error: retriever.knowledge_paths = \"kb\": expected a list of non-empty strings"));
  CHECK_THAT(e, Contains("config error: memory.backend = \"memcached\": expected one of inprocess, redis "
                         "(from SUPPORT_AGENT_MEMORY__BACKEND)"));
}

TEST_CASE("Map entries can be overridden from the environment and the command line") {
  auto r = cfg::load({"",
                      {"retriever.routes.technical.source_weights.ticket=2.5",
                       "retriever.tenant_knowledge_paths.acme=[\"data/acme\"]",
                       "retriever.routes.general={\"account_context\": true}"},
                      {"SUPPORT_AGENT_RETRIEVER__ROUTES__BILLING__ACCOUNT_CONTEXT=false",
                       "SUPPORT_AGENT_RETRIEVER__TENANT_KNOWLEDGE_PATHS__GLOBEX=[\"a\",\"b\"]"}});
  REQUIRE(r.ok());
  const auto& routes = r->retriever.routes;
  CHECK_FALSE(routes.at("billing").account_context);
  CHECK(routes.at("billing").source_weights.at("faq") == Approx(1.3));  // rest of the route kept
  CHECK(routes.at("technical").source_weights.at("ticket") == Approx(2.5));
  CHECK(routes.at("technical").source_weights.at("doc") == Approx(1.2));
  CHECK(routes.at("general").account_context);
  CHECK(routes.at("general").source_weights.at("ticket") == Approx(0.5));
  CHECK(r->retriever.tenant_knowledge_paths.at("acme") == std::vector<std::string>{"data/acme"});
  CHECK(r->retriever.tenant_knowledge_paths.at("globex") == std::vector<std::string>{"a", "b"});  // lower-cased
}

TEST_CASE("Intents missing from the routes map get their default route, partial routes keep the rest") {
  auto r = load_text(R"({"retriever": {"routes": {"billing": {"source_weights": {"doc": 2.0}}},
                                       "tenant_knowledge_paths": {"acme": ["kb/acme"]}}})");
  REQUIRE(r.ok());
  const auto& routes = r->retriever.routes;
  REQUIRE(routes.size() == 5);
  CHECK(routes.at("billing").source_weights.at("doc") == Approx(2.0));
  CHECK(routes.at("billing").source_weights.at("faq") == Approx(1.3));
  CHECK(routes.at("billing").account_context);
  auto defaults = cfg::defaults().retriever.routes;
  for (const auto* intent : {"technical", "account", "general", "escalation_request"}) {
    INFO(intent);
    CHECK(routes.at(intent).source_weights == defaults.at(intent).source_weights);
    CHECK(routes.at(intent).account_context == defaults.at(intent).account_context);
  }
  CHECK(r->retriever.tenant_knowledge_paths.at("acme") == std::vector<std::string>{"kb/acme"});
}

TEST_CASE("An override of an unknown key names the --set item or the environment variable") {
  auto e = error_of(cfg::load({"", {"session.turn_timeout=5", "retriever.routes.shipping.account_context=true"},
                               {"SUPPORT_AGENT_SESSION__TIMEOUT=5", "SUPPORT_AGENT_DEBUG=1"}}));
  CHECK_THAT(e, Contains("config error: session.turn_timeout: unknown key (known: idle_timeout_s, "));
  CHECK_THAT(e, Contains("(from --set)"));
  CHECK_THAT(e, Contains("config error: retriever.routes.shipping: unknown intent"));
  CHECK_THAT(e, Contains("config error: session.timeout: unknown key (known: idle_timeout_s, turn_timeout_ms, "
                         "child_timeout_ms, restart_budget, restart_window_s) (from SUPPORT_AGENT_SESSION__TIMEOUT)"));
  CHECK_THAT(e, Contains("config error: debug: unknown section (known: node, "));
  CHECK_THAT(e, Contains("(from SUPPORT_AGENT_DEBUG)"));
  CHECK(count_lines(e) == 4);
}

// Found by the fuzz target tests/fuzz/config_fuzz.cpp (it read past the end of the key's path).
TEST_CASE("An override whose path goes on past a value is rejected naming the value") {
  auto e = error_of(cfg::load({"", {"session.turn_timeout_ms.x=1", "session.turn_timeout_ms.=1"},
                               {"SUPPORT_AGENT_MEMORY__BACKEND__KIND=redis"}}));
  CHECK_THAT(e, Contains("config error: session.turn_timeout_ms.x: session.turn_timeout_ms is a single value, "
                         "it has no keys below it (from --set)"));
  CHECK_THAT(e, Contains("config error: session.turn_timeout_ms.: session.turn_timeout_ms is a single value"));
  CHECK_THAT(e, Contains("config error: memory.backend.kind: memory.backend is a single value, it has no keys "
                         "below it (from SUPPORT_AGENT_MEMORY__BACKEND__KIND)"));
  CHECK(count_lines(e) == 3);
}

TEST_CASE("A --set item without '=' or without a key is rejected") {
  auto e = error_of(cfg::load({"", {"session.turn_timeout_ms", "=5"}, {}}));
  CHECK_THAT(e, Contains("config error: --set \"session.turn_timeout_ms\": expected section.key=value"));
  CHECK_THAT(e, Contains("config error: --set \"=5\": expected section.key=value"));
}

TEST_CASE("Environment variables without the SUPPORT_AGENT_ prefix are ignored") {
  auto r = cfg::load({"", {},
                      {"PATH=/usr/bin", "HOME=/root", "SUPPORT_AGENT=1", "support_agent_node__name=x",
                       "OPENAI_API_KEY=sk-secret", "NOT_AN_ASSIGNMENT"}});
  REQUIRE(r.ok());
  CHECK(cfg::to_json_text(*r) == cfg::to_json_text(cfg::defaults()));
}

TEST_CASE("The effective config round-trips through to_json_text and load") {
  auto changed = cfg::load({"", {"node.name=edge", "retriever.tenant_knowledge_paths.acme=[\"kb/acme\"]",
                                 "retriever.routes.billing.source_weights.ticket=0"}, {}});
  REQUIRE(changed.ok());
  auto text = cfg::to_json_text(*changed);
  auto back = load_text(text);
  REQUIRE(back.ok());
  CHECK(cfg::to_json_text(*back) == text);
  CHECK(back->node.name == "edge");
}

TEST_CASE("describe lists every key with its type, range, default and doc") {
  auto text = cfg::describe();
  for (const auto& k : cfg::schema::keys()) {
    INFO(k.path);
    CHECK_THAT(text, Contains("\n" + k.path + "\n"));
    CHECK_THAT(text, Contains(k.doc));
  }
  CHECK_THAT(text, Contains("session.turn_timeout_ms\n    type: integer, [100, 600000]\n    default: 15000\n"));
  CHECK_THAT(text, Contains("node.log_level\n    type: string, one of: trace, debug, info, warn, error, off\n"
                            "    default: \"info\"\n"));
  CHECK_THAT(text, Contains("billing.faq=1.3"));
  CHECK_THAT(text, Contains("retriever.tenant_knowledge_paths.<tenant>\n    type: list of strings, items non-empty\n"
                            "    default: (none)\n"));
}

TEST_CASE("Every schema key accepts its own default and rejects a value of another type") {
  for (const auto& k : cfg::schema::keys()) {
    INFO(k.path);
    k.read(cfg::defaults(), [&](const cfg::schema::map_keys&, const nlohmann::json& v) {
      CHECK(cfg::schema::accepts(k.rule, v));
    });
    CHECK_FALSE(cfg::schema::accepts(k.rule, nlohmann::json::object()));
  }
}

// --- providers -----------------------------------------------------------------------------------------

namespace {

/// A complete providers section: three endpoints, a hedge, a fallback chain ending in local, billing
/// answers by self-consistency through a by_intent strategy, and a by_task root.
const std::string full_providers = R"({
  "generator": {"backend": "llm", "thinking_min_words": 25},
  "classifier": {"backend": "llm"},
  "providers": {
    "root": "by-task",
    "max_host_connections": 64,
    "endpoints": {
      "openai": {"kind": "openai", "base_url": "https://api.openai.com", "model": "gpt-4o-mini",
                 "api_key_env": "OPENAI_API_KEY", "max_tokens": 512, "temperature": 0.2,
                 "use_max_completion_tokens": true, "connect_timeout_ms": 1500, "first_byte_timeout_ms": 8000,
                 "idle_timeout_ms": 9000, "max_retries": 3, "backoff_initial_ms": 100, "backoff_max_ms": 2000,
                 "max_retry_after_ms": 10000, "retry_budget_ratio": 0.5, "retry_budget_min": 4,
                 "breaker_failure_threshold": 7, "breaker_window_s": 20, "breaker_open_ms": 3000,
                 "breaker_half_open_probes": 2},
      "claude": {"kind": "anthropic", "base_url": "https://api.anthropic.com", "model": "claude-3-5-haiku-latest",
                 "api_key_env": "ANTHROPIC_API_KEY", "thinking_budget": 2048},
      "gemini": {"kind": "gemini", "base_url": "https://generativelanguage.googleapis.com",
                 "model": "gemini-2.0-flash", "api_key_env": "GEMINI_API_KEY"},
      "vllm": {"kind": "openai_compatible", "base_url": "http://127.0.0.1:8000", "model": "qwen"}
    },
    "strategies": {
      "fast": {"kind": "hedge", "members": ["openai", "claude"], "hedge_delay_ms": 300},
      "chain": {"kind": "fallback", "members": ["fast", "gemini", "vllm", "local"]},
      "careful": {"kind": "self_consistency", "members": ["claude"], "samples": 5},
      "answers": {"kind": "by_intent", "routes": {"billing": "careful", "default": "chain"}},
      "by-task": {"kind": "by_task", "routes": {"classify": "gemini", "generate": "answers", "judge": "claude",
                                                "default": "chain"}}
    },
    "prices": {
      "gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
      "claude-3-5-haiku-latest": {"input_per_mtok": 0.80, "output_per_mtok": 4.00},
      "gemini-2.0-flash": {"input_per_mtok": 0.10, "output_per_mtok": 0.40}
    }
  }
})";

/// Loads `providers` (the text of the providers section's object) with both backends set to llm.
sa::result<cfg::config> load_providers(const std::string& providers, std::vector<std::string> overrides = {}) {
  return load_text(R"({"generator": {"backend": "llm"}, "classifier": {"backend": "llm"}, "providers": )" +
                       providers + "}",
                   std::move(overrides));
}

/// An endpoint object with the required fields.
std::string endpoint(const std::string& model = "m") {
  return R"({"base_url": "https://api.example.com", "model": ")" + model + R"("})";
}

} // namespace

TEST_CASE("A full providers section loads with its values and the defaults of the fields not given") {
  auto r = load_text(full_providers);
  REQUIRE(r.ok());
  const auto& p = r->providers;
  CHECK(r->generator.backend == "llm");
  CHECK(r->classifier.backend == "llm");
  CHECK(r->generator.thinking_min_words == 25);
  CHECK(p.root == "by-task");
  CHECK(p.max_host_connections == 64);
  REQUIRE(p.endpoints.size() == 4);

  const auto& o = p.endpoints.at("openai");
  CHECK(o.kind == "openai");
  CHECK(o.base_url == "https://api.openai.com");
  CHECK(o.model == "gpt-4o-mini");
  CHECK(o.api_key_env == "OPENAI_API_KEY");
  CHECK(o.max_tokens == 512);
  CHECK(o.temperature == Approx(0.2));
  CHECK(o.thinking_budget == 0);
  CHECK(o.use_max_completion_tokens);
  CHECK(o.connect_timeout_ms == 1500);
  CHECK(o.first_byte_timeout_ms == 8000);
  CHECK(o.idle_timeout_ms == 9000);
  CHECK(o.max_retries == 3);
  CHECK(o.backoff_initial_ms == 100);
  CHECK(o.backoff_max_ms == 2000);
  CHECK(o.max_retry_after_ms == 10000);
  CHECK(o.retry_budget_ratio == Approx(0.5));
  CHECK(o.retry_budget_min == 4);
  CHECK(o.breaker_failure_threshold == 7);
  CHECK(o.breaker_window_s == 20);
  CHECK(o.breaker_open_ms == 3000);
  CHECK(o.breaker_half_open_probes == 2);

  // Only base_url and model (and kind): everything else keeps the struct defaults.
  const cfg::endpoint_config d;
  const auto& v = p.endpoints.at("vllm");
  CHECK(v.kind == "openai_compatible");
  CHECK(v.base_url == "http://127.0.0.1:8000");
  CHECK(v.model == "qwen");
  CHECK(v.api_key_env.empty());
  CHECK(v.max_tokens == d.max_tokens);
  CHECK(v.temperature == d.temperature);
  CHECK(v.thinking_budget == 0);
  CHECK(v.use_max_completion_tokens == d.use_max_completion_tokens);
  CHECK(v.connect_timeout_ms == d.connect_timeout_ms);
  CHECK(v.first_byte_timeout_ms == d.first_byte_timeout_ms);
  CHECK(v.idle_timeout_ms == d.idle_timeout_ms);
  CHECK(v.max_retries == d.max_retries);
  CHECK(v.backoff_initial_ms == d.backoff_initial_ms);
  CHECK(v.backoff_max_ms == d.backoff_max_ms);
  CHECK(v.max_retry_after_ms == d.max_retry_after_ms);
  CHECK(v.retry_budget_ratio == d.retry_budget_ratio);
  CHECK(v.retry_budget_min == d.retry_budget_min);
  CHECK(v.breaker_failure_threshold == d.breaker_failure_threshold);
  CHECK(v.breaker_window_s == d.breaker_window_s);
  CHECK(v.breaker_open_ms == d.breaker_open_ms);
  CHECK(v.breaker_half_open_probes == d.breaker_half_open_probes);
  CHECK(p.endpoints.at("claude").thinking_budget == 2048);
  CHECK(p.endpoints.at("claude").max_tokens == 1024);

  REQUIRE(p.strategies.size() == 5);
  CHECK(p.strategies.at("fast").kind == "hedge");
  CHECK(p.strategies.at("fast").members == std::vector<std::string>{"openai", "claude"});
  CHECK(p.strategies.at("fast").hedge_delay_ms == 300);
  CHECK(p.strategies.at("chain").kind == "fallback");
  CHECK(p.strategies.at("chain").members == std::vector<std::string>{"fast", "gemini", "vllm", "local"});
  CHECK(p.strategies.at("chain").hedge_delay_ms == 400);  // default
  CHECK(p.strategies.at("careful").kind == "self_consistency");
  CHECK(p.strategies.at("careful").samples == 5);
  CHECK(p.strategies.at("answers").routes == std::map<std::string, std::string>{{"billing", "careful"},
                                                                               {"default", "chain"}});
  CHECK(p.strategies.at("answers").members.empty());
  CHECK(p.strategies.at("by-task").routes.at("classify") == "gemini");
  CHECK(p.strategies.at("by-task").routes.size() == 4);

  REQUIRE(p.prices.size() == 3);
  CHECK(p.prices.at("gpt-4o-mini").input_per_mtok == Approx(0.15));
  CHECK(p.prices.at("gpt-4o-mini").output_per_mtok == Approx(0.60));
  CHECK(p.prices.at("claude-3-5-haiku-latest").output_per_mtok == Approx(4.0));
  CHECK(p.prices.at("gemini-2.0-flash").input_per_mtok == Approx(0.10));

  CHECK(cfg::validate(*r).empty());
  // The priced endpoints draw no price warning; vllm's model has no price.
  auto w = cfg::warnings(*r);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "providers.endpoints.vllm.model 'qwen' has no price in providers.prices; its cost counts as 0");

  SECTION("it round-trips through to_json_text") {
    auto text = cfg::to_json_text(*r);
    auto back = load_text(text);
    REQUIRE(back.ok());
    CHECK(cfg::to_json_text(*back) == text);
  }
}

TEST_CASE("The commented-out providers example in default.jsonc is a valid configuration") {
  std::ifstream in(shipped_file);
  std::string line, example;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "  // \"providers\": {")
      inside = true;
    if (!inside)
      continue;
    REQUIRE(line.rfind("  //", 0) == 0);
    example += line.substr(line.size() >= 5 ? 5 : 4) + "\n";
    if (line == "  // }")
      break;
  }
  REQUIRE_FALSE(example.empty());
  auto r = load_text("{\"generator\": {\"backend\": \"llm\"}, \"classifier\": {\"backend\": \"llm\"},\n" + example + "}");
  INFO(example);
  REQUIRE(r.ok());
  const auto& p = r->providers;
  CHECK(p.root == "by-task");
  CHECK(p.endpoints.size() == 3);
  CHECK(p.endpoints.at("claude").kind == "anthropic");
  CHECK(p.endpoints.at("gemini").api_key_env == "GEMINI_API_KEY");
  CHECK(p.strategies.at("chain").members.back() == "local");
  CHECK(p.strategies.at("answers").routes.at("billing") == "careful");
  CHECK(p.strategies.at("careful").kind == "self_consistency");
  CHECK(p.strategies.at("fast").kind == "hedge");
  CHECK(p.prices.at("claude-3-5-haiku-latest").input_per_mtok == Approx(0.80));
  CHECK(cfg::warnings(*r).empty());
}

TEST_CASE("The providers section defaults to nothing configured and the llm backends are accepted") {
  auto d = cfg::defaults();
  CHECK(d.providers.root.empty());
  CHECK(d.providers.endpoints.empty());
  CHECK(d.providers.strategies.empty());
  CHECK(d.providers.prices.empty());
  CHECK(d.providers.max_host_connections == 256);
  CHECK(d.generator.thinking_min_words == 40);
  CHECK(cfg::validate(d).empty());
  CHECK(cfg::warnings(d).empty());
  auto r = load_providers(R"({"root": "local"})");
  REQUIRE(r.ok());
  CHECK(r->providers.root == "local");
}

TEST_CASE("Endpoint and strategy fields are checked against their rules") {
  auto e = error_of(load_providers(R"({"root": "local",
    "endpoints": {"x": {"kind": "mistral", "base_url": "", "model": "", "max_retries": 11, "temperature": 2.5,
                        "connect_timeout_ms": 0, "breaker_window_s": 3601, "thinking_budget": 100001,
                        "retry_budget_ratio": -1}},
    "strategies": {"s": {"kind": "round_robin", "samples": 1, "hedge_delay_ms": 0, "members": [""],
                         "routes": {"generate": ""}}},
    "prices": {"m": {"input_per_mtok": -1, "output_per_mtok": "free"}},
    "max_host_connections": 0})"));
  CHECK_THAT(e, Contains("config error: providers.endpoints.x.kind = \"mistral\": expected one of openai, "
                         "anthropic, gemini, openai_compatible"));
  CHECK_THAT(e, Contains("providers.endpoints.x.base_url = \"\": expected a non-empty string"));
  CHECK_THAT(e, Contains("providers.endpoints.x.model = \"\": expected a non-empty string"));
  CHECK_THAT(e, Contains("providers.endpoints.x.max_retries = 11: expected an integer in [0, 10]"));
  CHECK_THAT(e, Contains("providers.endpoints.x.temperature = 2.5: expected a number in [-1, 2]"));
  CHECK_THAT(e, Contains("providers.endpoints.x.connect_timeout_ms = 0: expected an integer in [1, 600000]"));
  CHECK_THAT(e, Contains("providers.endpoints.x.breaker_window_s = 3601: expected an integer in [1, 3600]"));
  CHECK_THAT(e, Contains("providers.endpoints.x.thinking_budget = 100001: expected an integer in [0, 100000]"));
  CHECK_THAT(e, Contains("providers.endpoints.x.retry_budget_ratio = -1: expected a number in [0, 10]"));
  CHECK_THAT(e, Contains("providers.strategies.s.kind = \"round_robin\": expected one of fallback, hedge, "
                         "self_consistency, by_task, by_intent"));
  CHECK_THAT(e, Contains("providers.strategies.s.samples = 1: expected an integer in [2, 16]"));
  CHECK_THAT(e, Contains("providers.strategies.s.hedge_delay_ms = 0: expected an integer in [1, 600000]"));
  CHECK_THAT(e, Contains("providers.strategies.s.members = [\"\"]: expected a list of non-empty strings"));
  CHECK_THAT(e, Contains("providers.strategies.s.routes.generate = \"\": expected a non-empty string"));
  CHECK_THAT(e, Contains("providers.prices.m.input_per_mtok = -1: expected a number in [0, 100000]"));
  CHECK_THAT(e, Contains("providers.prices.m.output_per_mtok = \"free\": expected a number in [0, 100000]"));
  CHECK_THAT(e, Contains("providers.max_host_connections = 0: expected an integer in [1, 100000]"));
  auto k = error_of(load_providers(R"({"root": "local", "endpoints": {"x": {"modle": "m"}}})"));
  CHECK_THAT(k, Contains("config error: providers.endpoints.x.modle: unknown key (known: kind, base_url, model, "));
  auto w = error_of(load_text(R"({"generator": {"thinking_min_words": 0}})"));
  CHECK_THAT(w, Contains("generator.thinking_min_words = 0: expected an integer in [1, 10000]"));
}

TEST_CASE("A thinking budget below Anthropic's minimum of 1024 is refused, 0 and 1024 are accepted") {
  auto e = error_of(load_providers(R"({"root": "c", "endpoints": {"c": {"kind": "anthropic",
    "base_url": "https://api.anthropic.com", "model": "claude-3-7-sonnet-latest", "thinking_budget": 500}}})"));
  CHECK(e == "config error: providers.endpoints.c.thinking_budget = 500: expected 0 (off) or at least 1024 "
             "(the smallest thinking budget Anthropic accepts)");
  for (auto budget : {"0", "1024", "32000"}) {
    INFO(budget);
    auto r = load_providers(R"({"root": "c", "endpoints": {"c": {"kind": "anthropic",
      "base_url": "https://api.anthropic.com", "model": "m", "thinking_budget": )" + std::string(budget) + "}}}");
    CHECK(r.ok());
  }
  auto set = error_of(cfg::load({"", {"providers.endpoints.c.base_url=https://x.example", "providers.endpoints.c.model=m",
                                      "providers.endpoints.c.thinking_budget=1"}, {}}));
  CHECK_THAT(set, Contains("providers.endpoints.c.thinking_budget = 1: expected 0 (off) or at least 1024"));
}

TEST_CASE("The name local is reserved and endpoint and strategy names must differ") {
  auto e = error_of(load_providers(R"({"root": "local",
    "endpoints": {"local": )" + endpoint() + R"(, "twin": )" + endpoint() + R"(},
    "strategies": {"local": {"members": ["twin"]}, "twin": {"members": ["local"]}}})"));
  CHECK_THAT(e, Contains("config error: providers.endpoints.local: the name local is reserved for the built-in "
                         "local provider; choose another name"));
  CHECK_THAT(e, Contains("config error: providers.strategies.local: the name local is reserved"));
  CHECK_THAT(e, Contains("config error: providers.strategies.twin: the name twin is also an endpoint "
                         "(providers.endpoints.twin); endpoint and strategy names must differ"));
  CHECK(count_lines(e) == 3);
}

TEST_CASE("providers.root must name an endpoint, a strategy or local, and llm backends need it") {
  auto e = error_of(load_providers(R"({"root": "gpt", "endpoints": {"openai": )" + endpoint() +
                                   R"(}, "strategies": {"chain": {"members": ["openai", "local"]}}})"));
  CHECK(e == "config error: providers.root = \"gpt\": names no endpoint, strategy or local "
             "(known: local, openai, chain)");

  auto g = error_of(cfg::load({"", {"generator.backend=llm"}, {}}));
  CHECK(g == "config error: generator.backend = \"llm\": needs providers.root (the endpoint or strategy the llm "
             "backend calls)");
  auto c = error_of(cfg::load({"", {}, {"SUPPORT_AGENT_CLASSIFIER__BACKEND=llm"}}));
  CHECK_THAT(c, Contains("config error: classifier.backend = \"llm\": needs providers.root"));
  auto ok = cfg::load({"", {"generator.backend=llm", "classifier.backend=llm", "providers.root=local"}, {}});
  CHECK(ok.ok());
  auto root_without_llm = cfg::load({"", {"providers.root=local"}, {}});
  CHECK(root_without_llm.ok());
}

TEST_CASE("Strategy members and route targets must name an endpoint, a strategy or local") {
  auto e = error_of(load_providers(R"({"root": "r", "endpoints": {"openai": )" + endpoint() + R"(},
    "strategies": {"chain": {"members": ["openai", "opnai", "local"]},
                   "r": {"kind": "by_task", "routes": {"generate": "chain", "judge": "claude"}}}})"));
  CHECK_THAT(e, Contains("config error: providers.strategies.chain.members: \"opnai\" names no endpoint, strategy "
                         "or local (known: local, openai, chain, r)"));
  CHECK_THAT(e, Contains("config error: providers.strategies.r.routes.judge = \"claude\": names no endpoint, "
                         "strategy or local"));
  CHECK(count_lines(e) == 2);
}

TEST_CASE("Strategies need the right number of members for their kind") {
  auto e = error_of(load_providers(R"({"root": "local", "endpoints": {"a": )" + endpoint() + R"(, "b": )" +
                                   endpoint() + R"(},
    "strategies": {"f": {"kind": "fallback"}, "f-ok": {"kind": "fallback", "members": ["local"]},
                   "h": {"kind": "hedge", "members": ["a"]}, "h-ok": {"kind": "hedge", "members": ["a", "b"]},
                   "sc0": {"kind": "self_consistency", "samples": 3},
                   "sc2": {"kind": "self_consistency", "members": ["a", "b"]},
                   "sc-ok": {"kind": "self_consistency", "members": ["a"]}}})"));
  CHECK_THAT(e, Contains("config error: providers.strategies.f.members: a fallback strategy needs at least 1 member"));
  CHECK_THAT(e, Contains("config error: providers.strategies.h.members: a hedge strategy needs at least 2 members "
                         "(primary then backups), got 1"));
  CHECK_THAT(e, Contains("config error: providers.strategies.sc0.members: a self_consistency strategy needs exactly "
                         "1 member (the one sampled), got 0"));
  CHECK_THAT(e, Contains("config error: providers.strategies.sc2.members: a self_consistency strategy needs exactly "
                         "1 member (the one sampled), got 2"));
  CHECK(count_lines(e) == 4);
}

TEST_CASE("by_task and by_intent strategies need known route keys, at least one route and no members") {
  auto e = error_of(load_providers(R"({"root": "t", "endpoints": {"a": )" + endpoint() + R"(},
    "strategies": {
      "t": {"kind": "by_task", "routes": {"generate": "a", "billing": "a", "default": "local"}},
      "i": {"kind": "by_intent", "routes": {"billing": "a", "generate": "a", "default": "local"}},
      "empty": {"kind": "by_intent", "samples": 3},
      "both": {"kind": "by_task", "members": ["a"], "routes": {"default": "a"}},
      "f": {"kind": "fallback", "members": ["a"], "routes": {"default": "a"}}}})"));
  CHECK_THAT(e, Contains("config error: providers.strategies.t.routes.billing: unknown task (known: generate, "
                         "classify, judge, summarize, moderate, default)"));
  CHECK_THAT(e, Contains("config error: providers.strategies.i.routes.generate: unknown intent (known: billing, "
                         "technical, account, general, escalation_request, default)"));
  CHECK_THAT(e, Contains("config error: providers.strategies.empty.routes: a by_intent strategy needs at least one "
                         "route"));
  CHECK_THAT(e, Contains("config error: providers.strategies.both.members: a by_task strategy takes no members"));
  CHECK_THAT(e, Contains("config error: providers.strategies.f.routes: only by_task and by_intent strategies have "
                         "routes (this one is fallback)"));
  CHECK(count_lines(e) == 5);
}

TEST_CASE("Cycles among strategies are refused and spelled out") {
  auto e = error_of(load_providers(R"({"root": "a", "endpoints": {"x": )" + endpoint() + R"(},
    "strategies": {"a": {"members": ["b", "x"]}, "b": {"kind": "by_intent", "routes": {"billing": "c", "default": "x"}},
                   "c": {"kind": "hedge", "members": ["x", "a"]},
                   "self": {"members": ["self"]}, "ok": {"members": ["a", "x", "local"]}}})"));
  CHECK_THAT(e, Contains("config error: providers.strategies.a: strategies call each other in a cycle: "
                         "a -> b -> c -> a"));
  CHECK_THAT(e, Contains("config error: providers.strategies.self: strategies call each other in a cycle: "
                         "self -> self"));
  CHECK(count_lines(e) == 2);
  auto two = error_of(load_providers(R"({"root": "a", "strategies": {"a": {"members": ["b"]}, "b": {"members": ["a"]}}})"));
  CHECK(two == "config error: providers.strategies.a: strategies call each other in a cycle: a -> b -> a");
}

TEST_CASE("Endpoint base_url must be scheme://host[:port] and base_url and model are required") {
  auto bad = [](const std::string& url) {
    return error_of(load_providers(R"({"root": "e", "endpoints": {"e": {"base_url": ")" + url +
                                   R"(", "model": "m"}}})"));
  };
  CHECK(bad("api.openai.com") == "config error: providers.endpoints.e.base_url = \"api.openai.com\": expected it "
                                 "to start with http:// or https:// (scheme://host[:port], e.g. https://api.openai.com)");
  CHECK_THAT(bad("ftp://api.openai.com"), Contains("expected it to start with http:// or https://"));
  CHECK_THAT(bad("https://"), Contains("base_url = \"https://\": expected a host after the scheme"));
  CHECK_THAT(bad("https:///v1"), Contains("expected a host after the scheme"));
  CHECK_THAT(bad("https://:443"), Contains("expected a host after the scheme"));
  CHECK_THAT(bad("https://api.openai.com/"), Contains("base_url = \"https://api.openai.com/\": expected no trailing slash"));
  CHECK_THAT(bad("https://api.openai.com/v1"), Contains("expected no path, query or fragment"));
  CHECK_THAT(bad("https://api.openai.com?x=1"), Contains("expected no path, query or fragment"));
  CHECK_THAT(bad("http://localhost:0"), Contains("expected a port in [1, 65535]"));
  CHECK_THAT(bad("http://localhost:99999"), Contains("expected a port in [1, 65535]"));
  CHECK_THAT(bad("http://localhost:"), Contains("expected a port in [1, 65535]"));
  CHECK_THAT(bad("https://user:pw@api.openai.com"), Contains("expected no user or password"));
  CHECK_THAT(bad("https://api openai.com"), Contains("expected no spaces"));
  for (auto url : {"https://api.openai.com", "http://localhost:11434", "http://[::1]:8000", "http://10.0.0.5"}) {
    INFO(url);
    CHECK(load_providers(R"({"root": "e", "endpoints": {"e": {"base_url": ")" + std::string(url) +
                         R"(", "model": "m"}}})").ok());
  }
  auto missing = error_of(load_providers(R"({"root": "e", "endpoints": {"e": {"kind": "gemini"}}})"));
  CHECK_THAT(missing, Contains("config error: providers.endpoints.e.base_url: required (scheme://host[:port]"));
  CHECK_THAT(missing, Contains("config error: providers.endpoints.e.model: required"));
  CHECK(count_lines(missing) == 2);
}

TEST_CASE("Other endpoint cross-checks: backoff order and api_key_env outside the override prefix") {
  auto e = error_of(load_providers(R"({"root": "e", "endpoints": {"e": {"base_url": "https://a.example", "model": "m",
    "backoff_initial_ms": 5000, "backoff_max_ms": 1000, "api_key_env": "SUPPORT_AGENT_KEY"}}})"));
  CHECK_THAT(e, Contains("config error: providers.endpoints.e.backoff_initial_ms = 5000: expected at most "
                         "backoff_max_ms (1000)"));
  CHECK_THAT(e, Contains("config error: providers.endpoints.e.api_key_env = \"SUPPORT_AGENT_KEY\": SUPPORT_AGENT_* "
                         "variables are configuration overrides"));
  CHECK(count_lines(e) == 2);
}

TEST_CASE("Every providers error is reported at once with the errors of the layers") {
  auto e = error_of(load_text(R"({"generator": {"backend": "llm"}, "session": {"turn_timeout_ms": 1},
    "providers": {"endpoints": {"local": {"base_url": "x", "model": "m", "thinking_budget": 10}},
                  "strategies": {"h": {"kind": "hedge", "members": ["nope"]}}}})",
                              {"providers.strategies.h.hedge_delay_ms=0"}));
  CHECK_THAT(e, Contains("session.turn_timeout_ms = 1"));
  CHECK_THAT(e, Contains("providers.strategies.h.hedge_delay_ms = 0: expected an integer in [1, 600000] (from --set)"));
  CHECK_THAT(e, Contains("providers.endpoints.local: the name local is reserved"));
  CHECK_THAT(e, Contains("generator.backend = \"llm\": needs providers.root"));
  CHECK_THAT(e, Contains("providers.endpoints.local.base_url = \"x\""));
  CHECK_THAT(e, Contains("providers.endpoints.local.thinking_budget = 10"));
  CHECK_THAT(e, Contains("providers.strategies.h.members: \"nope\" names no endpoint"));
  CHECK_THAT(e, Contains("providers.strategies.h.members: a hedge strategy needs at least 2 members"));
  CHECK(count_lines(e) == 8);
}

TEST_CASE("Provider map entries can be created and overridden from the environment and the command line") {
  temp_file f{full_providers};
  auto r = cfg::load({f.path(),
                      {"providers.endpoints.openai.model=gpt-4o", "providers.endpoints.mistral.base_url=https://api.mistral.ai",
                       "providers.endpoints.mistral.model=mistral-small-latest",
                       "providers.endpoints.mistral.kind=openai_compatible",
                       "providers.strategies.chain.members=[\"gemini\", \"mistral\", \"local\"]",
                       "providers.strategies.by-task.routes.summarize=gemini",
                       "providers.prices={\"gpt-4o\": {\"input_per_mtok\": 2.5, \"output_per_mtok\": 10}}"},
                      {"SUPPORT_AGENT_PROVIDERS__ENDPOINTS__CLAUDE__MAX_RETRIES=0",
                       "SUPPORT_AGENT_PROVIDERS__STRATEGIES__FAST__HEDGE_DELAY_MS=150",
                       "SUPPORT_AGENT_GENERATOR__THINKING_MIN_WORDS=60"}});
  REQUIRE(r.ok());
  const auto& p = r->providers;
  CHECK(p.endpoints.at("openai").model == "gpt-4o");
  CHECK(p.endpoints.at("openai").max_tokens == 512);  // the rest of the entry kept
  const auto& m = p.endpoints.at("mistral");           // created by --set: defaults for the rest
  CHECK(m.kind == "openai_compatible");
  CHECK(m.base_url == "https://api.mistral.ai");
  CHECK(m.model == "mistral-small-latest");
  CHECK(m.max_retries == cfg::endpoint_config{}.max_retries);
  CHECK(m.breaker_open_ms == cfg::endpoint_config{}.breaker_open_ms);
  CHECK(p.strategies.at("chain").members == std::vector<std::string>{"gemini", "mistral", "local"});
  CHECK(p.strategies.at("by-task").routes.at("summarize") == "gemini");
  CHECK(p.strategies.at("by-task").routes.at("classify") == "gemini");  // other routes kept
  CHECK(p.prices.at("gpt-4o").input_per_mtok == Approx(2.5));         // prices merge by model
  CHECK(p.prices.at("gpt-4o-mini").input_per_mtok == Approx(0.15));
  CHECK(p.endpoints.at("claude").max_retries == 0);
  CHECK(p.strategies.at("fast").hedge_delay_ms == 150);
  CHECK(r->generator.thinking_min_words == 60);

  SECTION("an override that breaks a reference is refused after all layers") {
    auto e = error_of(cfg::load({f.path(), {"providers.root=by-tsk"}, {}}));
    CHECK_THAT(e, Contains("config error: providers.root = \"by-tsk\": names no endpoint, strategy or local"));
  }
  SECTION("a reference broken by the file is repaired by an override") {
    temp_file broken{R"({"generator": {"backend": "llm"}, "providers": {"root": "gone"}})"};
    CHECK_FALSE(cfg::load({broken.path(), {}, {}}).ok());
    CHECK(cfg::load({broken.path(), {"providers.root=local"}, {}}).ok());
  }
}

TEST_CASE("Warnings: unpriced models, missing keys, ignored thinking, unused and unreachable providers") {
  auto r = load_text(R"({"providers": {"root": "",
    "endpoints": {"o": {"base_url": "https://api.openai.com", "model": "gpt-4o-mini", "thinking_budget": 2048}},
    "prices": {"gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10}}}})");
  REQUIRE(r.ok());
  auto w = cfg::warnings(*r);
  CHECK(std::find(w.begin(), w.end(), "providers.endpoints.o.model 'gpt-4o-mini' has no price in providers.prices; "
                                      "its cost counts as 0") != w.end());
  CHECK(std::find(w.begin(), w.end(), "providers.endpoints.o.api_key_env is empty: requests to this openai endpoint "
                                      "carry no API key") != w.end());
  CHECK(std::find(w.begin(), w.end(), "providers.endpoints.o.thinking_budget 2048 has no effect on kind openai "
                                      "(anthropic and gemini only)") != w.end());
  CHECK(std::find(w.begin(), w.end(), "providers: endpoints or strategies are configured but neither "
                                      "generator.backend nor classifier.backend is \"llm\"; they are not used") != w.end());
  CHECK(w.size() == 4);

  auto u = load_providers(R"({"root": "a", "endpoints": {"a": )" + endpoint("p") + R"(, "b": )" + endpoint("p") +
                          R"(}, "strategies": {"s": {"members": ["b"]}}, "prices": {"p": {"input_per_mtok": 1}}})");
  REQUIRE(u.ok());
  auto uw = cfg::warnings(*u);
  CHECK(std::find(uw.begin(), uw.end(), "providers.endpoints.b is not reachable from providers.root 'a'; it is never "
                                        "called") != uw.end());
  CHECK(std::find(uw.begin(), uw.end(), "providers.strategies.s is not reachable from providers.root 'a'; it is never "
                                        "called") != uw.end());
}

TEST_CASE("describe documents the providers keys with their map segments") {
  auto text = cfg::describe();
  CHECK_THAT(text, Contains("\nproviders.endpoints.<endpoint>.base_url\n    type: string, non-empty\n    default: (none)\n"));
  CHECK_THAT(text, Contains("\nproviders.strategies.<strategy>.routes.<route>\n"));
  CHECK_THAT(text, Contains("\nproviders.prices.<model>.input_per_mtok\n    type: number, [0, 100000]\n"));
  CHECK_THAT(text, Contains("\nproviders.root\n    type: string\n    default: \"\"\n"));
  CHECK_THAT(text, Contains("\ngenerator.thinking_min_words\n    type: integer, [1, 10000]\n    default: 40\n"));
}

TEST_CASE("cluster.registry is seeds by default and redis only together with memory.backend redis") {
  CHECK(cfg::defaults().cluster.registry == "seeds");
  auto ok = cfg::load({"", {"memory.backend=redis", "cluster.registry=redis"}, {}});
  REQUIRE(ok.ok());
  CHECK(ok->cluster.registry == "redis");

  auto alone = error_of(cfg::load({"", {"cluster.registry=redis"}, {}}));
  CHECK_THAT(alone, Contains("config error: cluster.registry = \"redis\" needs memory.backend = \"redis\" "
                             "(it is \"inprocess\")"));
  CHECK(count_lines(alone) == 1);

  auto unknown = error_of(cfg::load({"", {"cluster.registry=consul"}, {}}));
  CHECK_THAT(unknown, Contains("cluster.registry = \"consul\": expected one of seeds, redis"));
  CHECK_THAT(cfg::describe(), Contains("\ncluster.registry\n    type: string, one of: seeds, redis\n"));
}

TEST_CASE("The redis memory backend is configured by memory.redis_* keys and checked as a whole") {
  auto r = load_text(R"({"memory": {"backend": "redis", "redis_address": "redis.internal:6380", "redis_db": 2,
    "redis_password_env": "SA_REDIS_PASSWORD", "redis_max_pending": 500}})");
  REQUIRE(r.ok());
  CHECK(r->memory.backend == "redis");
  CHECK(r->memory.redis_address == "redis.internal:6380");
  CHECK(r->memory.redis_db == 2);
  CHECK(r->memory.redis_password_env == "SA_REDIS_PASSWORD");
  CHECK(r->memory.redis_max_pending == 500);
  CHECK(r->memory.redis_key_prefix == "sa");

  auto bad = error_of(load_text(R"({"memory": {"redis_address": "redis://h:6379", "redis_key_prefix": "a{b}",
    "redis_password_env": "SUPPORT_AGENT_X", "redis_backoff_initial_ms": 500, "redis_backoff_max_ms": 100}})"));
  CHECK_THAT(bad, Contains("config error: memory.redis_address = \"redis://h:6379\": expected"));
  CHECK_THAT(bad, Contains("config error: memory.redis_key_prefix = \"a{b}\": expected no braces"));
  CHECK_THAT(bad, Contains("config error: memory.redis_password_env = \"SUPPORT_AGENT_X\""));
  CHECK_THAT(bad, Contains("config error: memory.redis_backoff_initial_ms = 500: expected at most"));
  CHECK_THAT(error_of(cfg::load({"", {"memory.redis_address=h:0"}, {}})), Contains("expected a port in [1, 65535]"));

  auto slow = cfg::load({"", {"memory.backend=redis", "memory.redis_reply_timeout_ms=6000"}, {}});
  REQUIRE(slow.ok());
  auto w = cfg::warnings(*slow);
  CHECK(std::any_of(w.begin(), w.end(), [](const std::string& line) {
    return line.rfind("memory.redis_reply_timeout_ms (6000) is not below session.child_timeout_ms", 0) == 0;
  }));
}

TEST_CASE("TLS to Redis is configured by memory.redis_tls_* and its files are checked at load") {
  auto d = cfg::defaults();
  CHECK_FALSE(d.memory.redis_tls);
  CHECK(d.memory.redis_tls_ca_file.empty());
  CHECK(d.memory.redis_tls_server_name.empty());

  // The files only need to exist and be readable here; their content is parsed at start-up.
  sa::test::temp_file ca{"-----BEGIN CERTIFICATE-----\n", ".pem"};
  sa::test::temp_file cert{"-----BEGIN CERTIFICATE-----\n", ".pem"};
  sa::test::temp_file key{"-----BEGIN PRIVATE KEY-----\n", ".pem"};
  auto ok = cfg::load({"", {"memory.backend=redis", "memory.redis_tls=true", "memory.redis_tls_ca_file=" + ca.path(),
                            "memory.redis_tls_cert_file=" + cert.path(), "memory.redis_tls_key_file=" + key.path(),
                            "memory.redis_tls_server_name=redis.internal"}, {}});
  REQUIRE(ok.ok());
  CHECK(ok->memory.redis_tls);
  CHECK(ok->memory.redis_tls_ca_file == ca.path());
  CHECK(ok->memory.redis_tls_cert_file == cert.path());
  CHECK(ok->memory.redis_tls_key_file == key.path());
  CHECK(ok->memory.redis_tls_server_name == "redis.internal");
  // No CA file (the system store), no client certificate, an IP address or IPv6 literal as the name.
  CHECK(cfg::load({"", {"memory.redis_tls=true"}, {}}).ok());
  CHECK(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_server_name=10.0.0.5"}, {}}).ok());
  CHECK(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_server_name=fd00::5"}, {}}).ok());

  auto missing = error_of(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_ca_file=/nonexistent/ca.pem"}, {}}));
  CHECK_THAT(missing, Contains("config error: memory.redis_tls_ca_file = \"/nonexistent/ca.pem\": no such file"));
  auto directory = error_of(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_ca_file=/tmp"}, {}}));
  CHECK_THAT(directory, Contains("config error: memory.redis_tls_ca_file = \"/tmp\": not a regular file"));
  auto missing_key = error_of(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_cert_file=" + cert.path(),
                                              "memory.redis_tls_key_file=/nonexistent/key.pem"}, {}}));
  CHECK_THAT(missing_key, Contains("config error: memory.redis_tls_key_file = \"/nonexistent/key.pem\": no such file"));

  auto half = error_of(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_cert_file=" + cert.path()}, {}}));
  CHECK_THAT(half, Contains("config error: memory.redis_tls_cert_file = \"" + cert.path() +
                            "\": memory.redis_tls_key_file is empty; a client certificate needs both files, or neither"));
  auto other_half = error_of(cfg::load({"", {"memory.redis_tls=true", "memory.redis_tls_key_file=" + key.path()}, {}}));
  CHECK_THAT(other_half, Contains("config error: memory.redis_tls_key_file = \"" + key.path() +
                                  "\": memory.redis_tls_cert_file is empty"));

  // Set without redis_tls: refused, or the connection would silently stay plaintext.
  auto off = error_of(cfg::load({"", {"memory.redis_tls_ca_file=" + ca.path(), "memory.redis_tls_server_name=r"}, {}}));
  CHECK_THAT(off, Contains("config error: memory.redis_tls_ca_file, memory.redis_tls_server_name set but "
                           "memory.redis_tls is false: the connection to Redis would not use TLS"));

  for (auto bad_name : {"redis.internal:6379", "https://redis", "two words", "[::1]"})
    CHECK_THAT(error_of(cfg::load({"", {"memory.redis_tls=true", std::string("memory.redis_tls_server_name=") + bad_name}, {}})),
               Contains("memory.redis_tls_server_name = \"" + std::string(bad_name) + "\": expected a host name or IP address"));
  CHECK_THAT(cfg::describe(), Contains("\nmemory.redis_tls_ca_file\n"));
}

TEST_CASE("gateway.metrics_enabled is on by default with no token, and both keys are checked and overridable") {
  auto d = cfg::defaults();
  CHECK(d.gateway.metrics_enabled);
  CHECK(d.gateway.metrics_token_env.empty());
  auto set = cfg::load({"", {"gateway.metrics_enabled=false"}, {"SUPPORT_AGENT_GATEWAY__METRICS_TOKEN_ENV=SA_METRICS_TOKEN"}});
  REQUIRE(set.ok());
  CHECK_FALSE(set->gateway.metrics_enabled);
  CHECK(set->gateway.metrics_token_env == "SA_METRICS_TOKEN");
  CHECK_THAT(error_of(load_text(R"({"gateway": {"metrics_enabled": "yes"}})")), Contains("gateway.metrics_enabled"));
  CHECK_THAT(cfg::describe(), Contains("\ngateway.metrics_token_env\n    type: string"));
}

TEST_CASE("The dashboard's history keys: 10 s x 1080 by default, ranges checked naming the key") {
  auto d = cfg::defaults();
  CHECK(d.gateway.dashboard_interval_s == 10);
  CHECK(d.gateway.dashboard_history == 1080);
  auto set = cfg::load({"", {"gateway.dashboard_interval_s=2", "gateway.dashboard_history=5"}, {}});
  REQUIRE(set.ok());
  CHECK(set->gateway.dashboard_interval_s == 2);
  CHECK(set->gateway.dashboard_history == 5);
  CHECK_THAT(error_of(cfg::load({"", {"gateway.dashboard_interval_s=0"}, {}})), Contains("gateway.dashboard_interval_s"));
  CHECK_THAT(error_of(cfg::load({"", {"gateway.dashboard_history=100001"}, {}})), Contains("gateway.dashboard_history"));
}

TEST_CASE("The audit section: defaults, values checked, redis only together with memory.backend redis") {
  auto d = cfg::defaults();
  CHECK(d.audit.backend == "auto");
  CHECK(d.audit.path.empty());
  CHECK(d.audit.fsync == "every_record");
  CHECK(d.audit.fsync_interval_ms == 50);
  CHECK(d.audit.max_queued == 100000);
  CHECK(d.audit.shutdown_drain_ms == 2000);

  auto r = load_text(R"({"audit": {"backend": "file", "path": "/var/lib/sa/audit.jsonl", "fsync": "batched",
    "fsync_interval_ms": 20, "max_queued": 500, "shutdown_drain_ms": 0}})");
  REQUIRE(r.ok());
  CHECK(r->audit.backend == "file");
  CHECK(r->audit.path == "/var/lib/sa/audit.jsonl");
  CHECK(r->audit.fsync == "batched");
  CHECK(r->audit.fsync_interval_ms == 20);
  CHECK(r->audit.max_queued == 500);

  auto ok = cfg::load({"", {"memory.backend=redis", "audit.backend=redis"}, {}});
  REQUIRE(ok.ok());
  auto alone = error_of(cfg::load({"", {"audit.backend=redis"}, {}}));
  CHECK_THAT(alone, Contains("config error: audit.backend = \"redis\" needs memory.backend = \"redis\" "
                             "(it is \"inprocess\")"));
  CHECK(count_lines(alone) == 1);

  CHECK_THAT(error_of(cfg::load({"", {"audit.fsync=sometimes"}, {}})),
             Contains("audit.fsync = \"sometimes\": expected one of every_record, batched"));
  CHECK_THAT(error_of(cfg::load({"", {"audit.fsync_interval_ms=0"}, {}})), Contains("[1, 60000]"));
  CHECK_THAT(error_of(cfg::load({"", {}, {"SUPPORT_AGENT_AUDIT__MAX_QUEUED=0"}})),
             Contains("SUPPORT_AGENT_AUDIT__MAX_QUEUED"));
  CHECK_THAT(cfg::describe(), Contains("\naudit.backend\n    type: string, one of: auto, file, redis\n"));
}

TEST_CASE("retriever.max_file_bytes and retriever.reload_interval_ms have documented defaults and ranges") {
  auto d = cfg::defaults();
  CHECK(d.retriever.max_file_bytes == 16777216);
  CHECK(d.retriever.reload_interval_ms == 2000);
  auto set = cfg::load({"", {"retriever.max_file_bytes=4096", "retriever.reload_interval_ms=0"}, {}});
  REQUIRE(set.ok());
  CHECK(set->retriever.max_file_bytes == 4096);
  CHECK(set->retriever.reload_interval_ms == 0); // 0: no hot reload
  auto env = cfg::load({"", {}, {"SUPPORT_AGENT_RETRIEVER__RELOAD_INTERVAL_MS=250"}});
  REQUIRE(env.ok());
  CHECK(env->retriever.reload_interval_ms == 250);
  CHECK_THAT(error_of(load_text(R"({"retriever": {"max_file_bytes": 100}})")), Contains("retriever.max_file_bytes"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"max_file_bytes": 2147483647}})")), Contains("retriever.max_file_bytes"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"reload_interval_ms": -1}})")), Contains("retriever.reload_interval_ms"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"reload_interval_ms": "2s"}})")), Contains("retriever.reload_interval_ms"));
  CHECK_THAT(cfg::describe(), Contains("\nretriever.reload_interval_ms\n    type: integer"));
}

// --- actions -------------------------------------------------------------------------------------------

TEST_CASE("The actions section: defaults, a workflow with every field, and overrides") {
  auto d = cfg::defaults();
  CHECK(d.actions.enabled);
  CHECK(d.actions.confirmation_ttl_s == 300);
  CHECK(d.actions.ticket_webhook_url.empty());
  CHECK(d.actions.max_tickets_per_tenant == 10000);
  CHECK(d.actions.webhook_timeout_ms == 5000);
  CHECK(d.actions.webhook_max_attempts == 4);
  CHECK(d.actions.webhook_backoff_initial_ms == 200);
  CHECK(d.actions.webhook_backoff_max_ms == 2000);
  CHECK(d.actions.workflows.empty());

  auto r = load_text(R"({"actions": {
    "confirmation_ttl_s": 120, "ticket_webhook_url": "https://helpdesk.example.com/hooks/tickets?source=bot",
    "ticket_webhook_secret_env": "HELPDESK_SECRET", "webhook_max_attempts": 6,
    "workflows": {"order_escalation": {"url": "https://ops.example.com/hooks/order", "secret_env": "OPS_SECRET",
                                       "description": "escalate a late order", "tenants": ["acme"],
                                       "phrases": ["escalate my order"]}}}})");
  REQUIRE(r.ok());
  CHECK(r->actions.confirmation_ttl_s == 120);
  CHECK(r->actions.ticket_webhook_secret_env == "HELPDESK_SECRET");
  CHECK(r->actions.webhook_max_attempts == 6);
  REQUIRE(r->actions.workflows.count("order_escalation") == 1);
  const auto& w = r->actions.workflows.at("order_escalation");
  CHECK(w.url == "https://ops.example.com/hooks/order");
  CHECK(w.secret_env == "OPS_SECRET");
  CHECK(w.tenants == std::vector<std::string>{"acme"});
  CHECK(w.phrases == std::vector<std::string>{"escalate my order"});

  auto set = cfg::load({"", {"actions.workflows.status_page.url=http://127.0.0.1:9000/hook",
                             "actions.workflows.status_page.secret_env=STATUS_SECRET", "actions.enabled=false"},
                        {"SUPPORT_AGENT_ACTIONS__CONFIRMATION_TTL_S=60"}});
  REQUIRE(set.ok());
  CHECK_FALSE(set->actions.enabled);
  CHECK(set->actions.confirmation_ttl_s == 60);
  CHECK(set->actions.workflows.at("status_page").url == "http://127.0.0.1:9000/hook");
  CHECK_THAT(cfg::describe(), Contains("\nactions.workflows.<workflow>.secret_env\n    type: string"));
}

TEST_CASE("Actions webhook URLs, their secrets' variables, workflow names and backoff are checked") {
  CHECK_THAT(error_of(load_text(R"({"actions": {"ticket_webhook_url": "ftp://helpdesk.example.com/x",
                                                "ticket_webhook_secret_env": "S"}})")),
             Contains("actions.ticket_webhook_url = \"ftp://helpdesk.example.com/x\": expected it to start with "
                      "http:// or https://"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"ticket_webhook_url": "https://helpdesk.example.com/x"}})")),
             Contains("actions.ticket_webhook_url is set: needs actions.ticket_webhook_secret_env"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"ticket_webhook_url": "https://user:pw@helpdesk.example.com/x",
                                                "ticket_webhook_secret_env": "S"}})")),
             Contains("expected no user or password in the URL"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"Bad Name": {"url": "https://a.example/h",
                                                                           "secret_env": "S"}}}})")),
             Contains("actions.workflows.Bad Name: expected a workflow name of lower-case letters, digits"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"w": {"secret_env": "S"}}}})")),
             Contains("actions.workflows.w.url: required"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"w": {"url": "https://a.example/h"}}}})")),
             Contains("actions.workflows.w.secret_env: required"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"w": {"url": "https://a.example/h#frag",
                                                                     "secret_env": "S"}}}})")),
             Contains("actions.workflows.w.url = \"https://a.example/h#frag\": expected no fragment"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"w": {"url": "https://a.example/h",
                                                                     "secret_env": "SUPPORT_AGENT_X"}}}})")),
             Contains("actions.workflows.w.secret_env = \"SUPPORT_AGENT_X\": SUPPORT_AGENT_* variables are "
                      "configuration overrides"));
  CHECK_THAT(error_of(cfg::load({"", {"actions.webhook_backoff_initial_ms=5000"}, {}})),
             Contains("actions.webhook_backoff_initial_ms = 5000: expected at most actions.webhook_backoff_max_ms (2000)"));
  CHECK_THAT(error_of(cfg::load({"", {"actions.webhook_max_attempts=0"}, {}})), Contains("[1, 20]"));
  CHECK_THAT(error_of(cfg::load({"", {"actions.confirmation_ttl_s=1"}, {}})), Contains("[10, 86400]"));
  CHECK_THAT(error_of(load_text(R"({"actions": {"workflows": {"w": {"url": "https://a.example/h",
                                                                     "secret_env": "S", "tenants": "acme"}}}})")),
             Contains("actions.workflows.w.tenants"));
}

// --- hybrid retrieval ----------------------------------------------------------------------------------

TEST_CASE("Hybrid retrieval is off by default, retriever.embedding and retriever.hybrid have documented defaults") {
  auto d = cfg::defaults();
  CHECK(d.retriever.embedding.provider.empty());
  CHECK(d.retriever.embedding.model.empty());
  CHECK(d.retriever.embedding.batch_size == 64);
  CHECK(d.retriever.embedding.timeout_ms == 1500);
  CHECK(d.retriever.embedding.batch_timeout_ms == 30000);
  CHECK(d.retriever.hybrid.rrf_k == 60);
  CHECK(d.retriever.hybrid.candidates == 20);
  CHECK(d.retriever.hybrid.ef_search == 64);
  CHECK(cfg::validate(d).empty());
  CHECK_THAT(cfg::describe(), Contains("\nretriever.embedding.provider\n    type: string"));
  CHECK_THAT(cfg::describe(), Contains("\nretriever.hybrid.rrf_k\n    type: integer"));
}

TEST_CASE("An embedding provider names an endpoint that can embed, with a model, it is set like any key") {
  const std::string endpoints = R"("providers": {"endpoints": {
      "oai": {"kind": "openai", "base_url": "https://api.openai.com", "model": "gpt-4o-mini"},
      "gem": {"kind": "gemini", "base_url": "https://generativelanguage.googleapis.com", "model": "gemini-2.5-flash"},
      "ant": {"kind": "anthropic", "base_url": "https://api.anthropic.com", "model": "claude-sonnet-4-5"}}})";
  auto ok = load_text("{" + endpoints + R"(, "retriever": {"embedding": {"provider": "oai",
      "model": "text-embedding-3-small", "batch_size": 128, "timeout_ms": 800},
      "hybrid": {"rrf_k": 10, "candidates": 30, "ef_search": 100}}})");
  REQUIRE(ok.ok());
  CHECK(ok->retriever.embedding.provider == "oai");
  CHECK(ok->retriever.embedding.model == "text-embedding-3-small");
  CHECK(ok->retriever.embedding.batch_size == 128);
  CHECK(ok->retriever.embedding.timeout_ms == 800);
  CHECK(ok->retriever.embedding.batch_timeout_ms == 30000); // not named: its default
  CHECK(ok->retriever.hybrid.rrf_k == 10);
  CHECK(ok->retriever.hybrid.candidates == 30);
  CHECK(ok->retriever.hybrid.ef_search == 100);

  auto over = load_text("{" + endpoints + "}", {"retriever.embedding.provider=gem", "retriever.embedding.model=gemini-embedding-001"},
                        {"SUPPORT_AGENT_RETRIEVER__HYBRID__RRF_K=25"});
  REQUIRE(over.ok());
  CHECK(over->retriever.embedding.provider == "gem");
  CHECK(over->retriever.hybrid.rrf_k == 25);

  CHECK_THAT(error_of(load_text("{" + endpoints + R"(, "retriever": {"embedding": {"provider": "nope", "model": "m"}}})")),
             Contains("config error: retriever.embedding.provider = \"nope\": names no providers.endpoints entry "
                      "(known: ant, gem, oai)"));
  CHECK_THAT(error_of(load_text("{" + endpoints + R"(, "retriever": {"embedding": {"provider": "ant", "model": "m"}}})")),
             Contains("retriever.embedding.provider = \"ant\": endpoint kind anthropic has no embeddings API"));
  CHECK_THAT(error_of(load_text("{" + endpoints + R"(, "retriever": {"embedding": {"provider": "oai"}}})")),
             Contains("config error: retriever.embedding.model: required with retriever.embedding.provider"));
  CHECK_THAT(error_of(load_text("{" + endpoints + R"(, "retriever": {"embedding": {"provider": "gem", "model": "m",
      "batch_size": 101}}})")),
             Contains("retriever.embedding.batch_size = 101: expected at most 100 with a gemini endpoint"));
  CHECK_THAT(error_of(load_text("{" + endpoints + R"(, "retriever": {"top_k": 8, "embedding": {"provider": "oai",
      "model": "m"}, "hybrid": {"candidates": 5}}})")),
             Contains("retriever.hybrid.candidates = 5: expected at least retriever.top_k (8)"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"embedding": {"batch_size": 0}}})")),
             Contains("retriever.embedding.batch_size = 0: expected an integer in [1, 2048]"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"hybrid": {"rrf_k": 0}}})")),
             Contains("retriever.hybrid.rrf_k = 0: expected an integer in [1, 10000]"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"embedding": {"timeout_ms": "1s"}}})")),
             Contains("retriever.embedding.timeout_ms"));
  CHECK_THAT(error_of(load_text(R"({"retriever": {"embedding": {"dimensions": 3}}})")),
             Contains("retriever.embedding.dimensions: unknown key"));
}

TEST_CASE("An endpoint used only for embeddings draws no unused-provider warning") {
  auto r = load_text(R"({"providers": {"endpoints": {"emb": {"kind": "openai_compatible",
      "base_url": "http://127.0.0.1:11434", "model": "unused"}}, "prices": {"unused": {"input_per_mtok": 0}}},
    "retriever": {"embedding": {"provider": "emb", "model": "nomic-embed-text"}}})");
  REQUIRE(r.ok());
  CHECK(cfg::warnings(*r).empty());
}

TEST_CASE("quality.judge must name a providers endpoint or strategy, and counts as using them") {
  CHECK_THAT(error_of(load_text(R"({"quality": {"judge": "nope"}})")),
             Contains("config error: quality.judge = \"nope\": expected the name of a providers endpoint or strategy "
                      "(none is called so); empty = the local groundedness check"));
  CHECK_THAT(error_of(load_text(R"({"quality": {"judge": "local"}})")),
             Contains("quality.judge = \"local\": expected the name of a providers endpoint or strategy (the local "
                      "provider cannot judge)"));
  CHECK_THAT(error_of(load_text(R"({"quality": {"sample_rate": 1.5}})")),
             Contains("quality.sample_rate = 1.5: expected a number in [0, 1]"));
  auto r = load_text(R"({"providers": {"endpoints": {"judge": {"kind": "openai_compatible",
      "base_url": "http://127.0.0.1:11434", "model": "j"}}, "prices": {"j": {"input_per_mtok": 0}}},
    "quality": {"judge": "judge", "sample_rate": 0.1, "seed": 7}})");
  REQUIRE(r.ok());
  CHECK(r->quality.judge == "judge");
  CHECK(r->quality.sample_rate == 0.1);
  CHECK(r->quality.seed == 7);
  CHECK(cfg::warnings(*r).empty());  // the judge uses the endpoint: no "not used" warning
}

TEST_CASE("safety.moderation must name a providers endpoint or strategy, and counts as using them") {
  CHECK(cfg::defaults().safety.moderation.empty());
  CHECK(cfg::defaults().safety.moderation_timeout_ms == 1500);
  CHECK_THAT(error_of(load_text(R"({"safety": {"moderation": "nope"}})")),
             Contains("config error: safety.moderation = \"nope\": expected the name of a providers endpoint or "
                      "strategy (none is called so); empty = the rules alone"));
  CHECK_THAT(error_of(load_text(R"({"safety": {"moderation": "local"}})")),
             Contains("safety.moderation = \"local\": expected the name of a providers endpoint or strategy (the "
                      "local provider cannot moderate)"));
  CHECK_THAT(error_of(load_text(R"({"safety": {"moderation_timeout_ms": 10}})")),
             Contains("safety.moderation_timeout_ms = 10: expected an integer in [50, 60000]"));
  auto r = load_text(R"({"providers": {"endpoints": {"mod": {"kind": "openai_compatible",
      "base_url": "http://127.0.0.1:11434", "model": "m"}}, "prices": {"m": {"input_per_mtok": 0}}},
    "safety": {"moderation": "mod", "moderation_timeout_ms": 800}})");
  REQUIRE(r.ok());
  CHECK(r->safety.moderation == "mod");
  CHECK(r->safety.moderation_timeout_ms == 800);
  CHECK(cfg::warnings(*r).empty());  // the moderator uses the endpoint: no "not used" warning
  auto slow = load_text(R"({"providers": {"endpoints": {"mod": {"kind": "openai_compatible",
      "base_url": "http://127.0.0.1:11434", "model": "m"}}, "prices": {"m": {"input_per_mtok": 0}}},
    "safety": {"moderation": "mod", "moderation_timeout_ms": 8000}})");
  REQUIRE(slow.ok());
  REQUIRE(cfg::warnings(*slow).size() == 1);
  CHECK(cfg::warnings(*slow)[0] == "safety.moderation_timeout_ms (8000) is half of session.turn_timeout_ms (15000) or "
                                   "more: a slow moderator leaves the rest of the turn too little time to answer");
}

TEST_CASE("handoff.store is file by default, anything but file or memory is refused, naming the key") {
  CHECK(cfg::defaults().handoff.store == "file");
  CHECK(cfg::defaults().handoff.path.empty());
  auto ok = cfg::load({"", {"handoff.store=memory", "handoff.path=/tmp/h.jsonl"}, {}});
  REQUIRE(ok.ok());
  CHECK(ok->handoff.store == "memory");
  CHECK(ok->handoff.path == "/tmp/h.jsonl");
  auto bad = error_of(cfg::load({"", {"handoff.store=redis"}, {}}));
  CHECK_THAT(bad, Contains("handoff.store = \"redis\": expected one of file, memory"));
}
