// phrase_match: see phrase_match.hpp.
#include "actors/text/phrase_match.hpp"

#include <cctype>

namespace sa {

std::vector<std::string> lower_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else if ((c == '\'' || c == '`') && !cur.empty()) {
      continue;  // "don't" -> "dont"
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

bool word_matches(std::string_view text_word, std::string_view phrase_word) {
  if (phrase_word.size() < 4)
    return text_word == phrase_word;
  return text_word.substr(0, phrase_word.size()) == phrase_word;
}

bool phrase_in(const std::vector<std::string>& words, const std::vector<std::string>& phrase) {
  if (phrase.empty())
    return false;
  for (size_t start = 0; start < words.size(); ++start) {
    if (!word_matches(words[start], phrase[0]))
      continue;
    size_t pos = start;
    size_t k = 1;
    for (; k < phrase.size(); ++k) {
      bool found = false;
      for (size_t j = pos + 1; j < words.size() && j <= pos + 3; ++j) {
        if (word_matches(words[j], phrase[k])) {
          pos = j;
          found = true;
          break;
        }
      }
      if (!found)
        break;
    }
    if (k == phrase.size())
      return true;
  }
  return false;
}

phrase_list::phrase_list(const std::vector<std::string>& phrases) {
  for (auto& p : phrases) {
    auto words = lower_words(p);
    if (words.empty())
      continue;
    originals_.push_back(p);
    phrases_.push_back(std::move(words));
  }
}

int phrase_list::find(const std::vector<std::string>& words) const {
  for (size_t i = 0; i < phrases_.size(); ++i)
    if (phrase_in(words, phrases_[i]))
      return static_cast<int>(i);
  return -1;
}

} // namespace sa
