// Markdown and plain-text readers: front matter, markup stripped to plain text, sections by heading.
#include "actors/retriever/text_util.hpp"

#include <cctype>

namespace sa::knowledge {

namespace {

using detail::section_text;
using detail::trim;


std::size_t leading_spaces(std::string_view line) noexcept {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ')
    ++n;
  return n;
}

std::string unquote_yaml(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) {
        char e = v[++i];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += v[i];
      }
    }
    return out;
  }
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      out += v[i];
      if (v[i] == '\'' && v[i + 1] == '\'')
        ++i;
    }
    return out;
  }
  return std::string(v);
}

bool is_fence(std::string_view line, std::string_view& marker) {
  auto t = line.substr(std::min(leading_spaces(line), line.size()));
  if (leading_spaces(line) > 3 || t.size() < 3)
    return false;
  if (t.substr(0, 3) == "```" || t.substr(0, 3) == "~~~") {
    marker = t.substr(0, 3);
    return true;
  }
  return false;
}

/// ATX heading: level 1..6 and its text, or 0.
int atx_heading(std::string_view line, std::string_view& text) {
  if (leading_spaces(line) > 3)
    return 0;
  auto t = trim(line);
  int level = 0;
  while (level < static_cast<int>(t.size()) && t[level] == '#')
    ++level;
  if (level == 0 || level > 6 || (level < static_cast<int>(t.size()) && t[level] != ' ' && t[level] != '\t'))
    return 0;
  t = trim(t.substr(level));
  while (!t.empty() && t.back() == '#') // closing hashes
    t.remove_suffix(1);
  text = trim(t);
  return level;
}

bool all_of_chars(std::string_view t, std::string_view allowed, char must) {
  bool seen = false;
  for (char c : t) {
    if (allowed.find(c) == std::string_view::npos)
      return false;
    seen = seen || c == must;
  }
  return seen;
}

bool is_hr(std::string_view line) {
  auto t = trim(line);
  for (char m : {'-', '*', '_'}) {
    std::size_t count = 0;
    for (char c : t)
      count += c == m;
    if (count >= 3 && all_of_chars(t, std::string(1, m) + " ", m))
      return true;
  }
  return false;
}

bool is_table_separator(std::string_view line) {
  auto t = trim(line);
  return t.find('-') != std::string_view::npos && t.find('|') != std::string_view::npos
         && all_of_chars(t, "|:- \t", '-');
}

std::string table_row(std::string_view line) {
  auto t = trim(line);
  if (!t.empty() && t.front() == '|')
    t.remove_prefix(1);
  if (!t.empty() && t.back() == '|')
    t.remove_suffix(1);
  std::string out;
  std::size_t start = 0;
  while (start <= t.size()) {
    auto bar = t.find('|', start);
    auto cell = trim(t.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (!cell.empty()) {
      if (!out.empty())
        out += " | ";
      out += detail::strip_markdown_inline(cell);
    }
    if (bar == std::string_view::npos)
      break;
    start = bar + 1;
  }
  return out;
}

/// Removes leading block-quote markers ("> > text" -> "text"), keeping the indentation after them.
std::string_view strip_quote_markers(std::string_view line) {
  for (;;) {
    auto sp = leading_spaces(line);
    if (sp > 3 || sp >= line.size() || line[sp] != '>')
      return line;
    line.remove_prefix(sp + 1);
    if (!line.empty() && line[0] == ' ')
      line.remove_prefix(1);
  }
}

/// Removes block markers (list bullet, task box) from a line.
std::string_view strip_block_markers(std::string_view t) {
  t = trim(t);
  if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && (t[1] == ' ' || t[1] == '\t')) {
    t = trim(t.substr(2));
  } else {
    std::size_t d = 0;
    while (d < t.size() && d < 9 && std::isdigit(static_cast<unsigned char>(t[d])))
      ++d;
    if (d > 0 && d + 1 < t.size() && (t[d] == '.' || t[d] == ')') && (t[d + 1] == ' ' || t[d + 1] == '\t'))
      t = trim(t.substr(d + 2));
  }
  if (t.size() >= 3 && t[0] == '[' && t[2] == ']' && (t[1] == ' ' || t[1] == 'x' || t[1] == 'X'))
    t = trim(t.substr(3));
  return t;
}

bool is_link_definition(std::string_view line) {
  auto t = trim(line);
  if (t.empty() || t[0] != '[' || leading_spaces(line) > 3)
    return false;
  auto close = t.find("]:");
  return close != std::string_view::npos && close > 1;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    auto line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos)
      break;
    start = nl + 1;
  }
  return lines;
}

/// Appends a line of body text, keeping at most one blank line between blocks.
void add_line(std::string& body, std::string_view line) {
  if (trim(line).empty()) { // end of a block: leave exactly one blank line
    if (body.empty())
      return;
    if (body.back() != '\n')
      body += '\n';
    if (body.size() < 2 || body[body.size() - 2] != '\n')
      body += '\n';
    return;
  }
  if (!body.empty() && body.back() != '\n')
    body += '\n';
  body.append(line);
}

} // namespace

