// fault_table: fault rules, their JSON form, the seeded selection and the request counters.
#include "actors/providers/fake/fault_table.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <utility>

namespace sa::providers::fake {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

constexpr std::array<std::pair<fault_kind, const char*>, 11> fault_kind_names = {{
  {fault_kind::none, "none"},
  {fault_kind::status, "status"},
  {fault_kind::error_event, "error_event"},
  {fault_kind::stall_before_headers, "stall_before_headers"},
  {fault_kind::stall_mid_stream, "stall_mid_stream"},
  {fault_kind::reset, "reset"},
  {fault_kind::cut_line, "cut_line"},
  {fault_kind::bad_json, "bad_json"},
  {fault_kind::drip, "drip"},
  {fault_kind::timing, "timing"},
  {fault_kind::tool_call, "tool_call"},
}};

template <class T>
status read_uint(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end())
    return {};
  if (!it->is_number_unsigned() || it->get<uint64_t>() > uint64_t(std::numeric_limits<T>::max()))
    return failure{std::string("fake-provider: fault field '") + key + "' must be a non-negative integer"};
  out = static_cast<T>(it->get<uint64_t>());
  return {};
}

status read_number(const json& j, const char* key, std::optional<double>& out) {
  auto it = j.find(key);
  if (it == j.end())
    return {};
  if (!it->is_number() || it->get<double>() < 0)
    return failure{std::string("fake-provider: fault field '") + key + "' must be a non-negative number"};
  out = it->get<double>();
  return {};
}

status read_string(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end())
    return {};
  if (!it->is_string())
    return failure{std::string("fake-provider: fault field '") + key + "' must be a string"};
  out = it->get<std::string>();
  return {};
}

/// The tool_call fields: tool (required for tool_call), arguments (an object), text, malformed,
/// fragment_bytes (>= 1).
status read_tool_script(const json& j, fault_spec& f) {
  auto& t = f.script;
  for (auto s : {read_string(j, "tool", t.tool), read_string(j, "text", t.text),
                 read_uint(j, "fragment_bytes", t.fragment_bytes)})
    if (!s)
      return s;
  if (auto it = j.find("arguments"); it != j.end()) {
    if (!it->is_object())
      return failure{"fake-provider: fault field 'arguments' must be a JSON object (the tool call's arguments)"};
    t.arguments_json = it->dump();
  }
  if (auto it = j.find("malformed"); it != j.end()) {
    if (!it->is_boolean())
      return failure{"fake-provider: fault field 'malformed' must be true or false"};
    t.malformed = it->get<bool>();
  }
  if (t.fragment_bytes == 0)
    return failure{"fake-provider: fault field 'fragment_bytes' must be at least 1"};
  if (f.kind == fault_kind::tool_call && t.tool.empty())
    return failure{"fake-provider: a tool_call fault needs 'tool', the name of the tool to call"};
  return {};
}

result<fault_spec> fault_from_json(const json& j) {
  if (!j.is_object())
    return failure{"fake-provider: a fault must be a JSON object like {\"fault\":\"status\",\"status\":429}"};
  fault_spec f;
  std::string name;
  if (auto s = read_string(j, "fault", name); !s)
    return failure{s.error()};
  auto kind = fault_kind_from_string(name);
  if (!kind || *kind == fault_kind::none)
    return failure{"fake-provider: unknown fault '" + name +
                   "' (status, error_event, stall_before_headers, stall_mid_stream, reset, cut_line, bad_json, "
                   "drip, timing, tool_call)"};
  f.kind = *kind;
  if (auto s = read_string(j, "provider", f.provider); !s)
    return failure{s.error()};
  if (f.provider != "*" && f.provider != "embeddings" && !provider_from_string(f.provider))
    return failure{"fake-provider: unknown provider '" + f.provider + "' (openai, anthropic, gemini, embeddings or *)"};
  uint32_t status_code = static_cast<uint32_t>(f.status);
  std::optional<double> probability, retry_ms, tps;
  for (auto s : {read_uint(j, "status", status_code), read_string(j, "code", f.code),
                 read_string(j, "message", f.message), read_number(j, "retry_after_s", f.retry_after_s),
                 read_number(j, "retry_after_ms", retry_ms), read_number(j, "probability", probability),
                 read_uint(j, "after_tokens", f.after_tokens), read_uint(j, "stall_ms", f.stall_ms),
                 read_uint(j, "drip_ms", f.drip_ms), read_number(j, "tokens_per_s", tps)})
    if (!s)
      return failure{s.error()};
  if (status_code < 100 || status_code > 599)
    return failure{"fake-provider: fault field 'status' must be an HTTP status (100-599)"};
  f.status = static_cast<int>(status_code);
  if (retry_ms)
    f.retry_after_ms = static_cast<int64_t>(*retry_ms);
  f.tokens_per_s = tps;
  if (probability) {
    if (*probability > 1.0)
      return failure{"fake-provider: fault field 'probability' must be in [0, 1]"};
    f.probability = *probability;
  }
  if (auto it = j.find("count"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < -1)
      return failure{"fake-provider: fault field 'count' must be an integer >= 0 (or -1: unlimited)"};
    f.count = it->get<int64_t>();
  }
  if (auto it = j.find("ttft_ms"); it != j.end()) {
    uint32_t v = 0;
    if (auto s = read_uint(j, "ttft_ms", v); !s)
      return failure{s.error()};
    f.ttft_ms = v;
  }
  if (auto it = j.find("should_retry"); it != j.end()) {
    if (!it->is_boolean())
      return failure{"fake-provider: fault field 'should_retry' must be true or false"};
    f.should_retry = it->get<bool>();
  }
  if (auto s = read_tool_script(j, f); !s)
    return failure{s.error()};
  return f;
}

