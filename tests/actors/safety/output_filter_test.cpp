#include "actors/safety/output_filter.hpp"
#include "tests/actors/safety/stream_util.hpp"

#include <catch2/catch.hpp>

using namespace sa::safety;

TEST_CASE("Luhn validation accepts real test card numbers and rejects near misses", "[safety]") {
  CHECK(luhn_valid("4242 4242 4242 4242"));
  CHECK(luhn_valid("4111-1111-1111-1111"));
  CHECK(luhn_valid("378282246310005"));
  CHECK_FALSE(luhn_valid("4242 4242 4242 4241"));
  CHECK_FALSE(luhn_valid("1234"));
}

TEST_CASE("IBAN validation checks the mod-97 checksum", "[safety]") {
  CHECK(iban_valid("DE89 3704 0044 0532 0130 00"));
  CHECK(iban_valid("GB82WEST12345698765432"));
  CHECK_FALSE(iban_valid("DE89 3704 0044 0532 0130 01"));
}

TEST_CASE("card numbers, SSNs, IBANs and secrets are redacted", "[safety]") {
  pii_scanner scanner;
  size_t n = 0;
  auto out = scanner.redact("Card 4242 4242 4242 4242, SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, "
                            "key sk-abcdefghijklmnopqrstuvwxyz123456 and password: hunter2.",
                            &n);
  CHECK(n == 5);
  CHECK(out.find("4242") == std::string::npos);
  CHECK(out.find("123-45-6789") == std::string::npos);
  CHECK(out.find("3704") == std::string::npos);
  CHECK(out.find("sk-abc") == std::string::npos);
  CHECK(out.find("hunter2") == std::string::npos);
  CHECK(out.find("[redacted card_number]") != std::string::npos);
  CHECK(out.find("[redacted ssn]") != std::string::npos);
  CHECK(out.find("[redacted iban]") != std::string::npos);
  CHECK(out.find("[redacted secret]") != std::string::npos);
}

// Found by the fuzz target tests/fuzz/pii_fuzz.cpp: the patterns match greedily, so a run that failed
// its checksum used to hide a valid number inside it.
TEST_CASE("a card number behind a stray digit, or an IBAN before a word in capitals, is still redacted",
          "[safety]") {
  pii_scanner scanner;
  size_t n = 0;
  auto card = scanner.redact("Order 9 4242 4242 4242 4242 was charged twice", &n);
  CHECK(n == 1);
  CHECK(card == "Order 9 [redacted card_number] was charged twice");
  // 24 characters: every group has four, so the greedy pattern takes the next word as one more group.
  REQUIRE(iban_valid("ES91 2100 0418 4502 0005 1332"));
  auto iban = scanner.redact("Pay to ES91 2100 0418 4502 0005 1332 EURO please", &n);
  CHECK(n == 1);
  CHECK(iban == "Pay to [redacted iban] EURO please");
  auto twice = scanner.redact("IBAN GB82 GB82 WEST 1234 5698 7654 32, thanks", &n);
  CHECK(n == 1);
  CHECK(twice == "IBAN GB82 [redacted iban], thanks");
}

TEST_CASE("ordinary support text is left alone", "[safety]") {
  pii_scanner scanner;
  for (auto text : {"Invoice INV-2026-0142 of 2026-11-01 for $250.00 was paid by Visa ending 4242.",
                    "Builds get 15 minutes and 7 GB of memory; ticket TCK-5012 is open.",
                    "Order 1234567890123 shipped", "See version 1.2.3.4 or v2.0.1.7, build 1.2.3.4.5"}) {
    INFO(text);
    size_t n = 0;
    CHECK(scanner.redact(text, &n) == text);
    CHECK(n == 0);
  }
}

TEST_CASE("a card number split across stream chunks at any byte is still redacted", "[safety]") {
  pii_scanner scanner;
  std::string text = "Thanks for waiting. The card on file, 4242 4242 4242 4242, was charged twice; we "
                     "refunded one charge. Your SSN 123-45-6789 is never needed for billing questions.";
  auto whole = scanner.redact(text);
  for (size_t chunk = 1; chunk <= text.size(); ++chunk) {
    stream_redactor r{scanner};
    INFO("chunk size " << chunk);
    REQUIRE(sa::test::stream_through(r, text, chunk) == whole);
    CHECK(r.redactions() == 2);
  }
}

TEST_CASE("a reset stream redactor drops its held-back text and counts only what follows", "[safety][reset]") {
  pii_scanner scanner;
  stream_redactor r{scanner};
  std::string out = r.push("Thanks for waiting. The card 4242 4242 4242 4242 was charged twice this month, I see it. ");
  out += r.push("The card on file now is 5555 5555 5555 44");  // cut off mid-number: held back
  CHECK(out.find("[redacted card_number]") != std::string::npos);
  CHECK(out.find("5555") == std::string::npos);
  CHECK(r.redactions() == 1);
  r.reset();
  CHECK(r.redactions() == 0);
  std::string fresh = "We reversed the charge; the card 4000 0566 5566 5556 sees it in five days.";
  auto after = r.push(fresh);
  after += r.finish();
  CHECK(after == scanner.redact(fresh));  // exactly as if the redactor were new
  CHECK(after.find("5555") == std::string::npos);
  CHECK(r.redactions() == 1);
}

