// redis_registry_layout: how cluster members live in Redis (cluster.registry = "redis"). Plain functions
// (no actors, no connection), so the keys, the scripts' arguments and the reply parsing are tested without
// a server; actors/cluster/redis_registry.cpp runs them.
//
// Per cluster, in one Redis Cluster slot (the hash tag is the cluster's name):
//   <prefix>:cluster:{<cluster>}:member:<name>  string, JSON {"host", "port", "name"}, PX = the heartbeat's
//                                                TTL: the member is alive while its key exists
//   <prefix>:cluster:{<cluster>}:members         set: names that heartbeated (an index, pruned by lookups)
// <prefix> is memory.redis_key_prefix; cluster and member names are escaped like tenant ids
// (actors/memory/redis_layout.hpp), so no name can reach into other keys or move the hash tag.
//
// Why keys with a TTL plus a set, and not SCAN or a sorted set scored by expiry: Redis expires the keys
// itself, so liveness is judged by one clock (the server's) and never by comparing node clocks; SCAN would
// walk a keyspace shared with every session's memory keys, while the set holds one name per node.
// The scripts (Lua, atomic):
//   heartbeat: SET the member key PX ttl, SADD the name, stretch the set's expiry to at least ttl (a
//              cluster whose nodes are all gone leaves nothing behind).
//   lookup:    for each name of the set, GET its key; answers {name, value, ...} for the live ones and
//              SREMs the names whose key expired. Atomic, so a heartbeat cannot slip in between the read
//              and the prune and be forgotten. (It reads member keys it is not given in KEYS; they share
//              the set's hash tag, so they are in its slot.)
#pragma once

#include "messages/cluster.hpp"
#include "runtime/redis_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa::cluster::registry_layout {

struct registry_keys {
  std::string members;        ///< the set of names
  std::string member_prefix;  ///< + escaped name = a member's heartbeat key
};

/// The keys of the cluster `cluster_name` under `prefix` (memory.redis_key_prefix).
registry_keys keys_for(const std::string& prefix, const std::string& cluster_name);

/// The heartbeat key of the member `name`.
std::string member_key(const registry_keys& keys, const std::string& name);

/// A member as stored in its heartbeat key: {"host", "port", "name"}.
std::string encode_member(const member_address& m);

/// False (with `why`, which never quotes the text) for text that is not such JSON, a port outside
/// 1..65535, an empty host or name.
bool decode_member(const std::string& json, member_address& out, std::string* why);

const std::string& heartbeat_script();
const std::string& lookup_script();

/// EVAL of the heartbeat script (a few hundred bytes: no EVALSHA, so no NOSCRIPT path after a SCRIPT FLUSH
/// or a failover to a server that never saw it). ttl_ms 0 is taken as 1.
std::vector<std::string> heartbeat_command(const registry_keys& keys, const member_address& self, uint32_t ttl_ms);
/// EVAL of the lookup script.
std::vector<std::string> lookup_command(const registry_keys& keys);
/// DEL of the member's heartbeat key (a node that stops; the next lookup prunes its name).
std::vector<std::string> leave_command(const registry_keys& keys, const std::string& name);

/// An entry that could not be used: its key and why (never its text).
struct malformed_entry {
  std::string key;
  std::string why;
};

struct lookup_result {
  std::vector<member_address> members;     ///< live members with valid entries, by name
  std::vector<malformed_entry> malformed;  ///< bad JSON, a port out of range, another member's name, ...
};

/// False (with `why`) for a reply that is not the lookup script's {name, value, ...} (an error reply, say).
bool parse_lookup_reply(const redis_reply& reply, const registry_keys& keys, lookup_result& out, std::string* why);

} // namespace sa::cluster::registry_layout
