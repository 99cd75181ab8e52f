// The live member set (see membership.hpp).
#include "actors/cluster/membership.hpp"

#include "actors/cluster/rendezvous.hpp"

#include <algorithm>
#include <cctype>

namespace sa::cluster {

std::optional<host_port> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return std::nullopt;
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
      return std::nullopt;
  auto number = std::stoul(std::string{port});
  if (number < 1 || number > 65535)
    return std::nullopt;
  std::string h{host};
  if (h.size() > 2 && h.front() == '[' && h.back() == ']')  // [::1]:7000
    h = h.substr(1, h.size() - 2);
  return host_port{h, static_cast<uint16_t>(number)};
}

membership::membership(member_record self) : self_(std::move(self)) {
  rebuild_names();
}

membership::admit_outcome membership::admit(const member_record& m, member_record* replaced) {
  if (m.name == self_.name)
    return admit_outcome::name_taken;
  auto i = others_.find(m.name);
  if (i == others_.end()) {
    others_.emplace(m.name, m);
    rebuild_names();
    return admit_outcome::added;
  }
  if (i->second.node == m.node) {
    i->second = m;
    return admit_outcome::refreshed;
  }
  if (i->second.host == m.host && i->second.port == m.port) {
    if (replaced)
      *replaced = i->second;
    i->second = m;
    return admit_outcome::replaced;
  }
  return admit_outcome::name_taken;
}

bool membership::remove(const std::string& name, const std::string& node) {
  auto i = others_.find(name);
  if (i == others_.end() || i->second.node != node)
    return false;
  others_.erase(i);
  rebuild_names();
  return true;
}

const member_record* membership::find(const std::string& name) const {
  auto i = others_.find(name);
  return i == others_.end() ? nullptr : &i->second;
}

const member_record* membership::find_address(const std::string& host, uint16_t port) const {
  for (const auto& [name, m] : others_)
    if (m.host == host && m.port == port)
      return &m;
  return nullptr;
}

const member_record* membership::find_node(const std::string& node) const {
  for (const auto& [name, m] : others_)
    if (m.node == node)
      return &m;
  return nullptr;
}

const std::string& membership::owner(std::string_view key) const {
  return *rendezvous_owner(key, names_);  // names_ always holds this node
}

std::string membership::describe() const {
  std::string out;
  for (const auto& n : names_)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

void membership::rebuild_names() {
  names_.clear();
  names_.push_back(self_.name);
  for (const auto& [name, m] : others_)
    names_.push_back(name);
  std::sort(names_.begin(), names_.end());
}

const char* to_string(membership::admit_outcome x) noexcept {
  switch (x) {
    case membership::admit_outcome::added: return "added";
    case membership::admit_outcome::refreshed: return "refreshed";
    case membership::admit_outcome::replaced: return "replaced";
    case membership::admit_outcome::name_taken: return "name_taken";
  }
  return "unknown";
}

} // namespace sa::cluster
