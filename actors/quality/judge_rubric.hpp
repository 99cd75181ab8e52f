// judge_rubric: how the quality monitor asks a judge model to score a sampled turn, and how it reads the
// answer. The rubric (the system prompt below, judge_system_prompt()) asks for a JSON object with four
// integer scores from 1 (worst) to 5 (best):
//
//   relevance    does the answer address what the customer asked?
//   accuracy     is every claim supported by the retrieved context? (an unsupported claim caps it at 2)
//   helpfulness  can the customer act on it: concrete steps, links, or a clear next step?
//   tone         polite, calm and professional, without blame or filler?
//
// Scores are stored as given and exported normalised to [0, 1] ((score - 1) / 4). The request asks for
// JSON mode at temperature 0; the reader accepts the object inside code fences or prose, and refuses a
// reply with a missing, non-numeric or out-of-range score (the sample is then scored locally and the
// failure counted). To add a dimension: the rubric text, `dimensions()`, and the tests
// (tests/actors/quality/judge_rubric_test.cpp).
#pragma once

#include "actors/providers/provider_types.hpp"
#include "messages/retrieve.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa::quality {

/// The four rubric dimensions, in the order of judge_scores.
const std::array<const char*, 4>& dimensions();

struct judge_scores {
  std::array<int, 4> values{};  ///< relevance, accuracy, helpfulness, tone; each 1..5
  [[nodiscard]] static double normalised(int score) noexcept { return (score - 1) / 4.0; }
};

/// The rubric, as the judge's system prompt.
const std::string& judge_system_prompt();

/// The request for one sample: the rubric, then the question, the context (the cited passages, else all,
/// each cut to fit `max_context_chars` in total) and the answer. JSON mode, temperature 0.
providers::completion_request judge_request(std::string_view question, std::string_view answer,
                                            const std::vector<passage>& passages,
                                            const std::vector<std::string>& cited,
                                            std::size_t max_context_chars = 6000);

/// The scores in a judge's reply; nullopt (with `error` saying why) when it holds no valid object.
std::optional<judge_scores> parse_judge_reply(std::string_view reply, std::string* error = nullptr);

} // namespace sa::quality
