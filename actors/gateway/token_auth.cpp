// JWT verification and minting on cpp-jwt. The accepted algorithm is the server's, never the token's:
// the allow-list passed to jwt::decode holds exactly one algorithm, and the header is checked again.
#include "actors/gateway/token_auth.hpp"

#include <jwt/jwt.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sa::gateway {

const char* const dev_secret = "support-agent-development-secret-do-not-use-in-production";

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream os;
  os << in.rdbuf();
  out = os.str();
  return true;
}

const std::string& signing_key(const token_keys& k) {
  return k.algorithm == "RS256" ? k.private_key_pem : k.secret;
}

const std::string& verify_key(const token_keys& k) {
  return k.algorithm == "RS256" ? k.public_key_pem : k.secret;
}

std::string reason_of(const std::error_code& ec) {
  if (ec == jwt::VerificationErrc::TokenExpired)
    return "token expired";
  if (ec == jwt::VerificationErrc::ImmatureSignature)
    return "token not yet valid";
  if (ec == jwt::VerificationErrc::InvalidIssuer)
    return "wrong issuer";
  if (ec == jwt::VerificationErrc::InvalidAudience)
    return "wrong audience";
  if (ec == jwt::VerificationErrc::InvalidAlgorithm)
    return "algorithm not accepted";
  if (ec == jwt::VerificationErrc::InvalidSignature)
    return "bad signature";
  return "invalid token";
}

} // namespace

bool load_token_keys(const config::gateway_config& cfg, token_keys& out, std::string& error) {
  out.algorithm = cfg.jwt_algorithm;
  out.issuer = cfg.jwt_issuer;
  out.audience = cfg.jwt_audience;
  out.leeway_s = static_cast<unsigned>(cfg.jwt_leeway_s);
  if (cfg.jwt_algorithm == "HS256") {
    if (cfg.jwt_secret_env.rfind("SUPPORT_AGENT_", 0) == 0) {
      error = "gateway.jwt_secret_env must not start with SUPPORT_AGENT_ (those variables are config overrides)";
      return false;
    }
    const char* s = std::getenv(cfg.jwt_secret_env.c_str());
    if (s != nullptr && *s != '\0') {
      out.secret = s;
    } else if (cfg.dev_tokens) {
      out.secret = dev_secret;
    } else {
      error = "gateway.jwt_algorithm is HS256 but the environment variable " + cfg.jwt_secret_env
              + " (gateway.jwt_secret_env) is not set; set it, or set gateway.dev_tokens=true for a"
                " development secret";
      return false;
    }
    if (out.secret.size() < 32 && out.secret != dev_secret) {
      error = "the HS256 secret in " + cfg.jwt_secret_env + " is shorter than 32 bytes";
      return false;
    }
    return true;
  }
  if (cfg.jwt_public_key_file.empty() || !read_file(cfg.jwt_public_key_file, out.public_key_pem)) {
    error = "gateway.jwt_algorithm is RS256 but gateway.jwt_public_key_file ('" + cfg.jwt_public_key_file
            + "') cannot be read";
    return false;
  }
  if (!cfg.jwt_private_key_file.empty() && !read_file(cfg.jwt_private_key_file, out.private_key_pem)) {
    error = "gateway.jwt_private_key_file ('" + cfg.jwt_private_key_file + "') cannot be read";
    return false;
  }
  return true;
}

namespace {

bool is_compact_jws(const std::string& token) {
  int dots = 0;
  for (char c : token) {
    if (c == '.')
      ++dots;
    else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return false;
  }
  return dots == 2 && token.front() != '.';
}

} // namespace

