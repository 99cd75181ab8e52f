#include "actors/memory/turn_json.hpp"

#include "runtime/utf8.hpp"

#include <nlohmann/json.hpp>

namespace sa::turn_json {

namespace {

const char* hex = "0123456789abcdef";

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    ++i;
}

bool read_hex4(std::string_view s, std::size_t i, char32_t& out) {
  if (i + 4 > s.size())
    return false;
  out = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    char c = s[i + k];
    out <<= 4;
    if (c >= '0' && c <= '9')
      out |= static_cast<char32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      out |= static_cast<char32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      out |= static_cast<char32_t>(c - 'A' + 10);
    else
      return false;
  }
  return true;
}

/// s[i] is the opening quote; on success i is past the closing quote and `out` holds the text.
bool read_string(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '"')
    return false;
  ++i;
  out.clear();
  for (;;) {
    auto start = i;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\' || c < 0x20)
        break;
      ++i;
    }
    out.append(s.data() + start, i - start);
    if (i >= s.size() || static_cast<unsigned char>(s[i]) < 0x20)
      return false;
    if (s[i] == '"') {
      ++i;
      return true;
    }
    if (++i >= s.size())  // backslash
      return false;
    switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        char32_t cp = 0;
        if (!read_hex4(s, i + 1, cp))
          return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
          char32_t low = 0;
          if (i + 2 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u' || !read_hex4(s, i + 3, low)
              || low < 0xDC00 || low > 0xDFFF)
            return false;
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        utf8_append(out, cp);
        break;
      }
      default: return false;
    }
    ++i;
  }
}

bool read_integer(std::string_view s, std::size_t& i, long long& out) {
  bool negative = i < s.size() && s[i] == '-';
  if (negative)
    ++i;
  auto start = i;
  unsigned long long v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18)
    v = v * 10 + static_cast<unsigned>(s[i++] - '0');
  if (i == start || (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || (s[i] >= '0' && s[i] <= '9'))))
    return false;  // not a plain integer of at most 18 digits: the slow path decides
  out = negative ? -static_cast<long long>(v) : static_cast<long long>(v);
  return true;
}

bool read_literal(std::string_view s, std::size_t& i, std::string_view word) {
  if (s.substr(i, word.size()) != word)
    return false;
  i += word.size();
  return true;
}

bool decode_fast(std::string_view s, turn_record& t) {
  std::size_t i = 0;
  skip_ws(s, i);
  if (i >= s.size() || s[i++] != '{')
    return false;
  bool has_number = false;
  std::string key, text;
  skip_ws(s, i);
  if (i < s.size() && s[i] == '}')
    return false;
  for (;;) {
    skip_ws(s, i);
    if (!read_string(s, i, key))
      return false;
    skip_ws(s, i);
    if (i >= s.size() || s[i++] != ':')
      return false;
    skip_ws(s, i);
    if (i >= s.size())
      return false;
    if (key == "number" || key == "at_unix_ms") {
      long long v = 0;
      if (!read_integer(s, i, v))
        return false;
      if (key == "number") {
        if (v < 0 || v > 0xFFFFFFFFLL)
          return false;
        t.number = static_cast<turn_number>(v);
        has_number = true;
      } else {
        t.at_unix_ms = v;
      }
    } else if (key == "escalated") {
      if (read_literal(s, i, "true"))
        t.escalated = true;
      else if (read_literal(s, i, "false"))
        t.escalated = false;
      else
        return false;
    } else if (key == "client_message_id") {
      if (!read_string(s, i, t.client_message_id))
        return false;
    } else if (key == "user_text") {
      if (!read_string(s, i, t.user_text))
        return false;
    } else if (key == "answer_text") {
      if (!read_string(s, i, t.answer_text))
        return false;
    } else if (key == "intent") {
      if (!read_string(s, i, text))
        return false;
      if (!from_string(text, t.intent))
        t.intent = intent::general;
    } else {
      return false;  // an unknown field: the slow path skips it properly
    }
    skip_ws(s, i);
    if (i >= s.size())
      return false;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] != '}')
      return false;
    ++i;
    skip_ws(s, i);
    return i == s.size() && has_number;
  }
}

bool decode_slow(std::string_view text, turn_record& out) {
  using json = nlohmann::json;
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  try {
    turn_record t;
    auto number = j.at("number");
    if (!number.is_number_integer() || number.get<long long>() < 0 || number.get<long long>() > 0xFFFFFFFFLL)
      return false;
    t.number = number.get<turn_number>();
    t.client_message_id = j.value("client_message_id", std::string{});
    t.user_text = j.value("user_text", std::string{});
    t.answer_text = j.value("answer_text", std::string{});
    if (!from_string(j.value("intent", std::string{"general"}), t.intent))
      t.intent = intent::general;
    t.escalated = j.value("escalated", false);
    t.at_unix_ms = j.value("at_unix_ms", int64_t{0});
    out = std::move(t);
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

} // namespace

void append_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0, i = 0;
  auto flush = [&] { out.append(s.data() + run, i - run); };
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    flush();
    if (c >= 0x80) {
      char32_t cp = 0;
      auto len = utf8_decode(s, i, cp);
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
    } else {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
      }
      ++i;
    }
    run = i;
  }
  flush();
  out += '"';
}

std::string encode(const turn_record& t) {
  std::string out;
  out.reserve(128 + t.client_message_id.size() + t.user_text.size() + t.answer_text.size());
  out += "{\"number\":";
  out += std::to_string(t.number);
  out += ",\"client_message_id\":";
  append_string(out, t.client_message_id);
  out += ",\"user_text\":";
  append_string(out, t.user_text);
  out += ",\"answer_text\":";
  append_string(out, t.answer_text);
  out += ",\"intent\":";
  append_string(out, to_string(t.intent));
  out += ",\"escalated\":";
  out += t.escalated ? "true" : "false";
  out += ",\"at_unix_ms\":";
  out += std::to_string(t.at_unix_ms);
  out += '}';
  return out;
}

bool decode(std::string_view json, turn_record& out) {
  turn_record t;
  if (decode_fast(json, t)) {
    out = std::move(t);
    return true;
  }
  return decode_slow(json, out);
}

} // namespace sa::turn_json
