// The Redis client against a real redis-server per test (own port, own directory): replies of every type,
// pipelining order, waiting for a connection, the bounded queue, resending after a connection loss, a hung
// server, AUTH/SELECT and preloaded scripts on every connection, stop. Waits have deadlines; no sleeps.
#include "redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"

#include "runtime/redis_client.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using sa::redis_error_kind;
using sa::redis_reply;
using kind = sa::redis_reply::kind;

using sa::test::cmd;
using sa::test::submit;

namespace {

sa::redis_client_options options_for(const sa::test::redis_server& server) {
  return sa::test::client_options_for(server);
}

std::vector<std::string> list(const sa::test::redis_server& server, const std::string& key, int db = 0) {
  auto r = server.command({"LRANGE", key, "0", "-1"}, db);
  std::vector<std::string> out;
  for (auto& e : r.elements)
    out.push_back(e.str);
  return out;
}

} // namespace

TEST_CASE("replies arrive with their type: status, string, integer, nil, array and error", "[redis]") {
  sa::test::redis_server server;
  sa::redis_client client{options_for(server)};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto set = submit(client, l, {"SET", "k", std::string("v\0w", 3)});
  auto get = submit(client, l, {"GET", "k"});
  auto incr = submit(client, l, {"INCR", "n"});
  auto nil = submit(client, l, {"GET", "missing"});
  auto push = submit(client, l, {"RPUSH", "l", "a", "b"});
  auto range = submit(client, l, {"LRANGE", "l", "0", "-1"});
  auto bad = submit(client, l, {"INCR", "k"});
  REQUIRE(l->wait_done(7));
  CHECK(l->outcome(set).reply.type == kind::status);
  CHECK(l->outcome(set).reply.str == "OK");
  CHECK(l->outcome(get).reply.type == kind::string);
  CHECK(l->outcome(get).reply.str == std::string("v\0w", 3));  // binary-safe both ways
  CHECK(l->outcome(incr).reply.integer == 1);
  CHECK(l->outcome(nil).reply.type == kind::nil);
  CHECK(l->outcome(push).reply.integer == 2);
  auto r = l->outcome(range).reply;
  REQUIRE(r.type == kind::array);
  REQUIRE(r.elements.size() == 2);
  CHECK(r.elements[1].str == "b");
  CHECK(l->outcome(bad).reply.is_error("ERR"));
  CHECK(client.stats().error_replies == 1);
  CHECK(client.connected());
}

TEST_CASE("pipelined commands are answered in submission order", "[redis]") {
  sa::test::redis_server server;
  auto opts = options_for(server);
  opts.max_in_flight = 64;
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5000; ++i)
    ids.push_back(submit(client, l, {"INCR", "counter"}));
  REQUIRE(l->wait_done(ids.size()));
  CHECK(l->order() == ids);
  for (size_t i = 0; i < ids.size(); ++i)
    REQUIRE(l->outcome(ids[i]).reply.integer == static_cast<long long>(i + 1));
  CHECK(client.drain(5s));
  CHECK(client.stats().in_flight == 0);
}

TEST_CASE("commands submitted while Redis is down wait, then run in order once it is up", "[redis]") {
  sa::test::redis_server server;
  server.kill();
  sa::redis_client client{options_for(server)};
  REQUIRE(sa::test::eventually([&] { return client.stats().connect_failures >= 1; }));
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  for (int i = 0; i < 100; ++i)
    submit(client, l, {"RPUSH", "queue", std::to_string(i)});
  REQUIRE(l->wait_waiting(100));
  CHECK(client.stats().pending == 100);
  server.start();
  REQUIRE(l->wait_done(100));
  auto items = list(server, "queue");
  REQUIRE(items.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(items[static_cast<size_t>(i)] == std::to_string(i));
  CHECK(client.stats().connects == 1);
}

TEST_CASE("a command that does not wait fails at once while Redis is known to be down", "[redis]") {
  sa::test::redis_server server;
  server.kill();
  sa::redis_client client{options_for(server)};
  auto o = sa::test::refused_outcome(client, 1);  // not answered: not_connected
  CHECK(o.waiting == 0);
  CHECK_THAT(o.error.message, Catch::Matchers::Contains(server.address()));
}

TEST_CASE("the queue is bounded: a submit beyond max_pending is refused and counted", "[redis]") {
  sa::test::redis_server server;
  server.kill();
  auto opts = options_for(server);
  opts.max_pending = 10;
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  for (int i = 0; i < 10; ++i)
    submit(client, l, {"RPUSH", "q", std::to_string(i)});
  auto refused = client.submit(cmd({"RPUSH", "q", "10"}), l);
  CHECK_FALSE(refused);
  CHECK(refused.refused == redis_error_kind::overflow);
  CHECK(client.stats().overflows == 1);
  // A command sent in place of one already accepted (EVAL after NOSCRIPT) is never refused.
  auto in_place = cmd({"RPUSH", "q", "replaced"});
  in_place.replaces_accepted = true;
  REQUIRE(client.submit(in_place, l));
  CHECK(client.stats().overflows == 1);
  // What was accepted is not lost: it runs once Redis is back.
  server.start();
  REQUIRE(l->wait_done(11));
  CHECK(list(server, "q").size() == 11);
}

TEST_CASE("a connection lost mid-pipeline resends idempotent commands and fails the others", "[redis]") {
  sa::test::redis_server server;
  sa::redis_client client{options_for(server)};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"PING"});
  REQUIRE(l->wait_done(1));
  server.pause();  // written but never answered...
  auto idem = submit(client, l, {"SET", "idem", "1"}, true, /*resend=*/true);
  auto other = submit(client, l, {"INCR", "counter"}, true, /*resend=*/false);
  REQUIRE(sa::test::eventually([&] { return client.stats().in_flight == 2; }));
  server.kill();  // ...then the connection breaks
  REQUIRE(l->wait_done(2));  // PING + the INCR
  auto o = l->outcome(other);
  CHECK(o.error.kind == redis_error_kind::connection_lost);
  REQUIRE(l->wait_waiting(1));
  CHECK(l->outcome(idem).waiting == 1);
  CHECK_FALSE(l->outcome(idem).done);
  server.start();
  REQUIRE(l->wait_done(3));
  CHECK(l->outcome(idem).reply.str == "OK");
  CHECK(server.command({"GET", "idem"}).str == "1");
  auto s = client.stats();
  CHECK(s.resent == 1);
  CHECK(s.disconnects == 1);
  CHECK(s.reconnects == 1);
}

