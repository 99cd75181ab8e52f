// Rendezvous hashing decides which node owns a session; every node must compute the same owner, across
// versions too, so the weight function is pinned here by value.
#include "actors/cluster/rendezvous.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace sa::cluster;

namespace {

std::vector<std::string> keys(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("s-" + std::to_string(i * 7919) + "-x");
  return out;
}

std::vector<std::string> nodes(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i)
    out.push_back("node-" + std::to_string(i));
  return out;
}

} // namespace

TEST_CASE("The weight function is FNV-1a 64 and MurmurHash3's finalizer, pinned by value") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("node-1") == 0xe696ecc2207879c3ULL);
  CHECK(rendezvous_weight("node-1", "s-abc") == 0xd118b2cfdd9ce412ULL);
  CHECK(rendezvous_weight("node-2", "s-abc") == 0x2b5233a3862c65a7ULL);
  CHECK(rendezvous_weight("node-3", "s-abc") == 0x9ae33036a8fd725bULL);
  std::vector<std::string> three{"node-1", "node-2", "node-3"};
  CHECK(*rendezvous_owner("s-abc", three) == "node-1");
  CHECK(*rendezvous_owner("session-42", std::vector<std::string>{"a", "b", "c", "d", "e"}) == "a");
}

TEST_CASE("Every node computes the same owner whatever the order of its member list") {
  auto members = nodes(5);
  auto shuffled = members;
  std::mt19937 rng{7};
  for (const auto& k : keys(2000)) {
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    REQUIRE(*rendezvous_owner(k, members) == *rendezvous_owner(k, shuffled));
  }
}

TEST_CASE("An empty member list has no owner and a single member owns everything") {
  CHECK(rendezvous_owner("s-1", {}) == nullptr);
  std::vector<std::string> one{"only"};
  for (const auto& k : keys(100))
    CHECK(*rendezvous_owner(k, one) == "only");
}

TEST_CASE("Sessions spread evenly over the members") {
  for (int n : {2, 3, 5}) {
    auto members = nodes(n);
    std::map<std::string, int> counts;
    const int total = 30000;
    for (const auto& k : keys(total))
      ++counts[*rendezvous_owner(k, members)];
    REQUIRE(counts.size() == static_cast<size_t>(n));
    for (auto& [m, c] : counts) {
      INFO(n << " members: " << m << " owns " << c);
      CHECK(std::abs(c - total / n) < total / n / 20);  // within 5% of an even share
    }
  }
}

TEST_CASE("When a member leaves only its own sessions move, spread over the others") {
  auto members = nodes(3);
  auto survivors = std::vector<std::string>{"node-1", "node-2"};
  std::map<std::string, int> moved_to;
  int moved = 0, total = 0;
  for (const auto& k : keys(30000)) {
    auto before = *rendezvous_owner(k, members);
    auto after = *rendezvous_owner(k, survivors);
    ++total;
    if (before == "node-3") {
      ++moved;
      ++moved_to[after];
    } else {
      REQUIRE(before == after);  // nobody else's sessions move
    }
  }
  CHECK(std::abs(moved - total / 3) < total / 3 / 20);
  CHECK(std::abs(moved_to["node-1"] - moved_to["node-2"]) < moved / 10);
}

TEST_CASE("When a member joins it takes about 1/N of the sessions and nothing else moves") {
  auto before_members = nodes(3);
  auto after_members = nodes(4);
  int taken = 0, total = 0;
  for (const auto& k : keys(30000)) {
    auto before = *rendezvous_owner(k, before_members);
    auto after = *rendezvous_owner(k, after_members);
    ++total;
    if (after == "node-4")
      ++taken;
    else
      REQUIRE(before == after);
  }
  CHECK(std::abs(taken - total / 4) < total / 4 / 20);
}
