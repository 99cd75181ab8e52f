// Internal helpers of the knowledge index (not part of its public API; included by its .cpp files and tests).
#pragma once

#include "actors/retriever/knowledge_index.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sa::knowledge::detail {

/// 0 when `text` is valid UTF-8; otherwise the 1-based line of the first bad sequence.
std::size_t invalid_utf8_line(std::string_view text) noexcept;

/// Splits `text` into windows of at most `max_chars` bytes that overlap by about `overlap_chars`, breaking
/// at a paragraph, sentence or whitespace boundary when one is near (never inside a UTF-8 sequence).
/// Text no longer than max_chars comes back as one window; blank text as none.
std::vector<std::string> split_windows(std::string_view text, std::size_t max_chars, std::size_t overlap_chars);

/// Decodes &amp; &lt; &gt; &quot; &apos; &#39; &nbsp; and numeric entities; leaves anything else as is.
std::string decode_entities(std::string_view text);

/// Trims ASCII whitespace at both ends.
std::string_view trim(std::string_view s) noexcept;

/// The file name without directories and extension ("guides/2fa.md" -> "2fa").
std::string file_stem(std::string_view relative_path);

/// A heading-delimited part of a document, before windowing.
struct section_text {
  std::string heading;  ///< this section's own heading ("" for text before the first heading)
  std::string path;     ///< heading path ("Billing > Invoices")
  std::string body;     ///< plain text
};

/// Merges tiny sections into the next one, splits long ones into windows and numbers the chunks
/// "<relative_path>#<n>". Shared by the Markdown, HTML and plain-text readers.
std::vector<chunk> sections_to_chunks(std::string_view relative_path, const std::string& title,
                                      const std::string& url, const std::vector<section_text>& sections,
                                      const chunking_options& opts);

/// HTML page: tags, scripts and styles stripped, entities decoded; title from <title> or the first <h1>;
/// chunked by <h1>..<h3>.
std::vector<chunk> chunk_html(std::string_view relative_path, std::string_view text, const chunking_options& opts);

/// Markdown inline markup -> plain text: links and images keep their text, code spans their content,
/// emphasis markers and HTML tags go, escapes and entities are resolved. Line breaks are kept.
std::string strip_markdown_inline(std::string_view text);

/// The first structural problem that makes an HTML page unreadable, as "LINE: what" (empty when none): a
/// comment, tag or quoted attribute value never closed before the end of the file, or a <script>/<style>
/// element never closed (it would swallow the rest of the page). Mismatched tags are not problems.
std::string html_problem(std::string_view text);

/// A knowledge source file found under the paths given to build() or ingest().
struct source_file {
  std::filesystem::path full; ///< the path as given, joined with `relative` (for messages)
  std::string relative;       ///< generic form, relative to the path the caller gave (chunk ids start with it)
};

/// Supported file types: .md .markdown .txt .html .htm (docs), .csv .json (FAQs), .jsonl (tickets).
bool supported_source(const std::filesystem::path& p);

/// Every supported file under `paths` (files or folders, recursively, sorted; hidden entries and
/// LICENSE/NOTICE/README files skipped). Fails for a path that does not exist, a file of an unsupported
/// type given by name, a folder that cannot be listed, or a supported name that is a dangling symlink.
result<std::vector<source_file>> collect_sources(const std::vector<std::string>& paths);

/// The file's bytes as text. Fails naming the file for one that cannot be read, is larger than
/// `max_bytes` (0 = no limit), is binary (a NUL byte), or is not UTF-8 (with the line).
result<std::string> read_source_text(const source_file& f, std::size_t max_bytes);

/// Chunks `text` (the content of `f`) with the reader for its type. Fails naming the file (and line).
result<std::vector<chunk>> parse_source(const source_file& f, std::string_view text, const chunking_options& opts);

/// Reads every supported file under `paths` (see collect_sources) into chunks. Fails naming the file
/// (and line) that is unreadable, too large, not UTF-8 text, or malformed.
result<std::vector<chunk>> read_sources(const std::vector<std::string>& paths, const chunking_options& opts);

/// Plain text: one document titled by its file name, split by paragraphs into windows.
std::vector<chunk> chunk_plain_text(std::string_view relative_path, std::string_view text,
                                    const chunking_options& opts);

/// The user's query as lowercase terms: letters and digits (any non-ASCII letter kept), stop words and
/// duplicates dropped, at most `max_terms`.
std::vector<std::string> query_terms(std::string_view query, std::size_t max_terms = 32);

/// The phrases a query searches for: its terms, then the documentation's words for them (synonyms.hpp).
std::vector<std::string> query_phrases(std::string_view query);

/// A safe FTS5 MATCH expression of query_phrases(): each double-quoted, joined with OR; "" when none remain.
std::string fts_query(std::string_view query);

} // namespace sa::knowledge::detail
