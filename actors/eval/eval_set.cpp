// Loader of offline evaluation sets (JSON lines): strict, so a typo in a label or a field name is an
// error naming the line rather than a silently wrong figure.
#include "actors/eval/eval_set.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

namespace sa::eval {

namespace {

const std::set<std::string> known_fields{"id", "text", "intent", "out_of_scope", "relevant_sources",
                                         "should_escalate", "split", "note", "source"};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

/// Parses one non-blank line; returns the problem ("field \"x\": ...") or empty on success.
std::string parse_row(const std::string& line, eval_row& row) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    return std::string{"not valid JSON ("} + e.what() + ")";
  }
  if (!j.is_object())
    return "a row must be a JSON object";
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known_fields.count(it.key()))
      return "unknown field \"" + it.key() + "\" (known: " +
             join({known_fields.begin(), known_fields.end()}) + ")";
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string() && !id->is_number_integer())
      return "field \"id\": must be a string or an integer";
    row.id = id->is_string() ? id->get<std::string>() : std::to_string(id->get<long long>());
  }
  auto text = j.find("text");
  if (text == j.end())
    return "field \"text\": missing";
  if (!text->is_string() || text->get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos)
    return "field \"text\": must be a non-empty string";
  row.text = text->get<std::string>();
  auto intent = j.find("intent");
  if (intent == j.end())
    return "field \"intent\": missing";
  if (!intent->is_string())
    return "field \"intent\": must be a string";
  row.intent = intent->get<std::string>();
  const auto& labels = intent_labels();
  if (std::find(labels.begin(), labels.end(), row.intent) == labels.end())
    return "field \"intent\": \"" + row.intent + "\" is not one of " + join(labels);
  if (auto oos = j.find("out_of_scope"); oos != j.end()) {
    if (!oos->is_boolean())
      return "field \"out_of_scope\": must be true or false";
    bool out_of_scope = oos->get<bool>();
    if (out_of_scope && row.intent != "general" && row.intent != "out_of_scope")
      return "field \"out_of_scope\": true contradicts intent \"" + row.intent +
             "\" (an out-of-scope row has intent out_of_scope or general)";
    if (!out_of_scope && row.intent == "out_of_scope")
      return "field \"out_of_scope\": false contradicts intent \"out_of_scope\"";
    if (out_of_scope)
      row.intent = "out_of_scope";
  }
  if (auto esc = j.find("should_escalate"); esc != j.end()) {
    if (!esc->is_boolean())
      return "field \"should_escalate\": must be true or false";
    row.should_escalate = esc->get<bool>();
  }
  if (auto rel = j.find("relevant_sources"); rel != j.end()) {
    if (!rel->is_array() || rel->empty())
      return "field \"relevant_sources\": must be a non-empty array of source ids (omit it for none)";
    for (const auto& s : *rel) {
      if (!s.is_string() || s.get<std::string>().empty())
        return "field \"relevant_sources\": every entry must be a non-empty string";
      row.relevant_sources.push_back(s.get<std::string>());
    }
  }
  return {};
}

} // namespace

const std::vector<std::string>& intent_labels() {
  static const std::vector<std::string> labels{"general", "billing", "technical", "account",
                                               "escalation_request", "out_of_scope"};
  return labels;
}

result<std::vector<eval_row>> parse_set(std::istream& in, const std::string& name) {
  std::vector<eval_row> rows;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    eval_row row;
    row.line = n;
    if (auto problem = parse_row(line, row); !problem.empty())
      return failure{name + ":" + std::to_string(n) + ": " + problem};
    if (row.id.empty())
      row.id = "line " + std::to_string(n);
    rows.push_back(std::move(row));
  }
  if (in.bad())
    return failure{name + ": read error"};
  if (rows.empty())
    return failure{name + ": no rows (one JSON object per line: text, intent, ...)"};
  return rows;
}

result<std::vector<eval_row>> load_set(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return failure{path + ": cannot open"};
  return parse_set(in, path);
}

bool source_matches(std::string passage_id, const std::string& relevant) {
  if (passage_id.rfind("edition", 0) == 0 && passage_id.find('/') != std::string::npos)
    passage_id = passage_id.substr(passage_id.find('/') + 1);
  return passage_id == relevant || passage_id.rfind(relevant + "#", 0) == 0;
}

} // namespace sa::eval
