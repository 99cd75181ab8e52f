#include "actors/safety/pii_prefilter.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// The byte loops below run for every pattern on every scan; in a fuzz build (clang, -fsanitize=fuzzer) their
// comparisons would each call into the coverage runtime, which made them most of the fuzz target's time. They
// are not instrumented for coverage: the fuzz target checks their result against a search of the whole text.
#if defined(__clang__)
#define SA_HOT_BYTE_LOOP __attribute__((no_sanitize("coverage")))
#else
#define SA_HOT_BYTE_LOOP
#endif

namespace sa::safety {

namespace {

enum seed_bits : uint8_t { digit_bit = 1, at_bit = 2, colon_bit = 4, assign_bit = 8, secret_bit = 16 };
constexpr unsigned digit_shift = 16, upper_shift = 17;  // byte_table::info, above the run classes

/// The bytes the constructor's SSE2 loop passes on to the seed table: '-' to '@' (digits, ':', '=', '@', '-'),
/// '_', 'J', 'K' and 'x'. Every seed byte must be one of them (byte_table checks).
constexpr bool simd_candidate(unsigned char c) {
  return (c >= '-' && c <= '@') || c == '_' || c == 'J' || c == 'K' || c == 'x';
}

/// Per byte: its run classes and which seed it is. RE2's \s is [\t\n\f\r ]; \d is [0-9].
struct byte_table {
  std::array<uint16_t, 256> classes{};
  std::array<uint8_t, 256> seeds{};
  std::array<bool, 256> space{};
  /// classes in the low 16 bits, then a digit bit and a capital bit: what run_windows reads per byte.
  std::array<uint32_t, 256> info{};

  byte_table() {
    auto add = [&](uint16_t cls, auto in) {
      for (int c = 0; c < 256; ++c)
        if (in(static_cast<unsigned char>(c)))
          classes[static_cast<size_t>(c)] |= cls;
    };
    auto digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
    auto upper_letter = [](unsigned char c) { return c >= 'A' && c <= 'Z'; };
    auto lower = [](unsigned char c) { return c >= 'a' && c <= 'z'; };
    auto hex = [&](unsigned char c) { return digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
    auto re2_space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
    auto one_of = [](const char* set) {
      return [set](unsigned char c) { return c != 0 && std::string_view(set).find(static_cast<char>(c)) != std::string_view::npos; };
    };
    add(run_class::digits_spaced, [&](unsigned char c) { return digit(c) || one_of(" -")(c); });
    add(run_class::digits_dashed, [&](unsigned char c) { return digit(c) || c == '-'; });
    add(run_class::upper_digits, [&](unsigned char c) { return upper_letter(c) || digit(c) || c == ' '; });
    add(run_class::id_letter, [&](unsigned char c) { return upper_letter(c) || digit(c) || c == '-'; });
    add(run_class::email, [&](unsigned char c) { return upper_letter(c) || lower(c) || digit(c) || one_of("._%+@-")(c); });
    add(run_class::phone, [&](unsigned char c) { return digit(c) || one_of("+().-")(c) || re2_space(c); });
    add(run_class::dotted, [&](unsigned char c) { return digit(c) || c == '.'; });
    add(run_class::hex_colon, [&](unsigned char c) { return hex(c) || c == ':'; });
    add(run_class::token, [&](unsigned char c) { return upper_letter(c) || lower(c) || digit(c) || one_of("_.-")(c); });
    for (int c = '0'; c <= '9'; ++c)
      seeds[static_cast<size_t>(c)] = digit_bit;
    seeds['@'] = at_bit;
    seeds[':'] = colon_bit | assign_bit;
    seeds['='] = assign_bit;
    for (unsigned char c : {'-', '_', 'K', 'J', 'x'})  // the telling byte of each key prefix
      seeds[c] = secret_bit;
    for (int c = 0; c < 256; ++c)  // the constructor's SSE2 loop looks at no other byte
      if (seeds[static_cast<size_t>(c)] != 0 && !simd_candidate(static_cast<unsigned char>(c)))
        throw std::logic_error("pii_prefilter: a seed byte outside simd_candidate would never be seen");
    for (int c = 0; c < 256; ++c) {
      space[static_cast<size_t>(c)] = re2_space(static_cast<unsigned char>(c));
      info[static_cast<size_t>(c)] = classes[static_cast<size_t>(c)] |
                                     (digit(static_cast<unsigned char>(c)) ? 1u << digit_shift : 0u) |
                                     (upper_letter(static_cast<unsigned char>(c)) ? 1u << upper_shift : 0u);
    }
  }
};

const byte_table& bytes() {
  static const byte_table t;
  return t;
}

unsigned char at(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]);
}

/// Where a key prefix (sk-, AKIA, gh[pousr]_, xox, eyJ) starts, given the position of its telling byte.
size_t secret_prefix_at(std::string_view text, size_t i) {
  auto has = [&](size_t from, std::string_view prefix) { return from <= i && text.substr(from, prefix.size()) == prefix; };
  switch (text[i]) {
    case '-':
      return has(i - 2, "sk-") ? i - 2 : std::string_view::npos;
    case '_':
      return i >= 3 && has(i - 3, "gh") && std::string_view("pousr").find(text[i - 1]) != std::string_view::npos
               ? i - 3
               : std::string_view::npos;
    case 'K':
      return has(i - 1, "AKIA") ? i - 1 : std::string_view::npos;
    case 'J':
      return has(i - 2, "eyJ") ? i - 2 : std::string_view::npos;
    default:  // 'x'
      return has(i, "xox") ? i : std::string_view::npos;
  }
}

/// Appends [begin, end), merged into the last window when they touch.
void add_window(std::vector<text_window>& out, size_t begin, size_t end) {
  if (!out.empty() && begin <= out.back().end)
    out.back().end = std::max(out.back().end, end);
  else
    out.push_back({begin, end});
}

} // namespace

