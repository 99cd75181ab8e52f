// Offline evaluation (`support-agent eval`): the set loader's errors, the figures computed by hand from a
// small fixed set, and that set run end to end through a real node whose classifier, retriever and
// generator are scripted (so every prediction, passage and answer is known and the figures can be worked
// out on paper below).
#include "tests/support/test_node.hpp"

#include "actors/eval/eval_command.hpp"
#include "actors/eval/eval_metrics.hpp"
#include "actors/eval/eval_runner.hpp"
#include "actors/eval/eval_set.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

using namespace sa;
using namespace sa::eval;
using Catch::Matchers::Contains;

namespace {

std::string load_error(const std::string& text) {
  std::istringstream in{text};
  auto r = parse_set(in, "set.jsonl");
  return r ? std::string{"(loaded)"} : r.error();
}

// The fixed set. Gold labels, and what the scripted pipeline predicts for each row:
//   r1 billing            -> billing             relevant faq:faq-003 (retrieved 2nd: hit at k=2)
//   r2 technical          -> technical           relevant docs/builds.md (retrieved 3rd: miss at k=2)
//   r3 out_of_scope       -> out_of_scope
//   r4 escalation_request -> escalation_request  should escalate (and does: the customer asks for a person)
//   r5 billing            -> account             should escalate (and does not); relevant faq:faq-004 (hit)
//   r6 out_of_scope       -> general
//   r7 general            -> out_of_scope
const std::string fixed_set = R"({"id": "r1", "text": "compare the plans for me", "intent": "billing", "should_escalate": false, "relevant_sources": ["faq:faq-003"]}
{"id": "r2", "text": "my docs build fails", "intent": "technical", "should_escalate": false, "relevant_sources": ["docs/builds.md"]}
{"id": "r3", "text": "what will the weather be", "intent": "out_of_scope", "should_escalate": false}
# a comment line, and a blank one, are skipped

{"id": "r4", "text": "please let me talk to a human", "intent": "escalation_request", "should_escalate": true}
{"id": "r5", "text": "need an invoice copy", "intent": "billing", "should_escalate": true, "relevant_sources": ["faq:faq-004"]}
{"id": "r6", "text": "what time is it", "intent": "general", "out_of_scope": true, "should_escalate": false}
{"id": "r7", "text": "hello there", "intent": "general", "should_escalate": false}
)";

struct scripted_row {
  intent predicted = intent::general;
  bool out_of_scope = false;
  std::vector<std::string> passage_ids;
  std::string cited_text;  ///< text of the first passage (the one the answer cites)
  std::string answer;
};

const std::map<std::string, scripted_row>& script() {
  static const std::map<std::string, scripted_row> rows{
    // groundedness: sentence 1's 4 content words all in the passage, sentence 2's 3 none: 1/2 sentences,
    // 4/7 words
    {"compare the plans for me", {intent::billing, false, {"docs/commercial/index.md#1", "faq:faq-003"},
                               "Plans differ by build minutes.", "Plans differ by build minutes. Bananas jumped purple."}},
    {"my docs build fails", {intent::technical, false, {"docs/other.md#0", "docs/x.md#1", "docs/builds.md#2"},
                             "Builds fail often when dependencies break.", "Builds fail often."}},
    {"what will the weather be", {intent::general, true, {}, "", "I can only help with our product."}},
    {"please let me talk to a human", {intent::escalation_request, false, {}, "", "Connecting you."}},
    {"need an invoice copy", {intent::account, false, {"faq:faq-004"}, "Invoices live under Billing settings.",
                              "Invoices live under billing settings."}},
    {"what time is it", {intent::general, false, {}, "", "I can only help with our product."}},
    {"hello there", {intent::general, true, {}, "", "I can only help with our product."}},
  };
  return rows;
}

