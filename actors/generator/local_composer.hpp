// local_composer: the offline "local provider". Composes a grounded answer from the top passages and
// the customer's account facts, cites its sources, and scores how well the evidence supports it.
//
// Plain class, stateless and thread-safe. Extractive by design: every sentence of knowledge in the
// answer is taken from a cited passage, so the local provider cannot invent facts.
#pragma once

#include "messages/generate.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sa {

struct composer_options {
  std::size_t max_passages = 3;
  std::size_t max_answer_chars = 1200;
  std::size_t max_sentences = 4;
};

class local_composer {
public:
  explicit local_composer(composer_options opts) : opts_(opts) {}

  /// Answer text, citations and confidence in [0, 1] (usage counts words as tokens, cost 0).
  generation compose(const generate_request& r) const;

  /// Splits `text` into stream chunks of about `chunk_chars`, at word boundaries; concatenation == text.
  static std::vector<std::string> stream_chunks(std::string_view text, std::size_t chunk_chars);

  /// Content terms of a question: lower-cased words minus stop words, lightly stemmed.
  static std::vector<std::string> content_terms(std::string_view text);

  /// Sentences of a passage (split at . ! ? and line breaks), trimmed, without Markdown bullets.
  static std::vector<std::string> sentences(std::string_view text);

private:
  std::string account_summary(const generate_request& r) const;
  composer_options opts_;
};

} // namespace sa
