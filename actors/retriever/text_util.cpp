// Text helpers shared by the document readers and the query builder: UTF-8 checks, windowing, entities,
// section merging, and the user-text -> FTS5 query translation.
#include "actors/retriever/text_util.hpp"

#include "actors/retriever/synonyms.hpp"
#include "runtime/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

namespace sa::knowledge::detail {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// Where to end a window that starts before `lo` and may end at `hi` at the latest (exclusive end).
std::size_t find_break(std::string_view t, std::size_t lo, std::size_t hi) {
  // 1. a paragraph break
  for (std::size_t p = hi; p > lo; --p)
    if (t[p - 1] == '\n' && p < t.size() && t[p] == '\n')
      return p - 1;
  // 2. a sentence end followed by whitespace
  for (std::size_t p = hi; p > lo; --p) {
    char c = t[p - 1];
    if ((c == '.' || c == '!' || c == '?' || c == ':' || c == ';') && (p == t.size() || is_space(t[p])))
      return p;
  }
  // 3. any whitespace
  for (std::size_t p = hi; p > lo; --p)
    if (p < t.size() && is_space(t[p]))
      return p;
  // 4. a hard cut, not inside a UTF-8 sequence
  std::size_t p = hi;
  while (p > lo && p < t.size() && is_continuation(t[p]))
    --p;
  return p;
}

bool is_separator_cp(std::uint32_t cp) noexcept {
  if (cp < 0x80)
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  if (cp <= 0xBF) // Latin-1 punctuation and symbols, except the few letters among them
    return cp != 0xAA && cp != 0xB5 && cp != 0xBA && cp != 0xB2 && cp != 0xB3 && cp != 0xB9;
  return cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF)
         || (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F)
         || cp == 0xFEFF || (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20)
         || (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0x1F000 && cp <= 0x1FAFF);
}

const std::unordered_set<std::string_view>& stop_words() {
  static const std::unordered_set<std::string_view> words = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could",
    "d", "did", "didn", "do", "does", "doesn", "doing", "don", "down", "during", "each", "few", "for", "from",
    "further", "had", "has", "have", "having", "he", "hello", "her", "here", "hers", "herself", "hi", "him",
    "himself", "his", "how", "i", "if", "in", "into", "is", "isn", "it", "its", "itself", "just", "ll", "m",
    "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
    "other", "our", "ours", "ourselves", "out", "over", "own", "please", "re", "s", "same", "she", "should",
    "so", "some", "such", "t", "than", "thank", "thanks", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
    "up", "ve", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
  };
  return words;
}

} // namespace

std::size_t invalid_utf8_line(std::string_view text) noexcept {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp;
    std::size_t len = sa::utf8_decode(text, i, cp);
    if (len == 0)
      return line;
    if (cp == '\n')
      ++line;
    i += len;
  }
  return 0;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string file_stem(std::string_view relative_path) {
  auto slash = relative_path.find_last_of("/\\");
  if (slash != std::string_view::npos)
    relative_path.remove_prefix(slash + 1);
  auto dot = relative_path.rfind('.');
  if (dot != std::string_view::npos && dot > 0)
    relative_path = relative_path.substr(0, dot);
  return std::string(relative_path);
}

std::vector<std::string> split_windows(std::string_view text, std::size_t max_chars, std::size_t overlap_chars) {
  std::vector<std::string> out;
  text = trim(text);
  if (text.empty())
    return out;
  max_chars = std::max<std::size_t>(max_chars, 16);
  if (text.size() <= max_chars) {
    out.emplace_back(text);
    return out;
  }
  overlap_chars = std::min(overlap_chars, max_chars / 2);
  const std::size_t n = text.size();
  std::size_t start = 0;
  while (start < n) {
    while (start < n && is_space(text[start]))
      ++start;
    if (start >= n)
      break;
    if (n - start <= max_chars) {
      out.emplace_back(trim(text.substr(start)));
      break;
    }
    std::size_t end = find_break(text, start + max_chars / 2, start + max_chars);
    if (end <= start)
      end = start + max_chars;
    auto piece = trim(text.substr(start, end - start));
    if (!piece.empty())
      out.emplace_back(piece);
    // The next window starts `overlap_chars` before this one's end, at the start of a word.
    std::size_t next = end > start + overlap_chars ? end - overlap_chars : start + 1;
    if (next <= start)
      next = start + 1;
    std::size_t p = next;
    while (p < end && !is_space(text[p - 1]))
      ++p;
    if (p >= end) { // no word boundary in the overlap: cut mid-word, on a UTF-8 boundary
      p = next;
      while (p < end && is_continuation(text[p]))
        ++p;
    }
    start = p;
  }
  return out;
}

