// The Redis memory backend against a real redis-server per test (own port, own directory): trimming, TTL,
// the summary, idempotent retries, tenant namespacing, compare-and-set between two nodes, degraded mode
// while Redis is away, the bounded queue, conflicts on flush, and Redis killed and restarted mid-conversation
// with no acknowledged turn lost; a round trip over mutual TLS. Every wait has a deadline; the invariants do
// not depend on timing.
#include "tests/runtime/redis/redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"

#include "actors/memory/memory_store.hpp"
#include "actors/memory/redis_layout.hpp"
#include "actors/memory/redis_memory.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"
#include "tests/support/prometheus_text.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <set>

using namespace std::chrono_literals;
using namespace sa;
namespace rl = sa::redis_layout;
using sa::test::eventually;
using sa::test::redis_server;

namespace {

const tenant_id acme{"acme"};
const tenant_id globex{"globex"};
const user_id alice{"alice"};
const user_id bob{"bob"};

turn_record turn(turn_number n, std::string cmid = {}, intent in = intent::billing) {
  turn_record t;
  t.number = n;
  t.client_message_id = cmid.empty() ? "m" + std::to_string(n) : std::move(cmid);
  t.user_text = "Question " + std::to_string(n) + ". More detail follows.";
  t.answer_text = "Answer " + std::to_string(n) + "! And more.";
  t.intent = in;
  t.at_unix_ms = 1700000000000 + n;
  return t;
}

memory_store::limits small_window(std::size_t max_turns = 3, std::chrono::seconds ttl = 600s) {
  memory_store::limits l;
  l.max_turns = max_turns;
  l.ttl = ttl;
  l.summary_max_chars = 1200;
  l.max_sessions = 1000;
  return l;
}

struct node_config : caf::actor_system_config {
  node_config() {
    register_message_types(*this);
    set("scheduler.max-threads", size_t{2});
  }
};

/// One "node": an actor system, its own Redis client and a redis memory actor.
struct memory_node {
  explicit memory_node(const redis_server& server, memory_store::limits limits = small_window(),
                       redis_client_options extra = {}) {
    extra.host = "127.0.0.1";
    extra.port = server.port();
    extra.backoff_initial = 5ms;
    extra.backoff_max = 100ms;
    client = std::make_shared<redis_client>(extra);
    redis_memory_options o;
    o.limits = limits;
    o.load_timeout = 2s;
    o.metrics = figures;
    memory = spawn_redis_memory(sys, client, o);
  }
  ~memory_node() {
    caf::anon_send_exit(memory, caf::exit_reason::user_shutdown);
    client->stop();
  }

  struct append_outcome {
    std::optional<memory_ack> ack;
    support_errc error = support_errc::ok;
  };

  append_outcome append(const tenant_id& t, const std::string& s, const turn_record& rec, const user_id& owner = alice) {
    append_outcome out;
    caf::scoped_actor self{sys};
    self->request(memory, 10s, memory_append{t, session_id{s}, owner, rec})
      .receive([&](memory_ack& a) { out.ack = a; }, [&](caf::error& e) { out.error = to_support_errc(e); });
    return out;
  }

