// cluster: how nodes join each other over CAF's middleman, and where they find each other.
//
// Join handshake (joiner J, member M; both know the shared cluster secret S, M publishes its control actor):
//   J -> M  cluster_hello{J}                        M -> J  cluster_challenge{M, nonce_M}      (single use)
//   J -> M  cluster_join{J's member, nonce_M, nonce_J, HMAC_S(join | nonce_M | J | host | port | M)}
//   M -> J  cluster_welcome{M, addresses of M's other members, HMAC_S(welcome | nonce_J | M | J)}
//           or a cluster_errc error
// Each side proves it knows S without sending it, over nonces the other side chose, so a recorded handshake
// cannot be replayed. M then tells its other members about J (cluster_member_hint) and J joins every member
// of the welcome itself: every node holds a direct connection to, and a monitor on, every other. Handles
// only ever travel between the two nodes they belong to (a third node's handle would make CAF route
// through the sender and spawn helpers for a node learned indirectly).
// The member registry is where a node finds addresses to join: the configured seeds, or Redis
// (cluster.registry; actors/cluster/redis_registry.hpp).
#pragma once

#include "messages/handoff.hpp"
#include "messages/session.hpp"

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// Why a join was refused, or a registry lookup failed; travels inside caf::error under cluster_error_atom.
/// Never renumber.
enum class cluster_errc : uint8_t {
  ok = 0,
  bad_proof = 1,          ///< the joiner does not know the cluster secret
  unknown_challenge = 2,  ///< the nonce was never issued, already used or expired
  name_taken = 3,         ///< another live member (another address) has this node name
  bad_member = 4,         ///< the member's handles are not on the node that sent the join
  registry_unavailable = 5,  ///< the member registry's store (Redis) did not answer: keep the member set
};

inline const char* to_string(cluster_errc x) noexcept {
  switch (x) {
    case cluster_errc::ok: return "ok";
    case cluster_errc::bad_proof: return "bad_proof";
    case cluster_errc::unknown_challenge: return "unknown_challenge";
    case cluster_errc::name_taken: return "name_taken";
    case cluster_errc::bad_member: return "bad_member";
    case cluster_errc::registry_unavailable: return "registry_unavailable";
  }
  return "unknown";
}

using cluster_error_atom = caf::atom_constant<caf::atom("cluster")>;

inline caf::error make_error(cluster_errc x) {
  return caf::error{static_cast<uint8_t>(x), cluster_error_atom::value};
}

/// Where a node's cluster endpoint is reached.
struct member_address {
  std::string host;
  uint16_t port = 0;
  std::string name;  ///< when the registry knows it (empty for a configured seed)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_address& x) {
  return f(caf::meta::type_name("member_address"), x.host, x.port, x.name);
}

struct cluster_hello;
struct cluster_challenge;
struct cluster_join;
struct cluster_welcome;
struct cluster_member_hint;

/// A node's cluster control actor: the one actor it publishes on cluster.port.
using cluster_control_actor =
  caf::typed_actor<caf::replies_to<cluster_hello>::with<cluster_challenge>,
                   caf::replies_to<cluster_join>::with<cluster_welcome>,
                   caf::reacts_to<cluster_member_hint>>;

/// One node of the cluster as the others see it.
struct cluster_member {
  std::string name;                ///< node.name, unique in the cluster
  std::string host;                ///< where its cluster endpoint is reached (cluster.advertise_host)
  uint16_t port = 0;               ///< cluster.port
  session_router_actor router;     ///< its cluster router: takes user turns for the sessions it owns
  cluster_control_actor control;   ///< its control actor (joins, hints)
  handoff_actor handoff;           ///< its handoff router: serves its handoff records to members (may be null)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member& x) {
  return f(caf::meta::type_name("cluster_member"), x.name, x.host, x.port, x.router, x.control, x.handoff);
}

struct cluster_hello {
  std::string name;  ///< the joiner's node name (for logs; the proof binds it)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_hello& x) {
  return f(caf::meta::type_name("cluster_hello"), x.name);
}

struct cluster_challenge {
  std::string name;   ///< the member's node name
  std::string nonce;  ///< hex, single use, expires after cluster.join_timeout_ms
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_challenge& x) {
  return f(caf::meta::type_name("cluster_challenge"), x.name, x.nonce);
}

struct cluster_join {
  cluster_member member;    ///< the joiner; its handles must live on the node that sends this
  std::string server_nonce; ///< the challenge's nonce
  std::string client_nonce; ///< the joiner's nonce, for the welcome's proof
  std::string proof;        ///< HMAC-SHA256 (hex), see the top of this file
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_join& x) {
  return f(caf::meta::type_name("cluster_join"), x.member, x.server_nonce, x.client_nonce, x.proof);
}

struct cluster_welcome {
  cluster_member member;                ///< the member that answers (its handles)
  std::vector<member_address> others;   ///< its other live members: addresses only, the joiner joins each
  std::string proof;                    ///< HMAC-SHA256 (hex): the member knows the secret too
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_welcome& x) {
  return f(caf::meta::type_name("cluster_welcome"), x.member, x.others, x.proof);
}

/// From a member: another node joined me; join it too (the join itself is authenticated).
struct cluster_member_hint {
  std::string name;
  std::string host;
  uint16_t port = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member_hint& x) {
  return f(caf::meta::type_name("cluster_member_hint"), x.name, x.host, x.port);
}

// --- the member registry: where a node finds addresses to join ------------------------------------

/// This node is alive at this address (sent every cluster.discovery_interval_ms). A registry with
/// storage (Redis) refreshes a heartbeat key with a TTL; the seed registry ignores it.
struct registry_heartbeat {
  member_address self;
  uint32_t ttl_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registry_heartbeat& x) {
  return f(caf::meta::type_name("registry_heartbeat"), x.self, x.ttl_ms);
}

/// Which addresses are worth a join attempt now?
struct registry_lookup {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registry_lookup&) {
  return f(caf::meta::type_name("registry_lookup"));
}

struct registry_members {
  std::vector<member_address> members;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registry_members& x) {
  return f(caf::meta::type_name("registry_members"), x.members);
}

/// The seam where a member registry plugs in. The cluster actor only joins what a lookup returns; a
/// failed lookup (registry unreachable) changes nothing, so a node that loses its registry keeps its
/// last known member set. Members leave only through CAF's down messages.
using member_registry_actor =
  caf::typed_actor<caf::reacts_to<registry_heartbeat>, caf::replies_to<registry_lookup>::with<registry_members>>;

} // namespace sa
