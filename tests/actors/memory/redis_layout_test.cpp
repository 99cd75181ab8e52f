// The Redis layout of conversation memory without a server: keys (tenant namespace, hash tag, escaping),
// the stored JSON of a turn, the scripts' arguments and the parsing of their replies.
#include "actors/memory/redis_layout.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sa;
namespace rl = sa::redis_layout;
using kind = redis_reply::kind;

namespace {

redis_reply integer(long long v) { return redis_reply{kind::integer, v, {}, {}}; }
redis_reply text(std::string s) { return redis_reply{kind::string, 0, std::move(s), {}}; }
redis_reply array(std::vector<redis_reply> xs) { return redis_reply{kind::array, 0, {}, std::move(xs)}; }

turn_record sample_turn() {
  turn_record t;
  t.number = 7;
  t.client_message_id = "m-7";
  t.user_text = "Why was I charged twice? \"quotes\" and\nnew lines, ünïcode";
  t.answer_text = "Because of the renewal.";
  t.intent = intent::billing;
  t.escalated = true;
  t.at_unix_ms = 1700000000123;
  return t;
}

} // namespace

TEST_CASE("a session's keys are namespaced by tenant and share one hash tag, the session", "[redis_layout]") {
  auto k = rl::keys_for("sa", tenant_id{"acme"}, session_id{"s-1"});
  CHECK(k.turns == "sa:acme:{s-1}:turns");
  CHECK(k.ids == "sa:acme:{s-1}:ids");
  CHECK(k.meta == "sa:acme:{s-1}:meta");
  CHECK(k.conflicts == "sa:acme:{s-1}:conflicts");
  auto other = rl::keys_for("sa", tenant_id{"globex"}, session_id{"s-1"});
  CHECK(other.turns != k.turns);
  CHECK(other.turns.rfind("sa:globex:", 0) == 0);
}

TEST_CASE("ids are escaped so that no tenant or session reaches another's keys or moves the hash tag",
          "[redis_layout]") {
  CHECK(rl::escape("a-b_c.d:e@f") == "a-b_c.d:e@f");
  CHECK(rl::escape("x{y}z") == "x%7By%7Dz");
  CHECK(rl::escape("50%") == "50%25");
  CHECK(rl::escape(std::string("a\0b", 3)) == "a%00b");
  auto k = rl::keys_for("sa", tenant_id{"acme:{evil}"}, session_id{"s}:x{"});
  CHECK(k.turns == "sa:acme:%7Bevil%7D:{s%7D:x%7B}:turns");
  // exactly one '{' and one '}' in the key: the session is the hash tag
  CHECK(std::count(k.turns.begin(), k.turns.end(), '{') == 1);
  CHECK(std::count(k.turns.begin(), k.turns.end(), '}') == 1);
}

TEST_CASE("a turn round-trips through its stored JSON", "[redis_layout]") {
  auto t = sample_turn();
  auto json = rl::encode_turn(t);
  turn_record back;
  REQUIRE(rl::decode_turn(json, back));
  CHECK(back.number == t.number);
  CHECK(back.client_message_id == t.client_message_id);
  CHECK(back.user_text == t.user_text);
  CHECK(back.answer_text == t.answer_text);
  CHECK(back.intent == intent::billing);
  CHECK(back.escalated);
  CHECK(back.at_unix_ms == t.at_unix_ms);
  CHECK_FALSE(rl::decode_turn("not json", back));
  CHECK_FALSE(rl::decode_turn("{\"user_text\":\"no number\"}", back));
}

TEST_CASE("the append command carries the keys, the turn, the window, the TTL and the summary", "[redis_layout]") {
  auto keys = rl::keys_for("sa", tenant_id{"acme"}, session_id{"s-1"});
  rl::append_args a;
  a.turn = sample_turn();
  a.turn_json = rl::encode_turn(a.turn);
  a.owner = user_id{"alice"};
  a.max_turns = 10;
  a.ttl = std::chrono::milliseconds(3600000);
  a.replace_summary = true;
  a.summary = "Turn 1 (billing): ...";
  auto sha = rl::append_command(keys, a, true);
  REQUIRE(sha.size() == 14);
  CHECK(sha[0] == "EVALSHA");
  CHECK(sha[1] == redis_script_sha1(rl::append_script()));
  CHECK(sha[2] == "3");
  CHECK(sha[3] == keys.turns);
  CHECK(sha[6] == "7");
  CHECK(sha[7] == "m-7");
  CHECK(sha[8] == "alice");
  CHECK(sha[9] == a.turn_json);
  CHECK(sha[10] == "10");
  CHECK(sha[11] == "3600000");
  CHECK(sha[12] == "1");
  CHECK(sha[13] == a.summary);
  auto eval = rl::append_command(keys, a, false);
  CHECK(eval[0] == "EVAL");
  CHECK(eval[1] == rl::append_script());
  a.replace_summary = false;
  CHECK(rl::append_command(keys, a, true)[13].empty());
}