std::string decode_entities(std::string_view text) {
  static const std::pair<std::string_view, std::string_view> named[] = {
    {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
    {"ndash", "\xE2\x80\x93"}, {"mdash", "\xE2\x80\x94"}, {"hellip", "\xE2\x80\xA6"},
    {"lsquo", "\xE2\x80\x98"}, {"rsquo", "\xE2\x80\x99"}, {"ldquo", "\xE2\x80\x9C"}, {"rdquo", "\xE2\x80\x9D"},
    {"copy", "\xC2\xA9"}, {"reg", "\xC2\xAE"}, {"trade", "\xE2\x84\xA2"},
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    auto semi = text.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += '&';
      continue;
    }
    auto name = text.substr(i + 1, semi - i - 1);
    bool done = false;
    if (name.size() >= 2 && name[0] == '#') {
      std::uint32_t cp = 0;
      bool hex = name[1] == 'x' || name[1] == 'X';
      auto digits = name.substr(hex ? 2 : 1);
      bool ok = !digits.empty();
      for (char c : digits) {
        int v = (c >= '0' && c <= '9') ? c - '0'
                : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (v < 0 || cp > 0x10FFFF) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
      }
      if (ok && cp != 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        sa::utf8_append(out, cp == 0xA0 ? ' ' : cp);
        done = true;
      }
    } else {
      for (const auto& [n, v] : named)
        if (n == name) {
          out += v;
          done = true;
          break;
        }
    }
    if (done)
      i = semi;
    else
      out += '&';
  }
  return out;
}

std::vector<chunk> sections_to_chunks(std::string_view relative_path, const std::string& title,
                                      const std::string& url, const std::vector<section_text>& sections,
                                      const chunking_options& opts) {
  // A section shorter than this is folded into the next one (unless it is the last).
  const std::size_t min_chars = std::min<std::size_t>(64, opts.max_chars / 4);
  std::vector<chunk> out;
  std::string pending; // tiny sections waiting to be merged, with their headings
  auto join = [](const std::string& a, const std::string& b) {
    return a.empty() ? b : b.empty() ? a : a + "\n\n" + b;
  };
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    std::string combined = join(pending, s.body);
    if (combined.size() < min_chars && i + 1 < sections.size()) {
      if (!s.body.empty())
        pending = join(pending, s.heading.empty() ? s.body : s.heading + "\n" + s.body);
      continue;
    }
    pending.clear();
    for (auto& window : split_windows(combined, opts.max_chars, opts.overlap_chars)) {
      chunk c;
      c.id = std::string(relative_path) + "#" + std::to_string(out.size());
      c.kind = source_kind::doc;
      c.title = title;
      c.section = s.path;
      c.url = url;
      c.text = std::move(window);
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> query_terms(std::string_view query, std::size_t max_terms) {
  std::vector<std::string> terms;
  std::string cur;
  bool too_long = false; // nobody types a 64-byte word: drop it and keep the query bounded
  auto flush = [&] {
    if (!cur.empty() && !too_long && terms.size() < max_terms && !stop_words().count(cur)
        && std::find(terms.begin(), terms.end(), cur) == terms.end())
      terms.push_back(cur);
    cur.clear();
    too_long = false;
  };
  for (std::size_t i = 0; i < query.size();) {
    char32_t cp;
    std::size_t len = sa::utf8_decode(query, i, cp);
    if (len == 0) { // invalid byte: a separator
      flush();
      ++i;
      continue;
    }
    if (is_separator_cp(cp)) {
      flush();
    } else if (cp < 0x80) {
      cur += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
    } else {
      cur.append(query.substr(i, len)); // FTS5's unicode61 folds case and diacritics itself
    }
    if (cur.size() > 64) {
      cur.clear();
      too_long = true;
    }
    i += len;
  }
  flush();
  return terms;
}

std::vector<std::string> query_phrases(std::string_view query) {
  auto terms = query_terms(query);
  // Widen the query with the words the documentation uses for what the customer typed.
  for (std::size_t i = 0, n = terms.size(); i < n; ++i)
    for (const auto& alt : synonyms_of(terms[i]))
      if (std::find(terms.begin(), terms.end(), alt) == terms.end())
        terms.push_back(alt);
  return terms;
}

std::string fts_query(std::string_view query) {
  std::string out;
  for (const auto& term : query_phrases(query)) {
    if (!out.empty())
      out += " OR ";
    out += '"';
    for (char c : term) { // terms hold no quotes today; double them anyway should that ever change
      if (c == '"')
        out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

} // namespace sa::knowledge::detail
