// The audit chain in a Redis stream, against a real redis-server per test: appended and verified with its
// head, Redis killed and restarted mid-stream (records queue, none acknowledged is lost, the chain holds), two
// writers of one stream, records deleted from the stream, Redis losing its data, and the command line's
// verify/show over --redis (tenant isolation included).
#include "tests/actors/audit/audit_test_util.hpp"
#include "tests/runtime/redis/redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"

#include "actors/audit/audit_actor.hpp"
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_redis_store.hpp"
#include "actors/node/audit_command.hpp"
#include "config/load.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/redis_client.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace sa;
using Catch::Matchers::Contains;
using sa::test::append_now;
using sa::test::eventually;
using sa::test::make_entry;
using sa::test::redis_server;

namespace {

std::shared_ptr<redis_client> client_for(const redis_server& server) {
  return std::make_shared<redis_client>(sa::test::client_options_for(server));
}

std::shared_ptr<audit::redis_store> store_for(std::shared_ptr<redis_client> client, const std::string& node = "node-1") {
  audit::redis_store_options o;
  o.key_prefix = "sa";
  o.node = node;
  return std::make_shared<audit::redis_store>(std::move(client), o);
}

audit::verify_report verify(const std::shared_ptr<redis_client>& client, const std::string& tenant = {}) {
  return audit::verify_stream(*client, "sa", "node-1", tenant, 10s);
}

long long stream_length(const redis_server& server) {
  return server.command({"XLEN", audit::stream_key("sa", "node-1")}).integer;
}

config::config config_for(const redis_server& server) {
  auto cfg = config::defaults();
  cfg.memory.backend = "redis";
  cfg.memory.redis_address = server.address();
  return cfg;
}

} // namespace

TEST_CASE("records appended to the Redis stream form a chain the verifier accepts, with its head", "[audit_redis]") {
  log::init("warn", "");
  redis_server server;
  auto client = client_for(server);
  auto store = store_for(client);
  for (int i = 1; i <= 20; ++i) {
    auto r = append_now(*store, make_entry(i % 2 ? "acme" : "globex", "escalate"));
    REQUIRE(r.ok);
    CHECK(r.seq == static_cast<uint64_t>(i));
  }
  CHECK(stream_length(server) == 20);
  auto head = server.command({"HMGET", audit::stream_head_key("sa", "node-1"), "seq", "hash"});
  REQUIRE(head.elements.size() == 2);
  CHECK(head.elements[0].str == "20");
  auto report = verify(client, "acme");
  INFO(audit::render(report, "stream"));
  CHECK(report.ok());
  CHECK(report.records == 20);
  CHECK(report.tenant_records == 10);
  CHECK(report.head_checked);
  // A restarted store picks the chain up where the stream ends.
  store.reset();
  auto again = store_for(client);
  CHECK(append_now(*again, make_entry("acme", "ingest")).seq == 21);
  CHECK(verify(client).records == 21);
}

TEST_CASE("Redis killed and restarted mid-stream: queued records are stored in order, none acknowledged is lost",
          "[audit_redis]") {
  log::init("warn", "");
  redis_server server{{true, {}, {}}};  // appendfsync always: what Redis confirmed is on disk
  auto client = client_for(server);
  auto store = store_for(client);
  for (int i = 0; i < 10; ++i)
    REQUIRE(append_now(*store, make_entry("acme", "escalate")).ok);
  std::vector<std::future<audit::stored>> outcomes;
  auto submit = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto p = std::make_shared<std::promise<audit::stored>>();
      outcomes.push_back(p->get_future());
      REQUIRE(store->submit(make_entry("acme", "trigger_workflow"), [p](const audit::stored& s) { p->set_value(s); }));
    }
  };
  submit(15);          // some confirmed, some in flight ...
  server.kill();       // ... when Redis dies
  submit(15);          // queued while it is away
  REQUIRE(eventually([&] { return store->stats().queued > 0; }));
  // Nothing submitted while Redis was away has been acknowledged: it is not there yet.
  CHECK(outcomes.back().wait_for(0ms) == std::future_status::timeout);
  server.start();      // the AOF is replayed; the queued and resent records follow
  std::set<uint64_t> seqs;
  for (auto& f : outcomes) {
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    auto s = f.get();
    REQUIRE(s.ok);
    seqs.insert(s.seq);
  }
  CHECK(seqs.size() == 30);
  CHECK(*seqs.begin() == 11);
  CHECK(*seqs.rbegin() == 40);
  CHECK(stream_length(server) == 40);
  auto report = verify(client);
  INFO(audit::render(report, "stream"));
  CHECK(report.ok());
  CHECK(report.records == 40);
  CHECK(store->stats().failed == 0);
}

TEST_CASE("two writers of one stream chain after each other and never store a record twice", "[audit_redis]") {
  log::init("warn", "");
  redis_server server;
  auto c1 = client_for(server);
  auto c2 = client_for(server);
  auto node = store_for(c1);
  auto admin = store_for(c2);
  std::vector<std::future<audit::stored>> outcomes;
  for (int i = 0; i < 60; ++i)
    for (auto* s : {node.get(), admin.get()}) {
      auto p = std::make_shared<std::promise<audit::stored>>();
      outcomes.push_back(p->get_future());
      REQUIRE(s->submit(make_entry("acme", s == node.get() ? "escalate" : "ingest"),
                        [p](const audit::stored& r) { p->set_value(r); }));
    }
  std::set<uint64_t> seqs;
  for (auto& f : outcomes) {
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    auto s = f.get();
    REQUIRE(s.ok);
    seqs.insert(s.seq);
  }
  CHECK(seqs.size() == 120);
  CHECK(stream_length(server) == 120);
  auto report = verify(c1);
  INFO(audit::render(report, "stream"));
  CHECK(report.ok());
  CHECK(report.records == 120);
}

