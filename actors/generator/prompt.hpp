// prompt: what the LLM generator and classifier send to a provider chain, built from typed evidence.
// Plain functions (no actors), so the exact prompts are unit-tested.
//
// The answer prompt numbers the passages [1]..[n] and asks the model to answer only from them and from
// the account facts, citing [n]; cited_passages() maps those markers back to citations. Tools offered to
// the generator (generate_request::tools) go to the model with their JSON Schemas, and the rules say how
// to use them (changing ones are confirmed by the customer first).
#pragma once

#include "actors/providers/provider_types.hpp"
#include "messages/classify.hpp"
#include "messages/generate.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa {

struct prompt_options {
  std::size_t max_passages = 3;
  std::size_t max_passage_chars = 1500;
  std::size_t max_history_turns = 6;
  std::size_t thinking_min_words = 40;  ///< a question this long (or with 2+ questions) asks for thinking
};

/// The generation request for `r`. `thinking_budget` is 1 (asks the endpoint to use its budget) for
/// complex questions, else 0.
providers::completion_request answer_prompt(const generate_request& r, const prompt_options& opts);

/// True when the question is complex enough to be worth extended thinking.
bool is_complex_question(std::string_view question, std::size_t min_words);

/// Citations for the [n] markers found in `answer` (in order of first mention, deduplicated);
/// markers outside 1..passages.size() are ignored.
std::vector<citation> cited_passages(std::string_view answer, const std::vector<passage>& passages,
                                     std::size_t max_passages);

/// The classification request (JSON mode) for a customer message.
providers::completion_request classify_prompt(std::string_view text);

/// Parses the model's JSON answer to classify_prompt; nullopt when it is not a JSON object with a known
/// "intent" and a numeric "confidence" in [0, 1].
std::optional<classification> parse_classification(std::string_view json_text);

} // namespace sa
