// Source files -> chunks: walks the paths given to build() or ingest(), checks each file is UTF-8 text of
// a sane size, and hands it to the reader for its type. To support a new type: add its extension to
// supported_source() and its reader to parse_source().
#include "actors/retriever/text_util.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sa::knowledge::detail {

namespace fs = std::filesystem;

namespace {

bool has_extension(const fs::path& p, std::initializer_list<const char*> exts) {
  auto e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto x : exts)
    if (e == x)
      return true;
  return false;
}

std::string megabytes(std::uintmax_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

status collect(const std::string& given, std::vector<source_file>& out) {
  std::error_code ec;
  fs::path root(given);
  auto st = fs::status(root, ec);
  if (ec || !fs::exists(st)) {
    if (fs::is_symlink(fs::symlink_status(root, ec)))
      return failure{given + ": cannot read: a symbolic link to a file that does not exist"};
    return failure{given + ": no such file or directory"};
  }
  if (fs::is_regular_file(st)) {
    if (!supported_source(root))
      return failure{given + ": unsupported file type (expected .md, .markdown, .txt, .html, .htm, .csv, .json or .jsonl)"};
    out.push_back({root, root.filename().generic_string()});
    return {};
  }
  if (!fs::is_directory(st))
    return failure{given + ": not a regular file or directory"};
  std::vector<source_file> found;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec)
    return failure{given + ": cannot list directory: " + ec.message()};
  for (; it != end; it.increment(ec)) {
    if (ec)
      return failure{given + ": cannot list directory: " + ec.message()};
    const auto& entry = *it;
    auto name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') { // hidden files and folders (.git, editor swap files)
      if (entry.is_directory(ec))
        it.disable_recursion_pending();
      continue;
    }
    // Licence and notice files travel with the content but are not knowledge.
    if (name.rfind("LICENSE", 0) == 0 || name.rfind("NOTICE", 0) == 0 || name.rfind("README", 0) == 0)
      continue;
    if (!supported_source(entry.path()))
      continue;
    if (entry.is_regular_file(ec)) {
      found.push_back({entry.path(), entry.path().lexically_relative(root).generic_string()});
    } else if (entry.is_symlink(ec) && !entry.exists(ec)) {
      return failure{entry.path().string() + ": cannot read: a symbolic link to a file that does not exist"};
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.relative < b.relative; });
  out.insert(out.end(), found.begin(), found.end());
  return {};
}

} // namespace

bool supported_source(const fs::path& p) {
  return has_extension(p, {".md", ".markdown", ".txt", ".html", ".htm", ".csv", ".json", ".jsonl"});
}

result<std::vector<source_file>> collect_sources(const std::vector<std::string>& paths) {
  std::vector<source_file> files;
  for (const auto& p : paths)
    if (auto s = collect(p, files); !s)
      return failure{s.error()};
  return files;
}

result<std::string> read_source_text(const source_file& f, std::size_t max_bytes) {
  const std::string name = f.full.string();
  std::error_code ec;
  auto size = fs::file_size(f.full, ec);
  if (ec)
    return failure{name + ": cannot read: " + ec.message()};
  if (max_bytes > 0 && size > max_bytes)
    return failure{name + ": too large (" + megabytes(size) + ", over the limit of " + megabytes(max_bytes)
                   + ", retriever.max_file_bytes = " + std::to_string(max_bytes) + "); split it or raise the limit"};
  std::ifstream in(f.full, std::ios::binary);
  if (!in)
    return failure{name + ": cannot read: " + std::strerror(errno)};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return failure{name + ": read error"};
  std::string text = std::move(buf).str();
  if (max_bytes > 0 && text.size() > max_bytes) // grew since the size check
    return failure{name + ": too large (over the limit of " + megabytes(max_bytes) + ", retriever.max_file_bytes)"};
  if (auto nul = text.find('\0'); nul != std::string::npos)
    return failure{name + ": binary file (NUL byte at offset " + std::to_string(nul) + "), not text"};
  if (auto line = invalid_utf8_line(text))
    return failure{name + ":" + std::to_string(line) + ": invalid UTF-8"};
  return text;
}

result<std::vector<chunk>> parse_source(const source_file& f, std::string_view text, const chunking_options& opts) {
  const std::string name = f.full.string();
  result<std::vector<chunk>> r = std::vector<chunk>{};
  if (has_extension(f.full, {".csv"})) {
    r = parse_faq_csv(f.relative, text);
  } else if (has_extension(f.full, {".jsonl"})) {
    r = parse_tickets_jsonl(f.relative, text);
  } else if (has_extension(f.full, {".json"})) {
    r = parse_faq_json(f.relative, text);
  } else if (has_extension(f.full, {".html", ".htm"})) {
    if (auto problem = html_problem(text); !problem.empty())
      return failure{name + ":" + problem + " (broken HTML)"};
    r = chunk_html(f.relative, text, opts);
  } else if (has_extension(f.full, {".txt"})) {
    r = chunk_plain_text(f.relative, text, opts);
  } else {
    r = chunk_markdown(f.relative, text, opts);
  }
  if (!r) { // parsers name the relative path; the operator wants the real one
    const auto& msg = r.error();
    return failure{msg.rfind(f.relative, 0) == 0 ? name + msg.substr(f.relative.size()) : name + ": " + msg};
  }
  return r;
}

result<std::vector<chunk>> read_sources(const std::vector<std::string>& paths, const chunking_options& opts) {
  auto files = collect_sources(paths);
  if (!files)
    return failure{files.error()};
  std::vector<chunk> chunks;
  for (const auto& f : *files) {
    auto text = read_source_text(f, opts.max_file_bytes);
    if (!text)
      return failure{text.error()};
    auto r = parse_source(f, *text, opts);
    if (!r)
      return failure{r.error()};
    for (auto& c : r.value())
      chunks.push_back(std::move(c));
  }
  return chunks;
}

} // namespace sa::knowledge::detail
