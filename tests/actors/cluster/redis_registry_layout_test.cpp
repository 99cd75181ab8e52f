// The Redis member registry's keys, entries and lookup replies, without a server.
#include "actors/cluster/redis_registry_layout.hpp"

#include <catch2/catch.hpp>

using namespace sa;
namespace rl = sa::cluster::registry_layout;

namespace {

redis_reply text(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::string;
  r.str = std::move(s);
  return r;
}

redis_reply array(std::vector<redis_reply> xs) {
  redis_reply r;
  r.type = redis_reply::kind::array;
  r.elements = std::move(xs);
  return r;
}

} // namespace

TEST_CASE("Registry keys live under the memory prefix, in one slot per cluster, with names escaped") {
  auto k = rl::keys_for("sa", "prod");
  CHECK(k.members == "sa:cluster:{prod}:members");
  CHECK(rl::member_key(k, "node-1") == "sa:cluster:{prod}:member:node-1");
  // A name cannot close the hash tag or reach into other keys.
  auto odd = rl::keys_for("sa", "a}b{");
  CHECK(odd.members == "sa:cluster:{a%7Db%7B}:members");
  CHECK(rl::member_key(k, "x y/{z}") == "sa:cluster:{prod}:member:x%20y%2F%7Bz%7D");
}

TEST_CASE("A member entry round-trips through its JSON") {
  member_address m{"10.0.0.7", 7407, "node-7"};
  member_address back;
  REQUIRE(rl::decode_member(rl::encode_member(m), back, nullptr));
  CHECK(back.host == "10.0.0.7");
  CHECK(back.port == 7407);
  CHECK(back.name == "node-7");
}

TEST_CASE("Malformed member entries are refused with a reason that does not quote them") {
  auto refused = [](const std::string& json) {
    member_address m;
    std::string why;
    CHECK_FALSE(rl::decode_member(json, m, &why));
    CHECK(why.find("secret") == std::string::npos);
    return why;
  };
  CHECK(refused("{not json secret") == "not a JSON object");
  CHECK(refused("[1, 2]") == "not a JSON object");
  CHECK(refused(R"({"host": "h", "port": 70000, "name": "n"})") == "port out of range");
  CHECK(refused(R"({"host": "h", "port": 0, "name": "n"})") == "port out of range");
  CHECK(refused(R"({"host": "h", "port": "7400", "name": "n"})") == "port missing or not an integer");
  CHECK(refused(R"({"host": "", "port": 7400, "name": "n"})") == "host missing or not a host name");
  CHECK(refused(R"({"host": "a b", "port": 7400, "name": "n"})") == "host missing or not a host name");
  CHECK(refused(R"({"host": "h", "port": 7400, "name": ""})") == "name missing or empty");
  CHECK(refused(R"({"host": "h", "port": 7400})") == "name missing or empty");
}

TEST_CASE("The heartbeat command sets the key with the TTL and indexes the escaped name") {
  auto k = rl::keys_for("sa", "default");
  auto args = rl::heartbeat_command(k, member_address{"127.0.0.1", 7401, "node 1"}, 3000);
  REQUIRE(args.size() == 8);
  CHECK(args[0] == "EVAL");
  CHECK(args[1] == rl::heartbeat_script());
  CHECK(args[2] == "2");
  CHECK(args[3] == "sa:cluster:{default}:member:node%201");
  CHECK(args[4] == "sa:cluster:{default}:members");
  CHECK(args[5] == "node%201");
  CHECK(args[7] == "3000");
  CHECK(rl::heartbeat_command(k, member_address{"h", 1, "n"}, 0)[7] == "1");  // PX 0 is an error in Redis
  CHECK(rl::leave_command(k, "node 1") == std::vector<std::string>{"DEL", "sa:cluster:{default}:member:node%201"});
}

TEST_CASE("A lookup reply gives the valid members by name and names the keys of the others") {
  auto k = rl::keys_for("sa", "default");
  auto reply = array({text("node-2"), text(rl::encode_member({"127.0.0.1", 7402, "node-2"})),
                      text("bad"), text("{oops"),
                      text("node-1"), text(rl::encode_member({"127.0.0.1", 7401, "node-1"})),
                      text("wrong"), text(""),
                      text("impostor"), text(rl::encode_member({"127.0.0.1", 7409, "node-9"}))});
  rl::lookup_result r;
  REQUIRE(rl::parse_lookup_reply(reply, k, r, nullptr));
  REQUIRE(r.members.size() == 2);
  CHECK(r.members[0].name == "node-1");
  CHECK(r.members[0].port == 7401);
  CHECK(r.members[1].name == "node-2");
  REQUIRE(r.malformed.size() == 3);
  CHECK(r.malformed[0].key == "sa:cluster:{default}:member:bad");
  CHECK(r.malformed[0].why == "not a JSON object");
  CHECK(r.malformed[1].why == "not a string");
  CHECK(r.malformed[2].key == "sa:cluster:{default}:member:impostor");
  CHECK(r.malformed[2].why == "name does not match the key");
}

TEST_CASE("A lookup reply that is not the script's answer is refused") {
  auto k = rl::keys_for("sa", "default");
  rl::lookup_result r;
  std::string why;
  redis_reply err{redis_reply::kind::error, 0, "OOM command not allowed when used memory > 'maxmemory'", {}};
  CHECK_FALSE(rl::parse_lookup_reply(err, k, r, &why));
  CHECK(why == "redis error OOM");
  CHECK_FALSE(rl::parse_lookup_reply(array({text("odd")}), k, r, &why));
  CHECK_FALSE(rl::parse_lookup_reply(text("x"), k, r, &why));
  CHECK(rl::parse_lookup_reply(array({}), k, r, &why));
  CHECK(r.members.empty());
}
