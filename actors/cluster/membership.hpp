// The live member set of one node, as a plain class (the cluster actor holds the actor handles; this
// class makes the decisions, and tests call it without an actor system).
//
// Rules:
// - A member is known by its unique node name. A join under a name that is already live is the same
//   member again (same node: refreshed) or its new incarnation (same host:port, another node: the old one
//   is replaced, because two processes cannot both listen on one address); a third node using a live name
//   from another address is refused (name_taken), as is a member claiming this node's own name.
// - A member is removed only by the node that is its current incarnation (a late down message of a
//   replaced incarnation removes nothing).
// - Ownership is rendezvous hashing over the live names, this node included.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sa::cluster {

struct member_record {
  std::string name;
  std::string host;
  uint16_t port = 0;
  std::string node;  ///< the CAF node id as text: tells incarnations apart
};

struct host_port {
  std::string host;
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

/// "host:port" (port 1..65535, host non-empty, no scheme or path); nullopt when malformed.
std::optional<host_port> parse_host_port(std::string_view text);

class membership {
public:
  enum class admit_outcome { added, refreshed, replaced, name_taken };

  explicit membership(member_record self);

  /// Applies the rules above. `replaced` (when not null) receives the record of a replaced incarnation.
  admit_outcome admit(const member_record& m, member_record* replaced = nullptr);

  /// Removes `name` if `node` is its current incarnation; true when something was removed.
  bool remove(const std::string& name, const std::string& node);

  const member_record& self() const noexcept { return self_; }
  const member_record* find(const std::string& name) const;
  /// The member (not this node) listening at host:port, if any.
  const member_record* find_address(const std::string& host, uint16_t port) const;
  /// The member (not this node) whose node id is `node`, if any.
  const member_record* find_node(const std::string& node) const;

  /// Other members, by name.
  const std::map<std::string, member_record>& others() const noexcept { return others_; }

  /// Every live name, this node's included, sorted.
  const std::vector<std::string>& names() const noexcept { return names_; }

  /// The owner of `key` (a session id) among names().
  const std::string& owner(std::string_view key) const;

  /// "a,b,c" for logs.
  std::string describe() const;

private:
  void rebuild_names();

  member_record self_;
  std::map<std::string, member_record> others_;
  std::vector<std::string> names_;
};

const char* to_string(membership::admit_outcome x) noexcept;

} // namespace sa::cluster
