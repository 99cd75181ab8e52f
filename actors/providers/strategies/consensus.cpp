// Medoid and agreement of self-consistency samples (consensus.hpp).
#include "actors/providers/strategies/consensus.hpp"

#include <algorithm>
#include <cctype>

namespace sa::providers {

std::set<std::string> word_set(std::string_view text) {
  std::set<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty())
      out.insert(std::move(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      word += static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if (c == '\'' && !word.empty() && i + 1 < text.size()
               && std::isalnum(static_cast<unsigned char>(text[i + 1]))) {
      continue; // inside a word: "don't" -> "dont"
    } else {
      flush();
    }
  }
  flush();
  return out;
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() && b.empty())
    return 1.0;
  std::size_t common = 0;
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i < *j) {
      ++i;
    } else if (*j < *i) {
      ++j;
    } else {
      ++common;
      ++i;
      ++j;
    }
  }
  auto all = a.size() + b.size() - common;
  return static_cast<double>(common) / static_cast<double>(all);
}

consensus pick_medoid(const std::vector<std::string>& texts, std::size_t asked, double agree_at) {
  consensus out;
  if (texts.empty())
    return out;
  auto n = texts.size();
  std::vector<std::set<std::string>> words;
  words.reserve(n);
  for (const auto& t : texts)
    words.push_back(word_set(t));
  std::vector<std::vector<double>> sim(n, std::vector<double>(n, 1.0));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      sim[i][j] = sim[j][i] = jaccard(words[i], words[j]);
  double best = -1;
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i)
        sum += sim[i][j];
    double mean = n > 1 ? sum / static_cast<double>(n - 1) : 1.0;
    if (mean > best) {
      best = mean;
      out.chosen = i;
    }
  }
  std::size_t agreeing = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (sim[out.chosen][j] >= agree_at)
      ++agreeing;
  auto denominator = std::max(asked, n);
  out.agreement = static_cast<double>(agreeing) / static_cast<double>(denominator);
  return out;
}

} // namespace sa::providers
