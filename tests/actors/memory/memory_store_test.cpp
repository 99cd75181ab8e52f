// The in-process conversation memory: round trips, the verbatim window and its summary, expiry,
// idempotent retries, conflicts, ownership, tenant namespacing and LRU eviction. Time is explicit.
#include "actors/memory/memory_store.hpp"

#include <catch2/catch.hpp>

#include <string>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using outcome = sa::memory_store::append_outcome;
using namespace std::chrono_literals;

namespace {

const sa::memory_store::clock::time_point t0 = sa::memory_store::clock::time_point{} + 1000s;

const sa::tenant_id acme{"acme"};
const sa::tenant_id globex{"globex"};
const sa::session_id s1{"s-1"};
const sa::user_id alice{"alice"};
const sa::user_id bob{"bob"};

sa::turn_record turn(sa::turn_number n, sa::intent in = sa::intent::general, std::string client_id = {}) {
  sa::turn_record t;
  t.number = n;
  t.client_message_id = client_id.empty() ? "m" + std::to_string(n) : std::move(client_id);
  t.user_text = "Question number " + std::to_string(n) + ". With more detail after the first sentence.";
  t.answer_text = "Answer number " + std::to_string(n) + "! And then some more text.";
  t.intent = in;
  t.at_unix_ms = 1700000000000 + n;
  return t;
}

sa::memory_store::limits small_limits() {
  sa::memory_store::limits l;
  l.max_turns = 3;
  l.ttl = 60s;
  l.summary_max_chars = 1200;
  l.max_sessions = 100;
  return l;
}

outcome append(sa::memory_store& m, const sa::turn_record& t, sa::memory_store::clock::time_point now = t0,
               const sa::user_id& owner = alice, const sa::tenant_id& tenant = acme,
               const sa::session_id& session = s1, sa::turn_number* committed = nullptr) {
  return m.append(tenant, session, owner, t, now, committed);
}

} // namespace

TEST_CASE("an unknown session loads as empty memory", "[memory]") {
  sa::memory_store m{small_limits()};
  auto mem = m.load(acme, s1, t0);
  CHECK(mem.owner.empty());
  CHECK(mem.turns.empty());
  CHECK(mem.summary.empty());
  CHECK(mem.last_turn == 0);
  CHECK(m.size() == 0);
}

TEST_CASE("appended turns load back in order with every field", "[memory]") {
  sa::memory_store m{small_limits()};
  sa::turn_number committed = 99;
  auto first = turn(1, sa::intent::billing);
  first.escalated = true;
  REQUIRE(append(m, first, t0, alice, acme, s1, &committed) == outcome::committed);
  CHECK(committed == 1);
  REQUIRE(append(m, turn(2, sa::intent::technical), t0 + 1s, alice, acme, s1, &committed) == outcome::committed);
  CHECK(committed == 2);

  auto mem = m.load(acme, s1, t0 + 2s);
  CHECK(mem.owner == alice);
  CHECK(mem.last_turn == 2);
  CHECK(mem.summary.empty());
  REQUIRE(mem.turns.size() == 2);
  CHECK(mem.turns[0].number == 1);
  CHECK(mem.turns[0].client_message_id == "m1");
  CHECK(mem.turns[0].user_text == first.user_text);
  CHECK(mem.turns[0].answer_text == first.answer_text);
  CHECK(mem.turns[0].intent == sa::intent::billing);
  CHECK(mem.turns[0].escalated);
  CHECK(mem.turns[0].at_unix_ms == first.at_unix_ms);
  CHECK(mem.turns[1].number == 2);
  CHECK(mem.turns[1].intent == sa::intent::technical);
  CHECK(m.size() == 1);
}

SCENARIO("turns past the window are folded into the summary", "[memory][summary]") {
  GIVEN("a store that keeps the last 3 turns") {
    sa::memory_store m{small_limits()};
    WHEN("five turns are appended") {
      const sa::intent intents[] = {sa::intent::billing, sa::intent::technical, sa::intent::account,
                                    sa::intent::general, sa::intent::general};
      for (sa::turn_number n = 1; n <= 5; ++n)
        REQUIRE(append(m, turn(n, intents[n - 1]), t0 + std::chrono::seconds(n)) == outcome::committed);
      auto mem = m.load(acme, s1, t0 + 10s);
      THEN("the last three stay verbatim") {
        REQUIRE(mem.turns.size() == 3);
        CHECK(mem.turns.front().number == 3);
        CHECK(mem.turns.back().number == 5);
        CHECK(mem.last_turn == 5);
      }
      THEN("the summary has one line per folded turn with its number, intent and first sentences") {
        CHECK(mem.summary
              == "Turn 1 (billing): customer: Question number 1. / answer: Answer number 1!\n"
                 "Turn 2 (technical): customer: Question number 2. / answer: Answer number 2!");
      }
    }
  }
}

