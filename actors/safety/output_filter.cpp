#include "actors/safety/output_filter.hpp"

#include "actors/safety/checksum_spans.hpp"
#include "actors/safety/pii_prefilter.hpp"

#include <re2/re2.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace sa::safety {

namespace {

/// What a validator counts (digits of a card number, characters of an IBAN), and how many a valid one has:
/// valid_spans does not ask the validator about a sub-run with too few or too many.
struct units {
  bool (*counts)(char) = nullptr;
  std::size_t min = 0, max = 0;
};

struct pattern {
  const char* kind;
  std::unique_ptr<re2::RE2> re;
  bool (*valid)(std::string_view);
  window_rule where;  ///< where in a text it can match (pii_prefilter)
  /// Whether a valid number may start after the candidate's first group ("order 9 4111 1111 1111 1111",
  /// "GB82 GB82 WEST 1234 5698 7654 32").
  bool search_start = false;
  units size{};
  /// Whether a hit with no valid number in it is a veto (a reference or version word in front): the search
  /// goes on after it, not inside it.
  bool veto = false;
  /// The checksum `valid` computes, if valid_spans can judge sub-spans by prefix sums (checksum_spans.hpp).
  enum class checksum : uint8_t { none, luhn, iban } sum = checksum::none;
};

/// (offset, length) inside a candidate.
using span = std::pair<std::size_t, std::size_t>;

/// p.valid of a hit's sub-span [begin, end): from prefix sums when p's validator is a checksum (a long run of
/// digit groups has thousands of sub-spans to judge), else by asking the validator.
class span_judge {
public:
  span_judge(std::string_view hit, const pattern& p) : hit_(hit), p_(p) {
    if (p.sum == pattern::checksum::luhn)
      luhn_.emplace(hit);
    else if (p.sum == pattern::checksum::iban)
      iban_.emplace(hit);
  }