  conversation_memory load(const tenant_id& t, const std::string& s) {
    conversation_memory out;
    caf::scoped_actor self{sys};
    self->request(memory, 10s, memory_load{t, session_id{s}})
      .receive([&](conversation_memory& m) { out = std::move(m); }, [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  memory_stats stats() {
    memory_stats out;
    caf::scoped_actor self{sys};
    self->request(memory, 10s, memory_stats_request{})
      .receive([&](memory_stats& s) { out = std::move(s); }, [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  /// sa_memory_backend_errors_total{backend="redis",kind}, as /metrics would show it.
  double backend_errors(const std::string& kind) const {
    sa::test::prom_exposition x;
    std::string error;
    REQUIRE(sa::test::parse_prometheus_text(figures->render(), x, error));
    return x.sum("sa_memory_backend_errors_total", {{"backend", "redis"}, {"kind", kind}});
  }

  node_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<redis_client> client;
  std::shared_ptr<metrics> figures = std::make_shared<metrics>();
  memory_actor memory;
};

std::vector<turn_record> stored_turns(const redis_server& server, const tenant_id& t, const std::string& s) {
  auto keys = rl::keys_for("sa", t, session_id{s});
  std::vector<turn_record> out;
  for (auto& e : server.command({"LRANGE", keys.turns, "0", "-1"}).elements) {
    turn_record rec;
    REQUIRE(rl::decode_turn(e.str, rec));
    out.push_back(rec);
  }
  return out;
}

std::string meta(const redis_server& server, const tenant_id& t, const std::string& s, const std::string& field) {
  return server.command({"HGET", rl::keys_for("sa", t, session_id{s}).meta, field}).str;
}

struct quiet_logs {
  quiet_logs() { log::init("error", ""); }
};
const quiet_logs quiet;

} // namespace

TEST_CASE("the window is trimmed atomically in Redis and the summary is the in-process store's", "[redis_memory]") {
  redis_server server;
  memory_node node{server, small_window(3)};
  memory_store reference{small_window(3)};
  for (turn_number n = 1; n <= 6; ++n) {
    auto r = node.append(acme, "s-1", turn(n));
    REQUIRE(r.ack);
    CHECK(r.ack->committed == n);
    CHECK_FALSE(r.ack->duplicate);
    reference.append(acme, session_id{"s-1"}, alice, turn(n), memory_store::clock::now(), nullptr);
  }
  auto stored = stored_turns(server, acme, "s-1");
  REQUIRE(stored.size() == 3);
  CHECK(stored[0].number == 4);
  CHECK(stored[2].number == 6);
  auto keys = rl::keys_for("sa", acme, session_id{"s-1"});
  // ids follow the window: only turns 4..6 can be recognized as retries
  CHECK(server.command({"HLEN", keys.ids}).integer == 6);
  CHECK(server.command({"HGET", keys.ids, "c:m4"}).str == "4");
  CHECK(server.command({"HEXISTS", keys.ids, "c:m3"}).integer == 0);
  CHECK(meta(server, acme, "s-1", "last") == "6");
  CHECK(meta(server, acme, "s-1", "owner") == "alice");
  auto expected = reference.load(acme, session_id{"s-1"}, memory_store::clock::now());
  CHECK(meta(server, acme, "s-1", "summary") == expected.summary);
  CHECK_THAT(expected.summary, Catch::Matchers::StartsWith("Turn 1 (billing): customer: Question 1."));
  CHECK_THAT(expected.summary, Catch::Matchers::Contains("Turn 3 (billing)"));

  // Another node (an empty working copy) loads exactly what the in-process store holds.
  memory_node other{server, small_window(3)};
  auto loaded = other.load(acme, "s-1");
  CHECK(loaded.last_turn == 6);
  CHECK(loaded.owner == alice);
  CHECK(loaded.summary == expected.summary);
  REQUIRE(loaded.turns.size() == 3);
  CHECK(loaded.turns[0].user_text == expected.turns[0].user_text);
  CHECK(loaded.turns[2].answer_text == expected.turns[2].answer_text);
}

TEST_CASE("every key of a session gets the TTL, refreshed on every turn", "[redis_memory]") {
  redis_server server;
  memory_node node{server, small_window(3, 600s)};
  REQUIRE(node.append(acme, "s-1", turn(1)).ack);
  auto keys = rl::keys_for("sa", acme, session_id{"s-1"});
  for (auto& k : {keys.turns, keys.ids, keys.meta}) {
    auto pttl = server.command({"PTTL", k}).integer;
    CHECK(pttl > 590000);
    CHECK(pttl <= 600000);
  }
  for (auto& k : {keys.turns, keys.ids, keys.meta})
    server.command({"PEXPIRE", k, "5000"});
  REQUIRE(node.append(acme, "s-1", turn(2)).ack);
  for (auto& k : {keys.turns, keys.ids, keys.meta})
    CHECK(server.command({"PTTL", k}).integer > 590000);

  memory_node short_lived{server, small_window(3, 1s)};
  REQUIRE(short_lived.append(acme, "s-2", turn(1)).ack);
  auto k2 = rl::keys_for("sa", acme, session_id{"s-2"});
  CHECK(server.command({"EXISTS", k2.meta}).integer == 1);
  CHECK(eventually([&] { return server.command({"EXISTS", k2.turns, k2.ids, k2.meta}).integer == 0; }, 10s));
}

TEST_CASE("retries are idempotent by client message id, in the working copy and in Redis", "[redis_memory]") {
  redis_server server;
  memory_node node{server};
  REQUIRE(node.append(acme, "s-1", turn(1)).ack);
  auto again = node.append(acme, "s-1", turn(1));
  REQUIRE(again.ack);
  CHECK(again.ack->duplicate);
  // A node that never saw the session (empty working copy): Redis recognizes the retry.
  memory_node other{server};
  auto retry = other.append(acme, "s-1", turn(1));
  REQUIRE(retry.ack);
  CHECK(retry.ack->duplicate);
  CHECK(retry.ack->committed == 1);
  // The script itself, sent twice as a lost reply would be: the second run changes nothing.
  auto keys = rl::keys_for("sa", acme, session_id{"s-1"});
  rl::append_args a;
  a.turn = turn(2);
  a.turn_json = rl::encode_turn(a.turn);
  a.owner = alice;
  a.max_turns = 3;
  auto first = server.command(rl::append_command(keys, a, false));
  auto second = server.command(rl::append_command(keys, a, false));
  CHECK(first.elements.at(0).integer == 0);
  CHECK(second.elements.at(0).integer == 1);
  CHECK(server.command({"LLEN", keys.turns}).integer == 2);
  // A different message under a number already taken is a conflict, not a duplicate.
  auto clash = other.append(acme, "s-1", turn(2, "someone-else"));
  CHECK(clash.error == support_errc::turn_conflict);
  // An empty client message id is recognized by the turn number.
  memory_node third{server};
  turn_record no_id = turn(1);
  no_id.client_message_id.clear();
  REQUIRE(third.append(acme, "s-9", no_id).ack);
  auto local_dup = third.append(acme, "s-9", no_id);
  REQUIRE(local_dup.ack);
  CHECK(local_dup.ack->duplicate);
  memory_node fourth{server};
  auto dup = fourth.append(acme, "s-9", no_id);
  REQUIRE(dup.ack);
  CHECK(dup.ack->duplicate);
}

TEST_CASE("tenants are namespaced: the same session id under two tenants never meets", "[redis_memory]") {
  redis_server server;
  memory_node node{server};
  REQUIRE(node.append(acme, "shared-id", turn(1, "a1")).ack);
  REQUIRE(node.append(globex, "shared-id", turn(1, "g1"), bob).ack);
  memory_node other{server};
  auto a = other.load(acme, "shared-id");
  auto g = other.load(globex, "shared-id");
  REQUIRE(a.turns.size() == 1);
  REQUIRE(g.turns.size() == 1);
  CHECK(a.turns[0].client_message_id == "a1");
  CHECK(g.turns[0].client_message_id == "g1");
  CHECK(g.owner == bob);
  auto acme_keys = server.command({"KEYS", "sa:acme:*"});
  CHECK(acme_keys.elements.size() == 3);
  for (auto& k : acme_keys.elements)
    CHECK(k.str.find("globex") == std::string::npos);
  CHECK(server.command({"KEYS", "sa:globex:*"}).elements.size() == 3);
  // The owner is enforced in Redis too: another user cannot write the session.
  memory_node third{server};
  CHECK(third.append(acme, "shared-id", turn(2), bob).error == support_errc::session_forbidden);
}

TEST_CASE("a session whose meta Redis evicted is never read by, or mixed into, another user's", "[redis_memory]") {
  // A maxmemory policy such as volatile-lru can evict one key of a session: without meta there is no owner
  // to check, so its leftover turns and ids are neither loaded nor appended to.
  redis_server server;
  memory_node node{server};
  REQUIRE(node.append(acme, "evicted", turn(1)).ack);
  REQUIRE(node.append(acme, "evicted", turn(2)).ack);
  auto keys = rl::keys_for("sa", acme, session_id{"evicted"});
  REQUIRE(server.command({"DEL", keys.meta}).integer == 1);
  memory_node other{server};
  auto loaded = other.load(acme, "evicted");
  CHECK(loaded.turns.empty());
  CHECK(loaded.owner.value.empty());
  CHECK(loaded.last_turn == 0);
  REQUIRE(other.append(acme, "evicted", turn(1, "bob-1"), bob).ack);
  auto stored = stored_turns(server, acme, "evicted");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].client_message_id == "bob-1");
  CHECK(meta(server, acme, "evicted", "owner") == "bob");
  CHECK(server.command({"HEXISTS", keys.ids, "c:m1"}).integer == 0);  // alice's ids went with her turns
}

TEST_CASE("a load answered before this node's own later append does not roll the working copy back",
          "[redis_memory]") {
  // The load is sent, then turn 2 is appended; Redis answers the load with turn 1 as the last, then commits
  // turn 2. The working copy keeps turn 2, so turn 3 is accepted (it was refused here as a conflict).
  redis_server server;
  memory_node node{server};
  REQUIRE(node.append(acme, "s-order", turn(1)).ack);
  server.pause();
  caf::scoped_actor self{node.sys};
  self->send(node.memory, memory_load{acme, session_id{"s-order"}});
  self->send(node.memory, memory_append{acme, session_id{"s-order"}, alice, turn(2)});
  CHECK(eventually([&] { return node.stats().redis_in_flight + node.stats().redis_pending >= 2; }, 5s));
  server.resume();
  std::optional<conversation_memory> loaded;
  std::optional<memory_ack> acked;
  for (int i = 0; i < 2; ++i)
    self->receive([&](conversation_memory& m) { loaded = std::move(m); }, [&](memory_ack& a) { acked = a; },
                  [&](caf::error& e) { FAIL(node.sys.render(e)); }, caf::after(10s) >> [] { FAIL("no answer"); });
  REQUIRE(loaded);
  REQUIRE(acked);
  CHECK(loaded->last_turn == 2);  // the working copy, ahead of what Redis answered
  auto third = node.append(acme, "s-order", turn(3));
  CHECK(third.ack);
  CHECK(third.error == support_errc::ok);
  CHECK(stored_turns(server, acme, "s-order").size() == 3);

  // With no append on its way, Redis's answer wins even over a copy ahead of it (Redis lost the session):
  // the copy is stale, and keeping it would refuse the session's next turn.
  auto keys = rl::keys_for("sa", acme, session_id{"s-order"});
  server.command({"DEL", keys.turns, keys.ids, keys.meta});
  CHECK(node.load(acme, "s-order").last_turn == 0);
  CHECK(node.append(acme, "s-order", turn(1, "again-1")).ack);
}

TEST_CASE("two nodes that both believe they own a session can neither interleave nor lose turns", "[redis_memory]") {
  redis_server server;
  memory_node a{server, small_window(1000)};
  memory_node b{server, small_window(1000)};
  CHECK(a.load(acme, "s-1").last_turn == 0);
  CHECK(b.load(acme, "s-1").last_turn == 0);
  REQUIRE(a.append(acme, "s-1", turn(1, "from-a")).ack);
  CHECK(b.append(acme, "s-1", turn(1, "from-b")).error == support_errc::turn_conflict);
  auto seen = b.load(acme, "s-1");  // the loser reloads and sees the winner's turn
  REQUIRE(seen.turns.size() == 1);
  CHECK(seen.turns[0].client_message_id == "from-a");
  REQUIRE(b.append(acme, "s-1", turn(2, "b-2")).ack);
  // a's working copy is stale (last = 1): Redis refuses, a's copy is dropped, the next load is fresh
  CHECK(a.append(acme, "s-1", turn(2, "a-2")).error == support_errc::turn_conflict);
  CHECK(a.load(acme, "s-1").last_turn == 2);

  // Both race on one session: each round, each node loads and appends last + 1 with its own id.
  std::atomic<bool> go{false};
  auto racer = [&](memory_node& n, const std::string& name, std::vector<std::string>& mine, int& unexpected) {
    while (!go)
      std::this_thread::yield();
    for (int round = 0; round < 60; ++round) {
      auto m = n.load(acme, "race");
      auto id = name + "-" + std::to_string(round);
      auto r = n.append(acme, "race", turn(m.last_turn + 1, id));
      if (r.ack && !r.ack->duplicate)
        mine.push_back(id);
      else if (r.error != support_errc::turn_conflict)
        ++unexpected;  // (Catch's CHECK is not thread-safe)
    }
  };
  std::vector<std::string> won_a, won_b;
  int unexpected_a = 0, unexpected_b = 0;
  std::thread ta([&] { racer(a, "a", won_a, unexpected_a); });
  std::thread tb([&] { racer(b, "b", won_b, unexpected_b); });
  go = true;
  ta.join();
  tb.join();
  CHECK(unexpected_a == 0);
  CHECK(unexpected_b == 0);
  CHECK(won_a.size() + won_b.size() >= 60);  // every round someone wins
  auto stored = stored_turns(server, acme, "race");
  REQUIRE(stored.size() == won_a.size() + won_b.size());  // no acknowledged turn lost, none extra
  for (size_t i = 0; i < stored.size(); ++i)
    CHECK(stored[i].number == i + 1);  // no gap, no number twice: never interleaved
  std::set<std::string> ids;
  for (auto& t : stored)
    ids.insert(t.client_message_id);
  for (auto& id : won_a)
    CHECK(ids.count(id) == 1);
  for (auto& id : won_b)
    CHECK(ids.count(id) == 1);
  CHECK(meta(server, acme, "race", "last") == std::to_string(stored.size()));
}

TEST_CASE("while Redis is away, sessions keep working from the working copy", "[redis_memory]") {
  redis_server server{{true, {}, {}}};
  memory_node node{server, small_window(5)};
  REQUIRE(node.append(acme, "s-1", turn(1)).ack);
  server.kill();
  REQUIRE(eventually([&] { return !node.client->connected() && node.client->stats().connect_failures > 0; }));
  auto mem = node.load(acme, "s-1");  // Redis is down: the working copy answers at once
  CHECK(mem.last_turn == 1);
  auto next = node.append(acme, "s-1", turn(2));  // acknowledged: queued for Redis
  REQUIRE(next.ack);
  CHECK(next.ack->committed == 2);
  CHECK(node.load(acme, "s-1").last_turn == 2);
  CHECK(node.load(acme, "unknown").last_turn == 0);  // degraded: an unknown session starts empty
  auto s = node.stats();
  CHECK(s.backend == "redis");
  CHECK_FALSE(s.redis_connected);
  CHECK(s.acked_while_queued == 1);
  CHECK(s.load_fallbacks >= 3);
  CHECK(s.redis_pending == 1);
  server.start();
  REQUIRE(eventually([&] { return node.client->stats().pending == 0 && node.client->stats().in_flight == 0; }));
  auto stored = stored_turns(server, acme, "s-1");  // turn 1 from the AOF, turn 2 from the queue
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].number == 2);
  CHECK(node.stats().lost == 0);
}

TEST_CASE("a full write queue refuses appends with busy and stores nothing of them", "[redis_memory]") {
  redis_server server;
  redis_client_options tight;
  tight.max_pending = 3;
  server.kill();
  memory_node node{server, small_window(5), tight};
  REQUIRE(eventually([&] { return node.client->stats().connect_failures > 0; }));
  for (int s = 0; s < 3; ++s)
    REQUIRE(node.append(acme, "s-" + std::to_string(s), turn(1)).ack);
  auto refused = node.append(acme, "s-3", turn(1));
  CHECK_FALSE(refused.ack);
  CHECK(refused.error == support_errc::busy);
  CHECK(node.load(acme, "s-3").last_turn == 0);  // not half-stored in the working copy either
  auto st = node.stats();
  CHECK(st.appends_refused == 1);
  CHECK(st.redis_overflows >= 1);
  server.start();
  REQUIRE(eventually([&] { return node.client->stats().pending == 0 && node.client->stats().in_flight == 0; }));
  for (int s = 0; s < 3; ++s)
    CHECK(stored_turns(server, acme, "s-" + std::to_string(s)).size() == 1);
  CHECK(stored_turns(server, acme, "s-3").empty());
  // The session can write its turn once there is room again.
  REQUIRE(node.append(acme, "s-3", turn(1)).ack);
}

TEST_CASE("backend problems count in sa_memory_backend_errors_total by kind", "[redis_memory][metrics]") {
  redis_server server;
  redis_client_options tight;
  tight.max_pending = 1;
  server.kill();
  memory_node node{server, small_window(5), tight};
  REQUIRE(eventually([&] { return node.client->stats().connect_failures > 0; }));
  CHECK(node.load(acme, "s-1").last_turn == 0);  // Redis is down: answered from the working copy
  CHECK(node.backend_errors("load_fallback") == 1);
  REQUIRE(node.append(acme, "s-1", turn(1)).ack);  // queued: acknowledged, not an error
  CHECK(node.append(acme, "s-2", turn(1)).error == support_errc::busy);
  CHECK(node.backend_errors("append_refused") == 1);
  CHECK(node.backend_errors("write_lost") == 0);
}

TEST_CASE("an acknowledged turn that conflicts when flushed is parked, not dropped", "[redis_memory]") {
  redis_server server{{false, "pw-one", {}}};
  redis_client_options with_pw;
  with_pw.password = "pw-one";
  memory_node a{server, small_window(5), with_pw};
  REQUIRE(a.append(acme, "s-1", turn(1, "a-1")).ack);
  // Node a loses its connection and cannot get back in (its password no longer works) ...
  server.command({"CONFIG", "SET", "requirepass", "pw-two"});
  server.use_password("pw-two");
  server.command({"CLIENT", "KILL", "TYPE", "normal"});
  REQUIRE(eventually([&] { return a.client->stats().disconnects >= 1 && !a.client->connected(); }));
  auto queued = a.append(acme, "s-1", turn(2, "a-2"));  // ... and acknowledges turn 2 from its queue
  REQUIRE(queued.ack);
  // Meanwhile another node takes the session over and commits its own turn 2.
  redis_client_options b_pw;
  b_pw.password = "pw-two";
  memory_node b{server, small_window(5), b_pw};
  b.load(acme, "s-1");
  REQUIRE(b.append(acme, "s-1", turn(2, "b-2")).ack);
  // Node a gets back in: its flush conflicts, and the turn is kept in the conflicts list.
  server.command({"CONFIG", "SET", "requirepass", "pw-one"});
  server.use_password("pw-one");
  REQUIRE(eventually([&] { return a.stats().parked == 1; }));
  REQUIRE(eventually([&] { return a.client->stats().pending == 0 && a.client->stats().in_flight == 0; }));
  auto stored = stored_turns(server, acme, "s-1");
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].client_message_id == "b-2");
  auto parked = server.command({"LRANGE", rl::keys_for("sa", acme, session_id{"s-1"}).conflicts, "0", "-1"});
  REQUIRE(parked.elements.size() == 1);
  CHECK_THAT(parked.elements[0].str, Catch::Matchers::Contains("\"reason\":\"conflict\""));
  CHECK_THAT(parked.elements[0].str, Catch::Matchers::Contains("\"client_message_id\":\"a-2\""));
  auto s = a.stats();
  CHECK(s.lost == 0);
  CHECK(s.conflicts == 1);
  CHECK(a.load(acme, "s-1").turns.back().client_message_id == "b-2");  // a's copy follows Redis again
}

