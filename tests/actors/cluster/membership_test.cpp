// The live member set: who is a member, which incarnation, and who owns a session.
#include "actors/cluster/membership.hpp"

#include <catch2/catch.hpp>

using namespace sa::cluster;
using outcome = membership::admit_outcome;

namespace {

member_record rec(std::string name, uint16_t port, std::string node) {
  return member_record{std::move(name), "127.0.0.1", port, std::move(node)};
}

} // namespace

TEST_CASE("A new member is added, the same node again is a refresh") {
  membership m{rec("a", 7001, "node-a")};
  CHECK(m.names() == std::vector<std::string>{"a"});
  CHECK(m.admit(rec("b", 7002, "node-b")) == outcome::added);
  CHECK(m.admit(rec("c", 7003, "node-c")) == outcome::added);
  CHECK(m.admit(rec("b", 7002, "node-b")) == outcome::refreshed);
  CHECK(m.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(m.describe() == "a,b,c");
  REQUIRE(m.find("b"));
  CHECK(m.find_address("127.0.0.1", 7003)->name == "c");
  CHECK(m.find_node("node-c")->name == "c");
  CHECK(m.find("zz") == nullptr);
}

TEST_CASE("A restarted node at the same address replaces its old incarnation") {
  membership m{rec("a", 7001, "node-a")};
  m.admit(rec("b", 7002, "node-b-1"));
  member_record old;
  CHECK(m.admit(rec("b", 7002, "node-b-2"), &old) == outcome::replaced);
  CHECK(old.node == "node-b-1");
  CHECK(m.find("b")->node == "node-b-2");
  SECTION("a late down message of the old incarnation removes nothing") {
    CHECK_FALSE(m.remove("b", "node-b-1"));
    CHECK(m.names().size() == 2);
  }
  SECTION("the current incarnation's down message removes it") {
    CHECK(m.remove("b", "node-b-2"));
    CHECK(m.names() == std::vector<std::string>{"a"});
  }
}

TEST_CASE("A live name used from another address, or this node's own name, is refused") {
  membership m{rec("a", 7001, "node-a")};
  m.admit(rec("b", 7002, "node-b"));
  CHECK(m.admit(rec("b", 7009, "node-x")) == outcome::name_taken);
  CHECK(m.find("b")->node == "node-b");
  CHECK(m.admit(rec("a", 7010, "node-y")) == outcome::name_taken);
  CHECK(m.names() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("Ownership follows the live names and agrees with any other node's view") {
  membership a{rec("a", 7001, "node-a")};
  membership b{rec("b", 7002, "node-b")};
  a.admit(rec("b", 7002, "node-b"));
  a.admit(rec("c", 7003, "node-c"));
  b.admit(rec("c", 7003, "node-c"));
  b.admit(rec("a", 7001, "node-a"));
  for (int i = 0; i < 500; ++i) {
    auto key = "s-" + std::to_string(i);
    REQUIRE(a.owner(key) == b.owner(key));
  }
  a.remove("c", "node-c");
  for (int i = 0; i < 500; ++i) {
    auto key = "s-" + std::to_string(i);
    REQUIRE(a.owner(key) != "c");
  }
}

TEST_CASE("host:port seeds are parsed, malformed ones refused") {
  auto hp = parse_host_port("10.0.0.2:7400");
  REQUIRE(hp);
  CHECK(hp->host == "10.0.0.2");
  CHECK(hp->port == 7400);
  CHECK(hp->text() == "10.0.0.2:7400");
  CHECK(parse_host_port("node-2.internal:1")->host == "node-2.internal");
  CHECK(parse_host_port("[::1]:7000")->host == "::1");
  for (auto bad : {"", "host", "host:", ":7000", "host:0", "host:65536", "host:12a", "http://h:1", "h/x:1", "h o:1"})
    CHECK_FALSE(parse_host_port(bad));
}
