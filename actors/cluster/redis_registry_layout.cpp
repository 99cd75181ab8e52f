#include "actors/cluster/redis_registry_layout.hpp"

#include "actors/memory/redis_layout.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace sa::cluster::registry_layout {

namespace {

using json = nlohmann::json;

/// Hosts are DNS names or addresses: printable, no spaces, at most 255 bytes.
bool plausible_host(const std::string& host) {
  return !host.empty() && host.size() <= 255
         && std::none_of(host.begin(), host.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

} // namespace

registry_keys keys_for(const std::string& prefix, const std::string& cluster_name) {
  auto base = prefix + ":cluster:{" + redis_layout::escape(cluster_name) + "}:";
  return {base + "members", base + "member:"};
}

std::string member_key(const registry_keys& keys, const std::string& name) {
  return keys.member_prefix + redis_layout::escape(name);
}

std::string encode_member(const member_address& m) {
  json j{{"host", m.host}, {"port", m.port}, {"name", m.name}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool decode_member(const std::string& text, member_address& out, std::string* why) {
  auto fail = [&](const char* reason) {
    if (why)
      *why = reason;
    return false;
  };
  auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail("not a JSON object");
  auto host = j.find("host");
  auto port = j.find("port");
  auto name = j.find("name");
  if (host == j.end() || !host->is_string() || !plausible_host(host->get<std::string>()))
    return fail("host missing or not a host name");
  if (port == j.end() || !port->is_number_integer())
    return fail("port missing or not an integer");
  auto p = port->get<long long>();
  if (p < 1 || p > 65535)
    return fail("port out of range");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty())
    return fail("name missing or empty");
  out = member_address{host->get<std::string>(), static_cast<uint16_t>(p), name->get<std::string>()};
  return true;
}

const std::string& heartbeat_script() {
  // KEYS: member key, members set. ARGV: escaped name, entry (JSON), ttl_ms. PTTL is -1 for a set without
  // an expiry and below ttl when the last heartbeat had a shorter one: either way it is stretched.
  static const std::string body = R"lua(
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
)lua";
  return body;
}

const std::string& lookup_script() {
  // KEYS: members set. ARGV: member key prefix. Returns {name, value, ...} of the live members; a member
  // key that is not a string (WRONGTYPE) comes back with an empty value, to be reported, not pruned.
  static const std::string body = R"lua(
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.pcall('GET', ARGV[1] .. name)
  if type(value) == 'table' then
    out[#out + 1] = name
    out[#out + 1] = ''
  elseif value then
    out[#out + 1] = name
    out[#out + 1] = value
  else
    redis.call('SREM', KEYS[1], name)
  end
end
return out
)lua";
  return body;
}

std::vector<std::string> heartbeat_command(const registry_keys& keys, const member_address& self, uint32_t ttl_ms) {
  return {"EVAL",
          heartbeat_script(),
          "2",
          member_key(keys, self.name),
          keys.members,
          redis_layout::escape(self.name),
          encode_member(self),
          std::to_string(std::max<uint32_t>(ttl_ms, 1))};
}

std::vector<std::string> lookup_command(const registry_keys& keys) {
  return {"EVAL", lookup_script(), "1", keys.members, keys.member_prefix};
}

std::vector<std::string> leave_command(const registry_keys& keys, const std::string& name) {
  return {"DEL", member_key(keys, name)};
}

bool parse_lookup_reply(const redis_reply& reply, const registry_keys& keys, lookup_result& out, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why)
      *why = std::move(reason);
    return false;
  };
  if (reply.is_error())
    return fail("redis error " + reply.str.substr(0, reply.str.find(' ')));
  if (reply.type != redis_reply::kind::array || reply.elements.size() % 2 != 0)
    return fail("unexpected reply to the lookup script");
  lookup_result r;
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    const auto& name = reply.elements[i];
    const auto& value = reply.elements[i + 1];
    if (name.type != redis_reply::kind::string)
      return fail("unexpected reply to the lookup script");
    auto key = keys.member_prefix + name.str;
    member_address m;
    std::string problem;
    if (value.type != redis_reply::kind::string || value.str.empty())
      problem = "not a string";
    else if (decode_member(value.str, m, &problem) && redis_layout::escape(m.name) != name.str)
      problem = "name does not match the key";  // an entry must be the member its key names
    if (!problem.empty()) {
      r.malformed.push_back(malformed_entry{std::move(key), std::move(problem)});
      continue;
    }
    r.members.push_back(std::move(m));
  }
  std::sort(r.members.begin(), r.members.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  out = std::move(r);
  return true;
}

} // namespace sa::cluster::registry_layout
