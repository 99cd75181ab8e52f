// Support vocabulary that stemming cannot bridge: what customers type, and the words the documentation
// uses instead ("yearly" -> "annual", "2fa" -> "two-factor"). Used to widen the BM25 query and, in the
// local generator, to count a question's term as covered by a passage that uses the documented word.
// To add a pair: one line below, both directions if both are natural; words are lower-case.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace sa::knowledge {

inline const std::vector<std::string>& synonyms_of(const std::string& word) {
  static const std::unordered_map<std::string, std::vector<std::string>> table{
    {"yearly", {"annual", "annually"}},      {"annually", {"annual", "yearly"}},
    {"annual", {"yearly"}},                   {"2fa", {"two", "factor"}},
    {"mfa", {"two", "factor"}},               {"sso", {"single", "sign"}},
    {"login", {"sign", "log"}},               {"signin", {"sign"}},
    {"teammate", {"member", "team"}},         {"teammates", {"member", "team"}},
    {"colleague", {"member", "team"}},        {"colleagues", {"member", "team"}},
    {"coworker", {"member", "team"}},         {"delete", {"remove"}},
    {"remove", {"delete"}},                   {"receipt", {"invoice"}},
    {"receipts", {"invoice"}},                {"bill", {"invoice"}},
    {"pay", {"payment"}},                     {"cancel", {"cancellation"}},
    {"org", {"organization"}},                {"organisation", {"organization"}},
    {"url", {"domain"}},                      {"cert", {"certificate", "ssl"}},
    {"https", {"ssl", "certificate"}},        {"password", {"credentials"}},
  };
  static const std::vector<std::string> none;
  auto i = table.find(word);
  return i == table.end() ? none : i->second;
}

} // namespace sa::knowledge