  bool operator()(std::size_t begin, std::size_t end) const {
    if (luhn_)
      return luhn_->valid(begin, end);
    if (iban_)
      return iban_->valid(begin, end);
    return p_.valid(hit_.substr(begin, end - begin));
  }

private:
  std::string_view hit_;
  const pattern& p_;
  std::optional<luhn_spans> luhn_;
  std::optional<iban_spans> iban_;
};

/// The valid numbers inside one regex candidate: for each place one may start, the longest valid one
/// (they may overlap; scan() keeps the leftmost, then longest, of all kinds). The patterns match
/// greedily, so a run that fails its checksum may still hold a valid number that starts at a later group
/// (a stray digit in front of a card number) or ends at an earlier one (a word in capitals after an IBAN);
/// a sub-run starts after a separator and ends before one, so it keeps its word boundaries.
std::vector<span> valid_spans(std::string_view hit, const pattern& p) {
  if (p.valid(hit))
    return {span{0, hit.size()}};
  std::vector<std::size_t> starts{0}, ends;
  for (std::size_t i = 0; i < hit.size(); ++i)
    if (hit[i] == ' ' || hit[i] == '-') {
      ends.push_back(i);
      if (p.search_start)
        starts.push_back(i + 1);
    }
  ends.push_back(hit.size());
  std::vector<std::size_t> before;  // units before each position (with p.size)
  if (p.size.counts) {
    before.resize(hit.size() + 1);
    for (std::size_t i = 0; i < hit.size(); ++i)
      before[i + 1] = before[i] + (p.size.counts(hit[i]) ? 1 : 0);
  }
  const span_judge valid(hit, p);
  std::vector<span> out;
  for (auto s : starts) {
    // Ends within max_match_chars of the start, longest first: a run may be long, a number is not.
    auto last = std::upper_bound(ends.begin(), ends.end(), s + pii_scanner::max_match_chars);
    for (auto e = std::make_reverse_iterator(last); e != ends.rend() && *e > s; ++e) {
      if (p.size.counts) {
        auto n = before[*e] - before[s];
        if (n > p.size.max)
          continue;
        if (n < p.size.min)
          break;  // shorter ends hold fewer
      }
      if (valid(s, *e)) {
        out.push_back(span{s, *e - s});
        break;
      }
    }
  }
  return out;
}

/// Where the search goes on after `hit` (offset in it). A pattern whose valid_spans tries every start in a
/// hit: after it. Otherwise after its valid part, if that ends early (the rest may hold a number of its own);
/// after its first group if nothing in it is valid (the hit may have taken the start of a valid one: "162 621
/// 162 625 115"), unless the hit is a veto ("order 415-555-0134": no phone number in it at all).
std::size_t resume_at(std::string_view hit, const pattern& p, std::size_t valid_end) {
  if (p.search_start)
    return hit.size();
  if (valid_end > 0)
    return valid_end;
  if (p.veto)
    return hit.size();
  auto sep = hit.find_first_of(" -");
  return sep == std::string_view::npos ? hit.size() : sep + 1;
}

bool always(std::string_view) {
  return true;
}

bool luhn(std::string_view s) {
  return luhn_valid(s);
}

bool iban(std::string_view s) {
  return iban_valid(s);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool not_space(char c) {
  return c != ' ';
}

std::string digits_of(std::string_view s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9')
      d.push_back(c);
  return d;
}

bool starts_with_letter(std::string_view s) {
  return !s.empty() && std::isalpha(static_cast<unsigned char>(s[0]));
}

/// US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000.
bool ssn(std::string_view s) {
  auto d = digits_of(s);
  return d.size() == 9 && d.compare(0, 3, "000") != 0 && d.compare(0, 3, "666") != 0 && d[0] != '9' &&
         d.compare(3, 2, "00") != 0 && d.compare(5, 4, "0000") != 0;
}

/// UK National Insurance number: prefixes never issued are not ids.
bool nino(std::string_view s) {
  auto p = std::string(s.substr(0, 2));
  for (auto bad : {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
    if (p == bad)
      return false;
  return true;
}

/// Luhn over exactly the digits given (Canadian SIN: 9 of them).
bool luhn_digits(const std::string& d) {
  int sum = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    int v = d[d.size() - 1 - i] - '0';
    if (i % 2 == 1 && (v *= 2) > 9)
      v -= 9;
    sum += v;
  }
  return !d.empty() && sum % 10 == 0;
}

bool sin_ca(std::string_view s) {
  auto d = digits_of(s);
  return d.size() == 9 && d[0] != '0' && d[0] != '8' && luhn_digits(d);
}

/// Spanish DNI: 8 digits and the letter their value mod 23 names.
bool dni(std::string_view s) {
  auto d = digits_of(s);
  if (d.size() != 8)
    return false;
  static constexpr const char* letters = "TRWAGMYFPDXBNJZSQVHLCKE";
  return letters[std::stoul(d) % 23] == s.back();
}

/// A phone number, not a number introduced as an order, invoice or ticket reference (the pattern takes
/// that word along so it can be refused here): "+<country>" with 8-15 digits, or NANP with a valid area
/// code and exchange.
bool phone(std::string_view s) {
  if (starts_with_letter(s))
    return false;
  auto d = digits_of(s);
  if (s[0] == '+')
    return d.size() >= 8 && d.size() <= 15;
  if (d.size() == 11 && d[0] == '1')
    d.erase(0, 1);
  return d.size() == 10 && d[0] >= '2' && d[3] >= '2';
}

/// Four octets up to 255, not a version ("v1.2.3.4", "version 1.2.3.4") or a longer dotted number.
bool ipv4(std::string_view s) {
  if (starts_with_letter(s))
    return false;
  int parts = 1;
  int value = 0;
  for (char c : s) {
    if (c == '.') {
      ++parts;
      value = 0;
    } else if ((value = value * 10 + (c - '0')) > 255) {
      return false;
    }
  }
  return parts == 4;
}

/// An address inet_pton accepts, with a digit in it, compressed ("fe80::1") or in full: times
/// ("12:30:45") and MAC addresses are not.
bool ipv6(std::string_view s) {
  if (s.size() < 3 || s.size() > 45 || s.find_first_of("0123456789") == std::string_view::npos)
    return false;
  std::string z(s);
  in6_addr addr{};
  return inet_pton(AF_INET6, z.c_str(), &addr) == 1;
}

} // namespace

struct pii_scanner::impl {
  std::vector<pattern> patterns;

  /// Every pattern searched in its prefilter windows (`exhaustive`: in the whole text), hits validated.
  /// Windows that begin at or after `starts_before` are skipped: matches starting there may be missing.
  std::vector<pii_match> scan(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>* candidates,
                              bool exhaustive, std::size_t starts_before = std::string_view::npos) const;
};

bool luhn_valid(std::string_view s) {
  int sum = 0, n = 0;
  for (auto i = s.rbegin(); i != s.rend(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(*i)))
      continue;
    int d = *i - '0';
    if (n++ % 2 == 1) {
      d *= 2;
      if (d > 9)
        d -= 9;
    }
    sum += d;
  }
  return n >= 13 && n <= 19 && sum % 10 == 0;
}

bool iban_valid(std::string_view s) {
  std::string compact;
  for (char c : s)
    if (c != ' ')
      compact.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (compact.size() < 15 || compact.size() > 34)
    return false;
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!upper(compact[0]) || !upper(compact[1]) || !digit(compact[2]) || !digit(compact[3]))
    return false;  // country code, then check digits
  for (char c : compact)
    if (!upper(c) && !digit(c))
      return false;
  std::rotate(compact.begin(), compact.begin() + 4, compact.end());
  int rem = 0;
  for (char c : compact) {
    if (std::isdigit(static_cast<unsigned char>(c)))
      rem = (rem * 10 + (c - '0')) % 97;
    else if (c >= 'A' && c <= 'Z')
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    else
      return false;
  }
  return rem == 1;
}

