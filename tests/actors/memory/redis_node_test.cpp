// memory.backend = "redis" on a real node: the session's turns reach Redis through the node's wiring, a
// second node (a failover) continues the conversation from Redis, the password comes from the environment,
// and a missing password variable stops start-up naming it; memory.redis_tls_* configure mutual TLS, and a
// TLS file that does not parse stops start-up naming its key.
#include "tests/runtime/redis/redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/test_node.hpp"

#include "actors/memory/redis_layout.hpp"
#include "runtime/metrics.hpp"
#include "runtime/redis_client.hpp"
#include "tests/support/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace std::chrono_literals;
using namespace sa;
using sa::test::redis_server;

namespace {

std::shared_ptr<const node_services> redis_services(const redis_server& server, const std::string& password_env = {}) {
  auto cfg = test::shared_services()->cfg;  // trains the model once per process
  cfg.memory.backend = "redis";
  cfg.memory.redis_address = server.address();
  cfg.memory.redis_password_env = password_env;
  cfg.memory.redis_db = 1;
  cfg.memory.redis_backoff_initial_ms = 5;
  cfg.memory.redis_backoff_max_ms = 100;
  auto svc = build_node_services(cfg, [](const std::string&) {});
  REQUIRE(svc);
  return *svc;
}

} // namespace

TEST_CASE("with memory.backend redis a conversation is stored in Redis and survives a failover to another node",
          "[redis_memory][node]") {
  redis_server server{{false, "node-pw", {}}};
  ::setenv("SA_TEST_REDIS_PASSWORD", "node-pw", 1);
  auto keys = redis_layout::keys_for("sa", tenant_id{"acme"}, session_id{"s-redis"});
  {
    test::test_node node{{}, redis_services(server, "SA_TEST_REDIS_PASSWORD")};
    caf::scoped_actor self{*node.sys};
    auto first = test::run_turn(self, node.handles.router, "acme", "alice", "s-redis", "How do I add a custom domain?");
    REQUIRE(first.completed);
    auto second = test::run_turn(self, node.handles.router, "acme", "alice", "s-redis", "Why was I charged twice?");
    REQUIRE(second.completed);
    CHECK(second.completed->turn == 2);
    REQUIRE(node.handles.redis);
    CHECK(node.handles.redis->connected());
    // The node's metrics read the Redis client's own counters when scraped.
    test::prom_exposition x;
    std::string error;
    REQUIRE(test::parse_prometheus_text(node.services->metrics->render(), x, error));
    CHECK(x.families.at("sa_redis_connected").type == "gauge");
    CHECK(x.families.at("sa_redis_commands_total").type == "counter");
    CHECK(x.sum("sa_redis_connected") == 1);
    CHECK(x.sum("sa_redis_commands_total") >= 2);
  }  // the node stops (draining its queue)
  CHECK(server.command({"LLEN", keys.turns}, 1).integer == 2);
  CHECK(server.command({"HGET", keys.meta, "owner"}, 1).str == "alice");
  CHECK(server.command({"LLEN", keys.turns}, 0).integer == 0);  // memory.redis_db is honoured
  // Another node takes over: the session continues at turn 3, and a retry of turn 2 is recognized.
  test::test_node other{{}, redis_services(server, "SA_TEST_REDIS_PASSWORD")};
  caf::scoped_actor self{*other.sys};
  auto third = test::run_turn(self, other.handles.router, "acme", "alice", "s-redis", "Thanks, and my invoices?");
  REQUIRE(third.completed);
  CHECK(third.completed->turn == 3);
  CHECK(server.command({"HGET", keys.meta, "last"}, 1).str == "3");
  memory_stats stats;
  self->request(other.handles.memory, 5s, memory_stats_request{})
    .receive([&](memory_stats& s) { stats = s; }, [&](caf::error& e) { FAIL(other.sys->render(e)); });
  CHECK(stats.backend == "redis");
  CHECK(stats.redis_connected);
  CHECK(stats.confirmed >= 1);
  CHECK(stats.lost == 0);
}

TEST_CASE("a redis password variable that is not set stops start-up and names the variable", "[redis_memory][node]") {
  auto cfg = test::shared_services()->cfg;
  cfg.memory.backend = "redis";
  cfg.memory.redis_password_env = "SA_TEST_REDIS_PASSWORD_UNSET";
  ::unsetenv("SA_TEST_REDIS_PASSWORD_UNSET");
  auto svc = build_node_services(cfg, [](const std::string&) {});
  REQUIRE_FALSE(svc);
  CHECK_THAT(svc.error(), Catch::Matchers::Contains("SA_TEST_REDIS_PASSWORD_UNSET"));
}

TEST_CASE("with memory.redis_tls a node stores the conversation over mutual TLS, configured by its keys",
          "[redis_memory][node][tls]") {
  sa::test::redis_server_options tls_only;
  tls_only.tls = true;
  tls_only.tls_auth_clients = true;
  redis_server server{tls_only};
  auto cfg = test::shared_services()->cfg;
  cfg.memory.backend = "redis";
  cfg.memory.redis_address = server.address();
  cfg.memory.redis_tls = true;
  cfg.memory.redis_tls_ca_file = server.tls().ca_cert;
  cfg.memory.redis_tls_cert_file = server.tls().client_cert;
  cfg.memory.redis_tls_key_file = server.tls().client_key;
  cfg.memory.redis_tls_server_name = "localhost";  // a name the certificate carries, other than the address
  cfg.memory.redis_backoff_initial_ms = 5;
  cfg.memory.redis_backoff_max_ms = 100;
  auto svc = build_node_services(cfg, [](const std::string&) {});
  REQUIRE(svc);
  test::test_node node{{}, *svc};
  caf::scoped_actor self{*node.sys};
  auto turn = test::run_turn(self, node.handles.router, "acme", "alice", "s-tls", "How do I add a custom domain?");
  REQUIRE(turn.completed);
  REQUIRE(node.handles.redis);
  CHECK(node.handles.redis->connected());
  auto keys = redis_layout::keys_for("sa", tenant_id{"acme"}, session_id{"s-tls"});
  CHECK(sa::test::eventually([&] { return server.command({"LLEN", keys.turns}).integer == 1; }));
}

TEST_CASE("a TLS file that does not parse stops start-up naming the key, the path and the reason",
          "[redis_memory][node][tls]") {
  auto cfg = test::shared_services()->cfg;
  cfg.memory.backend = "redis";
  cfg.memory.redis_tls = true;
  cfg.memory.redis_tls_ca_file = std::string(SA_SOURCE_DIR) + "/config/default.jsonc";  // readable, not PEM
  auto svc = build_node_services(cfg, [](const std::string&) {});
  REQUIRE_FALSE(svc);
  CHECK_THAT(svc.error(), Catch::Matchers::Contains("memory.redis_tls_ca_file = \"" + cfg.memory.redis_tls_ca_file
                                                    + "\": cannot load the CA bundle"));
}
