// pii_prefilter: the windows it gives the scanner hold every match, so scan() finds exactly what a search of
// the whole text finds (scan_exhaustive), on texts built to sit at the windows' edges: prefix words far from
// their number, case-folded letters that take more bytes, PII next to punctuation, and random bytes.
#include "actors/safety/output_filter.hpp"
#include "actors/safety/pii_prefilter.hpp"
#include "tests/support/seeded_pii.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using namespace sa::safety;
namespace seeded = sa::test::seeded_pii;

namespace {

using spans = std::vector<std::pair<std::size_t, std::size_t>>;

/// scan() and scan_exhaustive() agree on the matches and on every raw hit.
void check_same(std::string_view text) {
  static const pii_scanner scanner;  // compiled once for the thousands of texts below
  spans fast_hits, all_hits;
  auto fast = scanner.scan(text, &fast_hits);
  auto all = scanner.scan_exhaustive(text, &all_hits);
  std::sort(fast_hits.begin(), fast_hits.end());
  std::sort(all_hits.begin(), all_hits.end());
  INFO(text);
  REQUIRE(fast.size() == all.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    CHECK(fast[i].kind == all[i].kind);
    CHECK(fast[i].offset == all[i].offset);
    CHECK(fast[i].length == all[i].length);
  }
  CHECK(fast_hits == all_hits);
}

// Case-insensitive keywords may hold 's' as U+017F and 'k' as U+212A (RE2 folds them), which take more bytes.
const std::string long_s = "\xc5\xbf";
const std::string kelvin = "\xe2\x84\xaa";

} // namespace

TEST_CASE("ordinary prose gives the scanner no window at all", "[safety][pii][prefilter]") {
  pii_prefilter filter("Our nightly build started failing on Monday; the job timed out after 15 minutes, on 12 seats.");
  std::vector<text_window> out;
  for (auto seed : {window_rule::seed::digit, window_rule::seed::at_sign, window_rule::seed::colon,
                    window_rule::seed::secret_prefix, window_rule::seed::private_key, window_rule::seed::assignment}) {
    filter.windows({seed, run_class::digits_spaced, 0, 13}, out);
    CHECK(out.empty());
  }
}

TEST_CASE("a window reaches back over a prefix word and ends with its run", "[safety][pii][prefilter]") {
  std::string text = "see order no. 415-555-0134 today";
  pii_prefilter filter(text);
  std::vector<text_window> out;
  filter.windows({window_rule::seed::digit, run_class::phone, 48, 3}, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].begin == 0);  // the lead reaches past "order no."
  CHECK(out[0].end == text.find("today"));  // the run takes the space after the number along
  filter.windows({window_rule::seed::digit, run_class::digits_spaced, 0, 13}, out);
  CHECK(out.empty());  // 10 digits: no card number
}

TEST_CASE("the prefiltered scan finds what a whole-text search finds, at the windows' edges",
          "[safety][pii][prefilter]") {
  for (std::string text :
       {std::string("order no. 415-555-0134 and reference number: (212) 555-0199"),
        "tic" + kelvin + "et #: 415-555-0134, refe" + long_s + "ence nos. +44 20 7946 0321",
        "pa" + long_s + long_s + "word:   hunter2 and API KEY = abc and secret\t:\n" + long_s + "x",
        "ver" + long_s + "ion 1.2.3.4, v.10.0.0.1, release 2.0.0.1, 10.0.0.1.",
        std::string("JW 48 21 93 B/GB82 WEST 1234 5698 7654 32/48213957T/130-903-479/318-47-2915"),
        std::string("a@b@example.org,x.y@mail.example.co.uk;@;") + std::string(seeded::email),
        std::string("fe80::1 ::1 12:30:45 a::b 2001:db8::ff00:42:8329:") + std::string(seeded::ipv6),
        std::string("xoxb-1234567890abc sk-abcdefghijklmnopqrstuvwxyz ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
                    "AKIAABCDEFGHIJKLMNOP eyJhbGciOiJIUzI1.eyJzdWIiOiIx.dozjgNryP4J3"),
        std::string("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- and -----BEGIN  x"),
        std::string("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 ") + std::string(seeded::card) + "-4-2-4-2"}) {
    check_same(text);
  }
}

TEST_CASE("random PII-laden text and random bytes scan the same with and without the prefilter",
          "[safety][pii][prefilter]") {
  std::vector<std::string> words{"the", "order", "no.", "#", "version", "v", "call", "ref", "password:", "=", ":",
                                 "api_key", "tic" + kelvin + "et", "pa" + long_s + "sword", "\t", "\n", "(", ")",
                                 "+44", "4242", "12", "DE89", "1.2.3.4", "415-555-0134", "a@", "@b.com", "::",
                                 "sk-", "AKIA", "-----BEGIN ", "PRIVATE KEY-----"};
  for (auto v : seeded::all)
    words.emplace_back(v);
  std::mt19937 rng{7};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    auto n = 1 + rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      text += words[rng() % words.size()];
      auto gap = rng() % 6;
      text += gap == 0 ? "" : gap == 1 ? "-" : gap == 2 ? "." : " ";
    }
    check_same(text);
  }
  // Bytes the patterns care about, and some others.
  static constexpr char alphabet[] = "0123456789 -.:@+()#=_ABKJxeskghoDEGWabc\t\n\xc5\xbf";
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 200, ' ');
    for (auto& c : text)
      c = alphabet[rng() % (sizeof alphabet - 1)];
    check_same(text);
  }
}

TEST_CASE("a value is found wherever it sits in the prefilter's sixteen-byte blocks, among bytes from 0x80",
          "[safety][pii][prefilter]") {
  // The seeds are looked for sixteen bytes at a time; bytes from 0x80 compare as negative numbers there.
  static const pii_scanner scanner;
  std::vector<std::string_view> values(seeded::all.begin(), seeded::all.end());
  for (std::string_view key : {"AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "xoxb-1234567890abc",
                               "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.dozjgNryP4J3", "password: hunter2",
                               "-----BEGIN RSA PRIVATE KEY-----"})
    values.push_back(key);
  for (auto v : values) {
    for (size_t at = 0; at < 40; ++at) {
      for (char fill : {'\xe9', '\x80', '\xff', ' '}) {
        std::string text = std::string(at, fill) + " " + std::string(v) + " " + std::string(17, fill);
        INFO(v << " at " << at);
        CHECK_FALSE(scanner.scan(text).empty());
        check_same(text);
      }
    }
  }
}
