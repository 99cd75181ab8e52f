#include "actors/safety/output_filter.hpp"

#include <re2/re2.h>
#include <re2/set.h>

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
  auto add = [&](const char* kind, const char* re, bool (*valid)(std::string_view), bool search_start = false) {
    // One capture group around the whole pattern: FindAndConsume reports the match through it.
    impl_->patterns.push_back(
      pattern{kind, std::make_unique<re2::RE2>(std::string{"("} + re + ")", opts), valid, search_start});
  };
  // A whole run of digits (single spaces or dashes between them), however long: where a card number sits
  // in it is found by valid_spans, so the result does not depend on where a scanned text starts.
  add("card_number", R"(\b(?:\d[ -]?){12,}\d\b)", luhn, true);
  add("ssn", R"(\b\d{3}-\d{2}-\d{4}\b)", always);
  // Unbounded for the same reason; an IBAN inside the run starts at a group with its country code.
  add("iban", R"(\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,}(?: ?[A-Z0-9]{1,4})?\b)", iban, true);
  add("secret", R"(\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,})\b)",
      always);
  add("secret", R"((?i)\b(?:password|passwd|api[_ -]?key|secret)\s*[:=]\s*\S+)", always);
  impl_->any = std::make_unique<re2::RE2::Set>(opts, re2::RE2::UNANCHORED);
  for (auto& p : impl_->patterns)
    impl_->any->Add(p.re->pattern(), nullptr);
  impl_->any->Compile();
}

pii_scanner::~pii_scanner() = default;

std::vector<pii_match> pii_scanner::scan(std::string_view text) const {
  std::vector<pii_match> found;
  std::vector<int> candidates;
  if (!impl_->any->Match(re2::StringPiece(text.data(), text.size()), &candidates))
    return found;
  for (int index : candidates) {
    auto& p = impl_->patterns[static_cast<size_t>(index)];
    re2::StringPiece input(text.data(), text.size());
    re2::StringPiece m;
    while (RE2::FindAndConsume(&input, *p.re, &m)) {
      if (m.empty()) {
        if (input.empty())
          break;
        input.remove_prefix(1);
        continue;
      }
      std::string_view hit(m.data(), m.size());
      auto at = static_cast<size_t>(m.data() - text.data());
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

std::string pii_scanner::redact(std::string_view text, std::size_t* count) const {
  auto matches = scan(text);
  if (count)
    *count = matches.size();
  if (matches.empty())
    return std::string{text};
  std::string out;
  size_t pos = 0;
  for (auto& m : matches) {
    out.append(text.substr(pos, m.offset - pos));
    out += "[redacted " + m.kind + "]";
    pos = m.offset + m.length;
  }
  out.append(text.substr(pos));
  return out;
}

std::string stream_redactor::push(std::string_view chunk) {
  pending_.append(chunk);
  if (pending_.size() <= pii_scanner::max_match_chars)
    return {};
  // Release everything except the tail a match could still be growing into, cutting at a space so a
  // word or number is never split; then never cut through a match (cutting at its start is safe).
  auto release = pending_.rfind(' ', pending_.size() - pii_scanner::max_match_chars);
  if (release == std::string::npos || release == 0)
    return {};
  for (auto& m : scanner_->scan(pending_))
    if (m.offset < release && m.offset + m.length > release)
      release = m.offset;
  if (release == 0)
    return {};
  size_t n = 0;
  auto out = scanner_->redact(std::string_view(pending_).substr(0, release), &n);
  redactions_ += n;
  pending_.erase(0, release);
  return out;
}

std::string stream_redactor::finish() {
  size_t n = 0;
  auto out = scanner_->redact(pending_, &n);
  redactions_ += n;
  pending_.clear();
  return out;
}

} // namespace sa::safety