TEST_CASE("a hung server is detected by the reply timeout and the connection replaced", "[redis]") {
  sa::test::redis_server server;
  auto opts = options_for(server);
  opts.reply_timeout = 200ms;
  opts.connect_timeout = 200ms;
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"PING"});
  REQUIRE(l->wait_done(1));
  server.pause();
  auto idem = submit(client, l, {"SET", "k", "v"}, true, true);
  auto plain = submit(client, l, {"INCR", "n"});
  REQUIRE(l->wait_done(2));
  CHECK(l->outcome(plain).error.kind == redis_error_kind::timeout);
  REQUIRE(l->wait_waiting(1));
  CHECK(client.stats().disconnects == 1);
  server.resume();
  REQUIRE(l->wait_done(3));
  CHECK(l->outcome(idem).reply.str == "OK");
  CHECK(client.connected());
}

TEST_CASE("AUTH and SELECT run on every connection, reconnects included", "[redis]") {
  sa::test::redis_server server{{false, "s3cret-pw", {}}};
  auto opts = options_for(server);
  opts.password = "s3cret-pw";
  opts.db = 3;
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"SET", "before", "1"});
  REQUIRE(l->wait_done(1));
  server.kill();
  server.start();
  submit(client, l, {"SET", "after", "2"}, true, true);
  REQUIRE(l->wait_done(2));
  CHECK(server.command({"GET", "after"}, 3).str == "2");
  CHECK(server.command({"GET", "after"}, 0).type == kind::nil);
  CHECK(client.stats().reconnects == 1);
}

TEST_CASE("a wrong password never connects and says why without the password", "[redis]") {
  sa::test::redis_server server{{false, "right-pw", {}}};
  auto opts = options_for(server);
  opts.password = "wrong-pw";
  sa::redis_client client{opts};
  REQUIRE(sa::test::eventually([&] { return client.stats().connect_failures >= 2; }));
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto id = submit(client, l, {"GET", "k"}, false);
  REQUIRE(l->wait_done(1));
  auto o = l->outcome(id);
  CHECK(o.error.kind == redis_error_kind::not_connected);
  CHECK_THAT(o.error.message, Catch::Matchers::Contains("AUTH refused"));
  CHECK_THAT(o.error.message, !Catch::Matchers::Contains("wrong-pw"));
  CHECK_FALSE(client.connected());
}

TEST_CASE("a preloaded script is loaded again on every connection, so EVALSHA survives a restart", "[redis]") {
  sa::test::redis_server server;
  sa::redis_client client{options_for(server)};
  auto sha = client.preload_script("return ARGV[1] .. '!'");
  CHECK(sha == sa::redis_script_sha1("return ARGV[1] .. '!'"));
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto first = submit(client, l, {"EVALSHA", sha, "0", "hi"});
  REQUIRE(l->wait_done(1));
  CHECK(l->outcome(first).reply.str == "hi!");
  server.kill();
  server.start();  // an empty script cache
  auto second = submit(client, l, {"EVALSHA", sha, "0", "again"}, true, true);
  REQUIRE(l->wait_done(2));
  CHECK(l->outcome(second).reply.str == "again!");
}

TEST_CASE("stop fails what is outstanding with stopped and refuses later submits", "[redis]") {
  sa::test::redis_server server;
  server.kill();
  sa::redis_client client{options_for(server)};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto a = submit(client, l, {"SET", "a", "1"});
  auto b = submit(client, l, {"SET", "b", "1"});
  client.stop();
  REQUIRE(l->wait_done(2));
  CHECK(l->outcome(a).error.kind == redis_error_kind::stopped);
  CHECK(l->outcome(b).error.kind == redis_error_kind::stopped);
  auto later = client.submit(cmd({"PING"}), l);
  CHECK_FALSE(later);
  CHECK(later.refused == redis_error_kind::stopped);
}

TEST_CASE("addresses parse as host:port and scripts are named by their SHA-1", "[redis]") {
  std::string host;
  int port = 0;
  CHECK(sa::parse_redis_address("127.0.0.1:6379", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 6379);
  CHECK(sa::parse_redis_address("redis.internal:7000", host, port));
  CHECK(host == "redis.internal");
  CHECK(sa::parse_redis_address("[::1]:6380", host, port));
  CHECK(host == "::1");
  CHECK(port == 6380);
  CHECK_FALSE(sa::parse_redis_address("localhost", host, port));
  CHECK_FALSE(sa::parse_redis_address(":6379", host, port));
  CHECK_FALSE(sa::parse_redis_address("h:0", host, port));
  CHECK_FALSE(sa::parse_redis_address("h:70000", host, port));
  CHECK_FALSE(sa::parse_redis_address("h:12a", host, port));
  CHECK(sa::redis_script_sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
}
