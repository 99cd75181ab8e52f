// Fuzz target: the JWT/auth path. Untrusted tokens go to verify_token with the server's pinned HS256
// key; it must verify or refuse with a reason, never crash or throw, and an identity it accepts names a
// tenant and a user.
// The input is either a whole token, or (first byte 0x01) claims JSON that is signed with the right key
// first, so the fuzzer also explores the claim checks behind a valid signature.
#include "actors/gateway/token_auth.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

std::string base64url(const std::string& in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (auto& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string sign_hs256(const std::string& secret, const std::string& claims) {
  auto signing_input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &len);
  return signing_input + "." + base64url(std::string(reinterpret_cast<char*>(mac), len));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sa::gateway::token_keys keys = [] {
    sa::gateway::token_keys k;
    k.secret = "fuzz-secret-0123456789abcdef-0123456789";
    return k;
  }();
  std::string input(reinterpret_cast<const char*>(data), size);
  bool signed_by_us = !input.empty() && input[0] == '\x01';
  auto token = signed_by_us ? sign_hs256(keys.secret, input.substr(1)) : input;
  auto v = sa::gateway::verify_token(keys, token);
  SA_FUZZ_CHECK(v.who.has_value() == v.reason.empty());
  if (v.who)
    SA_FUZZ_CHECK(!v.who->tenant.empty() && !v.who->user.empty());
  return 0;
}
