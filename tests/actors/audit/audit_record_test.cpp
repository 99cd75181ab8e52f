// The record format (canonical bytes, hash, JSON line) and the redaction of arguments, without a store.
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_redact.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace sa::audit;
using Catch::Matchers::Contains;

namespace {

record sample() {
  record r;
  r.seq = 7;
  r.time = "2026-05-01T12:34:56.789Z";
  r.node = "node-1";
  r.tenant = "acme";
  r.actor = "bot";
  r.action = "escalate";
  r.args = R"({"detail":"confidence 0.41 < 0.70","turn":3})";
  r.result = "low_confidence";
  r.session = "s-1";
  r.prev = genesis_hash;
  r.hash = compute_hash(r);
  return r;
}

} // namespace

TEST_CASE("a record's hash covers every field but itself, prev included") {
  auto base = sample();
  REQUIRE(is_hash(base.hash));
  auto changed = [&](auto mutate) {
    auto r = base;
    mutate(r);
    return compute_hash(r) != base.hash;
  };
  CHECK(changed([](record& r) { r.seq = 8; }));
  CHECK(changed([](record& r) { r.time = "2026-05-01T12:34:56.790Z"; }));
  CHECK(changed([](record& r) { r.node = "node-2"; }));
  CHECK(changed([](record& r) { r.tenant = "globex"; }));
  CHECK(changed([](record& r) { r.actor = "admin"; }));
  CHECK(changed([](record& r) { r.action = "create_ticket"; }));
  CHECK(changed([](record& r) { r.args = R"({"detail":"x","turn":3})"; }));
  CHECK(changed([](record& r) { r.result = "ok"; }));
  CHECK(changed([](record& r) { r.session = "s-2"; }));
  CHECK(changed([](record& r) { r.prev = std::string(64, 'a'); }));
  // Length prefixes: moving a byte from one field to the next is a different record.
  CHECK(changed([](record& r) {
    r.tenant = "acm";
    r.actor = "ebot";
  }));
  auto r = base;
  r.hash = std::string(64, 'f');
  CHECK(compute_hash(r) == base.hash);
}

TEST_CASE("a record round-trips through its JSON line with args as an object") {
  auto r = sample();
  auto line = to_json_line(r);
  CHECK(line.find('\n') == std::string::npos);
  CHECK_THAT(line, Contains(R"("args":{"detail":"confidence 0.41 < 0.70","turn":3})"));
  CHECK(line.rfind(R"({"seq":7,"time":"2026-05-01T12:34:56.789Z","node":"node-1",)", 0) == 0);
  record back;
  std::string why;
  REQUIRE(parse_json_line(line, back, &why));
  CHECK(back.seq == r.seq);
  CHECK(back.args == r.args);
  CHECK(compute_hash(back) == r.hash);
  // Re-indenting the line is not a change; re-ordering the args' keys is not either.
  auto pretty = nlohmann::json::parse(line).dump(2);
  REQUIRE(parse_json_line(pretty, back, &why));
  CHECK(compute_hash(back) == r.hash);
}

TEST_CASE("canonical args are stable through parse and dump, numbers included") {
  std::string once, twice;
  REQUIRE(canonical_args(R"({"b": 0.1, "a": [1, -2, 3.5e-7, 18446744073709551615], "c": {"z": null, "y": true},
                           "d": "caf\u00e9 \"quoted\" \n"})",
                         once));
  REQUIRE(canonical_args(once, twice));
  CHECK(once == twice);
  CHECK(once.rfind(R"({"a":)", 0) == 0);
  std::string why;
  CHECK_FALSE(canonical_args("[1,2]", once, &why));
  CHECK(why == "a JSON array, not an object");
  CHECK_FALSE(canonical_args("{nope", once, &why));
  CHECK(why == "not valid JSON");
  REQUIRE(canonical_args("", once));
  CHECK(once == "{}");
}

TEST_CASE("a line that is not a record names the field and the problem") {
  auto line = nlohmann::json::parse(to_json_line(sample()));
  auto why_of = [](const nlohmann::json& j) {
    record r;
    std::string why;
    CHECK_FALSE(parse_json_line(j.dump(), r, &why));
    return why;
  };
  auto j = line;
  j.erase("prev");
  CHECK(why_of(j) == "field \"prev\" is missing");
  j = line;
  j["seq"] = "7";
  CHECK(why_of(j) == "field \"seq\" must be a whole number from 1");
  j = line;
  j["extra"] = 1;
  CHECK(why_of(j) == "unknown field \"extra\"");
  j = line;
  j["hash"] = "abc";
  CHECK(why_of(j) == "field \"hash\" must be 64 lower-case hex digits");
}

TEST_CASE("times are RFC 3339 UTC with milliseconds") {
  using namespace std::chrono;
  system_clock::time_point t{milliseconds{1777638896789LL}};
  CHECK(rfc3339_utc_ms(t) == "2026-05-01T12:34:56.789Z");
  CHECK(rfc3339_utc_ms(system_clock::time_point{milliseconds{5}}) == "1970-01-01T00:00:00.005Z");
}

TEST_CASE("redaction removes e-mail addresses, card numbers, secrets and secret-named values from arguments") {
  redactor r;
  std::size_t n = 0;
  auto out = r.arguments(R"({"customer_email": "Jane.Doe+x@Example.co.uk",
                             "note": "card 4111 1111 1111 1111, call me",
                             "card_number": "4111111111111111",
                             "amount_cents": 4111111111111111,
                             "password": "hunter2", "nested": {"api_token": "abc", "list": ["bob@example.com", 42]},
                             "jane@example.org": 1, "count": 3})",
                         &n);
  CHECK(out.find("Jane.Doe") == std::string::npos);
  CHECK(out.find("example.co.uk") == std::string::npos);
  CHECK(out.find("4111") == std::string::npos);
  CHECK(out.find("hunter2") == std::string::npos);
  CHECK(out.find("\"abc\"") == std::string::npos);
  CHECK(out.find("bob@") == std::string::npos);
  CHECK(out.find("jane@") == std::string::npos);
  CHECK_THAT(out, Contains(R"("customer_email":"[redacted email]")"));
  CHECK_THAT(out, Contains(R"("password":"[redacted]")"));
  CHECK_THAT(out, Contains(R"("count":3)"));
  CHECK_THAT(out, Contains("42"));
  CHECK(n >= 8);
  std::string canonical;
  REQUIRE(canonical_args(out, canonical));
  CHECK(canonical == out);
}

TEST_CASE("arguments that are not a JSON object are kept, redacted, as unparsed") {
  redactor r;
  bool was_object = true;
  auto out = r.arguments("ticket for jane@example.org", nullptr, &was_object);
  CHECK_FALSE(was_object);
  CHECK(out == R"({"unparsed":"ticket for [redacted email]"})");
  CHECK(r.arguments("") == "{}");
  CHECK(r.text("mail me at a.b@c.io") == "mail me at [redacted email]");
}