pii_scanner::pii_scanner() : impl_(std::make_unique<impl>()) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);  // room for the DFAs of many alternatives: no fallback to the slow NFA
  auto add = [&](const char* kind, const char* re, bool (*valid)(std::string_view), window_rule where,
                 bool search_start = false, units size = {}, const re2::RE2::Options* options = nullptr) {
    impl_->patterns.push_back(
      pattern{kind, std::make_unique<re2::RE2>(re, options ? *options : opts), valid, where, search_start, size});
  };
  using seed = window_rule::seed;
  namespace rc = run_class;
  // Where each can match (window_rule: seed, run class, lead, min digits, min length, counted byte) follows
  // from the pattern: every byte it can match is in the run class, except a prefix word within the lead
  // (case-insensitive words may hold two- and three-byte letters: U+017F for 's', U+212A for 'k').
  //
  // A whole run of digits (single spaces or dashes between them), however long: where a card number sits
  // in it is found by valid_spans, so the result does not depend on where a scanned text starts.
  add("card_number", R"(\b(?:\d[ -]?){12,}\d\b)", luhn, {seed::digit, rc::digits_spaced, 0, 13}, true,
      {is_digit, 13, 19});
  impl_->patterns.back().sum = pattern::checksum::luhn;
  add("ssn", R"(\b\d{3}-\d{2}-\d{4}\b)", ssn, {seed::digit, rc::digits_dashed, 0, 9});
  add("national_id", R"(\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b)", nino,  // UK NINO
      {seed::digit, rc::upper_digits, 0, 6, 0, 2});
  add("national_id", R"(\b\d{3}[ -]\d{3}[ -]\d{3}\b)", sin_ca, {seed::digit, rc::digits_spaced, 0, 9});  // Canadian SIN
  add("national_id", R"(\b\d{8}-?[A-Z]\b)", dni, {seed::digit, rc::id_letter, 0, 8, 0, 1});                     // Spanish DNI
  // Unbounded for the same reason; an IBAN inside the run starts at a group with its country code.
  add("iban", R"(\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,}(?: ?[A-Z0-9]{1,4})?\b)", iban,
      {seed::digit, rc::upper_digits, 0, 2, 12, 2}, true, {not_space, 15, 34});
  impl_->patterns.back().sum = pattern::checksum::iban;
  add("email",
      R"(\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b)",
      always, {seed::at_sign, rc::email});
  // A reference word in front ("order 415-555-0134") is matched too, and refused by the validator.
  add("phone",
      R"((?:(?i:\b(?:order|invoice|inv|ticket|ref|reference|tracking|case|account|acct)s?)\.?\s?(?:(?i:no|number|num|id)\.?\s?|#\s?)?:?\s?)?)"
      R"((?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\b|(?:\b1[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b))",
      phone, {seed::digit, rc::phone, 48, 3});
  impl_->patterns.back().veto = true;
  // A version word in front ("v1.2.3.4") is matched too, and refused by the validator.
  add("ip_address", R"((?:(?i:\b(?:version|ver|v|release|build|rev))\.?\s?|\b)\d{1,3}(?:\.\d{1,3}){3}(?:\.\d+)*\b)", ipv4,
      {seed::digit, rc::dotted, 32, 4, 7, 0, '.', 3});
  impl_->patterns.back().veto = true;
  add("ip_address", R"((?:\b[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7})", ipv6,
      {seed::colon, rc::hex_colon, 0, 0, 2, 0, ':', 2});
  add("secret",
      R"(\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})\b)",
      always, {seed::secret_prefix, rc::token, 0, 0, 15});
  add("secret", R"(-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/=\s]*(?:-----END [A-Z ]{0,20}PRIVATE KEY-----)?)",
      always, {seed::private_key});
  // "password: x": the longest keyword has 8 letters. The spaces around the sign are bounded (a stream cuts at
  // spaces, so a match must fit in max_match_chars up to its last space; found by the fuzz target: a sign
  // followed by many newlines, then the value). The keyword may be glued to the word before it
  // ("fe80::8password: x", "db_password=x"): such a match takes that whole word along (see scan).
  // Latin-1: the value is every byte up to a space. In UTF-8 mode a value starting with a byte that is no
  // UTF-8 character did not match, and once a later match in that token was redacted, "password: [redacted"
  // did (fuzz_pii regression-9).
  auto bytes_opts = opts;
  bytes_opts.set_encoding(re2::RE2::Options::EncodingLatin1);
  add("secret", R"((?i)(?:password|passwd|api[_ -]?key|secret)\s{0,16}[:=]\s{0,16}\S+)", always,
      {seed::assignment, 0, 24}, false, {}, &bytes_opts);
  for (auto& p : impl_->patterns)
    if (!p.re->ok())
      throw std::logic_error(std::string("pii_scanner: bad pattern for ") + p.kind + ": " + p.re->error());
}

