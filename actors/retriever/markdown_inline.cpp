// Markdown inline markup -> plain text (links, images, code spans, emphasis, inline HTML, escapes).
//
// Linear in the paragraph's length however it nests: the brackets are matched in one pass up front, a link's
// text is stripped in place (an explicit stack of ranges, not recursion: a customer's page of 200,000 nested
// "![" overflowed the call stack), the next '>' is remembered, since the text is read left to right once, and
// a code span's closer is looked up among the text's backtick runs (logarithmic).
#include "actors/retriever/text_util.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

namespace sa::knowledge::detail {

namespace {

constexpr std::size_t npos = std::string_view::npos;

bool is_alnum(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_punct(char c) noexcept { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

/// The closing bracket of every '[' and '(' of a text (nesting aware, a backslash escapes the next byte), found
/// in one pass: asking for each opener by scanning on from it was quadratic ("[[[[..." never closed).
class bracket_pairs {
public:
  explicit bracket_pairs(std::string_view s) : s_(s) {
    std::vector<std::size_t> open_sq;
    std::vector<std::size_t> open_paren;
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\') {
        ++i;
      } else if (c == '[') {
        open_sq.push_back(square_.size());
        square_.emplace_back(i, npos);
      } else if (c == '(') {
        open_paren.push_back(round_.size());
        round_.emplace_back(i, npos);
      } else if (c == ']' && !open_sq.empty()) {
        square_[open_sq.back()].second = i;
        open_sq.pop_back();
      } else if (c == ')' && !open_paren.empty()) {
        round_[open_paren.back()].second = i;
        open_paren.pop_back();
      }
    }
  }

  /// The bracket closing the one at `open` ('[' or '(') before `end`; npos if none.
  std::size_t close_of(std::size_t open, std::size_t end) const {
    const auto& pairs = s_[open] == '[' ? square_ : round_;
    auto it = std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(open, std::size_t{0}));
    std::size_t close = it != pairs.end() && it->first == open ? it->second : scan(open, end);
    return close < end ? close : npos;
  }

private:
  /// An opener the pass above read as escaped (not reached by the stripper in practice): scan on from it.
  std::size_t scan(std::size_t open, std::size_t end) const {
    const char o = s_[open];
    const char c = o == '[' ? ']' : ')';
    int depth = 0;
    for (std::size_t i = open; i < end; ++i) {
      if (s_[i] == '\\')
        ++i;
      else if (s_[i] == o)
        ++depth;
      else if (s_[i] == c && --depth == 0)
        return i;
    }
    return npos;
  }

  std::string_view s_;
  std::vector<std::pair<std::size_t, std::size_t>> square_; ///< (opener, closer or npos), by opener
  std::vector<std::pair<std::size_t, std::size_t>> round_;
};

/// The first run of `k` backticks at or after a position (a code span's closer), in logarithmic time: searching
/// the text on from each opener was quadratic ("x ````` ```` ``` `` `" then single backticks: no opener
/// closes, and each searched to the end).
class backtick_runs {
public:
  explicit backtick_runs(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i] == '`') {
        std::size_t j = i;
        while (j < s.size() && s[j] == '`')
          ++j;
        runs_.push_back({i, j - i});
        i = j;
      }
    leaves_ = 1;
    while (leaves_ < runs_.size())
      leaves_ *= 2;
    longest_.assign(2 * leaves_, 0);
    for (std::size_t r = 0; r < runs_.size(); ++r)
      longest_[leaves_ + r] = runs_[r].length;
    for (std::size_t n = leaves_ - 1; n > 0; --n)
      longest_[n] = std::max(longest_[2 * n], longest_[2 * n + 1]);
  }

  /// Where the first `k` consecutive backticks at or after `from` begin (they may be part of a longer run);
  /// npos if none.
  std::size_t find(std::size_t from, std::size_t k) const {
    // The first run ending after `from`: it may hold `from` itself.
    auto it = std::lower_bound(runs_.begin(), runs_.end(), from,
                               [](const run& r, std::size_t at) { return r.start + r.length <= at; });
    if (it == runs_.end())
      return npos;
    std::size_t at = std::max(it->start, from);
    if (it->start + it->length - at >= k)
      return at;
    std::size_t r = first_at_least(static_cast<std::size_t>(it - runs_.begin()) + 1, k);
    return r == npos ? npos : runs_[r].start;
  }

private:
  struct run {
    std::size_t start;
    std::size_t length;
  };

  /// The first run at index `first` or later that is at least `k` long; npos if none. Descends the tree of
  /// maxima: up from the leaf until a right sibling holds one, then down to its leftmost such leaf.
  std::size_t first_at_least(std::size_t first, std::size_t k) const {
    if (first >= runs_.size())
      return npos;
    std::size_t n = leaves_ + first;
    if (longest_[n] >= k)
      return first;
    for (;; n /= 2) {
      if (n == 1)
        return npos;
      if (n % 2 == 0 && longest_[n + 1] >= k)
        break;
    }
    for (++n; n < leaves_;)
      n = longest_[2 * n] >= k ? 2 * n : 2 * n + 1;
    return n - leaves_;
  }

  std::vector<run> runs_;
  std::size_t leaves_ = 1;
  std::vector<std::size_t> longest_; ///< a tree of maxima of run lengths; leaves from index leaves_
};

