// The PII scanner per kind: what is found (valid checksums, real formats), what is not (near misses,
// dates, order numbers, versions), and the stream redactor's hold-back for every kind at every split.
#include "actors/safety/output_filter.hpp"
#include "tests/actors/safety/stream_util.hpp"
#include "tests/support/seeded_pii.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace sa::safety;
namespace seeded = sa::test::seeded_pii;

namespace {

const pii_scanner& scanner() {
  static const pii_scanner s;
  return s;
}

/// The kinds found in `text`, in order.
std::vector<std::string> kinds(std::string_view text) {
  std::vector<std::string> out;
  for (auto& m : scanner().scan(text))
    out.push_back(m.kind);
  return out;
}

using kinds_t = std::vector<std::string>;

} // namespace

TEST_CASE("every seeded value is found as its kind", "[safety][pii]") {
  CHECK(kinds(std::string("card ") + std::string(seeded::card)) == kinds_t{"card_number"});
  CHECK(kinds(std::string("mail ") + std::string(seeded::email) + ".") == kinds_t{"email"});
  CHECK(kinds(std::string("call ") + std::string(seeded::phone_intl) + " now") == kinds_t{"phone"});
  CHECK(kinds(std::string("call ") + std::string(seeded::phone_nanp) + ".") == kinds_t{"phone"});
  CHECK(kinds(std::string("ssn ") + std::string(seeded::ssn)) == kinds_t{"ssn"});
  CHECK(kinds(std::string("iban ") + std::string(seeded::iban)) == kinds_t{"iban"});
  CHECK(kinds(std::string("from ") + std::string(seeded::ipv4) + ".") == kinds_t{"ip_address"});
  CHECK(kinds(std::string("from ") + std::string(seeded::ipv6) + " today") == kinds_t{"ip_address"});
  CHECK(kinds(std::string("key ") + std::string(seeded::secret)) == kinds_t{"secret"});
  CHECK(kinds(std::string("NI ") + std::string(seeded::nino)) == kinds_t{"national_id"});
  CHECK(kinds(std::string("SIN ") + std::string(seeded::sin_ca)) == kinds_t{"national_id"});
  CHECK(kinds(std::string("DNI ") + std::string(seeded::dni)) == kinds_t{"national_id"});
}

TEST_CASE("emails in their usual shapes are found", "[safety][pii]") {
  for (auto text : {"write to a.b-c+tag@mail.example.co.uk please", "JOHN_DOE@EXAMPLE.COM", "x@y.io"}) {
    INFO(text);
    CHECK(kinds(text) == kinds_t{"email"});
  }
  for (auto text : {"user@localhost", "@handle on twitter", "a@b", "name at example dot com"}) {
    INFO(text);
    CHECK(kinds(text).empty());
  }
}

TEST_CASE("phone numbers are found, dates, bare digit runs and references are not", "[safety][pii]") {
  for (auto text : {"+1 415 555 0134", "+1-415-555-0134", "+49 30 901820", "+33 1 42 68 53 00", "+442079460321",
                    "(212) 555-0199", "212-555-0199", "212.555.0199", "1-800-555-0199", "+91 (22) 2778 1234"}) {
    INFO(text);
    CHECK(kinds(std::string("call me on ") + text + " today") == kinds_t{"phone"});
  }
  for (auto text : {"2026-11-01", "12/10/2026", "order 415-555-0134", "Order #212-555-0199", "invoice no. 212-555-0199",
                    "ticket 800 555 0199", "4155550134", "123-456-7890" /* area code 1xx */, "555-0199",
                    "+12 345" /* too few digits */, "at 10:30", "version 2.10.3"}) {
    INFO(text);
    CHECK(kinds(text).empty());
  }
}

TEST_CASE("IP addresses are found, versions and out-of-range octets are not", "[safety][pii]") {
  for (auto text : {"10.0.0.1", "192.168.1.254", "8.8.8.8", "fe80::1", "2001:db8::ff00:42:8329", "::1",
                    "2001:0db8:0000:0000:0000:ff00:0042:8329"}) {
    INFO(text);
    CHECK(kinds(std::string("host ") + text + " is down") == kinds_t{"ip_address"});
  }
  for (auto text : {"v1.2.3.4", "version 1.2.3.4", "Release 2.0.0.1", "1.2.3.4.5", "256.1.1.1", "10.0.0",
                    "12:30:45", "00:1A:2B:3C:4D:5E", "std::string", "a::b"}) {
    INFO(text);
    CHECK(kinds(text).empty());
  }
}

