// The safety and escalation scenario table (issue #7, "Tests"): tests/data/safety_scenarios.jsonl, one
// conversation per line, run end to end through a real node (shipped knowledge base and config defaults,
// trained classifier, the safety checks and the escalation policy), each in a session of its own.
//
// A row: {"id", "category", "tenant", "messages": [...], "safety": {"action", "reason"},
//         "escalate": bool, "reason": <escalation reason>, "document": {"title", "text"} (optional)}.
// Expectations are about the last message; earlier messages of a multi-turn row must be answered by the
// bot (a rephrase after a human took over does not count). "document" is a passage the retriever returns
// first for that row's questions (PII or instructions smuggled into the knowledge base); every other
// passage comes from the real index.
//
// After every row: escalation precision and recall over the table, printed; no benign row (escalate false)
// may escalate and no row that must escalate may be missed. To add a scenario: add a line to the file.
#include "tests/support/test_node.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace sa;
using namespace sa::test;
using json = nlohmann::json;

namespace {

/// The table; SA_SCENARIOS names another file (to try new rows), SA_SCENARIOS_VERBOSE=1 prints every row's
/// outcome and answer.
std::string table_file() {
  if (const char* other = std::getenv("SA_SCENARIOS"); other != nullptr && *other != '\0')
    return other;
  return std::string(SA_SOURCE_DIR) + "/tests/data/safety_scenarios.jsonl";
}

bool verbose() {
  const char* v = std::getenv("SA_SCENARIOS_VERBOSE");
  return v != nullptr && std::string(v) == "1";
}

struct scenario {
  std::string id;
  std::string category;
  std::string tenant;
  std::vector<std::string> messages;
  std::string safety_action;
  std::string safety_reason;
  bool escalate = false;
  std::string reason;
  std::string document_title;
  std::string document_text;
};

std::vector<scenario> load_table() {
  std::ifstream in(table_file());
  REQUIRE(in.good());
  std::vector<scenario> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#')
      continue;
    INFO("line " << number);
    auto j = json::parse(line);
    scenario s;
    s.id = j.at("id").get<std::string>();
    s.category = j.at("category").get<std::string>();
    s.tenant = j.value("tenant", "acme");
    s.messages = j.at("messages").get<std::vector<std::string>>();
    s.safety_action = j.at("safety").at("action").get<std::string>();
    s.safety_reason = j.at("safety").at("reason").get<std::string>();
    s.escalate = j.at("escalate").get<bool>();
    s.reason = j.at("reason").get<std::string>();
    if (j.contains("document")) {
      s.document_title = j.at("document").at("title").get<std::string>();
      s.document_text = j.at("document").at("text").get<std::string>();
    }
    REQUIRE_FALSE(s.messages.empty());
    REQUIRE(s.escalate == (s.reason != "none"));
    rows.push_back(std::move(s));
  }
  return rows;
}

/// Documents injected per question (the exact text of a row's message).
using injected_documents = std::map<std::string, passage>;