class inline_stripper {
public:
  explicit inline_stripper(std::string_view s) : s_(s) { out_.reserve(s.size()); }

  std::string run() {
    ranges_.push_back({0, s_.size(), 0});
    while (!ranges_.empty()) {
      auto& r = ranges_.back();
      if (r.next >= r.end)
        ranges_.pop_back();
      else
        step(r);
    }
    return decode_entities(out_);
  }

private:
  /// A part of the text being stripped: the whole text, or a link's text inside it.
  struct range {
    std::size_t begin;
    std::size_t end;
    std::size_t next; ///< the next byte to read
  };

  /// Reads the construct at r.next and moves r.next past it; a link's text is pushed as a range of its own,
  /// stripped before the rest of `r`.
  void step(range& r) {
    const std::size_t i = r.next;
    const std::size_t end = r.end;
    const char c = s_[i];
    r.next = i + 1;
    if (c == '\\' && i + 1 < end && is_punct(s_[i + 1])) {
      out_ += s_[i + 1];
      r.next = i + 2;
    } else if (c == '`') {
      std::size_t run = 1;
      while (i + run < end && s_[i + run] == '`')
        ++run;
      if (!ticks_)
        ticks_.emplace(s_);
      auto close = ticks_->find(i + run, run);
      if (close == npos || close + run > end) {
        out_.append(s_.substr(i, run));
        r.next = i + run;
      } else {
        out_.append(trim(s_.substr(i + run, close - i - run)));
        r.next = close + run;
      }
    } else if (c == '[' || (c == '!' && i + 1 < end && s_[i + 1] == '[')) {
      link(r, i, c);
    } else if (c == '<') {
      auto close = next_gt(i);
      if (close >= end) {
        out_ += c;
        return;
      }
      auto inner = s_.substr(i + 1, close - i - 1);
      if (inner.rfind("http://", 0) == 0 || inner.rfind("https://", 0) == 0 || inner.rfind("mailto:", 0) == 0) {
        out_.append(inner); // autolink
        r.next = close + 1;
      } else if (!inner.empty() && (std::isalpha(static_cast<unsigned char>(inner[0])) || inner[0] == '/'
                                    || inner[0] == '!')) {
        r.next = close + 1; // an HTML tag
      } else {
        out_ += c;
      }
    } else if (c == '*' || c == '~') {
      std::size_t run = 1;
      while (i + run < end && s_[i + run] == c)
        ++run;
      bool spaced = (i == r.begin || s_[i - 1] == ' ') && (i + run >= end || s_[i + run] == ' ');
      if (spaced || (c == '~' && run == 1)) // "2 * 3" and "~5" are not markup
        out_.append(s_.substr(i, run));
      r.next = i + run;
    } else if (c == '_') {
      std::size_t run = 1;
      while (i + run < end && s_[i + run] == '_')
        ++run;
      bool inside_word = i > r.begin && is_alnum(s_[i - 1]) && i + run < end && is_alnum(s_[i + run]);
      if (inside_word) // snake_case stays
        out_.append(s_.substr(i, run));
      r.next = i + run;
    } else {
      out_ += c;
    }
  }

  /// "[text](url)", "[text][ref]" and "![alt](src)" keep their text; plain brackets ("[x]") stay as written.
  void link(range& r, std::size_t i, char c) {
    if (!pairs_)
      pairs_.emplace(s_);
    std::size_t open = c == '!' ? i + 1 : i;
    std::size_t close = pairs_->close_of(open, r.end);
    if (close == npos) {
      out_ += c;
      return;
    }
    std::size_t after = close + 1;
    std::size_t target = npos;
    if (after < r.end && (s_[after] == '(' || s_[after] == '['))
      target = pairs_->close_of(after, r.end);
    if (target == npos && c != '!') {
      out_ += c;
      return;
    }
    r.next = (target == npos ? close : target) + 1;
    ranges_.push_back({open + 1, close, open + 1}); // invalidates r
  }

  /// The first '>' at or after `from`; npos if none. The stripper reads left to right, so the answer is kept
  /// until `from` passes it ("a<a<a<..." searched to the end of the text once per '<' before).
  std::size_t next_gt(std::size_t from) {
    if (!gt_searched_ || from < gt_from_ || (gt_ != npos && gt_ < from)) {
      gt_ = s_.find('>', from);
      gt_from_ = from;
      gt_searched_ = true;
    }
    return gt_;
  }

  std::string_view s_;
  std::string out_;
  std::vector<range> ranges_;
  std::optional<bracket_pairs> pairs_; ///< made at the first '[' (most paragraphs have none)
  std::optional<backtick_runs> ticks_; ///< made at the first '`'
  std::size_t gt_ = npos;
  std::size_t gt_from_ = 0;
  bool gt_searched_ = false;
};

} // namespace

std::string strip_markdown_inline(std::string_view s) { return inline_stripper{s}.run(); }

} // namespace sa::knowledge::detail
