// sentiment: the lexicon and the scoring loop (see sentiment.hpp).
#include "actors/escalation/sentiment.hpp"

#include "actors/text/phrase_match.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <string>
#include <vector>

namespace sa {

namespace {

struct weighted {
  std::string_view word;
  double weight;
};

// Negative words, whole (lower-cased, apostrophes dropped). Weight 3: anger or outrage on its own;
// 2: clearly negative; 1-1.5: mild (needs an intensifier, capitals or company to escalate).
constexpr std::array negative_words{
  weighted{"furious", 3},     weighted{"outraged", 3},    weighted{"outrageous", 3},  weighted{"livid", 3},
  weighted{"fuming", 3},      weighted{"unacceptable", 3}, weighted{"disgusting", 3}, weighted{"disgraceful", 3},
  weighted{"appalling", 3},   weighted{"atrocious", 3},   weighted{"pathetic", 3},    weighted{"worst", 3},
  weighted{"scam", 3},        weighted{"incompetent", 3}, weighted{"infuriating", 3}, weighted{"infuriated", 3},
  weighted{"hate", 2.5},      weighted{"ridiculous", 2.5}, weighted{"angry", 2},      weighted{"frustrated", 2},
  weighted{"frustrating", 2}, weighted{"terrible", 2},    weighted{"awful", 2},       weighted{"horrible", 2},
  weighted{"useless", 2},     weighted{"rubbish", 2},     weighted{"garbage", 2},     weighted{"stupid", 2},
  weighted{"nonsense", 2},    weighted{"hopeless", 2},    weighted{"shambles", 2},    weighted{"sucks", 2},
  weighted{"wtf", 2},         weighted{"crap", 2},        weighted{"upset", 2},       weighted{"annoying", 1.5},
  weighted{"annoyed", 1.5},   weighted{"disappointed", 1.5}, weighted{"disappointing", 1.5},
  weighted{"unhappy", 1.5},   weighted{"bad", 1},         weighted{"poor", 1},        weighted{"damn", 1},
};

// Negative phrases (matched with the shared phrase matcher, so "fed up with" and "sick and tired of" fit).
constexpr std::array negative_phrases{
  weighted{"fed up", 3},     weighted{"sick and tired", 3}, weighted{"rip off", 3}, weighted{"ripoff", 3},
  weighted{"had enough", 2}, weighted{"waste of time", 2},  weighted{"sick of", 2},
};

// Positive words that count as negative when negated ("not happy", "not acceptable").
constexpr std::array negatable_positives{
  weighted{"acceptable", 3}, weighted{"happy", 1.5},   weighted{"satisfied", 1.5}, weighted{"pleased", 1.5},
  weighted{"impressed", 1.5}, weighted{"good", 1},     weighted{"great", 1},       weighted{"helpful", 1},
};

constexpr std::string_view negators[]{
  "not",  "no",    "never",   "dont", "doesnt", "didnt", "isnt",    "wasnt",  "arent", "werent",
  "cant", "cannot", "wont", "hardly", "without", "aint", "nor", "neither", "barely"};

constexpr std::string_view intensifiers[]{
  "very", "so", "really", "extremely", "absolutely", "totally", "completely", "utterly", "incredibly",
  "seriously", "beyond", "super", "truly", "insanely", "fucking", "bloody"};

template <class Table>
double weight_in(const Table& table, std::string_view w) {
  for (auto& e : table)
    if (e.word == w)
      return e.weight;
  return 0;
}

template <size_t N>
bool one_of(const std::string_view (&table)[N], std::string_view w) {
  return std::find(std::begin(table), std::end(table), w) != std::end(table);
}

struct token {
  std::string lower;
  bool caps = false;      // three or more letters, all upper case
  bool new_clause = false; // a '.', ',', ';', ':', '!' or '?' comes before it (negation ends there)
};

std::vector<token> tokens_of(std::string_view text) {
  std::vector<token> out;
  token cur;
  int letters = 0, uppers = 0;
  bool boundary = false;
  auto flush = [&] {
    if (!cur.lower.empty()) {
      cur.caps = letters >= 3 && uppers == letters;
      cur.new_clause = boundary;
      boundary = false;
      out.push_back(std::move(cur));
    }
    cur = token{};
    letters = uppers = 0;
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      if (std::isalpha(c)) {
        ++letters;
        uppers += std::isupper(c) ? 1 : 0;
      }
      cur.lower.push_back(static_cast<char>(std::tolower(c)));
    } else if ((c == '\'' || c == '`') && !cur.lower.empty()) {
      continue;
    } else {
      flush();
      if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?')
        boundary = true;
    }
  }
  flush();
  return out;
}

/// True when most letters of a message of some length are capitals ("WHY IS THIS STILL BROKEN").
bool shouting(std::string_view text) {
  int letters = 0, uppers = 0;
  for (unsigned char c : text)
    if (std::isalpha(c)) {
      ++letters;
      uppers += std::isupper(c) ? 1 : 0;
    }
  return letters >= 12 && uppers * 10 >= letters * 7;
}

} // namespace

double negative_sentiment_score(std::string_view text) {
  auto toks = tokens_of(text);
  double score = 0;
  int negated_until = -1;     // tokens up to this index are negated
  int intensified_until = -1; // tokens up to this index are intensified
  for (int i = 0; i < static_cast<int>(toks.size()); ++i) {
    const auto& t = toks[static_cast<size_t>(i)];
    if (t.new_clause)
      negated_until = intensified_until = -1;
    if (one_of(negators, t.lower)) {
      negated_until = i + 2;
      continue;
    }
    if (one_of(intensifiers, t.lower)) {
      intensified_until = i + 2;
      continue;
    }
    bool negated = i <= negated_until;
    double w = weight_in(negative_words, t.lower);
    if (w > 0 && negated)
      continue;  // "not bad", "I'm not angry"
    if (w == 0 && negated)
      w = weight_in(negatable_positives, t.lower);  // "not happy"
    if (w == 0)
      continue;
    if (i <= intensified_until)
      w *= 1.5;
    if (t.caps)
      w *= 1.5;
    score += w;
  }
  std::vector<std::string> words;
  words.reserve(toks.size());
  for (auto& t : toks)
    words.push_back(t.lower);
  for (auto& p : negative_phrases) {
    // Negation before a phrase ("I'm not fed up") cancels it, like a word.
    auto phrase = lower_words(p.word);
    if (!phrase_in(words, phrase))
      continue;
    bool negated = false;
    for (size_t i = 0; i + 1 < words.size() && !negated; ++i)
      if (word_matches(words[i + 1], phrase[0]) && one_of(negators, words[i]))
        negated = true;
    if (!negated)
      score += p.weight;
  }
  if (score > 0) {
    auto bangs = std::count(text.begin(), text.end(), '!');
    if (bangs > 1)
      score += std::min(1.5, 0.5 * static_cast<double>(bangs - 1));
    if (shouting(text))
      score += 1.0;
  }
  return score;
}

} // namespace sa
