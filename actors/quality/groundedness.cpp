#include "actors/quality/groundedness.hpp"

#include "actors/escalation/repetition.hpp"

#include <algorithm>
#include <set>

namespace sa::quality {

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    auto b = current.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) {
      auto e = current.find_last_not_of(" \t\r\n");
      out.push_back(current.substr(b, e - b + 1));
    }
    current.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      flush();
      continue;
    }
    current.push_back(c);
    // A sentence ends at . ! ? followed by white space or the end ("3.5" and "e.g.x" do not end one).
    bool end_mark = c == '.' || c == '!' || c == '?';
    bool boundary = i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\t';
    if (end_mark && boundary)
      flush();
  }
  flush();
  return out;
}

groundedness_score score_groundedness(std::string_view answer, const std::vector<passage>& passages,
                                      const std::vector<std::string>& cited, groundedness_options opts) {
  std::set<std::string> vocabulary;
  for (const auto& p : passages) {
    if (!cited.empty() && std::find(cited.begin(), cited.end(), p.source_id) == cited.end())
      continue;
    for (auto& w : content_words(p.title + " " + p.section + " " + p.text))
      vocabulary.insert(std::move(w));
  }
  groundedness_score s;
  for (const auto& sentence : split_sentences(answer)) {
    auto words = content_words(sentence);
    if (words.empty())
      continue;
    std::size_t found = 0;
    for (const auto& w : words)
      if (vocabulary.count(w) != 0)
        ++found;
    ++s.sentences;
    s.words += words.size();
    s.supported_words += found;
    if (static_cast<double>(found) >= opts.support_threshold * static_cast<double>(words.size()))
      ++s.supported_sentences;
  }
  if (s.sentences > 0) {
    s.groundedness = static_cast<double>(s.supported_sentences) / static_cast<double>(s.sentences);
    s.word_support = static_cast<double>(s.supported_words) / static_cast<double>(s.words);
  }
  return s;
}

} // namespace sa::quality
