// The audit trail on a real node: start-up records the configuration it runs with, an escalated turn is
// recorded with its reason (and never the customer's words), and the chain verifies.
#include "tests/actors/audit/audit_test_util.hpp"
#include "tests/support/test_node.hpp"

#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_settings.hpp"
#include "actors/audit/audit_verify.hpp"
#include "runtime/metrics.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace std::chrono_literals;
using namespace sa;
using Catch::Matchers::Contains;

namespace {

/// The node's audit records once `pred` holds for them (or the deadline passed).
template <class Pred>
std::vector<audit::record> records_when(const std::string& path, Pred pred, std::chrono::milliseconds within = 20s) {
  auto until = std::chrono::steady_clock::now() + within;
  for (;;) {
    std::vector<audit::record> out;
    for (auto& line : test::read_lines(path)) {
      audit::record r;
      if (audit::parse_json_line(line, r, nullptr))
        out.push_back(r);
    }
    if (pred(out) || std::chrono::steady_clock::now() >= until)
      return out;
    std::this_thread::sleep_for(5ms);
  }
}

} // namespace

TEST_CASE("an escalated turn is audited with its reason and the turn's classification, not the user's text") {
  test::test_node node;
  auto path = audit::file_path(node.services->cfg);
  caf::scoped_actor self{*node.sys};
  auto r = test::run_turn(self, node.handles.router, "acme", "alice", "audit-s1",
                          "let me talk to a human about card 4111 1111 1111 1111 now");
  REQUIRE(r.completed);
  REQUIRE(r.completed->escalation.escalate);
  auto has_escalation = [](const std::vector<audit::record>& rs) {
    for (auto& x : rs)
      if (x.action == "escalate")
        return true;
    return false;
  };
  auto recs = records_when(path, has_escalation);
  REQUIRE(has_escalation(recs));
  bool saw_config = false;
  for (auto& x : recs) {
    if (x.action == "config_load") {
      saw_config = true;
      CHECK(x.actor == "system");
      CHECK(x.tenant.empty());
      CHECK_THAT(x.args, Contains("config_sha256"));
    }
    if (x.action != "escalate")
      continue;
    CHECK(x.tenant == "acme");
    CHECK(x.actor == "bot");
    CHECK(x.session == "audit-s1");
    CHECK(x.result == "user_requested");
    CHECK_THAT(x.args, Contains(R"("intent":)"));
    CHECK_THAT(x.args, Contains(R"("turn":1)"));
  }
  CHECK(saw_config);
  auto text = test::read_text(path);
  CHECK(text.find("talk to a human") == std::string::npos);
  // Not a bare "4111": the file's hex hashes and millisecond timestamps contain any four digits now and
  // then (CI once failed on a hash). The card's own groups, and no digit of it in a record's free fields.
  CHECK(text.find("4111 1111") == std::string::npos);
  CHECK(text.find("1111 1111") == std::string::npos);
  for (auto& x : recs) {
    CHECK(x.args.find("4111") == std::string::npos);
    CHECK(x.result.find("4111") == std::string::npos);
  }
  auto report = audit::verify_file(path);
  INFO(audit::render(report, path));
  CHECK(report.ok());
  // The store's counters are on /metrics.
  auto figures = node.services->metrics->render();
  CHECK_THAT(figures, Contains("sa_audit_records_stored_total"));
  CHECK_THAT(figures, Contains("sa_audit_queued_records"));
}

TEST_CASE("a turn is audited as escalated exactly when it escalated") {
  test::test_node node;
  auto path = audit::file_path(node.services->cfg);
  caf::scoped_actor self{*node.sys};
  auto r = test::run_turn(self, node.handles.router, "acme", "alice", "audit-s2", "How do I add a custom domain?");
  REQUIRE(r.completed);
  auto r2 = test::run_turn(self, node.handles.router, "acme", "alice", "audit-s2", "I want to speak to a person");
  REQUIRE(r2.completed);
  REQUIRE(r2.completed->escalation.escalate);
  // Requests to the audit actor are in order per sender: once the second turn's record is stored, the
  // first turn's (if any) is too.
  auto recs = records_when(path, [](const std::vector<audit::record>& rs) {
    for (auto& x : rs)
      if (x.action == "escalate" && x.args.find(R"("turn":2)") != std::string::npos)
        return true;
    return false;
  });
  int first = 0, second = 0;
  for (auto& x : recs) {
    if (x.action != "escalate" || x.session != "audit-s2")
      continue;
    if (x.args.find(R"("turn":1)") != std::string::npos)
      ++first;
    if (x.args.find(R"("turn":2)") != std::string::npos)
      ++second;
  }
  CHECK(second == 1);
  CHECK(first == (r.completed->escalation.escalate ? 1 : 0));
}