TEST_CASE("Redis killed and restarted mid-conversation: no acknowledged turn is lost", "[redis_memory]") {
  redis_server server{{true, {}, {}}};  // appendfsync always: what Redis confirmed is on disk
  memory_node node{server, small_window(100)};
  const int sessions = 20;
  const turn_number turns = 12;
  std::map<std::string, std::vector<turn_number>> acked;
  caf::scoped_actor self{node.sys};
  for (turn_number n = 1; n <= turns; ++n) {
    // One round: every session's next turn in flight at once (pipelined), then all the answers.
    using handle = decltype(self->request(node.memory, 20s, memory_append{}));
    std::vector<handle> pending;
    for (int s = 0; s < sessions; ++s)
      pending.push_back(self->request(node.memory, 20s,
                                      memory_append{acme, session_id{"s-" + std::to_string(s)}, alice,
                                                    turn(n, "s" + std::to_string(s) + "-" + std::to_string(n))}));
    if (n == 4)
      server.kill();  // mid-round: some of these appends are confirmed, some in flight, some not yet sent
    if (n == 9)
      server.start();  // the AOF is replayed; the queued and resent writes follow
    for (int s = 0; s < sessions; ++s) {
      bool ok = false;
      pending[static_cast<size_t>(s)].receive([&](memory_ack& a) { ok = a.committed == n; },
                                              [&](caf::error& e) { FAIL("append failed: " << node.sys.render(e)); });
      CHECK(ok);
      if (ok)
        acked["s-" + std::to_string(s)].push_back(n);
    }
  }
  REQUIRE(eventually([&] { return node.client->stats().pending == 0 && node.client->stats().in_flight == 0; }, 30s));
  auto st = node.stats();
  CHECK(st.acked_while_queued > 0);  // the outage was real ...
  CHECK(st.lost == 0);                // ... and cost nothing
  CHECK(st.parked == 0);
  CHECK(node.client->stats().reconnects >= 1);
  for (auto& [session, numbers] : acked) {
    auto stored = stored_turns(server, acme, session);
    REQUIRE(stored.size() == numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i)
      CHECK(stored[i].number == numbers[i]);
    CHECK(meta(server, acme, session, "last") == std::to_string(turns));
  }
  // And after yet another crash, a fresh node reads everything back from the AOF.
  server.kill();
  server.start();
  memory_node fresh{server, small_window(100)};
  CHECK(fresh.load(acme, "s-7").turns.size() == turns);
}

