// The audit actor over a file store: receipts, many actors auditing at once (one contiguous chain),
// redaction before anything reaches the file, and the command line's verify exit codes and show's tenant
// isolation (run_audit_command, the function `support-agent audit` calls).
#include "tests/actors/audit/audit_test_util.hpp"

#include "actors/audit/audit_actor.hpp"
#include "actors/audit/audit_file_store.hpp"
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_verify.hpp"
#include "actors/node/audit_command.hpp"
#include "config/load.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace sa;
using Catch::Matchers::Contains;

namespace {

struct system_config : caf::actor_system_config {
  system_config() {
    register_message_types(*this);
    set("scheduler.max-threads", size_t{2});
  }
};

struct audit_fixture {
  explicit audit_fixture(audit::fsync_policy p = audit::fsync_policy::every_record) {
    log::init("warn", "");
    path = dir.file("audit/node-1.jsonl");
    audit::file_store_options o;
    o.path = path;
    o.node = "node-1";
    o.fsync = p;
    o.fsync_interval = 5ms;
    auto s = audit::file_store::open(o);
    REQUIRE(s);
    store = *s;
    auto deps = std::make_shared<audit_deps>();
    deps->store = store;
    deps->redactor = std::make_shared<const audit::redactor>();
    actor = spawn_audit(sys, deps);
  }
  ~audit_fixture() {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    store->stop();
  }

  struct outcome {
    std::optional<audit_receipt> receipt;
    support_errc error = support_errc::ok;
  };
  outcome record(audit_event e) {
    outcome out;
    caf::scoped_actor self{sys};
    self->request(actor, 20s, std::move(e))
      .receive([&](audit_receipt& r) { out.receipt = r; }, [&](caf::error& err) { out.error = to_support_errc(err); });
    return out;
  }

  test::scratch_dir dir;
  std::string path;
  system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<audit::store> store;
  audit_actor actor;
};

audit_event event(const std::string& tenant, const std::string& action, const std::string& args = "{}",
                  const std::string& result = "ok", const std::string& session = {}) {
  return audit_event{tenant_id{tenant}, audit_actors::bot, action, args, result, session_id{session}};
}

config::config config_for(const std::string& audit_path) {
  auto cfg = config::defaults();
  cfg.audit.path = audit_path;
  return cfg;
}

} // namespace

TEST_CASE("the audit actor answers with the stored record's seq and hash") {
  audit_fixture f;
  auto a = f.record(event("acme", "escalate", R"({"turn":2})", "user_requested", "s-9"));
  REQUIRE(a.receipt);
  CHECK(a.receipt->seq == 1);
  auto b = f.record(event("acme", "create_ticket", R"({"ticket":"TCK-1"})"));
  REQUIRE(b.receipt);
  CHECK(b.receipt->seq == 2);
  auto lines = test::read_lines(f.path);
  REQUIRE(lines.size() == 2);
  audit::record r;
  REQUIRE(audit::parse_json_line(lines[0], r, nullptr));
  CHECK(r.hash == a.receipt->hash);
  CHECK(r.tenant == "acme");
  CHECK(r.actor == "bot");
  CHECK(r.action == "escalate");
  CHECK(r.result == "user_requested");
  CHECK(r.session == "s-9");
  CHECK(r.args == R"({"turn":2})");
  // An event without an action cannot be recorded: refused, counted, nothing written.
  auto bad = f.record(event("acme", ""));
  CHECK(bad.error == support_errc::internal);
  CHECK(test::read_lines(f.path).size() == 2);
}

