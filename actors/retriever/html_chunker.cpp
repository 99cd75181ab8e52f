// HTML reader: a forgiving tag scanner (no DOM). Scripts, styles and the head are dropped, block tags
// become line breaks, <h1>..<h3> start sections, entities are decoded.
#include "actors/retriever/text_util.hpp"

#include <cctype>

namespace sa::knowledge::detail {

namespace {

/// ASCII lower case: tag names are ASCII, and std::tolower would be a locale-dependent call per byte.
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool istarts_with(std::string_view s, std::size_t at, std::string_view prefix) noexcept {
  if (at + prefix.size() > s.size())
    return false;
  for (std::size_t k = 0; k < prefix.size(); ++k)
    if (lower(s[at + k]) != prefix[k])
      return false;
  return true;
}

/// First case-insensitive occurrence of `needle` (lower case, starting with '<') at or after `from`: jumps
/// from '<' to '<' (memchr) instead of comparing at every byte.
std::size_t ifind(std::string_view s, std::string_view needle, std::size_t from) noexcept {
  for (auto i = s.find('<', from); i != std::string_view::npos && i + needle.size() <= s.size();
       i = s.find('<', i + 1))
    if (istarts_with(s, i, needle))
      return i;
  return std::string_view::npos;
}

/// End of the tag starting at `lt` (index just past '>'), skipping quoted attribute values.
std::size_t tag_end(std::string_view s, std::size_t lt) noexcept {
  char quote = 0;
  for (std::size_t i = lt + 1; i < s.size(); ++i) {
    if (quote) {
      if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '>') {
      return i + 1;
    }
  }
  return s.size();
}

std::string collapse_spaces(std::string_view raw) {
  std::string decoded = decode_entities(raw), out;
  bool space = false;
  for (char c : decoded) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      space = true;
    } else {
      if (space && !out.empty())
        out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

/// Visible text of an HTML fragment (tags removed, whitespace collapsed).
std::string inner_text(std::string_view s) {
  std::string raw;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '<') {
      i = tag_end(s, i);
      raw += ' ';
    } else {
      raw += s[i++];
    }
  }
  return collapse_spaces(raw);
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (n == name)
      return true;
  return false;
}

std::size_t line_at(std::string_view s, std::size_t pos) noexcept {
  std::size_t line = 1;
  for (std::size_t i = 0; i < pos && i < s.size(); ++i)
    line += s[i] == '\n';
  return line;
}

} // namespace

std::string html_problem(std::string_view text) {
  auto at = [&](std::size_t pos, const std::string& what) { return std::to_string(line_at(text, pos)) + ": " + what; };
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '<') {
      ++i;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      auto end = text.find("-->", i + 4);
      if (end == std::string_view::npos)
        return at(i, "comment '<!--' is never closed with '-->'");
      i = end + 3;
      continue;
    }
    std::size_t p = i + 1;
    if (p < text.size() && text[p] == '/')
      ++p;
    bool special = p < text.size() && (text[p] == '!' || text[p] == '?');
    std::string name;
    while (p < text.size() && std::isalnum(static_cast<unsigned char>(text[p])))
      name += lower(text[p++]);
    if (name.empty() && !special) { // a lone '<' in text
      ++i;
      continue;
    }
    std::size_t after = tag_end(text, i);
    if (after == text.size() && text.back() != '>')
      return at(i, "tag '<" + (special ? std::string(1, text[i + 1]) : name)
                     + "' is never closed with '>' (or a quoted attribute value is never closed)");
    if (text[i + 1] != '/' && (name == "script" || name == "style")) { // their content is not HTML: skip it
      auto close = ifind(text, "</" + name, after);
      if (close == std::string_view::npos)
        return at(i, "<" + name + "> element is never closed with </" + name + "> (the rest of the page would be lost)");
      i = close;
      continue;
    }
    i = after;
  }
  return {};
}

