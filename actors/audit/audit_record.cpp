#include "actors/audit/audit_record.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace sa::audit {

using json = nlohmann::json;

const std::string genesis_hash(64, '0');

namespace {

void put_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out.append(value.data(), value.size());
  out += ',';
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string canonical_bytes(const record& r) {
  std::string out = "sa-audit-v1";
  out.reserve(64 + r.time.size() + r.node.size() + r.tenant.size() + r.actor.size() + r.action.size()
              + r.args.size() + r.result.size() + r.session.size() + r.prev.size() + 40);
  put_field(out, std::to_string(r.seq));
  put_field(out, r.time);
  put_field(out, r.node);
  put_field(out, r.tenant);
  put_field(out, r.actor);
  put_field(out, r.action);
  put_field(out, r.args);
  put_field(out, r.result);
  put_field(out, r.session);
  put_field(out, r.prev);
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  static const char* hex = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned i = 0; i < 32; ++i) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0xf];
  }
  return out;
}

std::string compute_hash(const record& r) {
  return sha256_hex(canonical_bytes(r));
}

bool is_hash(std::string_view s) noexcept {
  if (s.size() != 64)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

bool canonical_args(std::string_view text, std::string& out, std::string* why) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out = "{}";
    return true;
  }
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    if (why)
      *why = "not valid JSON";
    return false;
  }
  if (!j.is_object()) {
    if (why)
      *why = std::string{"a JSON "} + j.type_name() + ", not an object";
    return false;
  }
  out = dump(j);
  return true;
}

std::string to_json_line(const record& r) {
  nlohmann::ordered_json j;
  j["seq"] = r.seq;
  j["time"] = r.time;
  j["node"] = r.node;
  j["tenant"] = r.tenant;
  j["actor"] = r.actor;
  j["action"] = r.action;
  auto args = json::parse(r.args, nullptr, false);
  if (args.is_discarded() || !args.is_object())
    throw std::logic_error("audit record args must be a canonical JSON object");
  j["args"] = std::move(args);
  j["result"] = r.result;
  j["session"] = r.session;
  j["prev"] = r.prev;
  j["hash"] = r.hash;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool parse_json_line(std::string_view line, record& out, std::string* why) {
  auto fail = [why](std::string text) {
    if (why)
      *why = std::move(text);
    return false;
  };
  auto j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded())
    return fail("not valid JSON");
  if (!j.is_object())
    return fail(std::string{"a JSON "} + j.type_name() + ", not an object");
  static const std::array<const char*, 11> names{"seq",  "time",   "node",    "tenant", "actor", "action",
                                                 "args", "result", "session", "prev",   "hash"};
  for (auto& [key, value] : j.items()) {
    bool known = false;
    for (auto* n : names)
      known = known || key == n;
    if (!known)
      return fail("unknown field \"" + key + "\"");
  }
  for (auto* n : names)
    if (!j.contains(n))
      return fail(std::string{"field \""} + n + "\" is missing");
  if (!j["seq"].is_number_unsigned() || j["seq"].get<uint64_t>() == 0)
    return fail("field \"seq\" must be a whole number from 1");
  if (!j["args"].is_object())
    return fail("field \"args\" must be an object");
  for (auto* n : {"time", "node", "tenant", "actor", "action", "result", "session", "prev", "hash"})
    if (!j[n].is_string())
      return fail(std::string{"field \""} + n + "\" must be a string");
  out.seq = j["seq"].get<uint64_t>();
  out.time = j["time"].get<std::string>();
  out.node = j["node"].get<std::string>();
  out.tenant = j["tenant"].get<std::string>();
  out.actor = j["actor"].get<std::string>();
  out.action = j["action"].get<std::string>();
  out.args = dump(j["args"]);
  out.result = j["result"].get<std::string>();
  out.session = j["session"].get<std::string>();
  out.prev = j["prev"].get<std::string>();
  out.hash = j["hash"].get<std::string>();
  if (!is_hash(out.prev))
    return fail("field \"prev\" must be 64 lower-case hex digits");
  if (!is_hash(out.hash))
    return fail("field \"hash\" must be 64 lower-case hex digits");
  return true;
}

} // namespace sa::audit
