// Markdown inline markup -> plain text (links, images, code spans, emphasis, inline HTML, escapes).
#include "actors/retriever/text_util.hpp"

#include <cctype>

namespace sa::knowledge::detail {

namespace {

bool is_alnum(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_punct(char c) noexcept { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

/// Finds the bracket that closes the one at `open` (nesting aware); npos if none.
std::size_t match_bracket(std::string_view s, std::size_t open, char o, char c) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == o) {
      ++depth;
    } else if (s[i] == c && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

/// Inline markup -> plain text: links and images keep their text, code spans their content, emphasis
/// markers and HTML tags go, escapes and entities are resolved.
} // namespace

std::string strip_markdown_inline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && is_punct(s[i + 1])) {
      out += s[++i];
    } else if (c == '`') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == '`')
        ++run;
      auto close = s.find(std::string(run, '`'), i + run);
      if (close == std::string_view::npos) {
        out.append(s.substr(i, run));
        i += run - 1;
      } else {
        out.append(trim(s.substr(i + run, close - i - run)));
        i = close + run - 1;
      }
    } else if (c == '[' || (c == '!' && i + 1 < s.size() && s[i + 1] == '[')) {
      std::size_t open = c == '!' ? i + 1 : i;
      std::size_t close = match_bracket(s, open, '[', ']');
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      std::string_view label = s.substr(open + 1, close - open - 1);
      std::size_t after = close + 1;
      std::size_t end = std::string_view::npos;
      if (after < s.size() && s[after] == '(')
        end = match_bracket(s, after, '(', ')');
      else if (after < s.size() && s[after] == '[')
        end = match_bracket(s, after, '[', ']');
      if (end == std::string_view::npos && c != '!') { // plain brackets ("[x]") stay as written
        out += c;
        continue;
      }
      out += strip_markdown_inline(label);
      i = end == std::string_view::npos ? close : end;
    } else if (c == '<') {
      auto close = s.find('>', i);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      auto inner = s.substr(i + 1, close - i - 1);
      if (inner.rfind("http://", 0) == 0 || inner.rfind("https://", 0) == 0 || inner.rfind("mailto:", 0) == 0) {
        out.append(inner); // autolink
        i = close;
      } else if (!inner.empty() && (std::isalpha(static_cast<unsigned char>(inner[0])) || inner[0] == '/'
                                    || inner[0] == '!')) {
        i = close; // an HTML tag
      } else {
        out += c;
      }
    } else if (c == '*' || c == '~') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == c)
        ++run;
      bool spaced = (i == 0 || s[i - 1] == ' ') && (i + run >= s.size() || s[i + run] == ' ');
      if (spaced || (c == '~' && run == 1)) // "2 * 3" and "~5" are not markup
        out.append(s.substr(i, run));
      i += run - 1;
    } else if (c == '_') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == '_')
        ++run;
      bool inside_word = i > 0 && is_alnum(s[i - 1]) && i + run < s.size() && is_alnum(s[i + run]);
      if (inside_word) // snake_case stays
        out.append(s.substr(i, run));
      i += run - 1;
    } else {
      out += c;
    }
  }
  return decode_entities(out);
}

} // namespace sa::knowledge::detail
