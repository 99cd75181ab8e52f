// FAQ (RFC 4180 CSV or JSON) and past-ticket (JSON lines) readers.
#include "actors/retriever/text_util.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace sa::knowledge {

namespace {

using detail::trim;

struct csv_record {
  std::size_t line = 0; ///< 1-based line where the record starts
  std::vector<std::string> fields;
};

failure at_line(std::string_view file, std::size_t line, const std::string& what) {
  return failure{std::string(file) + ":" + std::to_string(line) + ": " + what};
}

/// RFC 4180: fields separated by commas, records by CRLF or LF; quoted fields may hold commas, newlines
/// and doubled quotes. Blank lines are skipped. A stray quote is an error.
result<std::vector<csv_record>> parse_csv(std::string_view file, std::string_view text) {
  std::vector<csv_record> records;
  std::size_t i = 0, line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    csv_record rec;
    rec.line = line;
    for (;;) { // one field per iteration
      std::string field;
      if (i < n && text[i] == '"') {
        std::size_t open_line = line;
        ++i;
        for (;;) {
          if (i >= n)
            return at_line(file, open_line, "unterminated quoted field");
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\r' && i + 1 < n && text[i + 1] == '\n') { // CRLF inside a field: keep a plain newline
            ++i;
            continue;
          }
          if (c == '\n')
            ++line;
          field += c;
          ++i;
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          return at_line(file, line, "unexpected text after a closing quote (quotes inside a field are doubled: \"\")");
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"')
            return at_line(file, line, "quote inside an unquoted field (quote the whole field and double the quote)");
          field += text[i++];
        }
      }
      rec.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r')
        ++i;
      if (i < n && text[i] == '\n')
        ++i;
      ++line;
      break;
    }
    if (rec.fields.size() == 1 && trim(rec.fields[0]).empty())
      continue; // blank line
    records.push_back(std::move(rec));
  }
  return records;
}

/// Where each element of the FAQ array starts (1-based lines): the top-level array, or the array under the
/// top-level key "faqs". nlohmann::json keeps no positions, so this scans the text once more: the n-th
/// line belongs to the n-th element the parser returns. Meaningful only for text that parses.
std::vector<std::size_t> faq_element_lines(std::string_view text) {
  std::vector<std::size_t> lines;
  std::vector<char> stack;     // open containers
  std::size_t target = 0;      // stack depth of the FAQ array; 0 = not entered yet
  bool expect_element = false; // inside the target array, after '[' or ','
  std::string last_string, key; // the latest string at depth 1, and the key a ':' made of it
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n')
      ++line;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (expect_element && stack.size() == target && c != ']') {
      lines.push_back(line);
      expect_element = false;
    }
    if (c == '"') {
      std::string str;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size())
          ++i;
        else if (text[i] == '\n')
          ++line;
        str += text[i];
      }
      if (stack.size() == 1)
        last_string = std::move(str);
    } else if (c == ':' && stack.size() == 1) {
      key = last_string;
    } else if (c == '[' || c == '{') {
      stack.push_back(c);
      if (c == '[' && target == 0
          && (stack.size() == 1 || (stack.size() == 2 && stack[0] == '{' && key == "faqs"))) {
        target = stack.size();
        expect_element = true;
      }
    } else if (c == ']' || c == '}') {
      if (!stack.empty())
        stack.pop_back();
    } else if (c == ',' && target != 0 && stack.size() == target) {
      expect_element = true;
    }
  }
  return lines;
}

std::string lowercase(std::string_view s) {
  std::string out(trim(s));
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

result<std::vector<chunk>> parse_faq_csv(std::string_view relative_path, std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  auto parsed = parse_csv(relative_path, text);
  if (!parsed)
    return failure{parsed.error()};
  auto& records = parsed.value();
  if (records.empty())
    return at_line(relative_path, 1, "empty FAQ file: expected a header with question and answer columns");
  const auto& header = records.front();
  int col_id = -1, col_q = -1, col_a = -1, col_url = -1;
  for (std::size_t k = 0; k < header.fields.size(); ++k) {
    auto name = lowercase(header.fields[k]);
    int idx = static_cast<int>(k);
    if (name == "id")
      col_id = idx;
    else if (name == "question")
      col_q = idx;
    else if (name == "answer")
      col_a = idx;
    else if (name == "url")
      col_url = idx;
  }
  for (auto [col, name] : {std::pair{col_q, "question"}, std::pair{col_a, "answer"}})
    if (col < 0)
      return at_line(relative_path, header.line, std::string("missing required column '") + name
                                                   + "' in the header (need at least question and answer)");

  std::vector<chunk> out;
  std::set<std::string> seen;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (rec.fields.size() != header.fields.size())
      return at_line(relative_path, rec.line, "expected " + std::to_string(header.fields.size())
                                                  + " fields as in the header, found "
                                                  + std::to_string(rec.fields.size()));
    std::string question(trim(rec.fields[col_q])), answer(trim(rec.fields[col_a]));
    if (question.empty() || answer.empty())
      return at_line(relative_path, rec.line, question.empty() ? "empty question" : "empty answer");
    std::string id = col_id >= 0 ? std::string(trim(rec.fields[col_id])) : std::string();
    if (id.empty())
      id = std::to_string(rec.line);
    if (!seen.insert(id).second)
      return at_line(relative_path, rec.line, "duplicate FAQ id '" + id + "'");
    chunk c;
    c.id = "faq:" + id;
    c.kind = source_kind::faq;
    c.title = question;
    c.url = col_url >= 0 ? std::string(trim(rec.fields[col_url])) : std::string();
    if (c.url.empty())
      c.url = std::string(relative_path);
    c.text = question + "\n" + answer;
    out.push_back(std::move(c));
  }
  return out;
}