TEST_CASE("many actors auditing at once get one contiguous chain, every record acknowledged once") {
  audit_fixture f{audit::fsync_policy::batched};
  constexpr int clients = 8;
  constexpr int per_client = 150;
  auto collected = std::make_shared<std::vector<uint64_t>>();
  auto mtx = std::make_shared<std::mutex>();
  std::vector<caf::actor> workers;
  for (int c = 0; c < clients; ++c)
    // (CAF 0.17: a spawned function needs at least one argument besides self.)
    workers.push_back(f.sys.spawn([=, target = f.actor](caf::event_based_actor* self, int c) -> caf::behavior {
      for (int i = 0; i < per_client; ++i)
        self->request(target, 30s,
                      audit_event{tenant_id{c % 2 ? "acme" : "globex"}, audit_actors::bot, "trigger_workflow",
                                  R"({"n":)" + std::to_string(i) + "}", "ok", session_id{}})
          .then([=](const audit_receipt& r) {
            std::lock_guard<std::mutex> guard{*mtx};
            collected->push_back(r.seq);
          });
      return {};
    }, c));
  caf::scoped_actor self{f.sys};
  for (auto& w : workers)
    self->wait_for(w);
  // The workers are done sending; wait for every receipt (deadline, no sleeps for synchronisation).
  auto until = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{*mtx};
      if (collected->size() == clients * per_client)
        break;
    }
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(2ms);
  }
  std::set<uint64_t> seqs(collected->begin(), collected->end());
  CHECK(seqs.size() == clients * per_client);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == clients * per_client);
  auto report = audit::verify_file(f.path);
  CHECK(report.ok());
  CHECK(report.records == clients * per_client);
  audit_stats stats;
  self->request(f.actor, 5s, audit_stats_request{}).receive([&](audit_stats& s) { stats = s; }, [](caf::error&) {});
  CHECK(stats.backend == "file");
  CHECK(stats.appended == clients * per_client);
  CHECK(stats.durable == clients * per_client);
  CHECK(stats.last_seq == clients * per_client);
}

TEST_CASE("an e-mail address or card number in the arguments never reaches the audit file") {
  audit_fixture f;
  auto a = f.record(event("acme", "create_ticket",
                          R"({"contact":"jane.doe@example.com","note":"charge 4242 4242 4242 4242 twice",)"
                          R"("password":"hunter2","subject":"refund"})",
                          "ok for jane.doe@example.com"));
  REQUIRE(a.receipt);
  auto text = test::read_text(f.path);
  CHECK(text.find("jane.doe") == std::string::npos);
  // The card's groups, not a bare "4242", which the file's hex hashes and timestamps may hold by chance.
  CHECK(text.find("4242 4242") == std::string::npos);
  CHECK(text.find("charge 4242") == std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK_THAT(text, Contains("[redacted email]"));
  CHECK_THAT(text, Contains("[redacted card_number]"));
  CHECK_THAT(text, Contains(R"("subject":"refund")"));
  // The chain commits to the redacted text: it verifies as written.
  CHECK(audit::verify_file(f.path).ok());
}

TEST_CASE("audit verify exits 0 for an intact chain, 3 naming the first broken link, 1 when unreadable") {
  audit_fixture f;
  for (int i = 0; i < 6; ++i)
    REQUIRE(f.record(event(i % 2 ? "acme" : "globex", "escalate")).receipt);
  auto cfg = config_for(f.path);
  std::ostringstream out, err;
  audit_cli_options o;
  o.subcommand = "verify";
  o.tenant = "acme";
  CHECK(run_audit_command(cfg, o, out, err) == audit_exit_ok);
  CHECK_THAT(out.str(), Contains("chain intact: 6 records checked, seq 1..6"));
  CHECK_THAT(out.str(), Contains("tenant acme: 3 records"));

  auto lines = test::read_lines(f.path);
  std::swap(lines[1], lines[2]);
  auto tampered = f.dir.file("tampered.jsonl");
  test::write_lines(tampered, lines);
  std::ostringstream out2, err2;
  o.file = tampered;
  CHECK(run_audit_command(cfg, o, out2, err2) == audit_exit_broken);
  CHECK_THAT(out2.str(), Contains("chain BROKEN"));
  CHECK_THAT(out2.str(), Contains("first broken link: line 2, seq 3, reordered"));

  std::ostringstream out3, err3;
  o.file = f.dir.file("nothing-here.jsonl");
  CHECK(run_audit_command(cfg, o, out3, err3) == audit_exit_unreadable);
  CHECK_THAT(err3.str(), Contains("cannot read " + o.file));

  std::ostringstream out4, err4;
  o.subcommand = "frobnicate";
  CHECK(run_audit_command(cfg, o, out4, err4) == audit_exit_usage);
}

TEST_CASE("audit show prints one tenant's records and nothing of another tenant's") {
  audit_fixture f;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.record(event("acme", "create_ticket", R"({"ticket":"ACME-CANARY-)" + std::to_string(i) + R"("})", "ok",
                           "acme-session"))
              .receipt);
    REQUIRE(f.record(event("globex", "create_ticket", R"({"ticket":"GLOBEX-CANARY"})", "globex-result",
                           "globex-session"))
              .receipt);
  }
  REQUIRE(f.record(event("acmex", "create_ticket", R"({"ticket":"PREFIX-CANARY"})")).receipt);
  auto cfg = config_for(f.path);
  std::ostringstream out, err;
  audit_cli_options o;
  o.subcommand = "show";
  o.tenant = "acme";
  o.limit = "3";
  REQUIRE(run_audit_command(cfg, o, out, err) == audit_exit_ok);
  auto text = out.str();
  CHECK(text.find("GLOBEX") == std::string::npos);
  CHECK(text.find("globex") == std::string::npos);
  CHECK(text.find("PREFIX-CANARY") == std::string::npos);
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> shown;
  while (std::getline(lines, line)) {
    audit::record r;
    REQUIRE(audit::parse_json_line(line, r, nullptr));
    CHECK(r.tenant == "acme");
    shown.push_back(line);
  }
  REQUIRE(shown.size() == 3);  // the last three
  CHECK_THAT(shown.back(), Contains("ACME-CANARY-4"));

  std::ostringstream out2, err2;
  o.tenant.clear();
  CHECK(run_audit_command(cfg, o, out2, err2) == audit_exit_usage);
  CHECK(out2.str().empty());
  CHECK_THAT(err2.str(), Contains("audit show needs --tenant T"));
}