TEST_CASE("an escalated turn is marked in the summary", "[memory][summary]") {
  std::string summary;
  auto t = turn(7, sa::intent::account);
  t.escalated = true;
  sa::memory_store::fold_into_summary(summary, t, 1200);
  CHECK(summary == "Turn 7 (account): customer: Question number 7. / answer: Answer number 7! [escalated]");
}

TEST_CASE("the summary quotes at most 160 characters of each first sentence", "[memory][summary]") {
  std::string summary;
  auto t = turn(1);
  t.user_text = std::string(400, 'x');
  t.answer_text = "no terminator at all";
  sa::memory_store::fold_into_summary(summary, t, 5000);
  CHECK(summary == "Turn 1 (general): customer: " + std::string(160, 'x') + " / answer: no terminator at all");
}

TEST_CASE("the summary stays within summary_max_chars by dropping whole old lines", "[memory][summary]") {
  std::string summary;
  const std::size_t max_chars = 250;
  for (sa::turn_number n = 1; n <= 20; ++n) {
    sa::memory_store::fold_into_summary(summary, turn(n), max_chars);
    INFO("after turn " << n << ": " << summary);
    CHECK(summary.size() <= max_chars);
    CHECK_THAT(summary, StartsWith("Turn "));
    CHECK_THAT(summary, Contains("Turn " + std::to_string(n) + " (general)"));
  }
  // The newest turns survive, the oldest are gone, and every line is complete.
  CHECK_THAT(summary, Contains("Turn 20 (general): customer: Question number 20. / answer: Answer number 20!"));
  CHECK_THAT(summary, !Contains("Turn 1 (general)"));
  std::size_t start = 0;
  while (start < summary.size()) {
    auto nl = summary.find('\n', start);
    auto line = summary.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    CHECK_THAT(line, StartsWith("Turn "));
    CHECK_THAT(line, Contains(" / answer: Answer number "));
    CHECK(line.back() == '!');
    start = nl == std::string::npos ? summary.size() : nl + 1;
  }
}

TEST_CASE("the store folds with its configured summary_max_chars", "[memory][summary]") {
  auto l = small_limits();
  l.max_turns = 1;
  l.summary_max_chars = 200;
  sa::memory_store m{l};
  for (sa::turn_number n = 1; n <= 10; ++n)
    REQUIRE(append(m, turn(n), t0) == outcome::committed);
  auto mem = m.load(acme, s1, t0);
  REQUIRE(mem.turns.size() == 1);
  CHECK(mem.turns[0].number == 10);
  CHECK(mem.summary.size() <= 200);
  CHECK_THAT(mem.summary, Contains("Turn 9 (general)"));
  CHECK_THAT(mem.summary, !Contains("Turn 1 (general)"));
}

SCENARIO("memory expires ttl after the last append", "[memory][ttl]") {
  GIVEN("a store with a 60 s ttl and one turn appended at t0") {
    sa::memory_store m{small_limits()};
    REQUIRE(append(m, turn(1), t0) == outcome::committed);
    THEN("it is still there just before the ttl") { CHECK(m.load(acme, s1, t0 + 59s).last_turn == 1); }
    THEN("it is gone at the ttl, and the entry is dropped") {
      auto mem = m.load(acme, s1, t0 + 60s);
      CHECK(mem.turns.empty());
      CHECK(mem.last_turn == 0);
      CHECK(mem.owner.empty());
      CHECK(m.size() == 0);
    }
    WHEN("another turn is appended 50 s later") {
      REQUIRE(append(m, turn(2), t0 + 50s) == outcome::committed);
      THEN("the ttl counts from the new append") {
        CHECK(m.load(acme, s1, t0 + 100s).last_turn == 2);
        CHECK(m.load(acme, s1, t0 + 110s).turns.empty());
      }
    }
    WHEN("the session is only loaded, not appended to") {
      CHECK(m.load(acme, s1, t0 + 50s).last_turn == 1);
      THEN("loading does not extend the ttl") { CHECK(m.load(acme, s1, t0 + 61s).turns.empty()); }
    }
    WHEN("the session expired and the customer starts again") {
      THEN("turn 1 is accepted again, even from another user") {
        CHECK(append(m, turn(1), t0 + 120s, bob) == outcome::committed);
        CHECK(m.load(acme, s1, t0 + 121s).owner == bob);
      }
    }
  }
}