result<std::vector<chunk>> parse_faq_json(std::string_view relative_path, std::string_view text) {
  using nlohmann::json;
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) { // nlohmann reports syntax errors by exception only with a position
    std::size_t line = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i)
      line += text[i] == '\n';
    return at_line(relative_path, line, "invalid JSON (a syntax error near byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception&) { // e.g. a number too large for a double
    return at_line(relative_path, 1, "invalid JSON (a value out of range)");
  }
  const json* items = &doc;
  if (doc.is_object()) {
    auto it = doc.find("faqs");
    if (it == doc.end() || !it->is_array())
      return at_line(relative_path, 1, "expected an array of {question, answer} objects, or an object with one under \"faqs\"");
    items = &*it;
  } else if (!doc.is_array()) {
    return at_line(relative_path, 1, "expected an array of {question, answer} objects, or an object with one under \"faqs\"");
  }
  const auto lines = faq_element_lines(text);
  std::vector<chunk> out;
  std::set<std::string> seen;
  std::size_t n = 0;
  for (const auto& item : *items) {
    const std::size_t line = n < lines.size() ? lines[n] : 1;
    ++n;
    auto bad = [&](const std::string& what) {
      return at_line(relative_path, line, "FAQ entry " + std::to_string(n) + ": " + what);
    };
    if (!item.is_object())
      return bad("expected an object with question and answer");
    for (const char* field : {"question", "answer"}) {
      auto f = item.find(field);
      if (f == item.end())
        return bad(std::string("missing required field '") + field + "'");
      if (!f->is_string() || trim(f->get_ref<const std::string&>()).empty())
        return bad(std::string("'") + field + "' must be a non-empty string");
    }
    std::string id;
    if (auto it = item.find("id"); it != item.end()) {
      if (it->is_string())
        id = std::string(trim(it->get_ref<const std::string&>()));
      else if (it->is_number_integer())
        id = std::to_string(it->get<long long>());
      else
        return bad("'id' must be a string or an integer");
    }
    if (id.empty())
      id = std::string(relative_path) + ":" + std::to_string(line);
    if (!seen.insert(id).second)
      return bad("duplicate FAQ id '" + id + "'");
    std::string url;
    if (auto it = item.find("url"); it != item.end()) {
      if (!it->is_string())
        return bad("'url' must be a string");
      url = std::string(trim(it->get_ref<const std::string&>()));
    }
    chunk c;
    c.id = "faq:" + id;
    c.kind = source_kind::faq;
    c.title = std::string(trim(item["question"].get_ref<const std::string&>()));
    c.url = url.empty() ? std::string(relative_path) : url;
    c.text = c.title + "\n" + std::string(trim(item["answer"].get_ref<const std::string&>()));
    out.push_back(std::move(c));
  }
  return out;
}

result<std::vector<chunk>> parse_tickets_jsonl(std::string_view relative_path, std::string_view text) {
  using nlohmann::json;
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  std::vector<chunk> out;
  std::set<std::string> seen;
  std::size_t line_no = 0, start = 0;
  while (start < text.size()) {
    ++line_no;
    auto nl = text.find('\n', start);
    auto line = trim(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty())
      continue;
    auto bad = [&](const std::string& what) { return at_line(relative_path, line_no, what); };
    json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      return bad("invalid JSON");
    if (!j.is_object())
      return bad("expected a JSON object per line");
    std::string id;
    if (auto it = j.find("id"); it != j.end() && it->is_string())
      id = it->get<std::string>();
    else if (it != j.end() && it->is_number_integer())
      id = std::to_string(it->get<long long>());
    if (id.empty())
      return bad("missing or empty 'id' (a string or an integer)");
    for (const char* field : {"subject", "resolution"})
      if (!j.contains(field) || !j[field].is_string())
        return bad(std::string("missing '") + field + "' (a string)");
    if (!j.contains("conversation") || !j["conversation"].is_array())
      return bad("missing 'conversation' (an array of {role, text})");
    if (j.contains("tags") && !j["tags"].is_array())
      return bad("'tags' must be an array of strings");
    if (!seen.insert(id).second)
      return bad("duplicate ticket id '" + id + "'");
    chunk c;
    c.id = "ticket:" + id;
    c.kind = source_kind::ticket;
    c.title = std::string(trim(j["subject"].get<std::string>()));
    c.url = j.contains("url") && j["url"].is_string() ? j["url"].get<std::string>() : std::string(relative_path);
    c.text = c.title;
    std::size_t turn = 0;
    for (const auto& msg : j["conversation"]) {
      ++turn;
      if (!msg.is_object() || !msg.contains("text") || !msg["text"].is_string())
        return bad("conversation entry " + std::to_string(turn) + " needs a 'text' string");
      const auto& full = msg["text"].get_ref<const std::string&>();
      auto t = trim(full);
      if (!t.empty())
        c.text.append("\n").append(t);
    }
    auto resolution = trim(j["resolution"].get_ref<const std::string&>());
    if (!resolution.empty())
      c.text.append("\nResolution: ").append(resolution);
    out.push_back(std::move(c));
  }
  return out;
}

} // namespace sa::knowledge
