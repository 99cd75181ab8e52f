// measured_usage: see the header.
#include "actors/quality/measured_usage.hpp"

#include <cmath>
#include <cstdlib>

namespace sa::quality {
namespace {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// One sample line `name{k="v",...} value [timestamp]`; false when malformed.
bool parse_sample(std::string_view line, sample& out) {
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t')
    ++i;
  out.name = std::string(line.substr(0, i));
  if (out.name.empty())
    return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      auto eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
        return false;
      std::string key(line.substr(i, eq - i));
      std::string value;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size())
        return false;  // unterminated value
      out.labels[key] = std::move(value);
      i = j + 1;
      if (i < line.size() && line[i] == ',')
        ++i;
    }
    if (i >= line.size())
      return false;  // no closing brace
    ++i;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  auto end = line.find_first_of(" \t", i);
  std::string number(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
  if (number.empty())
    return false;
  char* stop = nullptr;
  out.value = std::strtod(number.c_str(), &stop);
  return stop == number.c_str() + number.size();
}

std::string label(const sample& s, const char* name) {
  auto i = s.labels.find(name);
  return i == s.labels.end() ? std::string{} : i->second;
}

} // namespace

result<measured_usage> parse_measured_usage(std::string_view text) {
  measured_usage m;
  bool has_turns = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || line[0] == '#')
      continue;
    sample s;
    if (!parse_sample(line, s))
      return failure{"metrics line " + std::to_string(line_no) + ": not a Prometheus sample (name{labels} value)"};
    if (!std::isfinite(s.value))
      continue;
    if (s.name == "sa_turns_total") {
      has_turns = true;
      m.turns += s.value;
    } else if (s.name == "sa_conversations_closed_total") {
      m.conversations += s.value;
    } else if (s.name == "sa_component_tokens_total") {
      auto& t = m.tokens[label(s, "component")];
      (label(s, "kind") == "output" ? t.output : t.input) += s.value;
    }
  }
  if (!has_turns)
    return failure{"no sa_turns_total in the metrics: not a support-agent node's /metrics, or no turn ran yet"};
  return m;
}

result<std::vector<std::string>> apply_measured(const measured_usage& m, std::vector<cost_component>& components) {
  if (!(m.turns > 0))
    return failure{"the metrics count no turns yet: nothing to measure tokens per turn by"};
  std::vector<std::string> assumed;
  for (auto& c : components) {
    auto i = m.tokens.find(c.name);
    if (i == m.tokens.end() || i->second.input + i->second.output <= 0) {
      if (c.per_turn > 0 && !c.given)
        assumed.push_back(c.name);
      continue;
    }
    c.tokens = {i->second.input / m.turns, i->second.output / m.turns};
    c.per_turn = 1;
    c.measured = true;
    c.given = false;
  }
  return assumed;
}

} // namespace sa::quality
