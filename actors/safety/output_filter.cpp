#include "actors/safety/output_filter.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace sa::safety {

namespace {

struct pattern {
  const char* kind;
  std::unique_ptr<re2::RE2> re;
  bool (*valid)(std::string_view);
  /// Whether a valid number may start after the candidate's first group ("order 9 4111 1111 1111 1111",
  /// "GB82 GB82 WEST 1234 5698 7654 32").
  bool search_start = false;
};

/// (offset, length) inside a candidate.
using span = std::pair<std::size_t, std::size_t>;

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
  std::vector<span> out;
  for (auto s : starts) {
    // Ends within max_match_chars of the start, longest first: a run may be long, a number is not.
    auto last = std::upper_bound(ends.begin(), ends.end(), s + pii_scanner::max_match_chars);
    for (auto e = std::make_reverse_iterator(last); e != ends.rend() && *e > s; ++e)
      if (p.valid(hit.substr(s, *e - s))) {
        out.push_back(span{s, *e - s});
        break;
      }
  }
  return out;
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
  // All patterns in one automaton: one pass tells which (if any) can match, so ordinary text costs a
  // single scan instead of one per pattern.
  std::unique_ptr<re2::RE2::Set> any;
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
  auto add = [&](const char* kind, const char* re, bool (*valid)(std::string_view), bool search_start = false) {
    impl_->patterns.push_back(pattern{kind, std::make_unique<re2::RE2>(re, opts), valid, search_start});
  };
  // A whole run of digits (single spaces or dashes between them), however long: where a card number sits
  // in it is found by valid_spans, so the result does not depend on where a scanned text starts.
  add("card_number", R"(\b(?:\d[ -]?){12,}\d\b)", luhn, true);
  add("ssn", R"(\b\d{3}-\d{2}-\d{4}\b)", ssn);
  add("national_id", R"(\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b)", nino);  // UK NINO
  add("national_id", R"(\b\d{3}[ -]\d{3}[ -]\d{3}\b)", sin_ca);                                       // Canadian SIN
  add("national_id", R"(\b\d{8}-?[A-Z]\b)", dni);                                                     // Spanish DNI
  // Unbounded for the same reason; an IBAN inside the run starts at a group with its country code.
  add("iban", R"(\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,}(?: ?[A-Z0-9]{1,4})?\b)", iban, true);
  add("email",
      R"(\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b)",
      always);
  // A reference word in front ("order 415-555-0134") is matched too, and refused by the validator.
  add("phone",
      R"((?:(?i:\b(?:order|invoice|inv|ticket|ref|reference|tracking|case|account|acct)s?)\.?\s?(?:(?i:no|number|num|id)\.?\s?|#\s?)?:?\s?)?)"
      R"((?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\b|(?:\b1[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b))",
      phone);
  // A version word in front ("v1.2.3.4") is matched too, and refused by the validator.
  add("ip_address", R"((?:(?i:\b(?:version|ver|v|release|build|rev))\.?\s?|\b)\d{1,3}(?:\.\d{1,3}){3}(?:\.\d+)*\b)", ipv4);
  add("ip_address", R"((?:\b[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7})", ipv6);
  add("secret",
      R"(\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})\b)",
      always);
  add("secret", R"(-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/=\s]*(?:-----END [A-Z ]{0,20}PRIVATE KEY-----)?)",
      always);
  add("secret", R"((?i)\b(?:password|passwd|api[_ -]?key|secret)\s*[:=]\s*\S+)", always);
  impl_->any = std::make_unique<re2::RE2::Set>(opts, re2::RE2::UNANCHORED);
  for (auto& p : impl_->patterns)
    impl_->any->Add(p.re->pattern(), nullptr);
  impl_->any->Compile();
}

pii_scanner::~pii_scanner() = default;

std::vector<pii_match> pii_scanner::scan(std::string_view text,
                                         std::vector<std::pair<std::size_t, std::size_t>>* candidates) const {
  std::vector<pii_match> found;
  std::vector<int> matched;
  if (!impl_->any->Match(re2::StringPiece(text.data(), text.size()), &matched))
    return found;
  for (int index : matched) {
    auto& p = impl_->patterns[static_cast<size_t>(index)];
    // Match with one submatch (the whole match) needs only RE2's DFAs, no capture engine; the text
    // before `pos` still counts for \b.
    const re2::StringPiece input(text.data(), text.size());
    re2::StringPiece m;
    for (size_t pos = 0; pos < text.size() && p.re->Match(input, pos, text.size(), re2::RE2::UNANCHORED, &m, 1);) {
      if (m.empty()) {
        pos = static_cast<size_t>(m.data() - text.data()) + 1;
        continue;
      }
      pos = static_cast<size_t>(m.data() - text.data()) + m.size();
      std::string_view hit(m.data(), m.size());
      auto at = static_cast<size_t>(m.data() - text.data());
      if (candidates)
        candidates->emplace_back(at, hit.size());
      for (auto [offset, length] : valid_spans(hit, p))
        found.push_back({p.kind, at + offset, length});
    }
  }
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.length > b.length;
  });
  std::vector<pii_match> out;
  for (auto& f : found)
    if (out.empty() || f.offset >= out.back().offset + out.back().length)
      out.push_back(f);
  return out;
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
  for (auto& m : scanner.scan(text))
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
    out.append(text.substr(pos, m.offset - pos));
    out += "[redacted " + m.kind + "]";
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
  if (pending_.size() <= pii_scanner::max_match_chars)
    return {};
  // Release everything except the tail a match could still be growing into, cutting at a space so a
  // word or number is never split; then never cut through a pattern's hit, valid or not (cutting at its
  // start is safe): the released text and the rest are then judged exactly as the whole would be.
  auto release = pending_.rfind(' ', pending_.size() - pii_scanner::max_match_chars);
  if (release == std::string::npos || release == 0)
    return {};
  std::vector<std::pair<std::size_t, std::size_t>> hits;
  auto matches = scanner_->scan(pending_, &hits);
  for (bool moved = true; moved && release > 0;) {
    moved = false;
    for (auto [offset, length] : hits)
      if (offset < release && offset + length > release) {
        release = offset;
        moved = true;
      }
  }
  if (release == 0)
    return {};
  // No hit crosses the cut, so the matches before it are the prefix's own: no second scan.
  auto out = redact_counted(std::string_view(pending_).substr(0, release), &matches);
  pending_.erase(0, release);
  return out;
}

std::string stream_redactor::finish() {
  auto out = redact_counted(pending_);
  pending_.clear();
  return out;
}

} // namespace sa::safety