TEST_CASE("a flushed script cache (NOSCRIPT) falls back to EVAL without losing the turn", "[redis_memory]") {
  redis_server server;
  memory_node node{server, small_window(5)};
  REQUIRE(node.append(acme, "s-1", turn(1)).ack);
  server.command({"SCRIPT", "FLUSH"});
  auto r = node.append(acme, "s-1", turn(2));
  REQUIRE(r.ack);
  CHECK(r.ack->committed == 2);
  CHECK_FALSE(r.ack->duplicate);
  server.command({"SCRIPT", "FLUSH"});
  memory_node other{server, small_window(5)};
  server.command({"SCRIPT", "FLUSH"});
  CHECK(other.load(acme, "s-1").last_turn == 2);
  CHECK(stored_turns(server, acme, "s-1").size() == 2);
}

TEST_CASE("over mutual TLS, turns reach Redis and another node loads them back", "[redis_memory][tls]") {
  // A locked-down Redis: no client certificate, no connection.
  redis_server server{sa::test::tls_only(/*auth_clients=*/true)};
  redis_client_options over_tls;
  over_tls.tls = sa::test::client_tls(server.tls().ca_cert, &server.tls());
  memory_node a{server, small_window(3), over_tls};
  for (turn_number n = 1; n <= 5; ++n) {
    auto r = a.append(acme, "s-tls", turn(n));
    REQUIRE(r.ack);
    CHECK(r.ack->committed == n);
  }
  auto stored = stored_turns(server, acme, "s-tls");  // read by the test's own TLS connection
  REQUIRE(stored.size() == 3);
  CHECK(stored[2].number == 5);
  memory_node b{server, small_window(3), over_tls};
  auto loaded = b.load(acme, "s-tls");
  CHECK(loaded.last_turn == 5);
  CHECK(loaded.owner == alice);
  REQUIRE(loaded.turns.size() == 3);
  CHECK(loaded.turns[0].number == 3);
  CHECK_THAT(loaded.summary, Catch::Matchers::Contains("Turn 2 (billing)"));
  CHECK(b.stats().redis_connected);
}
