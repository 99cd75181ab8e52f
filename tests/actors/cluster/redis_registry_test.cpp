// The Redis member registry against a real redis-server per test (own port, own directory): heartbeats
// found by another node, TTL expiry, seeds, malformed entries, Redis down, hung and restarted, and what
// happens on stop; and discovery over mutual TLS. Every wait is a deadline loop; nothing depends on a sleep
// being long enough.
#include "tests/runtime/redis/redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"

#include "actors/cluster/redis_registry.hpp"
#include "actors/cluster/redis_registry_layout.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <optional>

using namespace std::chrono_literals;
using namespace sa;
namespace rl = sa::cluster::registry_layout;
using sa::test::eventually;
using sa::test::redis_server;

namespace {

using clock_type = std::chrono::steady_clock;

struct registry_config : caf::actor_system_config {
  registry_config() {
    register_message_types(*this);
    set("scheduler.max-threads", size_t{2});
  }
};

struct lookup_outcome {
  std::optional<registry_members> members;
  caf::error error;
  std::chrono::milliseconds took{0};

  bool has(const std::string& name) const {
    return members && std::any_of(members->members.begin(), members->members.end(),
                                  [&](const member_address& m) { return m.name == name; });
  }
};

/// One "node": an actor system, its own Redis client (short timeouts) and a Redis registry.
struct registry_node {
  explicit registry_node(const redis_server& server, std::vector<cluster::host_port> seeds = {},
                         std::chrono::milliseconds reply_timeout = 500ms,
                         std::shared_ptr<const redis_tls_context> tls = nullptr) {
    auto o = sa::test::client_options_for(server, std::move(tls));
    o.connect_timeout = 500ms;
    o.reply_timeout = reply_timeout;
    client = std::make_shared<redis_client>(o);
    cluster::redis_registry_options ro;
    ro.seeds = std::move(seeds);
    registry = cluster::spawn_redis_registry(sys, client, ro);
  }
  ~registry_node() {
    stop();
    client->stop();
  }

  void heartbeat(const member_address& self, uint32_t ttl_ms) {
    caf::anon_send(registry, registry_heartbeat{self, ttl_ms});
  }

  lookup_outcome lookup() {
    lookup_outcome out;
    caf::scoped_actor self{sys};
    auto start = clock_type::now();
    self->request(registry, 10s, registry_lookup{})
      .receive([&](registry_members& m) { out.members = std::move(m); }, [&](caf::error& e) { out.error = e; });
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    return out;
  }

  /// Stops the registry and waits until it is gone.
  void stop() {
    if (!registry)
      return;
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    caf::scoped_actor self{sys};
    self->wait_for(registry);
    registry = nullptr;
  }

  registry_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<redis_client> client;
  member_registry_actor registry;
};

const member_address node_1{"127.0.0.1", 7401, "node-1"};
const auto keys = rl::keys_for("sa", "default");

bool key_exists(const redis_server& server, const std::string& key) {
  return server.command({"EXISTS", key}).integer == 1;
}

struct quiet_logs {
  quiet_logs() { log::init("error", ""); }
};

} // namespace