std::vector<chunk> chunk_markdown(std::string_view relative_path, std::string_view text,
                                  const chunking_options& opts) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  auto lines = split_lines(text);
  std::size_t i = 0;
  std::string title, url;
  if (!lines.empty() && trim(lines[0]) == "---") { // YAML front matter
    std::size_t end = 1;
    while (end < lines.size() && trim(lines[end]) != "---" && trim(lines[end]) != "...")
      ++end;
    if (end < lines.size()) {
      for (std::size_t k = 1; k < end; ++k) {
        auto line = lines[k];
        auto colon = line.find(':');
        if (colon == std::string_view::npos || leading_spaces(line) > 0)
          continue;
        auto key = trim(line.substr(0, colon));
        if (key == "title")
          title = unquote_yaml(line.substr(colon + 1));
        else if (key == "url")
          url = unquote_yaml(line.substr(colon + 1));
      }
      i = end + 1;
    }
  }

  std::vector<section_text> sections(1);
  std::vector<std::pair<int, std::string>> path; // open headings, levels 1..3
  std::string first_h1;
  auto start_section = [&](int level, std::string heading) {
    if (level == 1 && first_h1.empty())
      first_h1 = heading;
    while (!path.empty() && path.back().first >= level)
      path.pop_back();
    path.emplace_back(level, heading);
    section_text s;
    s.heading = std::move(heading);
    for (const auto& [l, h] : path)
      s.path += (s.path.empty() ? "" : " > ") + h;
    sections.push_back(std::move(s));
  };

  for (std::size_t k = i; k < lines.size(); ++k) // block quotes: their content counts as ordinary content
    lines[k] = strip_quote_markers(lines[k]);

  bool in_table = false;
  std::string para; // consecutive text lines, stripped of inline markup together (links may wrap lines)
  auto flush_para = [&] {
    if (!para.empty())
      add_line(sections.back().body, detail::strip_markdown_inline(para));
    para.clear();
  };
  for (; i < lines.size(); ++i) {
    auto line = lines[i];
    std::string_view fence;
    if (is_fence(line, fence)) { // code block: kept verbatim as text
      flush_para();
      std::string& body = sections.back().body;
      for (++i; i < lines.size(); ++i) {
        std::string_view closing;
        if (is_fence(lines[i], closing) && closing == fence)
          break;
        add_line(body, lines[i]);
      }
      add_line(body, "");
      in_table = false;
      continue;
    }
    std::string_view heading;
    int level = atx_heading(line, heading);
    auto next = i + 1 < lines.size() ? trim(lines[i + 1]) : std::string_view{};
    if (level == 0 && !trim(line).empty() && !in_table && !next.empty() && leading_spaces(lines[i + 1]) <= 3) {
      auto t = trim(line);
      bool plain = t[0] != '-' && t[0] != '*' && t[0] != '+' && t[0] != '|';
      if (all_of_chars(next, "=", '='))
        level = 1;
      else if (plain && next.size() >= 2 && all_of_chars(next, "-", '-'))
        level = 2;
      if (level > 0) {
        heading = t;
        ++i; // the underline
      }
    }
    if (level >= 1 && level <= 3) {
      flush_para();
      start_section(level, detail::strip_markdown_inline(heading));
      in_table = false;
      continue;
    }
    if (level > 3) { // minor headings stay in the text as a line of their own
      flush_para();
      add_line(sections.back().body, "");
      add_line(sections.back().body, detail::strip_markdown_inline(heading));
      continue;
    }
    if (trim(line).empty()) {
      flush_para();
      in_table = false;
      add_line(sections.back().body, "");
    } else if (is_table_separator(line)) {
      flush_para();
      in_table = true;
    } else if (in_table || trim(line).front() == '|' || (line.find('|') != std::string_view::npos
                                                         && i + 1 < lines.size() && is_table_separator(lines[i + 1]))) {
      flush_para();
      add_line(sections.back().body, table_row(line));
    } else if (is_hr(line) || is_link_definition(line)) {
      flush_para();
    } else {
      if (!para.empty())
        para += '\n';
      para.append(strip_block_markers(line));
    }
  }
  flush_para();

  for (auto& s : sections)
    s.body = std::string(trim(s.body));
  if (title.empty())
    title = !first_h1.empty() ? first_h1 : detail::file_stem(relative_path);
  if (url.empty())
    url = std::string(relative_path);
  return detail::sections_to_chunks(relative_path, title, url, sections, opts);
}

namespace detail {

std::vector<chunk> chunk_plain_text(std::string_view relative_path, std::string_view text,
                                    const chunking_options& opts) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  section_text s;
  for (auto line : split_lines(text))
    add_line(s.body, trim(line).empty() ? std::string_view{} : line);
  s.body = std::string(trim(s.body));
  return sections_to_chunks(relative_path, file_stem(relative_path), std::string(relative_path), {s}, opts);
}

} // namespace detail

} // namespace sa::knowledge
