// Fuzz target: the knowledge parsers, one build per format (SA_FUZZ_FORMAT_MARKDOWN, _HTML, _FAQ_CSV,
// _FAQ_JSON, _TICKETS_JSONL). Documents come from customers' own exports: any bytes must give chunks or a failure
// naming the file, never a crash, and chunks respect the size limit (plus overlap) and carry an id.
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/text_util.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sa::knowledge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  chunking_options opts;
  opts.max_chars = 200;  // small, so inputs of a few hundred bytes reach the splitting code
  opts.overlap_chars = 40;
  std::vector<chunk> chunks;
#if SA_FUZZ_FORMAT_MARKDOWN
  chunks = chunk_markdown("fuzz.md", text, opts);
#elif SA_FUZZ_FORMAT_HTML
  (void)detail::html_problem(text); // the ingest's broken-HTML check reads the same bytes first
  chunks = detail::chunk_html("fuzz.html", text, opts);
#elif SA_FUZZ_FORMAT_FAQ_CSV
  auto r = parse_faq_csv("fuzz.csv", text);
  if (!r) {
    SA_FUZZ_CHECK(r.error().find("fuzz.csv") != std::string::npos);
    return 0;
  }
  chunks = std::move(*r);
#elif SA_FUZZ_FORMAT_FAQ_JSON
  auto r = parse_faq_json("fuzz.json", text);
  if (!r) {
    SA_FUZZ_CHECK(r.error().find("fuzz.json:") == 0);
    return 0;
  }
  chunks = std::move(*r);
#elif SA_FUZZ_FORMAT_TICKETS_JSONL
  auto r = parse_tickets_jsonl("fuzz.jsonl", text);
  if (!r) {
    SA_FUZZ_CHECK(r.error().find("fuzz.jsonl") != std::string::npos);
    return 0;
  }
  chunks = std::move(*r);
#else
#error "define SA_FUZZ_FORMAT_MARKDOWN, _HTML, _FAQ_CSV, _FAQ_JSON or _TICKETS_JSONL"
#endif
  for (const auto& c : chunks)
    SA_FUZZ_CHECK(!c.id.empty());
  return 0;
}
