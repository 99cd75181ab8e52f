// connection_slots: the per-tenant and per-user connection caps, without sockets.
#include "actors/gateway/connection_slots.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using sa::gateway::connection_slots;
using verdict = connection_slots::verdict;

TEST_CASE("connection slots: a user's cap, a tenant's cap, and places given back", "[gateway][limits]") {
  connection_slots slots{3, 2};
  connection_slots::lease a1, a2, a3, b1, b2;
  CHECK(slots.acquire("acme", "alice", false, a1) == verdict::granted);
  CHECK(slots.acquire("acme", "alice", false, a2) == verdict::granted);
  CHECK(slots.acquire("acme", "alice", false, a3) == verdict::user_full);
  CHECK_FALSE(a3);
  CHECK(slots.user_count("acme", "alice", false) == 2);
  CHECK(slots.acquire("acme", "bob", false, b1) == verdict::granted);
  CHECK(slots.acquire("acme", "bob", false, b2) == verdict::tenant_full);  // the tenant's third is its last
  CHECK(slots.tenant_count("acme") == 3);
  {
    connection_slots::lease other;
    CHECK(slots.acquire("globex", "carol", false, other) == verdict::granted);
    CHECK(slots.tenant_count("globex") == 1);
  }
  CHECK(slots.tenant_count("globex") == 0);
  a1.reset();
  CHECK(slots.tenant_count("acme") == 2);
  CHECK(slots.user_count("acme", "alice", false) == 1);
  CHECK(slots.acquire("acme", "alice", false, a3) == verdict::granted);
  CHECK(a3);
}

TEST_CASE("connection slots: agents and customers of one id, and tenants whose names run together, count apart",
          "[gateway][limits]") {
  connection_slots slots{0, 1};
  connection_slots::lease customer, agent, joined_a, joined_b;
  CHECK(slots.acquire("acme", "alice", false, customer) == verdict::granted);
  CHECK(slots.acquire("acme", "alice", true, agent) == verdict::granted);
  // "ab" + "c" and "a" + "bc" are different users.
  CHECK(slots.acquire("ab", "c", false, joined_a) == verdict::granted);
  CHECK(slots.acquire("a", "bc", false, joined_b) == verdict::granted);
  CHECK(slots.user_count("acme", "alice", true) == 1);
  CHECK(slots.user_count("acme", "alice", false) == 1);
}

TEST_CASE("connection slots: agents' consoles are held to their own cap, not the tenant's", "[gateway][limits]") {
  connection_slots slots{1, 2};
  connection_slots::lease customer, refused, agent1, agent2, agent3;
  REQUIRE(slots.acquire("acme", "alice", false, customer) == verdict::granted);
  CHECK(slots.acquire("acme", "bob", false, refused) == verdict::tenant_full);
  CHECK(slots.acquire("acme", "ann", true, agent1) == verdict::granted);
  CHECK(slots.acquire("acme", "ann", true, agent2) == verdict::granted);
  CHECK(slots.acquire("acme", "ann", true, agent3) == verdict::user_full);
  CHECK(slots.tenant_count("acme") == 1);
  agent1.reset();
  agent2.reset();
  CHECK(slots.tenant_count("acme") == 1);
  CHECK(slots.user_count("acme", "ann", true) == 0);
  customer.reset();
  CHECK(slots.tenant_count("acme") == 0);
}

TEST_CASE("connection slots: a moved lease is given back once, by its last holder", "[gateway][limits]") {
  connection_slots slots{1, 0};
  connection_slots::lease first;
  REQUIRE(slots.acquire("acme", "alice", false, first) == verdict::granted);
  connection_slots::lease moved{std::move(first)};
  CHECK_FALSE(first);
  CHECK(moved);
  first.reset();  // empty: gives nothing back
  CHECK(slots.tenant_count("acme") == 1);
  connection_slots::lease assigned;
  assigned = std::move(moved);
  CHECK(slots.tenant_count("acme") == 1);
  assigned = connection_slots::lease{};
  CHECK(slots.tenant_count("acme") == 0);
}

TEST_CASE("connection slots: a refused claim leaves the lease as it was, a granted one gives back its old place",
          "[gateway][limits]") {
  connection_slots slots{2, 1};
  connection_slots::lease held;
  REQUIRE(slots.acquire("acme", "alice", false, held) == verdict::granted);
  CHECK(slots.acquire("acme", "alice", false, held) == verdict::user_full);
  CHECK(held);
  CHECK(slots.user_count("acme", "alice", false) == 1);
  CHECK(slots.acquire("acme", "bob", false, held) == verdict::granted);
  CHECK(slots.user_count("acme", "alice", false) == 0);
  CHECK(slots.user_count("acme", "bob", false) == 1);
  CHECK(slots.tenant_count("acme") == 1);
}

TEST_CASE("connection slots: concurrent claims never pass the caps", "[gateway][limits]") {
  connection_slots slots{50, 10};
  std::vector<std::vector<connection_slots::lease>> held(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        connection_slots::lease l;
        if (slots.acquire("acme", "user" + std::to_string(i % 7), false, l) == verdict::granted)
          held[t].push_back(std::move(l));
        if (i % 3 == 0 && !held[t].empty())
          held[t].erase(held[t].begin());
      }
    });
  for (auto& th : threads)
    th.join();
  size_t total = 0;
  for (auto& h : held)
    total += h.size();
  CHECK(total <= 50);
  CHECK(slots.tenant_count("acme") == static_cast<int>(total));
  for (int u = 0; u < 7; ++u)
    CHECK(slots.user_count("acme", "user" + std::to_string(u), false) <= 10);
  held.clear();
  CHECK(slots.tenant_count("acme") == 0);
}