TEST_CASE("national ids need their strict format or checksum", "[safety][pii]") {
  CHECK(kinds("SSN 123-45-6789") == kinds_t{"ssn"});
  for (auto text : {"000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"}) {
    INFO(text);
    CHECK(kinds(text).empty());
  }
  CHECK(kinds("NI number AB123456C") == kinds_t{"national_id"});
  CHECK(kinds("GB123456C and QQ123456C and AB123456E").empty());  // prefix never issued, bad letters
  CHECK(kinds("SIN 130-903-479") == kinds_t{"national_id"});
  CHECK(kinds("SIN 130-903-478 and 046-454-286").empty());  // Luhn fails; 0 is never issued
  CHECK(kinds("DNI 12345678Z") == kinds_t{"national_id"});
  CHECK(kinds("DNI 12345678A").empty());    // wrong check letter
}

TEST_CASE("checksum-invalid cards and IBANs are not redacted", "[safety][pii]") {
  CHECK(kinds("card 4929 3847 1026 5538").empty());
  CHECK(kinds("iban DE47 3704 0044 0532 0130 78").empty());
  CHECK(kinds("tracking 1Z999AA10123456784").empty());
}

TEST_CASE("secrets: keys, tokens, private keys and passwords", "[safety][pii]") {
  for (auto text : {"AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                    "my password: hunter2", "API_KEY=abc123"}) {
    INFO(text);
    CHECK(kinds(text) == kinds_t{"secret"});
  }
}

TEST_CASE("an answer keeps the customer's own contact data and redacts another person's", "[safety][pii]") {
  own_data own;
  own.add_from(scanner(), "my email is Me@Example.com and my phone +1 (415) 555-0134");
  size_t n = 0, others = 0;
  auto out = scanner().redact("We'll write to me@example.com or call 415-555-0134; Bob is bob@corp.example, "
                              "(212) 555-0199. Card 4242 4242 4242 4242.",
                              &n, &own, &others);
  CHECK(out == "We'll write to me@example.com or call 415-555-0134; Bob is [redacted email], "
               "[redacted phone]. Card [redacted card_number].");
  CHECK(n == 3);
  CHECK(others == 2);
}

TEST_CASE("a stream split at every byte redacts every kind exactly as the whole text", "[safety][pii][stream]") {
  std::string text = "Hello. Your card " + std::string(seeded::card) + " and mail " + std::string(seeded::email) +
                     ", phone " + std::string(seeded::phone_intl) + " or " + std::string(seeded::phone_nanp) +
                     ". SSN " + std::string(seeded::ssn) + ", IBAN " + std::string(seeded::iban) + " and host " +
                     std::string(seeded::ipv4) + " / " + std::string(seeded::ipv6) + ". Key " +
                     std::string(seeded::secret) + ", NI " + std::string(seeded::nino) + ", SIN " +
                     std::string(seeded::sin_ca) + ", DNI " + std::string(seeded::dni) +
                     ". Not these: order 415-555-0134, version 1.2.3.4, 2026-11-01, at 12:30:45.";
  auto whole = scanner().redact(text);
  for (auto v : seeded::all)
    REQUIRE(whole.find(v) == std::string::npos);
  CHECK(whole.find("order 415-555-0134") != std::string::npos);
  CHECK(whole.find("version 1.2.3.4") != std::string::npos);
  for (size_t chunk = 1; chunk <= text.size(); ++chunk) {
    stream_redactor r{scanner()};
    INFO("chunk size " << chunk);
    REQUIRE(sa::test::stream_through(r, text, chunk) == whole);
  }
}

TEST_CASE("random splits of random PII-laden text stream exactly as the whole", "[safety][pii][stream]") {
  std::vector<std::string> words{"the", "order", "version", "call", "#", "v", "ticket", "at", "no.",
                                 std::string(seeded::card), std::string(seeded::email),
                                 std::string(seeded::phone_intl), std::string(seeded::phone_nanp),
                                 std::string(seeded::iban), std::string(seeded::ipv4), std::string(seeded::ipv6),
                                 "1.2.3.4", "415-555-0134", "4242", "12", "DE89", "password:", "x", "+44"};
  std::mt19937 rng{42};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    auto n = 5 + rng() % 60;
    for (size_t i = 0; i < n; ++i)
      text += words[rng() % words.size()] + (rng() % 7 == 0 ? "  " : " ");
    auto whole = scanner().redact(text);
    stream_redactor r{scanner()};
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
      auto len = 1 + rng() % 24;
      out += r.push(text.substr(pos, len));
      pos += len;
    }
    out += r.finish();
    INFO(text);
    REQUIRE(out == whole);
  }
}