// Found by the fuzz target once it ran fast enough: a too-long phone hit hid a second number after its
// valid part; an overlapping match that lost to its neighbour reappeared once the neighbour was redacted;
// an invalid SIN-shaped hit took the first group of a valid one.
TEST_CASE("redacted text holds nothing the scanner would still flag", "[safety]") {
  pii_scanner scanner;
  for (auto text : {"Card +111 521 781 5243 541 781 5243 54 13- 13-4key", "Card +111 7854 14112 78::654 13-4-8",
                    "SIN 162 621 162 625 115 111", "host G::1111123-45-6118 q", "fe80::8password: hunter2 ok"}) {
    INFO(text);
    auto redacted = scanner.redact(text);
    CHECK(scanner.scan(redacted).empty());
    CHECK(redacted.find("5243") == std::string::npos);
    CHECK(redacted.find("::654") == std::string::npos);
    CHECK(redacted.find("625 115") == std::string::npos);
    CHECK(redacted.find("45-6118") == std::string::npos);
  }
}

// Found by the fuzz target (fuzz_pii regression-10): a hit that ran on into a match starting inside it was
// invalid as a whole ("+11 1111 119311)11118 ..." has 17 digits), and once that match was redacted its part
// before it was a phone number. Such a hit is judged again as the redaction leaves it.
TEST_CASE("a number that runs on into a match is judged again as the redaction leaves it", "[safety]") {
  pii_scanner scanner;
  struct example {
    std::string text, redacted;
  };
  for (const auto& e : std::vector<example>{
         {"call +11 1111 119311)4111 1111 1111 1111 now", "call [redacted phone])[redacted card_number] now"},
         {"at 1.2.3.4.4111 1111 1111 1111 ok", "at [redacted ip_address].[redacted card_number] ok"}}) {
    INFO(e.text);
    auto redacted = scanner.redact(e.text);
    CHECK(redacted == e.redacted);
    CHECK(scanner.scan(redacted).empty());
    for (size_t chunk : {1, 3, 17, 64}) {
      stream_redactor r{scanner};
      INFO("chunk " << chunk);
      CHECK(sa::test::stream_through(r, e.text, chunk) == redacted);
    }
  }
  // Without a match inside it, a run that is too long is still no phone number and no address.
  CHECK(scanner.redact("ref +11 1111 119311)11118 ok") == "ref +11 1111 119311)11118 ok");
  CHECK(scanner.redact("v 1.2.3.4.5 ok") == "v 1.2.3.4.5 ok");
}

// Found by the fuzz target: "password :" and its value many blank lines later matched as one secret, longer
// than the hold-back, so a stream released the keyword before the value arrived.
TEST_CASE("a password's value must follow its sign within a few spaces, so a stream judges it like the whole",
          "[safety]") {
  pii_scanner scanner;
  std::string text = "my password :" + std::string(80, '\n') + "=hunter2 and password:\n  hunter3 ok";
  auto whole = scanner.redact(text);
  CHECK(whole.find("hunter3") == std::string::npos);
  for (size_t chunk : {1, 7, 49, 64}) {
    stream_redactor r{scanner};
    INFO("chunk " << chunk);
    CHECK(sa::test::stream_through(r, text, chunk) == whole);
  }
}

// A keyword glued to the word before it ("fe80::8password: hunter2") leaked its value while the keyword needed
// a word boundary; matching it mid-word made the redaction start mid-word and expose a number ending just
// before it (fuzz_pii regression-7). The match now takes the whole token back to the space before it.
TEST_CASE("a password keyword glued to the word before it is redacted with that whole word", "[safety]") {
  pii_scanner scanner;
  CHECK(scanner.redact("ip fe80::8password: hunter2 ok") == "ip [redacted secret] ok");
  CHECK(scanner.redact("set db_password=s3cr3t then") == "set [redacted secret] then");
  CHECK(scanner.redact("x4111111111111111password: y z") == "[redacted secret] z");
  CHECK(scanner.redact("the secretary: Ann") == "the secretary: Ann");  // not a keyword followed by a sign
  // An IPv6 hit and a secret with the same span once extended: pattern order names it. These few matches sort
  // the same either way; the input that failed with an unstable sort (a stream named the kind differently
  // from the whole text) is tests/fuzz/corpus/fuzz_pii/regression-8, replayed by every fuzz_pii run.
  CHECK(scanner.redact("a 1::8password:zz b") == "a [redacted ip_address] b");
  CHECK(scanner.redact(std::string(300, 'x') + " 1::8password:zz b") ==
        std::string(300, 'x') + " [redacted ip_address] b");
  // A value starting with a byte that is no UTF-8 character is still a value (fuzz_pii regression-9: once the
  // glued match after it was redacted, "password: [redacted secret]" was flagged again).
  CHECK(scanner.redact("password: \x9f\x9aorD::8passworD::k z") == "[redacted secret] z");
  std::string fuzzed = "Card 47111 1111 1111 172CpassworD:1 11 155 11,08";
  auto redacted = scanner.redact(fuzzed);
  CHECK(redacted.find("passworD:1") == std::string::npos);
  CHECK(scanner.scan(redacted).empty());
  std::string text = "first " + std::string(70, 'a') + "password: hunter2 and " + std::string(90, 'b') +
                     "_api_key=sk-not-long-enough done";
  auto whole = scanner.redact(text);
  CHECK(whole == "first [redacted secret] and [redacted secret] done");
  for (size_t chunk : {1, 5, 63, 64, 65}) {
    stream_redactor r{scanner};
    INFO("chunk " << chunk);
    CHECK(sa::test::stream_through(r, text, chunk) == whole);
  }
}
