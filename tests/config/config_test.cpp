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
  CHECK_THAT(e, Contains("config error: memmory: unknown section (known: node, limits, session, memory, "
                         "classifier, retriever, generator, escalation, tenants, gateway)"));
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
  auto e = error_of(load_text(R"({"node": {"log_level": "loud"}, "memory": {"backend": "redis"},
    "classifier": {"backend": "llm"}, "generator": {"backend": "openai"}})"));
  CHECK_THAT(e, Contains("config error: node.log_level = \"loud\": expected one of trace, debug, info, warn, error, off"));
  CHECK_THAT(e, Contains("config error: memory.backend = \"redis\": expected one of inprocess"));
  CHECK_THAT(e, Contains("config error: classifier.backend = \"llm\": expected one of local"));
  CHECK_THAT(e, Contains("config error: generator.backend = \"openai\": expected one of local"));
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
                               {"SUPPORT_AGENT_MEMORY__BACKEND=redis"}}));
  CHECK_THAT(e, Contains("config error: session.turn_timeout_ms = 50: expected an integer in [100, 600000] (from --set)"));
  CHECK_THAT(e, Contains("config error: retriever.knowledge_paths = \"kb\": expected a list of non-empty strings"));
  CHECK_THAT(e, Contains("config error: memory.backend = \"redis\": expected one of inprocess "
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
