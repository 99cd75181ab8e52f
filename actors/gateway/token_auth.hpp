// Token authentication for gateway connections: verifies a JWT against keys and claims pinned by the
// server's config (algorithm allow-list of one, signature, exp/nbf with leeway, iss, aud), and mints
// development tokens. Plain class, no actors: tests call it directly. Uses cpp-jwt (libcpp-jwt-dev).
// To add an algorithm: extend token_keys with its key material and the allow-list in token_auth.cpp.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace sa::gateway {

/// Key material, resolved from config and environment (never logged).
struct token_keys {
  std::string algorithm = "HS256";  ///< HS256 or RS256
  std::string secret;               ///< HS256 shared secret
  std::string public_key_pem;       ///< RS256 verify key
  std::string private_key_pem;      ///< RS256 signing key (minting only; may be empty)
  std::string issuer = "support-agent";
  std::string audience = "support-agent-gateway";
  unsigned leeway_s = 30;
};

/// Roles a token may carry (claim `role`; absent: a customer). Any other value is refused.
namespace roles {
constexpr const char* agent = "agent";  ///< a human support agent: /agent/ws only (docs/protocol.md)
} // namespace roles

/// Who a verified token speaks for.
struct identity {
  std::string tenant;
  std::string user;
  std::string role;  ///< empty (a customer) or roles::agent
  std::string name;  ///< optional display name (claim `name`; agents: what the customer sees)
  /// Claim `exp`: when the token stops being valid (verification allows token_keys::leeway_s past it).
  std::chrono::system_clock::time_point expires;
  bool is_agent() const { return role == roles::agent; }
};

/// Optional claims of a minted token.
struct token_extras {
  std::string role;  ///< "" or roles::agent
  std::string name;
};

/// The outcome of verifying a token: an identity, or why not (safe to show the client and log).
struct verification {
  std::optional<identity> who;
  std::string reason;  ///< empty when verified
};

/// Reads the keys the config names: the HS256 secret from the environment variable named by
/// gateway.jwt_secret_env, the RS256 PEM files. Fails with an operator-readable message.
/// With gateway.dev_tokens on and no HS256 secret set, a fixed development secret is used.
bool load_token_keys(const config::gateway_config& cfg, token_keys& out, std::string& error);

/// Verifies `token` with the pinned algorithm, signature, exp/nbf, iss and aud; requires `tenant`
/// and `sub` claims and an `exp`.
verification verify_token(const token_keys& keys, const std::string& token);

/// Mints a token for (tenant, user) valid for `ttl` (negative: already expired, for tests).
/// Returns an empty string (and fills error) when the keys cannot sign.
std::string mint_token(const token_keys& keys, const std::string& tenant, const std::string& user,
                       std::chrono::seconds ttl, std::string* error = nullptr);
/// The same, with a role and a display name.
std::string mint_token(const token_keys& keys, const std::string& tenant, const std::string& user,
                       std::chrono::seconds ttl, const token_extras& extras, std::string* error = nullptr);

/// The development secret used when dev_tokens is on and no secret is configured.
extern const char* const dev_secret;

} // namespace sa::gateway
