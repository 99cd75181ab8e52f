// retrieved_passage: a knowledge chunk as the passage a retrieval returns (messages/retrieve.hpp), shared by
// the BM25 and the hybrid retriever so both cite the same way.
//
// A past ticket is cited by its id, and its resolution - what actually fixed the problem, the evidence
// worth offering - travels in the passage's `section` as "Resolution: ..." (the prompt prints it next to
// the title, so it survives any clipping of a long conversation), and stays at the end of its text.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "messages/retrieve.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sa {

/// The resolution of a ticket chunk's text (what follows its last "Resolution: " line), or "".
std::string ticket_resolution(std::string_view text);

/// The passage for `c` with `score`.
passage to_passage(const knowledge::chunk& c, double score);

/// Measures how much of `question` each of `out`'s passages covers (knowledge_index::coverage): sets
/// out.question_terms and every passage's question_coverage. `chunks[i]` is the chunk of out.passages[i].
void measure_coverage(const knowledge::knowledge_index& index, std::string_view question,
                      const std::vector<const knowledge::chunk*>& chunks, retrieval& out);

} // namespace sa
