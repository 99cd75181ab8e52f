// Node authentication: HMAC-SHA256 proofs over single-use nonces.
#include "actors/cluster/cluster_auth.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sa::cluster;
using namespace std::chrono_literals;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("Nonces are random hex of the requested size") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto n = random_nonce();
    CHECK(n.size() == 32);
    CHECK(n.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(n);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("A join proof binds the secret, both nonces, the joiner's name and address, and the member") {
  auto p = join_proof("secret-0123456789", "sn", "cn", "node-2", "10.0.0.2", 7400, "node-1");
  CHECK(p.size() == 64);
  CHECK(p == join_proof("secret-0123456789", "sn", "cn", "node-2", "10.0.0.2", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456780", "sn", "cn", "node-2", "10.0.0.2", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sx", "cn", "node-2", "10.0.0.2", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sn", "cx", "node-2", "10.0.0.2", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sn", "cn", "node-3", "10.0.0.2", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sn", "cn", "node-2", "10.0.0.3", 7400, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sn", "cn", "node-2", "10.0.0.2", 7401, "node-1"));
  CHECK(p != join_proof("secret-0123456789", "sn", "cn", "node-2", "10.0.0.2", 7400, "node-3"));
  // A welcome proof over the same values is a different MAC (purpose label), so one cannot stand for the other.
  CHECK(welcome_proof("secret-0123456789", "cn", "node-1", "node-2") != p);
  CHECK(welcome_proof("secret-0123456789", "cn", "node-1", "node-2") !=
        welcome_proof("secret-0123456789", "cn", "node-1", "node-3"));
}

TEST_CASE("Constant-time comparison") {
  CHECK(equal_constant_time("abc", "abc"));
  CHECK_FALSE(equal_constant_time("abc", "abd"));
  CHECK_FALSE(equal_constant_time("abc", "abcd"));
  CHECK(equal_constant_time("", ""));
}

TEST_CASE("A challenge nonce is accepted once and only before it expires") {
  challenge_book book{100ms, 8};
  auto t0 = challenge_book::clock::time_point{} + 1h;
  auto n = book.issue(t0);
  CHECK(book.outstanding() == 1);
  CHECK_FALSE(book.consume("never-issued", t0));
  CHECK(book.consume(n, t0 + 50ms));
  CHECK_FALSE(book.consume(n, t0 + 50ms));  // single use
  auto late = book.issue(t0);
  CHECK_FALSE(book.consume(late, t0 + 101ms));  // expired
  CHECK(book.outstanding() == 0);
}

TEST_CASE("A flood of challenges evicts the oldest, never lets an unissued nonce through") {
  challenge_book book{10s, 4};
  auto t0 = challenge_book::clock::time_point{} + 1h;
  auto first = book.issue(t0);
  std::vector<std::string> later;
  for (int i = 1; i <= 4; ++i)
    later.push_back(book.issue(t0 + std::chrono::milliseconds(i)));
  CHECK(book.outstanding() == 4);
  CHECK_FALSE(book.consume(first, t0 + 10ms));
  for (auto& n : later)
    CHECK(book.consume(n, t0 + 10ms));
}