session_children scripted_children() {
  session_children c;
  c.classifier = [](caf::local_actor* self) {
    return self->spawn<caf::linked>([](classifier_actor::pointer, int) -> classifier_actor::behavior_type {
      return {[](const classify_request& r) {
        const auto& s = script().at(r.text);
        classification c;
        c.intent = s.predicted;
        c.out_of_scope = s.out_of_scope;
        c.confidence = 0.9;
        return c;
      }};
    }, 0);  // an argument: CAF 0.17 needs one
  };
  c.retriever = [](caf::local_actor* self) {
    return self->spawn<caf::linked>([](retriever_actor::pointer, int) -> retriever_actor::behavior_type {
      return {[](const retrieve_request& r) {
        const auto& s = script().at(r.query);
        retrieval out;
        for (size_t i = 0; i < s.passage_ids.size(); ++i) {
          passage p;
          p.source_id = s.passage_ids[i];
          p.title = "Page";
          p.text = i == 0 ? s.cited_text : "Unrelated words entirely.";
          out.passages.push_back(p);
        }
        return out;
      }};
    }, 0);  // an argument: CAF 0.17 needs one
  };
  c.generator = [](caf::local_actor* self) {
    return self->spawn<caf::linked>([](generator_actor::pointer, int) -> generator_actor::behavior_type {
      return {[](const generate_request& r) {
        const auto& s = script().at(r.question);
        generation g;
        g.text = s.answer;
        g.confidence = 0.95;
        g.provider = "scripted";
        if (!r.passages.empty())
          g.sources.push_back(citation{r.passages[0].source_id, "Page", ""});
        return g;
      }};
    }, 0);  // an argument: CAF 0.17 needs one
  };
  return c;
}

} // namespace

TEST_CASE("eval set rows with a problem are refused with file, line, field and problem", "[eval]") {
  CHECK(load_error("{\"text\": \"hi\", \"intent\": \"general\"}\n") == "(loaded)");
  CHECK_THAT(load_error("{\"text\": \"hi\", \"intent\": \"general\"}\n{\"text\": \"x\", \"intent\": \"refund\"}\n"),
             Contains("set.jsonl:2: field \"intent\": \"refund\" is not one of general, billing"));
  CHECK_THAT(load_error("{\"intent\": \"general\"}"), Contains("set.jsonl:1: field \"text\": missing"));
  CHECK_THAT(load_error("{\"text\": \"x\"}"), Contains("set.jsonl:1: field \"intent\": missing"));
  CHECK_THAT(load_error("\n{\"text\": \"x\", \"intent\": \"billing\", \"out_of_scope\": true}"),
             Contains("set.jsonl:2: field \"out_of_scope\": true contradicts intent \"billing\""));
  CHECK_THAT(load_error("{\"text\": \"x\", \"intent\": \"billing\", \"should_escalate\": \"yes\"}"),
             Contains("field \"should_escalate\": must be true or false"));
  CHECK_THAT(load_error("{\"text\": \"x\", \"intent\": \"billing\", \"relevant_sources\": []}"),
             Contains("field \"relevant_sources\": must be a non-empty array"));
  CHECK_THAT(load_error("{\"text\": \"x\", \"intent\": \"billing\", \"relevent_sources\": [\"a\"]}"),
             Contains("unknown field \"relevent_sources\""));
  CHECK_THAT(load_error("{\"text\": \"x\", \"intent\": "), Contains("set.jsonl:1: not valid JSON"));
  CHECK_THAT(load_error("# only a comment\n"), Contains("set.jsonl: no rows"));
}

TEST_CASE("the shipped evaluation sets load", "[eval]") {
  for (auto* name : {"data/eval/demo.jsonl", "data/eval/public/bitext.jsonl", "data/eval/public/banking77.jsonl",
                     "data/eval/public/clinc150.jsonl"}) {
    auto rows = load_set(std::string{SA_SOURCE_DIR} + "/" + name);
    INFO(name << ": " << (rows ? "" : rows.error()));
    REQUIRE(rows);
    CHECK(rows->size() >= 100);
  }
}

