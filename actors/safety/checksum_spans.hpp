// checksum_spans: the Luhn and IBAN checks of every sub-span of one text, each in constant time, from prefix
// sums built once in one pass over the text. pii_scanner judges a run of digit groups by trying sub-spans of
// it (where a card number or IBAN may start and end inside the run); asked one by one, each check re-read its
// span, so a 2 KB message of digit groups ("1 1 1 ...") cost half a millisecond, and a quarter of fuzz_pii's
// time went there. The answers equal luhn_valid and iban_valid of the same span, for any text (the tests
// compare every span of random texts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sa::safety {

/// luhn_valid(text.substr(begin, end - begin)) for any 0 <= begin <= end <= text.size().
class luhn_spans {
public:
  explicit luhn_spans(std::string_view text);
  bool valid(std::size_t begin, std::size_t end) const;

private:
  /// Before each position: the digits so far, and their sums by the parity of each digit's index among the
  /// text's digits, as read (plain) and as Luhn doubles them.
  struct prefix {
    uint32_t digits = 0;
    uint32_t plain[2] = {0, 0};
    uint32_t doubled[2] = {0, 0};
  };
  std::vector<prefix> before_;
};

/// iban_valid(text.substr(begin, end - begin)) for any 0 <= begin <= end <= text.size().
class iban_spans {
public:
  explicit iban_spans(std::string_view text);
  bool valid(std::size_t begin, std::size_t end) const;

private:
  /// The span's characters without spaces, upper case, read as one decimal number (a letter as two digits,
  /// A = 10 ... Z = 35), mod 97.
  uint32_t mod97(std::size_t begin, std::size_t end) const;

  /// Before each position: characters that are not spaces, ones that are neither an ASCII capital nor a
  /// digit once upper-cased, the decimal digits those read as, and that number mod 97.
  struct prefix {
    uint32_t chars = 0;
    uint32_t bad = 0;
    uint32_t decimals = 0;
    uint32_t mod = 0;
  };
  std::string_view text_;
  std::vector<prefix> before_;
  std::vector<std::size_t> char_at_;  ///< position in the text of each character that is not a space
  std::vector<uint8_t> pow10_;        ///< 10^k mod 97
};

} // namespace sa::safety