std::vector<chunk> chunk_html(std::string_view relative_path, std::string_view text, const chunking_options& opts) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  std::string title;
  if (auto open = ifind(text, "<title", 0); open != std::string_view::npos) {
    auto start = tag_end(text, open);
    auto close = ifind(text, "</title", start);
    if (close != std::string_view::npos)
      title = inner_text(text.substr(start, close - start));
  }

  std::vector<section_text> sections(1);
  std::vector<std::pair<int, std::string>> path;
  std::string first_h1, raw; // raw: text of the current block, not yet decoded
  bool in_pre = false;
  auto flush = [&](bool paragraph) {
    std::string& body = sections.back().body;
    if (in_pre) {
      body += decode_entities(raw);
    } else if (auto t = collapse_spaces(raw); !t.empty()) {
      if (!body.empty() && body.back() != '\n' && body.back() != ' ')
        body += ' ';
      body += t;
    }
    raw.clear();
    if (!body.empty() && body.back() != '\n')
      body += '\n';
    if (paragraph && !body.empty() && body.size() >= 2 && body[body.size() - 2] != '\n')
      body += '\n';
  };

  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '<') {
      raw += text[i++];
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      auto end = text.find("-->", i + 4);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    if (i + 1 < text.size() && (text[i + 1] == '!' || text[i + 1] == '?')) { // doctype, CDATA, processing
      i = tag_end(text, i);
      continue;
    }
    std::size_t p = i + 1;
    bool closing = p < text.size() && text[p] == '/';
    if (closing)
      ++p;
    std::string name;
    while (p < text.size() && std::isalnum(static_cast<unsigned char>(text[p])))
      name += lower(text[p++]);
    if (name.empty()) { // a lone '<' in text
      raw += text[i++];
      continue;
    }
    std::size_t after = tag_end(text, i);
    if (!closing && is_one_of(name, {"script", "style", "noscript", "template", "svg", "head", "title"})) {
      auto end = ifind(text, "</" + name, after);
      i = end == std::string_view::npos ? text.size() : tag_end(text, end);
      continue;
    }
    if (!closing && (name == "h1" || name == "h2" || name == "h3")) {
      auto end = ifind(text, "</" + name, after);
      auto heading = inner_text(text.substr(after, (end == std::string_view::npos ? text.size() : end) - after));
      i = end == std::string_view::npos ? text.size() : tag_end(text, end);
      flush(true);
      int level = name[1] - '0';
      if (level == 1 && first_h1.empty())
        first_h1 = heading;
      while (!path.empty() && path.back().first >= level)
        path.pop_back();
      path.emplace_back(level, heading);
      section_text s;
      s.heading = heading;
      for (const auto& entry : path)
        s.path += (s.path.empty() ? "" : " > ") + entry.second;
      sections.push_back(std::move(s));
      continue;
    }
    i = after;
    if (name == "pre") {
      flush(true);
      in_pre = !closing;
    } else if (is_one_of(name, {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside",
                                "table", "ul", "ol", "dl", "blockquote", "h4", "h5", "h6", "hr", "figure"})) {
      flush(true);
    } else if (is_one_of(name, {"br", "li", "tr", "dt", "dd", "caption"})) {
      flush(false);
    } else if (is_one_of(name, {"td", "th"})) {
      raw += closing ? " " : " | ";
    } // inline tags (a, em, code, span...) just vanish
  }
  flush(false);

  for (auto& s : sections) {
    // drop table-cell separators left at line starts, then tidy
    std::string cleaned;
    for (std::size_t k = 0; k < s.body.size(); ++k) {
      bool line_start = k == 0 || s.body[k - 1] == '\n';
      if (line_start && s.body.compare(k, 2, "| ") == 0) {
        ++k;
        continue;
      }
      cleaned += s.body[k];
    }
    s.body = std::string(trim(cleaned));
  }
  if (title.empty())
    title = !first_h1.empty() ? first_h1 : file_stem(relative_path);
  return sections_to_chunks(relative_path, title, std::string(relative_path), sections, opts);
}

} // namespace sa::knowledge::detail