SCENARIO("a retried turn is a duplicate and is stored once", "[memory][idempotency]") {
  GIVEN("a session with turns 1 and 2") {
    sa::memory_store m{small_limits()};
    REQUIRE(append(m, turn(1), t0) == outcome::committed);
    REQUIRE(append(m, turn(2), t0) == outcome::committed);
    WHEN("turn 2 is appended again with the same client message id") {
      sa::turn_number committed = 0;
      auto o = append(m, turn(2), t0 + 1s, alice, acme, s1, &committed);
      THEN("it is a duplicate, the committed number is reported and nothing is added") {
        CHECK(o == outcome::duplicate);
        CHECK(committed == 2);
        auto mem = m.load(acme, s1, t0 + 2s);
        CHECK(mem.turns.size() == 2);
        CHECK(mem.last_turn == 2);
      }
    }
    WHEN("turn 1 is retried after turn 2 was committed") {
      THEN("it is still a duplicate") { CHECK(append(m, turn(1), t0 + 1s) == outcome::duplicate); }
    }
    WHEN("the same client message is retried under the next number") {
      auto retry = turn(3, sa::intent::general, "m2");
      THEN("it is recognised by its client message id") {
        CHECK(append(m, retry, t0 + 1s) == outcome::duplicate);
        CHECK(m.load(acme, s1, t0 + 2s).last_turn == 2);
      }
    }
  }
}

SCENARIO("a turn that does not follow the last one conflicts", "[memory][conflict]") {
  GIVEN("a session with turn 1") {
    sa::memory_store m{small_limits()};
    REQUIRE(append(m, turn(1), t0) == outcome::committed);
    WHEN("turn 3 is appended (a gap)") {
      sa::turn_number committed = 0;
      auto o = append(m, turn(3), t0, alice, acme, s1, &committed);
      THEN("it conflicts and reports the last committed turn") {
        CHECK(o == outcome::conflict);
        CHECK(committed == 1);
        CHECK(m.load(acme, s1, t0).turns.size() == 1);
      }
    }
    WHEN("turn 1 is appended with another client message id (someone else wrote it)") {
      THEN("it conflicts") {
        CHECK(append(m, turn(1, sa::intent::general, "other"), t0) == outcome::conflict);
        CHECK(m.load(acme, s1, t0).turns.front().client_message_id == "m1");
      }
    }
    WHEN("turn 0 is appended") {
      THEN("it conflicts") { CHECK(append(m, turn(0), t0) == outcome::conflict); }
    }
    WHEN("the next turn is appended after a conflict") {
      REQUIRE(append(m, turn(5), t0) == outcome::conflict);
      THEN("turn 2 still commits") { CHECK(append(m, turn(2), t0) == outcome::committed); }
    }
  }
  GIVEN("a new session") {
    sa::memory_store m{small_limits()};
    THEN("its first turn must be number 1") {
      CHECK(append(m, turn(2), t0) == outcome::conflict);
      CHECK(m.load(acme, s1, t0).turns.empty());
    }
  }
}

TEST_CASE("another user cannot append to a session bound to its owner", "[memory][owner]") {
  sa::memory_store m{small_limits()};
  REQUIRE(append(m, turn(1), t0, alice) == outcome::committed);
  sa::turn_number committed = 0;
  CHECK(append(m, turn(2), t0, bob, acme, s1, &committed) == outcome::wrong_owner);
  CHECK(committed == 1);
  // Even a retry of the owner's own turn is refused for another user.
  CHECK(append(m, turn(1), t0, bob) == outcome::wrong_owner);
  auto mem = m.load(acme, s1, t0);
  CHECK(mem.owner == alice);
  CHECK(mem.turns.size() == 1);
  CHECK(append(m, turn(2), t0, alice) == outcome::committed);
}

TEST_CASE("the same session id under two tenants is two separate sessions", "[memory][tenant]") {
  sa::memory_store m{small_limits()};
  REQUIRE(append(m, turn(1, sa::intent::billing), t0, alice, acme) == outcome::committed);
  REQUIRE(append(m, turn(2), t0, alice, acme) == outcome::committed);
  // globex's s-1 starts at turn 1 and may belong to another user.
  CHECK(append(m, turn(2), t0, bob, globex) == outcome::conflict);
  CHECK(append(m, turn(1, sa::intent::technical), t0, bob, globex) == outcome::committed);
  CHECK(m.size() == 2);

  auto a = m.load(acme, s1, t0);
  auto g = m.load(globex, s1, t0);
  CHECK(a.owner == alice);
  CHECK(a.last_turn == 2);
  CHECK(g.owner == bob);
  CHECK(g.last_turn == 1);
  REQUIRE(g.turns.size() == 1);
  CHECK(g.turns[0].intent == sa::intent::technical);
  CHECK(m.load(sa::tenant_id{"initech"}, s1, t0).turns.empty());
}