pii_scanner::~pii_scanner() = default;

namespace {

/// A pattern hit that is not valid to its end (partly or not at all): once a match that starts inside it is
/// redacted, its part before that match is followed by "[" and may be valid then.
struct partial_hit {
  std::size_t pattern = 0;
  std::size_t offset = 0, length = 0;
};

using hit_list = std::vector<std::pair<std::size_t, std::size_t>>;

/// Searches `p` in [pos, end) of `text` (the text outside still counts for \b): valid matches into `found`,
/// raw hits into `candidates` (when set), hits not valid to their end into `partial`. Returns where the
/// search stopped.
std::size_t search(const pattern& p, std::size_t index, std::string_view text, std::size_t pos, std::size_t end,
                   std::vector<pii_match>& found, hit_list* candidates, std::vector<partial_hit>* partial) {
  // Match with one submatch (the whole match) needs only RE2's DFAs, no capture engine.
  const re2::StringPiece input(text.data(), text.size());
  re2::StringPiece m;
  while (pos < end && p.re->Match(input, pos, end, re2::RE2::UNANCHORED, &m, 1)) {
    auto at = static_cast<std::size_t>(m.data() - text.data());
    if (m.empty()) {
      pos = at + 1;
      continue;
    }
    std::string_view hit(m.data(), m.size());
    if (candidates)
      candidates->emplace_back(at, hit.size());
    std::size_t valid_end = 0;
    for (auto [offset, length] : valid_spans(hit, p)) {
      found.push_back({p.kind, at + offset, length});
      valid_end = std::max(valid_end, offset + length);
    }
    if (partial && valid_end < hit.size())
      partial->push_back({index, at, hit.size()});
    pos = at + resume_at(hit, p, valid_end);
  }
  return pos;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// A match glued to a word takes the rest of that token along: to the word after it ("::1111123-45-6789"),
/// as its last character hid a \b the next pattern needs and "[redacted ...]" would expose it; and to the
/// word before it (a password keyword mid-word, "fe80::8password: x"), so that what precedes a redaction
/// is a space before and after it and a number ending just before is judged the same (a redaction starting
/// mid-word, "1111 172C[redacted secret]", exposed such a number: tests/fuzz/corpus/fuzz_pii/regression-7).
/// Both found by the fuzz target. An extension is a hit too, so a stream never cuts through it.
void extend_to_words(std::string_view text, std::vector<pii_match>& found, std::size_t from, hit_list* candidates) {
  for (auto f = found.begin() + static_cast<std::ptrdiff_t>(from); f != found.end(); ++f) {
    if (f->offset > 0 && word_char(text[f->offset]) && word_char(text[f->offset - 1])) {
      auto space = text.find_last_of(" \t\n\f\r", f->offset - 1);
      auto start = space == std::string_view::npos ? 0 : space + 1;
      f->length += f->offset - start;
      f->offset = start;
      if (candidates)
        candidates->emplace_back(f->offset, f->length);
    }
    auto end = f->offset + f->length;
    if (end < text.size() && word_char(text[end - 1]) && word_char(text[end])) {
      auto stop = text.find_first_of(" \t\n\f\r", end);
      f->length = (stop == std::string_view::npos ? text.size() : stop) - f->offset;
      if (candidates)
        candidates->emplace_back(f->offset, f->length);
    }
  }
}

/// Sorted, overlapping matches joined (the first one's kind): dropping one would leave its other part in the
/// text, to be found once its neighbour is redacted. Stable: two patterns' matches can end up with the same
/// span once extended ("1::8password:x" is an IPv6 hit and a secret), and the kind must not depend on how
/// long the scanned text is (fuzz_pii: a stream named it differently from the whole text). Pattern order
/// decides.
std::vector<pii_match> joined(std::vector<pii_match> found) {
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.length > b.length;
  });
  std::vector<pii_match> out;
  for (auto& f : found) {
    if (out.empty() || f.offset >= out.back().offset + out.back().length)
      out.push_back(std::move(f));
    else
      out.back().length = std::max(out.back().length, f.offset + f.length - out.back().offset);
  }
  return out;
}

} // namespace