TEST_CASE("records deleted from the stream are caught: a middle one as missing, the last ones as truncation",
          "[audit_redis]") {
  log::init("warn", "");
  redis_server server;
  auto client = client_for(server);
  auto store = store_for(client);
  for (int i = 0; i < 10; ++i)
    REQUIRE(append_now(*store, make_entry("acme", "escalate")).ok);
  auto key = audit::stream_key("sa", "node-1");
  server.command({"XDEL", key, "0-9", "0-10"});
  auto cut = verify(client);
  REQUIRE(cut.broken);
  CHECK(cut.broken->kind == audit::break_kind::truncated);
  CHECK_THAT(audit::render(cut, "stream"), Contains("the head says the chain reaches seq 10 but the last record is seq 8 "
                                                     "(entry 8)"));
  server.command({"XDEL", key, "0-4"});
  auto gap = verify(client);
  REQUIRE(gap.broken);
  CHECK(gap.broken->kind == audit::break_kind::missing);
  CHECK(gap.broken->position == 4);
  CHECK_THAT(audit::render(gap, "stream"), Contains("first broken link: entry 4, seq 5, missing record"));
}

TEST_CASE("after Redis lost its data the chain continues and verify reports the records lost", "[audit_redis]") {
  log::init("warn", "");
  redis_server server;  // no persistence: a restart loses everything
  auto client = client_for(server);
  auto store = store_for(client);
  for (int i = 0; i < 5; ++i)
    REQUIRE(append_now(*store, make_entry("acme", "escalate")).ok);
  server.kill();
  server.start();
  auto r = append_now(*store, make_entry("acme", "escalate"));
  REQUIRE(r.ok);
  CHECK(r.seq == 6);  // not a fresh chain that would hide the loss
  auto report = verify(client);
  REQUIRE(report.broken);
  CHECK(report.broken->kind == audit::break_kind::missing);
  CHECK_THAT(report.broken->message, Contains("the chain starts at seq 6: seq 1..5 are absent"));
}

TEST_CASE("records Redis lost after confirming them are reported missing, never reused", "[audit_redis]") {
  log::init("warn", "");
  redis_server server;
  auto client = client_for(server);
  auto store = store_for(client);
  for (int i = 0; i < 5; ++i)
    REQUIRE(append_now(*store, make_entry("acme", "escalate")).ok);
  // Redis comes back without its last two entries (as after a crash with appendfsync everysec).
  server.command({"XDEL", audit::stream_key("sa", "node-1"), "0-4", "0-5"});
  auto r = append_now(*store, make_entry("acme", "escalate"));
  REQUIRE(r.ok);
  CHECK(r.seq == 6);
  CHECK(append_now(*store, make_entry("acme", "escalate")).seq == 7);
  auto report = verify(client);
  REQUIRE(report.broken);
  CHECK(report.broken->kind == audit::break_kind::missing);
  CHECK(report.broken->position == 4);
  CHECK_THAT(report.broken->message, Contains("seq 4..5 are absent"));
}

TEST_CASE("audit verify and show over --redis: exit codes, and one tenant's records only", "[audit_redis]") {
  log::init("warn", "");
  redis_server server;
  auto client = client_for(server);
  struct sys_config : caf::actor_system_config {
    sys_config() { register_message_types(*this); }
  } cfg;
  caf::actor_system sys{cfg};
  auto deps = std::make_shared<audit_deps>();
  deps->store = store_for(client);
  deps->redactor = std::make_shared<const audit::redactor>();
  auto actor = spawn_audit(sys, deps);
  caf::scoped_actor self{sys};
  for (int i = 0; i < 4; ++i)
    for (auto* t : {"acme", "globex"}) {
      bool ok = false;
      self->request(actor, 20s,
                    audit_event{tenant_id{t}, audit_actors::bot, "create_ticket",
                                std::string{R"({"canary":")"} + t + R"(-CANARY","contact":"x@example.com"})", "ok",
                                session_id{std::string{t} + "-session"}})
        .receive([&](audit_receipt&) { ok = true; }, [&](caf::error& e) { FAIL(sys.render(e)); });
      REQUIRE(ok);
    }
  auto c = config_for(server);
  audit_cli_options o;
  o.redis = true;
  o.subcommand = "show";
  o.tenant = "globex";
  std::ostringstream out, err;
  REQUIRE(run_audit_command(c, o, out, err) == audit_exit_ok);
  CHECK(out.str().find("acme") == std::string::npos);
  CHECK(out.str().find("x@example.com") == std::string::npos);
  CHECK_THAT(out.str(), Contains("globex-CANARY"));
  o.subcommand = "verify";
  std::ostringstream out2, err2;
  CHECK(run_audit_command(c, o, out2, err2) == audit_exit_ok);
  CHECK_THAT(out2.str(), Contains("chain intact: 8 records checked"));
  server.command({"XDEL", audit::stream_key("sa", "node-1"), "0-3"});
  std::ostringstream out3, err3;
  CHECK(run_audit_command(c, o, out3, err3) == audit_exit_broken);
  CHECK_THAT(out3.str(), Contains("missing record"));
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}