TEST_CASE("source ids match a labeled source by page, chunk or edition", "[eval]") {
  CHECK(source_matches("docs/builds.md#2", "docs/builds.md"));
  CHECK(source_matches("faq:faq-003", "faq:faq-003"));
  CHECK(source_matches("edition2/docs/builds.md#0", "docs/builds.md"));
  CHECK_FALSE(source_matches("docs/builds.md.bak#0", "docs/builds.md"));
  CHECK_FALSE(source_matches("faq:faq-0031", "faq:faq-003"));
}

TEST_CASE("eval on a small fixed set gives the figures worked out by hand", "[eval]") {
  std::istringstream in{fixed_set};
  auto rows = parse_set(in, "fixed.jsonl");
  REQUIRE(rows);
  REQUIRE(rows->size() == 7);
  CHECK((*rows)[5].intent == "out_of_scope");  // intent general + out_of_scope true

  auto svc = test::shared_services();
  caf::actor_system_config cfg;
  configure_actor_system(cfg, svc->cfg);
  caf::actor_system sys{cfg};
  run_options opts;
  opts.k = 2;
  std::vector<std::string> progress;
  opts.progress_every = 3;
  opts.progress = [&](const std::string& line) { progress.push_back(line); };
  auto obs = run_set(sys, svc, *rows, opts, scripted_children());
  REQUIRE(obs.size() == 7);
  CHECK(progress.size() == 3);  // after rows 3, 6 and the last
  auto r = summarize(obs, opts.k);

  CHECK(r.failed == 0);
  // Correct: r1, r2, r3, r4.
  CHECK(r.accuracy == Approx(4.0 / 7));
  // F1 per label (gold or predicted): billing P 1/1 R 1/2 -> 2/3; technical 1; out_of_scope P 1/2 R 1/2 -> 1/2;
  // escalation_request 1; general (r6 predicted, r7 gold, neither right) 0; account (r5 predicted) 0.
  CHECK(r.labels.size() == 6);
  CHECK(r.labels.at("billing").f1 == Approx(2.0 / 3));
  CHECK(r.labels.at("billing").precision == Approx(1.0));
  CHECK(r.labels.at("billing").recall == Approx(0.5));
  CHECK(r.labels.at("out_of_scope").f1 == Approx(0.5));
  CHECK(r.labels.at("account").support == 0);
  CHECK(r.labels.at("account").predicted == 1);
  CHECK(r.macro_f1 == Approx((2.0 / 3 + 1 + 0.5 + 1 + 0 + 0) / 6));
  // Out of scope: r3 and r6 are; r3 found. Predicted out of scope: r3 and r7.
  CHECK(r.oos_recall.value == Approx(0.5));
  CHECK(r.oos_recall.rows == 2);
  CHECK(r.oos_precision.value == Approx(0.5));
  // recall@2 over r1 (2nd: hit), r2 (3rd: miss), r5 (1st: hit).
  CHECK(r.recall_at_k.rows == 3);
  CHECK(r.recall_at_k.value == Approx(2.0 / 3));
  // Escalation: r4 and r5 should; only r4 did.
  CHECK(r.escalation_precision.value == Approx(1.0));
  CHECK(r.escalation_precision.rows == 1);
  CHECK(r.escalation_recall.value == Approx(0.5));
  CHECK(r.escalation_recall.rows == 2);
  // By reason: r4's request for a person, rightly.
  REQUIRE(r.escalation_reasons.size() == 1);
  CHECK(r.escalation_reasons.at("user_requested").escalated == 1);
  CHECK(r.escalation_reasons.at("user_requested").right == 1);
  // Groundedness over the answers with citations (r1, r2, r5): 1/2, 1, 1 by sentence; 4/7, 1, 1 by word.
  CHECK(r.groundedness.rows == 3);
  CHECK(r.groundedness.value == Approx((0.5 + 1 + 1) / 3));
  CHECK(r.word_support.value == Approx((4.0 / 7 + 1 + 1) / 3));
  CHECK(r.latency_p50_ms > 0);
  CHECK(r.latency_p99_ms >= r.latency_p50_ms);

  auto j = to_json(r, "fixed.jsonl");
  CHECK(j["intent_accuracy"].get<double>() == Approx(4.0 / 7));
  CHECK(j["intents"]["technical"]["f1"].get<double>() == Approx(1.0));
  CHECK(j["recall_at_k"].get<double>() == Approx(2.0 / 3));
  CHECK(j["escalation_reasons"]["user_requested"]["right"].get<int>() == 1);
  std::ostringstream table;
  print_table(table, r, "fixed.jsonl");
  CHECK_THAT(table.str(), Contains("retrieval recall@2"));
  CHECK_THAT(table.str(), Contains("user_requested"));
  CHECK_THAT(table.str(), Contains("0.571"));

  // --rows: each row's outcome with its text (r4 escalated at the customer's request; r1 cited two sources).
  auto r4 = row_json(obs[3], (*rows)[3].text);
  CHECK(r4["id"] == obs[3].id);
  CHECK(r4["text"] == (*rows)[3].text);
  CHECK(r4["escalated"] == true);
  CHECK(r4["escalation_reason"] == "user_requested");
  CHECK(r4["should_escalate"] == true);
  auto r1 = row_json(obs[0], (*rows)[0].text);
  CHECK_FALSE(r1.contains("escalation_reason"));
  CHECK(r1["retrieved"].size() == obs[0].retrieved.size());
  CHECK(r1["groundedness"].get<double>() == Approx(0.5));
  CHECK(r1["confidence"].get<double>() == Approx(obs[0].confidence));
}