std::vector<pii_match> pii_scanner::impl::scan(std::string_view text, hit_list* candidates, bool exhaustive,
                                               std::size_t starts_before) const {
  std::vector<pii_match> found;
  const pii_prefilter filter(exhaustive ? std::string_view() : text);
  if (!exhaustive && filter.empty())
    return found;
  std::vector<text_window> windows{{0, text.size()}};
  std::vector<partial_hit> partial;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const auto& p = patterns[i];
    if (!exhaustive)
      filter.windows(p.where, windows);
    std::size_t pos = 0;
    for (auto w : windows) {
      if (w.begin >= starts_before)
        break;
      pos = search(p, i, text, std::max(pos, w.begin), w.end, found, candidates, &partial);
    }
  }
  extend_to_words(text, found, 0, candidates);
  auto out = joined(found);
  // A hit that was not valid up to its end, because it ran on into a match that starts inside it ("+11 1111
  // 119311)11118 11 13 ..." is no phone number, 17 digits; the card number from "11118" is), is judged
  // again as the redaction leaves it: its text up to that match, then "[". Whatever is valid then is a match
  // too (fuzz_pii: tests/fuzz/corpus/fuzz_pii/regression-10). Rare: it takes a hit running into a match.
  std::vector<std::pair<std::size_t, std::size_t>> judged;  // (partial hit, the match's offset)
  for (bool added = true; added;) {
    added = false;
    for (std::size_t h = 0; h < partial.size(); ++h) {
      const auto& c = partial[h];
      auto next = std::upper_bound(out.begin(), out.end(), c.offset,
                                   [](std::size_t at, const pii_match& m) { return at < m.offset; });
      if (next == out.end() || next->offset >= c.offset + c.length)
        continue;
      if (next != out.begin() && std::prev(next)->offset + std::prev(next)->length > c.offset)
        continue;  // the hit starts inside a match: redacted with it
      auto cut = next->offset;
      if (std::find(judged.begin(), judged.end(), std::make_pair(h, cut)) != judged.end())
        continue;
      judged.emplace_back(h, cut);
      // The hit's text up to the match, one character of context before it and "[" after it.
      auto base = c.offset > 0 ? c.offset - 1 : 0;
      std::string redacted(text.substr(base, cut - base));
      redacted += '[';
      std::vector<pii_match> more;
      search(patterns[c.pattern], c.pattern, redacted, c.offset - base, redacted.size(), more, nullptr, nullptr);
      auto before = found.size();
      for (auto& f : more) {
        f.offset += base;
        f.length = std::min(f.offset + f.length, cut) - f.offset;  // "[" is the redaction's
        if (f.length > 0)
          found.push_back(std::move(f));
      }
      if (found.size() > before) {
        extend_to_words(text, found, before, candidates);
        added = true;
      }
    }
    if (added)
      out = joined(found);
  }
  return out;
}

std::vector<pii_match> pii_scanner::scan(std::string_view text,
                                         std::vector<std::pair<std::size_t, std::size_t>>* candidates) const {
  return impl_->scan(text, candidates, false);
}

std::vector<pii_match> pii_scanner::scan_before(std::string_view text, std::size_t end,
                                                std::vector<std::pair<std::size_t, std::size_t>>* candidates) const {
  return impl_->scan(text, candidates, false, end);
}

std::vector<pii_match> pii_scanner::scan_exhaustive(std::string_view text,
                                                    std::vector<std::pair<std::size_t, std::size_t>>* candidates) const {
  return impl_->scan(text, candidates, true);
}

