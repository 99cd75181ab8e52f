// HMAC proofs and challenges (see cluster_auth.hpp). The strings that are MACed start with a purpose
// label and separate fields with '\n' (names, hosts and nonces cannot contain one), so a join proof can
// never be taken for a welcome proof or shifted between fields.
#include "actors/cluster/cluster_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace sa::cluster {

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

} // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  return hex(out, len);
}

std::string random_nonce(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("the OpenSSL random generator failed");
  return hex(buf.data(), buf.size());
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string join_proof(std::string_view secret, std::string_view server_nonce, std::string_view client_nonce,
                       std::string_view joiner, std::string_view host, uint16_t port,
                       std::string_view responder) {
  std::string data = "sa-cluster-join\n";
  data.append(server_nonce).append("\n").append(client_nonce).append("\n").append(joiner).append("\n");
  data.append(host).append("\n").append(std::to_string(port)).append("\n").append(responder);
  return hmac_sha256_hex(secret, data);
}

std::string welcome_proof(std::string_view secret, std::string_view client_nonce, std::string_view responder,
                          std::string_view joiner) {
  std::string data = "sa-cluster-welcome\n";
  data.append(client_nonce).append("\n").append(responder).append("\n").append(joiner);
  return hmac_sha256_hex(secret, data);
}

std::string challenge_book::issue(clock::time_point now) {
  purge(now);
  while (expiry_.size() >= capacity_ && !by_time_.empty()) {
    expiry_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  auto nonce = random_nonce();
  auto until = now + ttl_;
  expiry_.emplace(nonce, until);
  by_time_.emplace(until, nonce);
  return nonce;
}

bool challenge_book::consume(const std::string& nonce, clock::time_point now) {
  purge(now);
  auto i = expiry_.find(nonce);
  if (i == expiry_.end())
    return false;
  auto range = by_time_.equal_range(i->second);
  for (auto j = range.first; j != range.second; ++j)
    if (j->second == nonce) {
      by_time_.erase(j);
      break;
    }
  expiry_.erase(i);
  return true;
}

void challenge_book::purge(clock::time_point now) {
  while (!by_time_.empty() && by_time_.begin()->first < now) {
    expiry_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
}

} // namespace sa::cluster