TEST_CASE("1,000 attempts to read another tenant's audit records through audit show all fail") {
  // Tenant strings a caller acting for acme might try in order to widen `show` to globex's records.
  audit_fixture f;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.record(event("acme", "create_ticket", R"({"ticket":"ACME-OWN"})", "ok", "acme-session")).receipt);
    REQUIRE(f.record(event("globex", "create_ticket", R"({"ticket":"GLOBEX-CANARY"})", "ok", "globex-session"))
              .receipt);
  }
  auto cfg = config_for(f.path);
  const std::vector<std::string> tricks{"acme,globex", "acme globex", "acme\nglobex", "acme*", "*", "%", ".*",
                                        "acme|globex", "acme/../globex", "ACME", " acme",
                                        "acme ", "acme\"}{\"tenant\":\"globex", "acme' OR '1'='1", "acme;globex",
                                        "acme%2Fglobex", "acme\tglobex", "acme\rglobex", "acm"};
  int leaked = 0, ran = 0;
  for (int i = 0; i < 1000; ++i) {
    audit_cli_options o;
    o.subcommand = "show";
    o.tenant = tricks[static_cast<size_t>(i) % tricks.size()];
    if (i >= static_cast<int>(tricks.size()))
      o.tenant += std::string(static_cast<size_t>(i / static_cast<int>(tricks.size())) % 3, ' ');
    o.limit = std::to_string(1 + i % 50);
    std::ostringstream out, err;
    run_audit_command(cfg, o, out, err);
    ++ran;
    if (out.str().find("GLOBEX") != std::string::npos || out.str().find("globex-session") != std::string::npos)
      ++leaked;
  }
  CHECK(ran == 1000);
  CHECK(leaked == 0);
  // Control: the records are there for their own tenant.
  audit_cli_options o;
  o.subcommand = "show";
  o.tenant = "globex";
  std::ostringstream out, err;
  REQUIRE(run_audit_command(cfg, o, out, err) == audit_exit_ok);
  CHECK_THAT(out.str(), Contains("GLOBEX-CANARY"));
}

TEST_CASE("record_admin_event appends an admin record beside a running store, redacted") {
  audit_fixture f;
  REQUIRE(f.record(event("acme", "escalate")).receipt);
  auto cfg = config_for(f.path);
  auto st = record_admin_event(cfg, audit_event{tenant_id{"acme"}, "", "ingest",
                                                R"({"source":"s3://bucket/kb","owner":"ops@example.com"})", "ok",
                                                session_id{}});
  REQUIRE(st);
  REQUIRE(f.record(event("acme", "escalate")).receipt);
  auto lines = test::read_lines(f.path);
  REQUIRE(lines.size() == 3);
  audit::record r;
  REQUIRE(audit::parse_json_line(lines[1], r, nullptr));
  CHECK(r.actor == "admin");
  CHECK(r.action == "ingest");
  CHECK(r.args.find("ops@example.com") == std::string::npos);
  CHECK(audit::verify_file(f.path).ok());
}