namespace {

/// How own_data compares a value: an email in lower case, a phone number by its last ten digits.
std::string comparable(const std::string& kind, std::string_view value) {
  if (kind == "phone") {
    auto d = digits_of(value);
    return "phone:" + (d.size() > 10 ? d.substr(d.size() - 10) : d);
  }
  std::string v(value);
  for (auto& c : v)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kind + ":" + v;
}

bool contact_kind(const std::string& kind) {
  return kind == "email" || kind == "phone";
}

} // namespace

void own_data::add_from(const pii_scanner& scanner, std::string_view text) {
  // An email needs an '@', a phone number at least 8 digits: most texts need no scan.
  if (text.find('@') == std::string_view::npos &&
      std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) < 8)
    return;
  add_matches(scanner.scan(text), text);
}

std::vector<std::string> own_data::values_in(const pii_scanner& scanner, std::string_view text) {
  own_data own;
  own.add_from(scanner, text);
  return std::move(own.values);
}

void own_data::add_matches(const std::vector<pii_match>& matches, std::string_view text) {
  for (auto& m : matches)
    if (contact_kind(m.kind))
      values.push_back(comparable(m.kind, text.substr(m.offset, m.length)));
}

bool own_data::holds(const pii_match& m, std::string_view text) const {
  if (!contact_kind(m.kind))
    return false;
  auto v = comparable(m.kind, text.substr(m.offset, m.length));
  return std::find(values.begin(), values.end(), v) != values.end();
}

namespace {

/// `text` with `matches` (from a scan of it, or of a longer text it starts) replaced.
std::string apply(std::string_view text, const std::vector<pii_match>& matches, const own_data* own, std::size_t* count,
                  std::size_t* other_person) {
  std::string out;
  size_t pos = 0, n = 0, others = 0;
  out.reserve(text.size());
  for (auto& m : matches) {
    if (m.offset + m.length > text.size())
      break;
    if (own && own->holds(m, text))
      continue;  // the customer's own email or phone number
    if (own && contact_kind(m.kind))
      ++others;
    ++n;
    out.append(text.substr(pos, m.offset - pos)).append("[redacted ").append(m.kind).push_back(']');
    pos = m.offset + m.length;
  }
  out.append(text.substr(pos));
  if (count)
    *count = n;
  if (other_person)
    *other_person = others;
  return out;
}

} // namespace

std::string pii_scanner::redact(std::string_view text, std::size_t* count, const own_data* own,
                                std::size_t* other_person) const {
  return apply(text, scan(text), own, count, other_person);
}

std::string stream_redactor::redact_counted(std::string_view text, const std::vector<pii_match>* matches) {
  size_t n = 0, others = 0;
  auto out = matches ? apply(text, *matches, own_.get(), &n, &others) : scanner_->redact(text, &n, own_.get(), &others);
  redactions_ += n;
  other_person_ += others;
  return out;
}

std::string stream_redactor::push(std::string_view chunk) {
  pending_.append(chunk);
  if (pending_.size() <= pii_scanner::max_match_chars || pending_.size() < next_scan_at_)
    return {};
  // Release everything except the tail a match could still be growing into, cutting at a space so a
  // word or number is never split; then never cut through a pattern's hit, valid or not (cutting at its
  // start is safe): the released text and the rest are then judged exactly as the whole would be.
  auto release = pending_.rfind(' ', pending_.size() - pii_scanner::max_match_chars);
  if (release == std::string::npos || release == 0) {
    next_scan_at_ = pending_.size() + min_release;
    return {};
  }
  std::vector<std::pair<std::size_t, std::size_t>> hits;
  // Only matches that start before the cut matter (they are released, or move the cut back).
  auto matches = scanner_->scan_before(pending_, release, &hits);
  for (bool moved = true; moved && release > 0;) {
    moved = false;
    for (auto [offset, length] : hits)
      if (offset < release && offset + length > release) {
        release = offset;
        moved = true;
      }
  }
  if (release == 0) {  // a hit crosses every cut: wait until the text has grown by half
    next_scan_at_ = pending_.size() + std::max(pii_scanner::max_match_chars, pending_.size() / 2);
    return {};
  }
  // No hit crosses the cut, so the matches before it are the prefix's own: no second scan.
  auto out = redact_counted(std::string_view(pending_).substr(0, release), &matches);
  pending_.erase(0, release);
  next_scan_at_ = pending_.size() + min_release;
  return out;
}

std::string stream_redactor::finish() {
  auto out = redact_counted(pending_);
  pending_.clear();
  next_scan_at_ = 0;
  return out;
}

} // namespace sa::safety
