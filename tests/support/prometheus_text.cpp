#include "tests/support/prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace sa::test {

namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

/// Reads a metric (or, with colons refused, label) name at `pos`.
bool read_name(const std::string& line, size_t& pos, std::string& out, bool label) {
  size_t start = pos;
  if (pos >= line.size() || !name_start(line[pos]) || (label && line[pos] == ':'))
    return false;
  while (pos < line.size() && name_char(line[pos]) && !(label && line[pos] == ':'))
    ++pos;
  out = line.substr(start, pos - start);
  return true;
}

/// A sample value or timestamp: a float, +Inf, -Inf or NaN.
bool read_number(const std::string& token, double& out) {
  if (token == "+Inf" || token == "Inf") {
    out = HUGE_VAL;
    return true;
  }
  if (token == "-Inf") {
    out = -HUGE_VAL;
    return true;
  }
  if (token == "NaN") {
    out = NAN;
    return true;
  }
  if (token.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(token.c_str(), &end);
  return end == token.c_str() + token.size();
}

/// The family a sample name belongs to (histogram and summary samples carry a suffix).
std::string family_of(const std::string& sample, const std::map<std::string, prom_family>& families) {
  if (families.count(sample) != 0)
    return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      auto base = sample.substr(0, sample.size() - s.size());
      auto f = families.find(base);
      if (f != families.end() && (f->second.type == "histogram" || (f->second.type == "summary" && s != "_bucket")))
        return base;
    }
  }
  return {};
}

bool parse_sample(const std::string& line, prom_sample& out, std::string& why) {
  size_t pos = 0;
  if (!read_name(line, pos, out.name, false))
    return why = "expected a metric name", false;
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      std::string label;
      if (!read_name(line, pos, label, true))
        return why = "expected a label name", false;
      if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"')
        return why = "expected =\" after label " + label, false;
      pos += 2;
      std::string value;
      bool closed = false;
      while (pos < line.size()) {
        char c = line[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (pos >= line.size())
            return why = "dangling backslash", false;
          char e = line[pos++];
          if (e == 'n')
            value += '\n';
          else if (e == '\\' || e == '"')
            value += e;
          else
            return why = std::string("unknown escape \\") + e, false;
        } else {
          value += c;
        }
      }
      if (!closed)
        return why = "unterminated label value", false;
      if (!out.labels.emplace(label, value).second)
        return why = "label " + label + " repeated", false;
      if (pos < line.size() && line[pos] == ',')
        ++pos;
      else if (pos >= line.size() || line[pos] != '}')
        return why = "expected , or } after a label", false;
    }
    if (pos >= line.size())
      return why = "expected }", false;
    ++pos;
  }
  if (pos >= line.size() || line[pos] != ' ')
    return why = "expected a space before the value", false;
  std::istringstream rest(line.substr(pos + 1));
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!read_number(value, out.value))
    return why = "value '" + value + "' is not a number", false;
  double ts = 0;
  if (!timestamp.empty() && !read_number(timestamp, ts))
    return why = "timestamp '" + timestamp + "' is not a number", false;
  if (!extra.empty())
    return why = "trailing text after the value", false;
  return true;
}

/// Histograms: per label set (le aside), buckets cumulative, ending in +Inf equal to _count.
bool check_histograms(const prom_exposition& e, std::string& error) {
  for (const auto& [name, fam] : e.families) {
    if (fam.type != "histogram")
      continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const auto& s : e.samples) {
      if (s.name == name + "_bucket") {
        auto labels = s.labels;
        auto le = labels.find("le");
        double bound = 0;
        if (le == labels.end() || !read_number(le->second, bound))
          return error = name + ": bucket without a numeric le label", false;
        labels.erase(le);
        buckets[labels].emplace_back(bound, s.value);
      } else if (s.name == name + "_count") {
        counts[s.labels] = s.value;
      }
    }
    for (const auto& [labels, list] : buckets) {
      for (size_t i = 1; i < list.size(); ++i)
        if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second)
          return error = name + ": buckets not in increasing, cumulative order", false;
      if (list.empty() || !std::isinf(list.back().first))
        return error = name + ": last bucket is not le=\"+Inf\"", false;
      auto c = counts.find(labels);
      if (c == counts.end() || c->second != list.back().second)
        return error = name + ": +Inf bucket differs from _count", false;
    }
  }
  return true;
}

} // namespace

double prom_exposition::sum(const std::string& name, const std::map<std::string, std::string>& match) const {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name != name)
      continue;
    bool all = true;
    for (const auto& [k, v] : match) {
      auto i = s.labels.find(k);
      all = all && i != s.labels.end() && i->second == v;
    }
    if (all)
      total += s.value;
  }
  return total;
}

std::vector<std::string> prom_exposition::label_values() const {
  std::vector<std::string> out;
  for (const auto& s : samples)
    for (const auto& [k, v] : s.labels)
      out.push_back(v);
  return out;
}

bool parse_prometheus_text(const std::string& text, prom_exposition& out, std::string& error) {
  out = {};
  static const std::set<std::string> types{"counter", "gauge", "histogram", "summary", "untyped"};
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto fail = [&](const std::string& why) {
    error = "line " + std::to_string(number) + ": " + why + ": " + line;
    return false;
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE")
        continue;  // a plain comment
      size_t pos = 0;
      std::string checked;
      if (!read_name(name, pos, checked, false) || pos != name.size())
        return fail("malformed metric name in " + keyword);
      auto& fam = out.families[name];
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ')
        rest.erase(0, 1);
      if (keyword == "HELP") {
        if (fam.has_help)
          return fail("second HELP for " + name);
        fam.has_help = true;
        fam.help = rest;
      } else {
        if (fam.has_type)
          return fail("second TYPE for " + name);
        if (types.count(rest) == 0)
          return fail("unknown type '" + rest + "'");
        fam.has_type = true;
        fam.type = rest;
      }
      continue;
    }
    prom_sample s;
    std::string why;
    if (!parse_sample(line, s, why))
      return fail(why);
    auto fam = family_of(s.name, out.families);
    if (fam.empty())
      return fail("sample of a family without HELP and TYPE before it");
    const auto& f = out.families[fam];
    if (!f.has_help || !f.has_type)
      return fail("family " + fam + " lacks HELP or TYPE");
    out.samples.push_back(std::move(s));
  }
  for (const auto& [name, fam] : out.families)
    if (!fam.has_help || !fam.has_type) {
      error = "family " + name + " lacks " + (fam.has_help ? "TYPE" : "HELP");
      return false;
    }
  return check_histograms(out, error);
}

} // namespace sa::test