ojson fault_to_json(const fault_spec& f) {
  ojson j{{"provider", f.provider}, {"fault", to_string(f.kind)}};
  if (f.kind == fault_kind::status) {
    j["status"] = f.status;
    if (!f.code.empty())
      j["code"] = f.code;
  }
  if (!f.message.empty())
    j["message"] = f.message;
  if (f.retry_after_s)
    j["retry_after_s"] = *f.retry_after_s;
  if (f.retry_after_ms)
    j["retry_after_ms"] = *f.retry_after_ms;
  if (f.should_retry)
    j["should_retry"] = *f.should_retry;
  j["probability"] = f.probability;
  j["count"] = f.count;
  j["after_tokens"] = f.after_tokens;
  j["stall_ms"] = f.stall_ms;
  j["drip_ms"] = f.drip_ms;
  if (f.ttft_ms)
    j["ttft_ms"] = *f.ttft_ms;
  if (f.tokens_per_s)
    j["tokens_per_s"] = *f.tokens_per_s;
  if (f.kind == fault_kind::tool_call) {
    j["tool"] = f.script.tool;
    if (!f.script.arguments_json.empty())
      j["arguments"] = ojson::parse(f.script.arguments_json, nullptr, false);
    if (!f.script.text.empty())
      j["text"] = f.script.text;
    j["malformed"] = f.script.malformed;
    j["fragment_bytes"] = f.script.fragment_bytes;
  }
  return j;
}

} // namespace

const char* to_string(fault_kind k) noexcept {
  for (const auto& [kind, name] : fault_kind_names)
    if (kind == k)
      return name;
  return "unknown";
}

std::optional<fault_kind> fault_kind_from_string(std::string_view name) noexcept {
  for (const auto& [kind, n] : fault_kind_names)
    if (name == n)
      return kind;
  return std::nullopt;
}

result<fault_spec> parse_fault(std::string_view json_text) {
  auto j = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (j.is_discarded())
    return failure{"fake-provider: a fault is not valid JSON: " + std::string(json_text.substr(0, 200))};
  return fault_from_json(j);
}

result<std::vector<fault_spec>> parse_faults(std::string_view json_text) {
  auto j = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (j.is_discarded())
    return failure{"fake-provider: the faults body is not valid JSON"};
  std::vector<fault_spec> out;
  if (!j.is_array()) {
    auto f = fault_from_json(j);
    if (!f)
      return failure{f.error()};
    out.push_back(std::move(*f));
    return out;
  }
  for (const auto& item : j) {
    auto f = fault_from_json(item);
    if (!f)
      return failure{f.error()};
    out.push_back(std::move(*f));
  }
  return out;
}

double fault_table::roll() {
  return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0); // [0, 1), same on every platform
}

std::optional<fault_spec> fault_table::pick(provider_kind provider, bool offers_tools) {
  return pick(to_string(provider), offers_tools);
}

std::optional<fault_spec> fault_table::pick(std::string_view route, bool offers_tools) {
  for (auto& f : faults_) {
    // "*" means every chat provider; embedding faults are asked for by name.
    if (f.count == 0 || (f.provider == "*" ? route == "embeddings" : f.provider != route))
      continue;
    if (f.kind == fault_kind::tool_call && !offers_tools)
      continue; // a script for requests that offer tools (and do not answer calls already)
    if (f.probability < 1.0 && roll() >= f.probability)
      continue;
    if (f.count > 0)
      --f.count;
    return f;
  }
  return std::nullopt;
}

void fault_table::record(std::string_view route, fault_kind applied) {
  ++total_;
  ++by_route_[std::string(route)][to_string(applied)];
  ++by_fault_[to_string(applied)];
}

void fault_table::reset_stats() {
  total_ = 0;
  by_route_.clear();
  by_fault_.clear();
}

uint64_t fault_table::requests(std::string_view route) const {
  auto it = by_route_.find(route);
  if (it == by_route_.end())
    return 0;
  uint64_t n = 0;
  for (const auto& [kind, count] : it->second)
    n += count;
  return n;
}

uint64_t fault_table::faults(fault_kind kind) const {
  auto it = by_fault_.find(to_string(kind));
  return it == by_fault_.end() ? 0 : it->second;
}

std::string fault_table::faults_json() const {
  ojson arr = ojson::array();
  for (const auto& f : faults_)
    arr.push_back(fault_to_json(f));
  return arr.dump();
}

std::string fault_table::stats_json() const {
  ojson requests = ojson::object(), by_route = ojson::object(), faults = ojson::object();
  for (const auto& [route, kinds] : by_route_) {
    requests[route] = this->requests(route);
    ojson k = ojson::object();
    for (const auto& [kind, count] : kinds)
      k[kind] = count;
    by_route[route] = k;
  }
  for (const auto& [kind, count] : by_fault_)
    faults[kind] = count;
  return ojson{{"total", total_}, {"requests", requests}, {"faults", faults}, {"by_route", by_route}}.dump();
}

} // namespace sa::providers::fake