TEST_CASE("figures measured over no rows are reported as such", "[eval]") {
  eval_observation o;
  o.gold = "general";
  o.predicted = "general";
  o.latency_ms = 3;
  auto r = summarize({o}, 5);
  CHECK(r.accuracy == Approx(1.0));
  CHECK(r.oos_recall.rows == 0);
  auto j = to_json(r, "one");
  CHECK(j["oos_recall"].is_null());
  CHECK(j["recall_at_k"].is_null());
  CHECK(j["escalation_recall"].is_null());
  CHECK(j["groundedness"].is_null());
  CHECK(j["latency_p50_ms"].get<double>() == Approx(3.0));
  // recall@k looks at the first k retrieved only, whatever the observation holds.
  eval_observation deep = o;
  deep.relevant = {"docs/builds.md"};
  deep.retrieved = {"docs/a.md#0", "docs/b.md#0", "docs/builds.md#1"};
  CHECK(summarize({deep}, 2).recall_at_k.value == Approx(0.0));
  CHECK(summarize({deep}, 3).recall_at_k.value == Approx(1.0));
  CHECK(percentile({5, 1, 4, 2, 3}, 50) == Approx(3.0));
  CHECK(percentile({5, 1, 4, 2, 3}, 99) == Approx(5.0));
}

TEST_CASE("the offline config swaps every networked part for its local form", "[eval]") {
  auto cfg = config::defaults();
  cfg.classifier.backend = "llm";
  cfg.generator.backend = "llm";
  cfg.retriever.embedding.provider = "openai";
  cfg.memory.backend = "redis";
  cfg.quality.sample_rate = 0.5;
  auto off = offline_config(cfg, "/tmp/x");
  CHECK(off.classifier.backend == "local");
  CHECK(off.generator.backend == "local");
  CHECK(off.retriever.embedding.provider.empty());
  CHECK(off.memory.backend == "inprocess");
  CHECK(off.quality.sample_rate == 0);
  CHECK(off.audit.path == "/tmp/x/audit.jsonl");
}
