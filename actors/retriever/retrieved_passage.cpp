// retrieved_passage: chunk -> passage (see retrieved_passage.hpp).
#include "actors/retriever/retrieved_passage.hpp"

namespace sa {

namespace {

source_kind to_message_kind(knowledge::source_kind k) {
  switch (k) {
    case knowledge::source_kind::doc: return source_kind::doc;
    case knowledge::source_kind::faq: return source_kind::faq;
    case knowledge::source_kind::ticket: return source_kind::ticket;
  }
  return source_kind::doc;
}

} // namespace

std::string ticket_resolution(std::string_view text) {
  constexpr std::string_view marker = "Resolution: ";
  auto at = text.rfind(marker);
  if (at == std::string_view::npos || (at > 0 && text[at - 1] != '\n'))
    return {};
  auto rest = text.substr(at + marker.size());
  auto end = rest.find('\n');
  return std::string(rest.substr(0, end));
}

passage to_passage(const knowledge::chunk& c, double score) {
  passage p;
  p.source_id = c.id;
  p.kind = to_message_kind(c.kind);
  p.title = c.title;
  p.section = c.section;
  // A past ticket is cited by its id, not by the file it was ingested from.
  p.url = c.kind == knowledge::source_kind::ticket ? c.id : c.url;
  p.text = c.text;
  p.score = score;
  if (c.kind == knowledge::source_kind::ticket)
    if (auto resolution = ticket_resolution(c.text); !resolution.empty())
      p.section = "Resolution: " + resolution;
  return p;
}

void measure_coverage(const knowledge::knowledge_index& index, std::string_view question,
                      const std::vector<const knowledge::chunk*>& chunks, retrieval& out) {
  auto c = index.coverage(question, chunks);
  out.question_terms = static_cast<uint32_t>(c.terms);
  for (std::size_t i = 0; i < out.passages.size() && i < c.share.size(); ++i)
    out.passages[i].question_coverage = c.share[i];
}

} // namespace sa
