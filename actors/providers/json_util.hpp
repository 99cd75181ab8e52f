// json_util: safe accessors over untrusted provider JSON (internal to actors/providers). Each returns a
// default instead of throwing when the key is missing or holds the wrong type.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sa::providers::json_util {

using json = nlohmann::json;

/// Parses without exceptions; nullopt on invalid JSON.
inline std::optional<json> parse(std::string_view text) {
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  return j;
}

inline const json* member(const json& j, const char* key) {
  if (!j.is_object())
    return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

inline const json* object_at(const json& j, const char* key) {
  auto* m = member(j, key);
  return m && m->is_object() ? m : nullptr;
}

inline const json* array_at(const json& j, const char* key) {
  auto* m = member(j, key);
  return m && m->is_array() ? m : nullptr;
}

inline std::optional<std::string> string_at(const json& j, const char* key) {
  auto* m = member(j, key);
  if (!m || !m->is_string())
    return std::nullopt;
  return m->get<std::string>();
}

inline std::string string_or(const json& j, const char* key, std::string fallback = {}) {
  auto s = string_at(j, key);
  return s ? *s : fallback;
}

/// A non-negative count; nullopt when absent, negative or not a number.
inline std::optional<uint64_t> count_at(const json& j, const char* key) {
  auto* m = member(j, key);
  if (!m)
    return std::nullopt;
  if (m->is_number_unsigned())
    return m->get<uint64_t>();
  if (m->is_number_integer()) {
    auto v = m->get<int64_t>();
    return v >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(v)) : std::nullopt;
  }
  if (m->is_number_float()) {
    auto v = m->get<double>();
    return v >= 0 && v < 9.0e15 ? std::optional<uint64_t>(static_cast<uint64_t>(v)) : std::nullopt;
  }
  return std::nullopt;
}

/// At most `max` bytes of `s`, for messages that quote a provider's body.
inline std::string excerpt(std::string_view s, std::size_t max = 200) {
  if (s.size() <= max)
    return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

} // namespace sa::providers::json_util