SA_HOT_BYTE_LOOP pii_prefilter::pii_prefilter(std::string_view text) : text_(text) {
  const auto& t = bytes();
  const auto* d = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  auto visit = [&](size_t i) {
    auto s = t.seeds[d[i]];
    if (s & digit_bit) {  // the first of each run of digits: every run class holds the rest with it
      if (i == 0 || !(t.seeds[d[i - 1]] & digit_bit))
        digits_.push_back(i);
      return;
    }
    if (s & at_bit)
      at_signs_.push_back(i);
    if (s & colon_bit)
      colons_.push_back(i);
    if (s & assign_bit)
      assignments_.push_back(i);
    if (s & secret_bit)
      if (auto p = secret_prefix_at(text, i); p != std::string_view::npos)
        secrets_.push_back(p);
  };
  size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time: a mask of the bytes that may be a seed (simd_candidate), and only those looked
  // up. Ordinary prose has few; this loop was a fifth of a PII-dense turn's instructions as a byte-by-byte
  // lookup. Bytes from 0x80 compare negative (signed), below '-'.
  const __m128i below = _mm_set1_epi8('-' - 1), above = _mm_set1_epi8('@' + 1);
  const __m128i underscore = _mm_set1_epi8('_'), j_byte = _mm_set1_epi8('J'), k_byte = _mm_set1_epi8('K'),
                x_byte = _mm_set1_epi8('x');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    __m128i m = _mm_and_si128(_mm_cmpgt_epi8(v, below), _mm_cmplt_epi8(v, above));
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, underscore), _mm_cmpeq_epi8(v, x_byte)));
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, j_byte), _mm_cmpeq_epi8(v, k_byte)));
    for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(m)); bits != 0; bits &= bits - 1) {
      const size_t at_i = i + static_cast<size_t>(__builtin_ctz(bits));
      if (t.seeds[d[at_i]] != 0)
        visit(at_i);
    }
  }
#endif
  for (; i < n; ++i)
    if (t.seeds[d[i]] != 0)
      visit(i);
  std::sort(secrets_.begin(), secrets_.end());
  private_key_ = text.find("-----BEGIN ") != std::string_view::npos;
}

void pii_prefilter::windows(const window_rule& r, std::vector<text_window>& out) const {
  using seed = window_rule::seed;
  out.clear();
  switch (r.from) {
    case seed::digit:
      return run_windows(digits_, r, out);
    case seed::at_sign:
      return run_windows(at_signs_, r, out);
    case seed::colon:
      return run_windows(colons_, r, out);
    case seed::secret_prefix:
      return run_windows(secrets_, r, out);
    case seed::private_key:
      if (!private_key_)
        return;
      out.push_back({text_.find("-----BEGIN "), text_.size()});
      return;
    case seed::assignment:
      return assignment_windows(r, out);
  }
  out.push_back({0, text_.size()});
}

SA_HOT_BYTE_LOOP void pii_prefilter::run_windows(const seed_list& seeds, const window_rule& r,
                                std::vector<text_window>& out) const {
  // Table lookups and plain loops: this runs for every pattern on every scan (and on every stream push).
  const auto& t = bytes();
  const auto* d = reinterpret_cast<const unsigned char*>(text_.data());
  const size_t n = text_.size();
  const auto run = r.run;
  size_t covered = 0;  // seeds before this lie in a run already judged
  for (auto p : seeds) {
    if (p < covered || (t.classes[d[p]] & run) == 0)
      continue;
    // One pass out from the seed, both ways, counting the digits and capitals on the way.
    size_t a = p, b = p + 1, digits = 0, upper = 0, counted = 0;
    auto count = [&](uint32_t x) {
      digits += (x >> digit_shift) & 1;
      upper += (x >> upper_shift) & 1;
    };
    count(t.info[d[p]]);
    for (uint32_t x; a > 0 && ((x = t.info[d[a - 1]]) & run) != 0; --a)
      count(x);
    for (uint32_t x; b < n && ((x = t.info[d[b]]) & run) != 0; ++b)
      count(x);
    covered = b;
    if (b - a < r.min_length)
      continue;
    if (r.counted != 0)
      counted = static_cast<size_t>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(a),
                                               text_.begin() + static_cast<std::ptrdiff_t>(b), r.counted));
    if (digits < r.min_digits || upper < r.min_upper || counted < r.min_counted)
      continue;
    add_window(out, a > r.lead ? a - r.lead : 0, b);
  }
}

SA_HOT_BYTE_LOOP void pii_prefilter::assignment_windows(const window_rule& r, std::vector<text_window>& out) const {
  // keyword, spaces, ':' or '=', spaces, one token: the window runs from the keyword's farthest possible start
  // to the end of the token after the sign.
  // Signs in one token ("a:a:a:...") share its end: found once, not once per sign (a 2 KB token of them took
  // two million steps).
  const auto& t = bytes();
  size_t token_from = 0, token_end = 0;  // the first space at or after any position in [token_from, token_end]
  for (auto c : assignments_) {
    size_t a = c;
    while (a > 0 && t.space[at(text_, a - 1)])
      --a;
    size_t b = c + 1;
    while (b < text_.size() && t.space[at(text_, b)])
      ++b;
    if (b < token_from || b > token_end) {
      token_from = b;
      while (b < text_.size() && !t.space[at(text_, b)])
        ++b;
      token_end = b;
    }
    add_window(out, a > r.lead ? a - r.lead : 0, token_end);
  }
}

} // namespace sa::safety
