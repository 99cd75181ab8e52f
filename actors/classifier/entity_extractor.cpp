// entity_extractor: RE2 patterns, compiled once in the constructor (see entity_extractor.hpp).
//
// Each pattern has an optional capture group 1: when present, the entity value is that group (the
// identifier in "invoice #1234" is "1234") and the offset is the group's offset, so that
// text.substr(offset, value.size()) == value always holds (plans: compared lower-cased). Overlaps
// are resolved on the whole match: the longer match wins, then the earlier one, then the pattern
// listed first. RE2 objects are immutable after construction and safe to use from many threads.
#include "actors/classifier/entity_extractor.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace sa::classifier {

namespace {

struct pattern {
  std::string kind;
  std::unique_ptr<RE2> re;
};

// Month names: full, three-letter, and "Sept".
constexpr const char* months =
  "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
  "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

// A number with optional thousands groups and decimals: 49, 1,299.00, 12,50, 1.299,00.
constexpr const char* number = R"(\d+(?:[.,]\d{3})*(?:[.,]\d{1,2})?)";

std::vector<std::pair<std::string, std::string>> pattern_sources(const std::vector<std::string>& plans) {
  std::string num = number;
  std::string mon = months;
  std::vector<std::pair<std::string, std::string>> out = {
    {"email", R"(\b[a-z0-9._%+\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}\b)"},
    {"invoice_id", R"(\binv-\d+(?:-\d+)*\b)"},
    {"invoice_id", R"(\binvoice\s*(?:(?:no\.?|number|num\.?|nr\.?)\s*)?#?\s*(\d{2,})\b)"},
    {"ticket_id", R"(\b(?:tck|t)-\d+\b)"},
    {"ticket_id", R"(\b(?:ticket|case)\s*(?:(?:no\.?|number|num\.?|nr\.?)\s*)?#?\s*(\d+)\b)"},
    // amounts: symbol or code before, or code/symbol/word after
    {"amount", R"((?:[$€£]|\b(?:usd|eur|gbp)\s?))" + num + R"(\b)"},
    {"amount", R"(\b)" + num + R"((?:\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b|\s?[€£$]))"},
    // dates
    {"date", R"(\b\d{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])\b)"},
    {"date", R"(\b\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})\b)"},
    {"date", R"(\b)" + mon + R"(\.?\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b(?:,?\s+\d{4}\b)?)"},
    {"date", R"(\b(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?)" + mon
               + R"(\b\.?(?:,?\s+\d{4}\b)?)"},
  };
  std::string alt;
  for (const auto& p : plans) {
    if (p.empty()) continue;
    if (!alt.empty()) alt += '|';
    alt += RE2::QuoteMeta(p);
  }
  if (!alt.empty()) out.emplace_back("plan", R"(\b(?:)" + alt + R"()\b)");
  return out;
}

struct candidate {
  std::size_t kind_order;  ///< index of the pattern (earlier wins ties)
  std::size_t begin, end;  ///< whole match
  std::size_t value_begin, value_end;
};

} // namespace

struct entity_extractor::impl {
  std::vector<pattern> patterns;
};

entity_extractor::entity_extractor(std::vector<std::string> plan_names) : impl_(std::make_unique<impl>()) {
  RE2::Options opts;
  opts.set_case_sensitive(false);
  opts.set_log_errors(false);
  for (auto& [kind, src] : pattern_sources(plan_names)) {
    auto re = std::make_unique<RE2>(src, opts);
    if (!re->ok())  // only reachable through a programming error in the patterns above
      throw std::logic_error("entity_extractor: bad pattern for " + kind + ": " + re->error());
    impl_->patterns.push_back({kind, std::move(re)});
  }
}

entity_extractor::~entity_extractor() = default;

std::vector<entity> entity_extractor::extract(std::string_view text) const {
  std::vector<candidate> cands;
  const re2::StringPiece input(text.data(), text.size());
  for (std::size_t k = 0; k < impl_->patterns.size(); ++k) {
    const RE2& re = *impl_->patterns[k].re;
    const int ngroups = std::min(re.NumberOfCapturingGroups(), 1) + 1;
    re2::StringPiece groups[2];
    std::size_t pos = 0;
    while (pos <= text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, groups, ngroups)) {
      auto b = static_cast<std::size_t>(groups[0].data() - text.data());
      auto e = b + groups[0].size();
      candidate c{k, b, e, b, e};
      if (ngroups == 2 && groups[1].data() != nullptr) {
        c.value_begin = static_cast<std::size_t>(groups[1].data() - text.data());
        c.value_end = c.value_begin + groups[1].size();
      }
      if (e > b) cands.push_back(c);
      pos = e > b ? e : b + 1;
    }
  }
  // Longest first, then earliest, then pattern order; keep what does not overlap a kept match.
  std::sort(cands.begin(), cands.end(), [](const candidate& a, const candidate& b) {
    auto la = a.end - a.begin, lb = b.end - b.begin;
    if (la != lb) return la > lb;
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.kind_order < b.kind_order;
  });
  std::vector<candidate> kept;
  for (const auto& c : cands) {
    bool overlaps = std::any_of(kept.begin(), kept.end(),
                                [&](const candidate& k) { return c.begin < k.end && k.begin < c.end; });
    if (!overlaps) kept.push_back(c);
  }
  std::sort(kept.begin(), kept.end(), [](const candidate& a, const candidate& b) { return a.begin < b.begin; });
  std::vector<entity> out;
  out.reserve(kept.size());
  for (const auto& c : kept) {
    entity e;
    e.kind = impl_->patterns[c.kind_order].kind;
    e.value = std::string(text.substr(c.value_begin, c.value_end - c.value_begin));
    e.offset = c.value_begin;
    if (e.kind == "plan")
      std::transform(e.value.begin(), e.value.end(), e.value.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace sa::classifier