verification verify_token(const token_keys& keys, const std::string& token) {
  verification v;
  if (token.empty())
    return v.reason = "missing token", v;
  if (verify_key(keys).empty())
    return v.reason = "server has no verification key", v;
  // A compact JWS is three base64url parts joined by dots. Checked here, before cpp-jwt sees the bytes:
  // its base64 decoder shifts the negative table entry of a character outside the alphabet (undefined
  // behaviour, found by tests/fuzz/jwt_fuzz.cpp).
  if (!is_compact_jws(token))
    return v.reason = "malformed token", v;
  try {
    // The header's alg must be the pinned one before any key is used with it.
    auto dot = token.find('.');
    auto header = jwt::base64_uri_decode(token.data(), dot);
    auto h = nlohmann::json::parse(header, nullptr, false);
    if (!h.is_object() || !h.contains("alg") || !h["alg"].is_string()
        || h["alg"].get<std::string>() != keys.algorithm)
      return v.reason = "algorithm not accepted", v;
    // The time claims must be whole seconds that fit: cpp-jwt converts them to an unsigned integer
    // without a range check (UB for 1e21 or -1, found by tests/fuzz/jwt_fuzz.cpp).
    auto second_dot = token.find('.', dot + 1);
    auto payload = jwt::base64_uri_decode(token.data() + dot + 1, second_dot - dot - 1);
    auto p = nlohmann::json::parse(payload, nullptr, false);
    if (!p.is_object())
      return v.reason = "malformed token", v;
    for (const char* claim : {"exp", "nbf", "iat"})
      if (auto c = p.find(claim); c != p.end() && !c->is_number_unsigned())
        return v.reason = std::string{"the "} + claim + " claim is not a time in whole seconds", v;
    std::error_code ec;
    auto obj = jwt::decode(token, jwt::params::algorithms({keys.algorithm}), ec,
                           jwt::params::secret(verify_key(keys)), jwt::params::issuer(keys.issuer),
                           jwt::params::aud(keys.audience), jwt::params::leeway(keys.leeway_s),
                           jwt::params::verify(true));
    if (ec)
      return v.reason = reason_of(ec), v;
    const auto& claims = obj.payload().create_json_obj();
    auto text_claim = [&](const char* name) -> std::string {
      auto i = claims.find(name);
      return i != claims.end() && i->is_string() ? i->get<std::string>() : std::string{};
    };
    if (!claims.contains("exp"))
      return v.reason = "token has no exp claim", v;
    identity who{text_claim("tenant"), text_claim("sub"), text_claim("role"), text_claim("name"), {}};
    // A whole number of seconds (checked above), past now minus the leeway (checked by decode). Far-future
    // values are clamped to 2^32 s (the year 2106): the time point counts nanoseconds in 64 bits.
    auto exp = std::min<uint64_t>(p.at("exp").get<uint64_t>(), uint64_t{1} << 32);
    who.expires = std::chrono::system_clock::time_point{std::chrono::seconds{static_cast<int64_t>(exp)}};
    if (who.tenant.empty() || who.user.empty())
      return v.reason = "token lacks tenant or sub claim", v;
    if (!who.role.empty() && who.role != roles::agent)
      return v.reason = "unknown role claim", v;
    v.who = std::move(who);
  } catch (const std::exception&) {
    v.reason = "malformed token";
  }
  return v;
}

std::string mint_token(const token_keys& keys, const std::string& tenant, const std::string& user,
                       std::chrono::seconds ttl, std::string* error) {
  return mint_token(keys, tenant, user, ttl, token_extras{}, error);
}

std::string mint_token(const token_keys& keys, const std::string& tenant, const std::string& user,
                       std::chrono::seconds ttl, const token_extras& extras, std::string* error) {
  const auto& key = signing_key(keys);
  if (key.empty()) {
    if (error)
      *error = keys.algorithm == "RS256" ? "no RS256 private key configured (gateway.jwt_private_key_file)"
                                         : "no HS256 secret configured";
    return {};
  }
  try {
    using namespace jwt::params;
    auto now = std::chrono::system_clock::now();
    jwt::jwt_object obj{algorithm(keys.algorithm), secret(key),
                        payload({{"sub", user}, {"tenant", tenant}, {"iss", keys.issuer}, {"aud", keys.audience}})};
    obj.add_claim("iat", now).add_claim("nbf", now - std::chrono::seconds(1)).add_claim("exp", now + ttl);
    if (!extras.role.empty())
      obj.add_claim("role", extras.role);
    if (!extras.name.empty())
      obj.add_claim("name", extras.name);
    std::error_code ec;
    auto out = obj.signature(ec);
    if (ec) {
      if (error)
        *error = "cannot sign the token: " + ec.message();
      return {};
    }
    return out;
  } catch (const std::exception& e) {
    if (error)
      *error = std::string("cannot sign the token: ") + e.what();
    return {};
  }
}

} // namespace sa::gateway