TEST_CASE("A member that heartbeats is found by another node's lookup, before the configured seeds") {
  quiet_logs quiet;
  redis_server redis;
  registry_node a{redis};
  registry_node b{redis, {{"10.0.0.9", 7400}, {"127.0.0.1", 7401}}};
  a.heartbeat(node_1, 10'000);
  lookup_outcome seen;
  REQUIRE(eventually([&] { return (seen = b.lookup()).has("node-1"); }));
  // node-1, then the seed that is not node-1's address (a seed that is a live member is not repeated).
  REQUIRE(seen.members->members.size() == 2);
  CHECK(seen.members->members[0].host == "127.0.0.1");
  CHECK(seen.members->members[0].port == 7401);
  CHECK(seen.members->members[1].host == "10.0.0.9");
  CHECK(seen.members->members[1].port == 7400);
  CHECK(seen.members->members[1].name.empty());
  // Stored as the layout says: a key with the heartbeat's TTL, and the name in the index.
  auto ttl = redis.command({"PTTL", rl::member_key(keys, "node-1")}).integer;
  CHECK(ttl > 0);
  CHECK(ttl <= 10'000);
  CHECK(redis.command({"SISMEMBER", keys.members, "node-1"}).integer == 1);
}

TEST_CASE("The configured seeds are answered even when no member has heartbeated") {
  quiet_logs quiet;
  redis_server redis;
  registry_node a{redis, {{"10.0.0.1", 7401}, {"10.0.0.2", 7402}}};
  auto seen = a.lookup();
  REQUIRE(seen.members);
  REQUIRE(seen.members->members.size() == 2);
  CHECK(seen.members->members[0].host == "10.0.0.1");
  CHECK(seen.members->members[1].port == 7402);
}

TEST_CASE("A member whose heartbeats stop is gone once its TTL passes, and its name leaves the index") {
  quiet_logs quiet;
  redis_server redis;
  registry_node a{redis};
  registry_node b{redis};
  a.heartbeat(node_1, 300);
  REQUIRE(eventually([&] { return b.lookup().has("node-1"); }));
  REQUIRE(eventually([&] {
    auto seen = b.lookup();
    return seen.members && !seen.has("node-1");
  }));
  CHECK(redis.command({"SISMEMBER", keys.members, "node-1"}).integer == 0);
  CHECK_FALSE(key_exists(redis, rl::member_key(keys, "node-1")));
}

TEST_CASE("Malformed entries are skipped with a warning naming the key, never their content") {
  sa::test::temp_file log_file{""};
  REQUIRE(log::init("warn", log_file.path()));
  {
    redis_server redis;
    auto plant = [&](const std::string& name, const std::string& value) {
      redis.command({"SADD", keys.members, name});
      redis.command({"SET", rl::member_key(keys, name), value});
    };
    plant("bad-json", "{CANARY-JSON");
    plant("bad-port", R"({"host": "127.0.0.1", "port": 70000, "name": "bad-port", "x": "CANARY-PORT"})");
    plant("impostor", R"({"host": "127.0.0.1", "port": 7409, "name": "node-9"})");
    redis.command({"SADD", keys.members, "wrong-type"});
    redis.command({"HSET", rl::member_key(keys, "wrong-type"), "f", "CANARY-HASH"});
    registry_node a{redis};
    a.heartbeat(node_1, 10'000);
    lookup_outcome seen;
    REQUIRE(eventually([&] { return (seen = a.lookup()).has("node-1"); }));
    REQUIRE(seen.members->members.size() == 1);
    // The registry is alive and keeps answering (and warns once per key, not per lookup).
    CHECK(a.lookup().has("node-1"));
    CHECK(redis.command({"SISMEMBER", keys.members, "wrong-type"}).integer == 1);  // reported, not pruned
  }
  REQUIRE(log::init("error", ""));  // flushes and closes the file
  std::ifstream in(log_file.path());
  std::string logs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto* name : {"bad-json", "bad-port", "impostor", "wrong-type"}) {
    auto line = std::string{"event=registry_entry_skipped key=sa:cluster:{default}:member:"} + name + " ";
    INFO(name);
    CHECK(logs.find(line) != std::string::npos);
    CHECK(logs.find(line, logs.find(line) + 1) == std::string::npos);
  }
  CHECK(logs.find("reason=\"port out of range\"") != std::string::npos);
  CHECK(logs.find("CANARY") == std::string::npos);
}

TEST_CASE("With Redis down a lookup answers registry_unavailable within the client's timeouts") {
  quiet_logs quiet;
  redis_server redis;
  registry_node a{redis};
  a.heartbeat(node_1, 10'000);
  REQUIRE(eventually([&] { return a.lookup().has("node-1"); }));
  redis.kill();
  // connect_timeout + reply_timeout (500 ms each) bound it; the slack is for a loaded machine.
  for (int i = 0; i < 3; ++i) {
    auto seen = a.lookup();
    INFO("lookup " << i << " took " << seen.took.count() << " ms");
    CHECK_FALSE(seen.members);
    CHECK(seen.error == make_error(cluster_errc::registry_unavailable));
    CHECK(seen.took < 2'000ms);
  }
  // Heartbeats do not queue up for a Redis that is away: a stale heartbeat is worthless.
  for (int i = 0; i < 5; ++i)
    a.heartbeat(node_1, 10'000);
  CHECK(a.lookup().error == make_error(cluster_errc::registry_unavailable));  // ordered after the heartbeats
  CHECK(a.client->stats().pending == 0);
}

TEST_CASE("With Redis hung a lookup answers registry_unavailable within the reply timeout") {
  quiet_logs quiet;
  redis_server redis;
  registry_node a{redis};
  REQUIRE(a.lookup().members);
  redis.pause();
  auto seen = a.lookup();
  redis.resume();
  INFO("took " << seen.took.count() << " ms");
  CHECK(seen.error == make_error(cluster_errc::registry_unavailable));
  CHECK(seen.took < 2'000ms);
  REQUIRE(eventually([&] { return a.lookup().members.has_value(); }));  // and recovers with the connection
}

TEST_CASE("After Redis restarts, heartbeats resume and the member is found again") {
  quiet_logs quiet;
  redis_server redis;  // no persistence: the restarted server has forgotten every key
  registry_node a{redis};
  registry_node b{redis};
  a.heartbeat(node_1, 10'000);
  REQUIRE(eventually([&] { return b.lookup().has("node-1"); }));
  redis.kill();
  CHECK(b.lookup().error == make_error(cluster_errc::registry_unavailable));
  redis.start();
  CHECK_FALSE(key_exists(redis, rl::member_key(keys, "node-1")));
  // As the cluster actor does: a heartbeat every tick; the ones sent before the reconnect are dropped.
  CHECK(eventually([&] {
    a.heartbeat(node_1, 10'000);
    return b.lookup().has("node-1");
  }));
}

TEST_CASE("A stopping registry deletes its node's key and answers the lookups still waiting for Redis") {
  quiet_logs quiet;
  redis_server redis;
  SECTION("the key goes at once, not when its TTL runs out") {
    registry_node a{redis};
    a.heartbeat(node_1, 60'000);
    REQUIRE(eventually([&] { return key_exists(redis, rl::member_key(keys, "node-1")); }));
    a.stop();
    CHECK(eventually([&] { return !key_exists(redis, rl::member_key(keys, "node-1")); }, 5s));
  }
  SECTION("a lookup in flight gets an error, not silence") {
    registry_node a{redis, {}, /*reply_timeout=*/30s};  // only the stop can answer it in time
    REQUIRE(a.lookup().members);
    redis.pause();
    caf::scoped_actor self{a.sys};
    auto pending = self->request(a.registry, 20s, registry_lookup{});
    REQUIRE(eventually([&] { return a.client->stats().in_flight == 1; }, 5s));  // written, unanswered
    auto start = clock_type::now();
    a.stop();
    caf::error got;
    pending.receive([&](registry_members&) { FAIL("a hung Redis answered"); }, [&](caf::error& e) { got = e; });
    CHECK(got == caf::sec::request_receiver_down);
    CHECK(clock_type::now() - start < 5s);
    redis.resume();
  }
}

TEST_CASE("Over mutual TLS a member that heartbeats is found by another node's lookup") {
  quiet_logs quiet;
  redis_server redis{sa::test::tls_only(/*auth_clients=*/true)};
  auto tls = sa::test::client_tls(redis.tls().ca_cert, &redis.tls());
  registry_node a{redis, {}, 500ms, tls};
  registry_node b{redis, {}, 500ms, tls};
  a.heartbeat(node_1, 10'000);
  lookup_outcome seen;
  REQUIRE(eventually([&] { return (seen = b.lookup()).has("node-1"); }));
  CHECK(seen.members->members[0].port == 7401);
  CHECK(redis.command({"SISMEMBER", keys.members, "node-1"}).integer == 1);
  CHECK(b.client->connected());
}
