// checksum_spans: every sub-span's Luhn and IBAN answer from prefix sums equals luhn_valid and iban_valid of
// that span, on real numbers inside longer runs and on random texts of the characters the checks read.
#include "actors/safety/checksum_spans.hpp"
#include "actors/safety/output_filter.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using namespace sa::safety;

namespace {

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t length) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (std::size_t i = 0; i < length; ++i)
    s.push_back(alphabet[pick(rng)]);
  return s;
}

struct valid_count {
  std::size_t luhn = 0, iban = 0;
};

/// Compares every span of `text`; returns how many were valid (so a test can insist that some were).
valid_count check_every_span(std::string_view text) {
  const luhn_spans luhn(text);
  const iban_spans iban(text);
  valid_count valid;
  for (std::size_t b = 0; b <= text.size(); ++b)
    for (std::size_t e = b; e <= text.size(); ++e) {
      auto span = text.substr(b, e - b);
      INFO("text '" << std::string(text) << "' span [" << b << ", " << e << ")");
      REQUIRE(luhn.valid(b, e) == luhn_valid(span));
      REQUIRE(iban.valid(b, e) == iban_valid(span));
      valid.luhn += luhn_valid(span);
      valid.iban += iban_valid(span);
    }
  return valid;
}

} // namespace

TEST_CASE("checksum spans find real card numbers and IBANs inside longer runs", "[safety][checksum]") {
  std::string text = "7 4242 4242 4242 4242 9 GB82 WEST 1234 5698 7654 32 x de89 3704 0044 0532 0130 00";
  auto valid = check_every_span(text);
  CHECK(valid.luhn > 0);
  CHECK(valid.iban > 0);
  const luhn_spans luhn(text);
  const iban_spans iban(text);
  CHECK(luhn.valid(2, 21));   // "4242 4242 4242 4242"
  CHECK_FALSE(luhn.valid(0, 21));
  CHECK(iban.valid(24, 51));  // "GB82 WEST 1234 5698 7654 32"
  CHECK_FALSE(iban.valid(24, 50));
  CHECK(iban.valid(54, text.size()));  // lower case, as iban_valid reads it
}

TEST_CASE("checksum spans agree with the validators on every span of random texts", "[safety][checksum]") {
  std::mt19937 rng(20261129);
  valid_count valid;
  for (int i = 0; i < 300; ++i) {
    valid.luhn += check_every_span(random_text(rng, "0123456789 -", 40)).luhn;
    valid.iban += check_every_span(random_text(rng, "0123456789ABGZ a-", 40)).iban;
  }
  // The random texts hold valid spans of both kinds, not only refusals.
  CHECK(valid.luhn > 100);
  CHECK(valid.iban > 0);
  // Longer texts (mod-97 shifts of hundreds of decimals), and every kind of byte the checks skip or refuse:
  // tabs, lower case, bytes from 0x80 (std::toupper leaves them alone).
  for (int i = 0; i < 3; ++i) {
    valid.luhn += check_every_span(random_text(rng, "0123456789 -\t\x80\xe9", 250)).luhn;
    valid.iban += check_every_span(random_text(rng, "0123456789GBDEkz \t-\xe9", 250)).iban;
  }
  // IBAN-shaped runs with many letters (each reads as two decimals): spans of up to 68 decimals.
  for (int i = 0; i < 40; ++i) {
    std::string text;
    while (text.size() < 120)
      text += random_text(rng, "ABGZ", 2) + random_text(rng, "0123456789", 2) +
              random_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ", 30) + " ";
    valid.iban += check_every_span(text).iban;
  }
  CHECK(check_every_span("").luhn == 0);
  CHECK(check_every_span(std::string(300, '9')).luhn == 0);
}