TEST_CASE("a tenant id and session id cannot be re-split into another tenant's key", "[memory][tenant]") {
  sa::memory_store m{small_limits()};
  REQUIRE(append(m, turn(1), t0, alice, sa::tenant_id{"ab"}, sa::session_id{"c"}) == outcome::committed);
  CHECK(m.load(sa::tenant_id{"a"}, sa::session_id{"bc"}, t0).turns.empty());
  CHECK(m.load(sa::tenant_id{"abc"}, sa::session_id{""}, t0).turns.empty());
}

SCENARIO("at most max_sessions sessions are kept, the least recently appended is evicted first",
         "[memory][lru]") {
  GIVEN("a store for three sessions, filled with a, b, c in that order") {
    auto l = small_limits();
    l.max_sessions = 3;
    sa::memory_store m{l};
    for (auto s : {"a", "b", "c"})
      REQUIRE(append(m, turn(1), t0, alice, acme, sa::session_id{s}) == outcome::committed);
    REQUIRE(m.size() == 3);
    WHEN("a fourth session starts") {
      REQUIRE(append(m, turn(1), t0 + 1s, alice, acme, sa::session_id{"d"}) == outcome::committed);
      THEN("the oldest, a, is evicted") {
        CHECK(m.size() == 3);
        CHECK(m.load(acme, sa::session_id{"a"}, t0 + 1s).turns.empty());
        CHECK(m.load(acme, sa::session_id{"b"}, t0 + 1s).last_turn == 1);
        CHECK(m.load(acme, sa::session_id{"d"}, t0 + 1s).last_turn == 1);
      }
    }
    WHEN("a is appended to again before a fourth session starts") {
      REQUIRE(append(m, turn(2), t0 + 1s, alice, acme, sa::session_id{"a"}) == outcome::committed);
      REQUIRE(append(m, turn(1), t0 + 2s, alice, acme, sa::session_id{"d"}) == outcome::committed);
      THEN("b is evicted instead") {
        CHECK(m.size() == 3);
        CHECK(m.load(acme, sa::session_id{"a"}, t0 + 2s).last_turn == 2);
        CHECK(m.load(acme, sa::session_id{"b"}, t0 + 2s).turns.empty());
        CHECK(m.load(acme, sa::session_id{"c"}, t0 + 2s).last_turn == 1);
      }
    }
    WHEN("all of them expire") {
      REQUIRE(append(m, turn(1), t0 + 61s, alice, acme, sa::session_id{"d"}) == outcome::committed);
      THEN("expired sessions are dropped rather than live ones evicted") {
        CHECK(m.size() == 1);
        CHECK(m.load(acme, sa::session_id{"d"}, t0 + 61s).last_turn == 1);
      }
    }
  }
}

TEST_CASE("a rejected first append does not take a session slot from a live session",
          "[memory][lru]") {
  // append() creates the entry before checking the turn number, so a conflicting first turn leaves an
  // empty entry behind (no turns, never expiring until reached) that counts against max_sessions.
  auto l = small_limits();
  l.max_sessions = 2;
  sa::memory_store m{l};
  REQUIRE(append(m, turn(1), t0, alice, acme, sa::session_id{"live"}) == outcome::committed);
  REQUIRE(append(m, turn(1), t0, alice, acme, sa::session_id{"live2"}) == outcome::committed);
  REQUIRE(append(m, turn(5), t0, alice, acme, sa::session_id{"bogus"}) == outcome::conflict);
  CHECK(m.size() == 2);
  CHECK(m.load(acme, sa::session_id{"live"}, t0).last_turn == 1);
}

TEST_CASE("a rejected first append does not bind the session to that user", "[memory][owner]") {
  // Nothing was committed for alice, so bob's turn 1 should be accepted. (An older live session keeps
  // the expiry sweep from reaching the empty entry the rejected append left behind.)
  sa::memory_store m{small_limits()};
  REQUIRE(append(m, turn(1), t0, alice, acme, sa::session_id{"older"}) == outcome::committed);
  REQUIRE(append(m, turn(3), t0 + 1s, alice) == outcome::conflict);
  CHECK(append(m, turn(1), t0 + 2s, bob) == outcome::committed);
}
