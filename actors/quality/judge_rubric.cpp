#include "actors/quality/judge_rubric.hpp"

#include "actors/providers/reply_json.hpp"

#include <algorithm>

namespace sa::quality {

const std::array<const char*, 4>& dimensions() {
  static const std::array<const char*, 4> names{"relevance", "accuracy", "helpfulness", "tone"};
  return names;
}

const std::string& judge_system_prompt() {
  static const std::string prompt =
    "You review one answer of a customer-support assistant. Score it with this rubric, each score an integer "
    "from 1 (worst) to 5 (best):\n"
    "- relevance: does the answer address what the customer asked?\n"
    "- accuracy: is every claim supported by the CONTEXT below? Any claim the context does not support caps "
    "accuracy at 2. An answer that says it does not know, when the context does not hold the answer, is "
    "accurate.\n"
    "- helpfulness: can the customer act on it (concrete steps, a link, or a clear next step)?\n"
    "- tone: polite, calm and professional, without blame or filler?\n"
    "Reply with only a JSON object: {\"relevance\": n, \"accuracy\": n, \"helpfulness\": n, \"tone\": n}.";
  return prompt;
}

providers::completion_request judge_request(std::string_view question, std::string_view answer,
                                            const std::vector<passage>& passages,
                                            const std::vector<std::string>& cited, std::size_t max_context_chars) {
  std::string context;
  for (const auto& p : passages) {
    if (!cited.empty() && std::find(cited.begin(), cited.end(), p.source_id) == cited.end())
      continue;
    if (context.size() >= max_context_chars)
      break;
    std::string block = "[" + p.source_id + "] " + p.title + "\n" + p.text + "\n\n";
    context += block.substr(0, max_context_chars - context.size());
  }
  if (context.empty())
    context = "(no context was retrieved)\n";
  return providers::json_request(judge_system_prompt(),
                                 "QUESTION:\n" + std::string(question) + "\n\nCONTEXT:\n" + context + "ANSWER:\n" +
                                   std::string(answer),
                                 200);
}

std::optional<judge_scores> parse_judge_reply(std::string_view reply, std::string* error) {
  auto fail = [error](std::string why) -> std::optional<judge_scores> {
    if (error)
      *error = std::move(why);
    return std::nullopt;
  };
  auto found = providers::object_in_reply(reply, error);
  if (!found)
    return std::nullopt;
  const auto& j = *found;
  judge_scores s;
  for (std::size_t i = 0; i < dimensions().size(); ++i) {
    auto it = j.find(dimensions()[i]);
    if (it == j.end() || !it->is_number())
      return fail(std::string{"\""} + dimensions()[i] + "\" is missing or not a number");
    double v = it->get<double>();
    if (v < 1 || v > 5 || v != static_cast<double>(static_cast<int>(v)))
      return fail(std::string{"\""} + dimensions()[i] + "\" is not an integer from 1 to 5");
    s.values[i] = static_cast<int>(v);
  }
  return s;
}

} // namespace sa::quality
