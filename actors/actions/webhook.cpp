// webhook: signing, verification and retry rules for outbound action webhooks (see webhook.hpp).
#include "actors/actions/webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <strings.h>

namespace sa::actions {

namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len) || len != 32)
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL HMAC)");
  return hex(md, len);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  return hex(md, len);
}

std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string message = std::to_string(unix_seconds);
  message += '.';
  message.append(body.data(), body.size());
  return "v1=" + hmac_sha256_hex(secret, message);
}

http_headers signed_headers(std::string_view secret, int64_t unix_seconds, std::string_view body,
                            const std::string& idempotency_key) {
  return {
    {"Content-Type", "application/json"},
    {"User-Agent", "support-agent-actions/1"},
    {webhook_headers::timestamp, std::to_string(unix_seconds)},
    {webhook_headers::signature, webhook_signature(secret, unix_seconds, body)},
    {webhook_headers::idempotency_key, idempotency_key},
  };
}

bool verify_signature(std::string_view secret, std::string_view timestamp_header, std::string_view body,
                      std::string_view signature_header, int64_t now_unix_seconds, std::chrono::seconds tolerance) {
  auto ts_text = trim(timestamp_header);
  if (ts_text.empty() || ts_text.size() > 18
      || !std::all_of(ts_text.begin(), ts_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto ts = std::stoll(std::string(ts_text));
  if (std::llabs(now_unix_seconds - ts) > tolerance.count())
    return false;
  auto expected = webhook_signature(secret, ts, body);
  // Several entries may be listed (e.g. while a secret rotates): any v1 entry may match.
  std::size_t pos = 0;
  while (pos <= signature_header.size()) {
    auto comma = signature_header.find(',', pos);
    auto entry = trim(signature_header.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                                                    : comma - pos));
    if (entry.size() == expected.size()
        && CRYPTO_memcmp(entry.data(), expected.data(), expected.size()) == 0)
      return true;
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  return false;
}

attempt_verdict verdict_for_status(int status) noexcept {
  if (status >= 200 && status < 300)
    return attempt_verdict::success;
  if (status == 408 || status == 409 || status == 425 || status == 429 || (status >= 500 && status < 600))
    return attempt_verdict::retry;
  return attempt_verdict::give_up;
}

attempt_verdict verdict_for_error(http_error_kind kind) noexcept {
  switch (kind) {
    case http_error_kind::connect:
    case http_error_kind::timeout_connect:
    case http_error_kind::timeout_first_byte:
    case http_error_kind::timeout_idle:
    case http_error_kind::timeout_total:
    case http_error_kind::reset:
    case http_error_kind::dns: return attempt_verdict::retry;
    case http_error_kind::tls:
    case http_error_kind::cancelled:
    case http_error_kind::other: return attempt_verdict::give_up;
  }
  return attempt_verdict::give_up;
}

std::chrono::milliseconds backoff_delay(uint32_t retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double jitter) noexcept {
  double base = static_cast<double>(initial.count()) * std::pow(2.0, retry > 0 ? retry - 1 : 0);
  base = std::min(base, static_cast<double>(max.count()));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<int64_t>(base * (0.5 + 0.5 * jitter))};
}

std::optional<std::chrono::milliseconds> retry_after(const http_headers& headers) {
  for (const auto& [name, value] : headers) {
    if (strcasecmp(name.c_str(), "retry-after") != 0)
      continue;
    auto v = trim(value);
    if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::chrono::milliseconds{std::stoll(std::string(v)) * 1000};
  }
  return std::nullopt;
}

std::string idempotency_key(const std::string& tenant, const std::string& session, uint64_t turn,
                            const std::string& tool, const std::string& arguments_json) {
  std::string material = tenant;
  for (const auto* part : {&session, &tool, &arguments_json}) {
    material += '\n';
    material += *part;
  }
  material += '\n' + std::to_string(turn);
  return sha256_hex(material).substr(0, 32);
}

} // namespace sa::actions
