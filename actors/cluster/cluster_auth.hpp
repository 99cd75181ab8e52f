// Node authentication for the join handshake (messages/cluster.hpp): HMAC-SHA256 proofs over nonces with
// the shared cluster secret, and the book of challenges a node has issued. Plain functions and a plain
// class over OpenSSL's libcrypto; no actor system.
//
// What this protects: membership. A process that does not know the secret cannot become a member (it is
// never monitored, routed to, or sent a member's handles by this product), and a member never accepts a
// member list from a peer that cannot prove it knows the secret either. What it does not protect: CAF's
// BASP transport itself (README, "Running a cluster").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sa::cluster {

/// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// `bytes` bytes from OpenSSL's CSPRNG, hex encoded (throws std::runtime_error if the CSPRNG fails).
std::string random_nonce(std::size_t bytes = 16);

/// Constant-time equality of two strings (different lengths compare unequal at once: lengths are public).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

/// The joiner's proof: binds both nonces, the joiner's name and address, and the member it joins.
std::string join_proof(std::string_view secret, std::string_view server_nonce, std::string_view client_nonce,
                       std::string_view joiner, std::string_view host, uint16_t port,
                       std::string_view responder);

/// The member's proof in its welcome: binds the joiner's nonce and both names.
std::string welcome_proof(std::string_view secret, std::string_view client_nonce, std::string_view responder,
                          std::string_view joiner);

/// Nonces this node handed out in challenges: each valid once, until it expires. Bounded: when full the
/// oldest is dropped (a flood of hellos can delay joins, never let one through).
class challenge_book {
public:
  using clock = std::chrono::steady_clock;

  challenge_book(std::chrono::milliseconds ttl, std::size_t capacity = 4096) : ttl_(ttl), capacity_(capacity) {}

  /// A fresh nonce, valid until now + ttl.
  std::string issue(clock::time_point now);

  /// True (and forgets it) when `nonce` was issued, not yet consumed and not expired at `now`.
  bool consume(const std::string& nonce, clock::time_point now);

  std::size_t outstanding() const noexcept { return expiry_.size(); }

private:
  void purge(clock::time_point now);

  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  std::map<std::string, clock::time_point> expiry_;
  std::multimap<clock::time_point, std::string> by_time_;
};

} // namespace sa::cluster
