// pii_prefilter: where in a text each PII pattern can match at all, found with byte loops instead of regex
// passes, so output_filter's pii_scanner runs each RE2 pattern only over a few short windows (ordinary
// prose: none at all). Exact, not a heuristic: every match a pattern can have lies inside one of its
// windows, and RE2 searches a window with the whole text as context (\b at its edges sees the real
// neighbours), so the windows find what a search of the whole text finds. pii_scanner::scan_exhaustive,
// the tests and the fuzz target compare the two.
//
// A rule describes every match of its pattern: a seed it contains (a digit, '@', ':', ...), the class of
// bytes around the seed that holds the rest of the match (a run), and how far a prefix word may reach before
// that run ("order no. 415-555-0134", "version 1.2.3.4"). Runs too short or with too few digits to hold a
// match are dropped. To add a pattern: derive its rule from the pattern (every byte the pattern can match
// must be in the run class, or in the lead), set it next to the pattern in output_filter.cpp, and add a case
// to tests/actors/safety/pii_prefilter_test.cpp.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sa::safety {

/// Bytes [begin, end) of a text.
struct text_window {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// Classes of bytes a run is made of (bits; see pii_prefilter.cpp for the exact sets).
namespace run_class {
inline constexpr uint16_t digits_spaced = 1 << 0;  ///< [0-9 -]        card numbers, Canadian SINs
inline constexpr uint16_t digits_dashed = 1 << 1;  ///< [0-9-]         US SSNs
inline constexpr uint16_t upper_digits = 1 << 2;   ///< [A-Z0-9 ]      IBANs, UK NINOs
inline constexpr uint16_t id_letter = 1 << 3;      ///< [0-9A-Z-]      Spanish DNIs
inline constexpr uint16_t email = 1 << 4;          ///< [A-Za-z0-9._%+@-]
inline constexpr uint16_t phone = 1 << 5;          ///< [0-9+().-] and RE2's \s
inline constexpr uint16_t dotted = 1 << 6;         ///< [0-9.]         IPv4
inline constexpr uint16_t hex_colon = 1 << 7;      ///< [0-9A-Fa-f:]   IPv6
inline constexpr uint16_t token = 1 << 8;          ///< [A-Za-z0-9_.-] API keys, JWTs
} // namespace run_class

/// What every match of one pattern is made of.
struct window_rule {
  enum class seed : uint8_t {
    digit,          ///< a match holds a digit
    at_sign,        ///< an email's '@'
    colon,          ///< an IPv6 address's ':'
    secret_prefix,  ///< a key's literal start: sk-, AKIA, gh?_, xox, eyJ
    private_key,    ///< "-----BEGIN ": from there the match may run to the end of the text
    assignment,     ///< "password: x": ':' or '=', a keyword (and spaces) before it, one token after it
  };
  seed from = seed::digit;
  uint16_t run = 0;              ///< run_class bits: the bytes around the seed that hold the match
  std::size_t lead = 0;          ///< bytes a prefix may reach before the run (before the spaces: assignment)
  std::size_t min_digits = 0;    ///< a run with fewer digits holds no match
  std::size_t min_length = 0;    ///< a run shorter than this holds no match
  std::size_t min_upper = 0;     ///< a run with fewer capital letters (A-Z) holds no match
  char counted = 0;              ///< a byte a run must hold at least min_counted times (0: none)
  std::size_t min_counted = 0;
};

/// One pass over a text collecting the seeds; then the windows of any rule, cheaply.
class pii_prefilter {
public:
  explicit pii_prefilter(std::string_view text);

  /// Every window that can hold a match of a pattern with rule `r`, into `out` (cleared first): in order, not
  /// overlapping, merged when they touch. Empty: the pattern cannot match anywhere in the text.
  void windows(const window_rule& r, std::vector<text_window>& out) const;

  /// No seed of any kind: no pattern can match anywhere in the text (most of ordinary prose).
  bool empty() const noexcept {
    return digits_.empty() && at_signs_.empty() && colons_.empty() && assignments_.empty() && secrets_.empty() &&
           !private_key_;
  }

private:
  /// Seed positions. A prefilter lives on the stack for one scan, and a stream scans ~100 bytes per push:
  /// held in place, its seeds need no allocation there (a 2 KB text with many numbers spills to the heap).
  using seed_list = boost::container::small_vector<std::size_t, 16>;

  void run_windows(const seed_list& seeds, const window_rule& r, std::vector<text_window>& out) const;
  void assignment_windows(const window_rule& r, std::vector<text_window>& out) const;

  std::string_view text_;
  seed_list digits_, at_signs_, colons_, assignments_, secrets_;
  bool private_key_ = false;  ///< "-----BEGIN " occurs
};

} // namespace sa::safety