/// A retriever that asks the node's real retriever and puts the row's injected document first.
retriever_actor::behavior_type injecting_retriever(retriever_actor::pointer self,
                                                   std::function<retriever_actor(caf::local_actor*)> make_real,
                                                   std::shared_ptr<const injected_documents> docs) {
  auto real = make_real(self);
  return {
    [=](retrieve_request& r) -> caf::result<retrieval> {
      auto rp = self->make_response_promise<retrieval>();
      auto doc = docs->find(r.query);
      std::optional<passage> extra;
      if (doc != docs->end())
        extra = doc->second;
      self->request(real, std::chrono::seconds(10), std::move(r))
        .then(
          [rp, extra](retrieval& x) mutable {
            if (extra)
              x.passages.insert(x.passages.begin(), *extra);
            rp.deliver(std::move(x));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

struct outcome {
  bool completed = false;
  bool earlier_escalated = false;  // an earlier message of the row went to a human
  std::string safety_action = "none";
  std::string safety_reason = "none";
  bool escalate = false;
  std::string reason = "none";
  std::string detail;
  double confidence = 0;
  std::string answer;
};

std::string show(const scenario& s, const outcome& o) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%-22s expected safety %s/%s escalate %s; got safety %s/%s escalate %s (%s) conf %.2f%s",
                s.id.c_str(), s.safety_action.c_str(), s.safety_reason.c_str(), s.reason.c_str(),
                o.safety_action.c_str(), o.safety_reason.c_str(), o.reason.c_str(), o.detail.c_str(), o.confidence,
                o.earlier_escalated ? " [an earlier turn escalated]" : "");
  return buf;
}

} // namespace

TEST_CASE("every scenario of the safety table gets its verdict and escalation, no benign scenario escalates "
          "and no sensitive one is missed",
          "[scenarios][safety][escalation]") {
  auto rows = load_table();
  size_t benign = 0;
  for (auto& s : rows)
    benign += s.escalate ? 0 : 1;
  if (!std::getenv("SA_SCENARIOS")) {
    REQUIRE(rows.size() >= 60);
    CHECK(benign >= 20);
  }

  auto docs = std::make_shared<injected_documents>();
  for (auto& s : rows)
    if (!s.document_text.empty())
      for (auto& m : s.messages) {
        passage p;
        p.source_id = "scenario/" + s.id + "#0";
        p.title = s.document_title;
        p.url = "https://docs.example.com/scenario/" + s.id;
        p.text = s.document_text;
        p.score = 100;
        (*docs)[m] = p;
      }
  auto svc = shared_services();
  auto kids = default_children(svc);
  kids.retriever = [make_real = kids.retriever,
                    docs = std::shared_ptr<const injected_documents>{docs}](caf::local_actor* self) {
    return self->spawn<caf::linked>(injecting_retriever, make_real, docs);
  };
  test_node node{kids, svc};
  caf::scoped_actor self{*node.sys};

  size_t tp = 0, fp = 0, fn = 0, tn = 0, reason_right = 0, safety_right = 0;
  std::vector<std::string> wrong;
  for (auto& s : rows) {
    outcome o;
    auto session = "scn-" + s.id;
    auto user = s.tenant == "globex" ? "carol" : "alice";
    for (size_t i = 0; i < s.messages.size(); ++i) {
      auto r = run_turn(self, node.handles.router, s.tenant, user, session, s.messages[i]);
      if (!r.completed)
        break;
      const auto& c = *r.completed;
      if (i + 1 < s.messages.size()) {
        o.earlier_escalated = o.earlier_escalated || c.escalation.escalate;
        continue;
      }
      o.completed = true;
      o.safety_action = to_string(c.safety.action);
      o.safety_reason = to_string(c.safety.reason);
      o.escalate = c.escalation.escalate;
      o.reason = to_string(c.escalation.reason);
      o.detail = c.escalation.detail;
      o.confidence = c.confidence;
      o.answer = c.text;
    }
    bool escalation_ok = o.completed && o.escalate == s.escalate && o.reason == s.reason && !o.earlier_escalated;
    bool safety_ok = o.completed && o.safety_action == s.safety_action && o.safety_reason == s.safety_reason;
    reason_right += escalation_ok ? 1 : 0;
    safety_right += safety_ok ? 1 : 0;
    if (s.escalate)
      (o.escalate ? tp : fn) += 1;
    else
      (o.escalate ? fp : tn) += 1;
    if (!escalation_ok || !safety_ok)
      wrong.push_back(show(s, o));
    if (verbose())
      std::printf("%s\n    answer: %s\n", show(s, o).c_str(), o.answer.substr(0, 300).c_str());
    {
      INFO(show(s, o));
      CHECK(o.completed);
      CHECK_FALSE(o.earlier_escalated);
      CHECK(o.safety_action == s.safety_action);
      CHECK(o.safety_reason == s.safety_reason);
      CHECK(o.escalate == s.escalate);
      CHECK(o.reason == s.reason);
    }
  }
  double precision = tp + fp == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
  double recall = tp + fn == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
  std::printf("safety scenarios: %zu rows (%zu must escalate, %zu must not)\n", rows.size(), tp + fn, fp + tn);
  std::printf("escalation: tp=%zu fp=%zu fn=%zu tn=%zu precision=%.3f recall=%.3f\n", tp, fp, fn, tn, precision,
              recall);
  std::printf("rows with the expected escalation and reason: %zu/%zu; expected safety verdict: %zu/%zu\n",
              reason_right, rows.size(), safety_right, rows.size());
  for (auto& w : wrong)
    std::printf("  mismatch: %s\n", w.c_str());
  CHECK(fp == 0);  // no benign scenario escalated
  CHECK(fn == 0);  // no sensitive scenario missed
}
