// knowledge_index: BM25 full-text search over one tenant's knowledge base, on SQLite FTS5.
//
// Plain class, no actors: built once per tenant, then shared read-only (shared_ptr<const>) by every
// session's retriever. search() is const and safe to call from many threads at once (each call borrows a
// read connection from a small pool). Sources: Markdown/HTML/plain docs (chunked by headings),
// FAQs (CSV/JSON question-answer pairs) and past tickets (JSON lines).
#pragma once

#include "runtime/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace sa::knowledge {

enum class source_kind { doc, faq, ticket };

/// "doc", "faq", "ticket"; and back (nullopt-like: returns false on an unknown name).
const char* to_string(source_kind k) noexcept;
bool from_string(std::string_view name, source_kind& out) noexcept;

/// One searchable unit with what a citation needs.
struct chunk {
  std::string id;        ///< stable: "<relative path>#<section index>" (docs), "faq:<id>", "ticket:<id>"
  source_kind kind = source_kind::doc;
  std::string title;     ///< page title, FAQ question, or ticket subject
  std::string section;   ///< heading path inside the page ("Billing > Invoices"), empty for faq/ticket
  std::string url;       ///< citation link (front matter `url`), or the relative path when there is none
  std::string text;      ///< the chunk's body (plain text, Markdown markup stripped)
  std::int64_t rowid = 0;///< its row in the index it was read from (search, all_chunks); 0 when not read from one
};

struct search_hit {
  chunk passage;
  double score = 0;      ///< higher is better: -bm25() times the source weight
};

struct source_weight {
  source_kind kind;
  double weight;         ///< multiplies the BM25 score; <= 0 excludes the source
};

struct search_options {
  std::vector<source_weight> sources;  ///< empty: all sources with weight 1
  std::size_t limit = 5;
};

struct chunking_options {
  std::size_t max_chars = 1200;   ///< a section longer than this is split ...
  std::size_t overlap_chars = 150;///< ... into windows that overlap by this much
  std::size_t max_file_bytes = 0; ///< a source file larger than this is refused (config retriever.max_file_bytes); 0 = no limit
};

/// Parses documents and builds chunks; exposed for tests and for the ingest command.
/// Markdown: YAML front matter (title, url) is read; chunks follow headings (#, ##, ###).
std::vector<chunk> chunk_markdown(std::string_view relative_path, std::string_view text,
                                  const chunking_options& opts);
/// FAQ CSV with a header holding at least `question` and `answer` (optional `id`, `url`, `category`).
/// RFC 4180 quoting. A missing column or a malformed row fails with file and line.
result<std::vector<chunk>> parse_faq_csv(std::string_view relative_path, std::string_view text);
/// FAQ JSON: an array of objects with `question` and `answer` (optional `id`, `url`, `category`), or an object
/// holding that array under `faqs`. A syntax error or a bad entry fails with file and line.
result<std::vector<chunk>> parse_faq_json(std::string_view relative_path, std::string_view text);
/// Past tickets, one JSON object per line: id, subject, conversation (array of {role,text}),
/// resolution, tags. A malformed line fails with file and line.
result<std::vector<chunk>> parse_tickets_jsonl(std::string_view relative_path, std::string_view text);

class knowledge_index {
public:
  /// Builds an index from the given files and directories (recursively: *.md, *.markdown, *.txt, *.html
  /// as docs; *.csv and *.json as FAQs; *.jsonl as tickets). `db_path` ":memory:" keeps it in memory; a
  /// file path is written atomically (built into a temporary file, then renamed). Fails naming the file
  /// and why. (Persistent, incremental per-tenant indexes: knowledge_store.hpp.)
  static result<std::shared_ptr<const knowledge_index>>
  build(const std::vector<std::string>& paths, const std::string& db_path, const chunking_options& opts = {});

  /// Opens an index built earlier (by build() or ingest()); fails if missing or not an index. The file is
  /// read into memory once: the index never touches the file again, so a newer generation renamed over
  /// it later does not change (or disturb) an index that is already open.
  static result<std::shared_ptr<const knowledge_index>> open(const std::string& db_path);

  ~knowledge_index();
  knowledge_index(const knowledge_index&) = delete;
  knowledge_index& operator=(const knowledge_index&) = delete;

  /// BM25 search. The query is free user text: it is tokenized and turned into a safe FTS5 query
  /// (terms OR'ed, stop words dropped), so no user input can produce an FTS5 syntax error.
  /// Returns hits sorted by score, best first; empty when nothing matches.
  std::vector<search_hit> search(std::string_view query, const search_options& opts) const;
  /// The same search ranked by FTS5 itself (MATCH, ORDER BY the rank function): what search() computes in
  /// memory from the postings, bit for bit; slower (every matching row is ranked by SQLite). For tests and
  /// the bench.
  std::vector<search_hit> search_fts(std::string_view query, const search_options& opts) const;

  /// How much of a question each chunk covers, as this index reads both (the same tokenizer, so "builds" and
  /// "building" are one term). The question's search terms (query_terms(): stop words dropped) each weigh
  /// their BM25 IDF here (at least `min_term_weight`), so a word the knowledge base uses everywhere counts
  /// little and one it never uses counts most: a question about something the index does not know is not
  /// covered by a passage that shares its common words. A term is covered when the chunk's title, section or
  /// text holds it or one of the single words the documentation uses for it (synonyms.hpp). A chunk read
  /// from this index is looked up in its postings; any other is tokenized (slower, the same answer).
  struct term_coverage {
    std::size_t terms = 0;     ///< the question's distinct search terms (after stemming)
    std::vector<double> share; ///< per chunk: covered weight / total weight, 0..1; 0 when terms == 0
  };
  static constexpr double min_term_weight = 0.05;
  term_coverage coverage(std::string_view question, const std::vector<const chunk*>& chunks) const;

  std::size_t chunk_count() const noexcept;
  /// The ingest generation the index was written as (1, 2, ... per tenant); 0 for build().
  std::uint64_t generation() const noexcept;
  /// Bytes of the index's database image held in memory.
  std::size_t image_bytes() const noexcept;

  /// Every chunk, in storage order (the embedding indexer reads them once per loaded index). Empty when
  /// the in-memory database cannot be read.
  std::vector<chunk> all_chunks() const;

  struct impl;
private:
  explicit knowledge_index(std::unique_ptr<impl> p);
  std::vector<search_hit> search_with(std::string_view query, const search_options& opts, bool through_fts) const;
  /// Serves `db` (a complete index) from memory: serializes it and validates the copy.
  static result<std::shared_ptr<const knowledge_index>> from_database(::sqlite3* db, std::unique_ptr<impl> p,
                                                                      const std::string& name);
  std::unique_ptr<impl> impl_;
};

} // namespace sa::knowledge