TEST_CASE("the append script's replies parse into a verdict and anything else is refused", "[redis_layout]") {
  rl::append_result r;
  REQUIRE(rl::parse_append_reply(array({integer(0), integer(4)}), r, nullptr));
  CHECK(r.status == rl::append_status::committed);
  CHECK(r.last == 4);
  REQUIRE(rl::parse_append_reply(array({integer(2), integer(9)}), r, nullptr));
  CHECK(r.status == rl::append_status::conflict);
  std::string why;
  CHECK_FALSE(rl::parse_append_reply(redis_reply{kind::error, 0, "OOM command not allowed", {}}, r, &why));
  CHECK_THAT(why, Catch::Matchers::Contains("OOM"));
  CHECK_FALSE(rl::parse_append_reply(array({integer(7), integer(1)}), r, &why));
  CHECK_FALSE(rl::parse_append_reply(text("OK"), r, &why));
}

TEST_CASE("the load script's reply parses into conversation memory", "[redis_layout]") {
  auto t = sample_turn();
  conversation_memory m;
  REQUIRE(rl::parse_load_reply(array({text("7"), text("alice"), text("Turn 6 ..."), array({text(rl::encode_turn(t))})}),
                               m, nullptr));
  CHECK(m.last_turn == 7);
  CHECK(m.owner == user_id{"alice"});
  CHECK(m.summary == "Turn 6 ...");
  REQUIRE(m.turns.size() == 1);
  CHECK(m.turns[0].client_message_id == "m-7");
  // an unknown session
  REQUIRE(rl::parse_load_reply(array({text("0"), text(""), text(""), array({})}), m, nullptr));
  CHECK(m.last_turn == 0);
  CHECK(m.turns.empty());
  std::string why;
  CHECK_FALSE(rl::parse_load_reply(array({text("x"), text(""), text(""), array({})}), m, &why));
  CHECK_FALSE(rl::parse_load_reply(array({text("1"), text(""), text(""), array({text("{broken")})}), m, &why));
  CHECK_THAT(why, Catch::Matchers::Contains("not valid JSON"));
}

TEST_CASE("the stored JSON escapes what JSON requires and reads back through either reader", "[redis_layout]") {
  turn_record t = sample_turn();
  t.user_text = std::string("quote \" backslash \\ slash / tab \t nl \n cr \r bell \x07 nul ") + std::string(1, '\0')
                + " emoji \xF0\x9F\x98\x80 bad \xFF byte";
  auto json = rl::encode_turn(t);
  // valid JSON for anyone (nlohmann parses it), invalid UTF-8 replaced
  auto parsed = nlohmann::json::parse(json);
  CHECK(parsed.at("user_text").get<std::string>().find("\xEF\xBF\xBD") != std::string::npos);
  turn_record back;
  REQUIRE(rl::decode_turn(json, back));
  CHECK(back.user_text == parsed.at("user_text").get<std::string>());
  CHECK(back.user_text.find(std::string(1, '\0')) != std::string::npos);
  // What another writer might store: spaces, other key order, \u escapes with a surrogate pair, extra keys.
  std::string foreign = R"( { "intent" : "technical", "extra": [1, 2], "number": 3,
    "user_text": "caf\u00e9 \ud83d\ude00", "escalated": true } )";
  REQUIRE(rl::decode_turn(foreign, back));
  CHECK(back.number == 3);
  CHECK(back.intent == intent::technical);
  CHECK(back.user_text == "caf\xC3\xA9 \xF0\x9F\x98\x80");
  CHECK(back.escalated);
  CHECK(back.client_message_id.empty());
  CHECK_FALSE(rl::decode_turn(R"({"number": -1})", back));
  CHECK_FALSE(rl::decode_turn(R"({"number": "7"})", back));
  CHECK_FALSE(rl::decode_turn(R"([1, 2])", back));
  CHECK_FALSE(rl::decode_turn(R"({"number": 1, "user_text": "unterminated)", back));
}
