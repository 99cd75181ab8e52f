// webhook_receiver (see the header): the signature check and the script; the HTTP side is the
// loopback_http_server's.
#include "tests/support/webhook_receiver.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sa::test {

namespace {

/// The documented scheme, written from docs/actions.md (not from the product's webhook.cpp).
std::string expected_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  auto message = timestamp + "." + body;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xf];
  }
  return "v1=" + hex;
}

} // namespace

webhook_receiver::webhook_receiver(std::string secret)
  : secret_(std::move(secret)), server_([this](const received_request& r) { return answer(r); }) {}

void webhook_receiver::script(std::vector<webhook_reply> replies) {
  std::lock_guard<std::mutex> guard{mtx_};
  script_.assign(replies.begin(), replies.end());
}

void webhook_receiver::set_default(webhook_reply reply) {
  std::lock_guard<std::mutex> guard{mtx_};
  default_ = std::move(reply);
}

std::vector<webhook_request> webhook_receiver::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

std::size_t webhook_receiver::request_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_.size();
}

std::size_t webhook_receiver::effects() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return effects_.size();
}

bool webhook_receiver::verify(const received_request& r) const {
  auto ts = r.header("x-support-agent-timestamp");
  auto sig = r.header("x-support-agent-signature");
  if (ts.empty() || sig.empty() || !std::all_of(ts.begin(), ts.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (std::llabs(now - std::atoll(ts.c_str())) > 300)
    return false;
  return sig == expected_signature(secret_, ts, r.body);
}

scripted_reply webhook_receiver::answer(const received_request& r) {
  webhook_request req;
  static_cast<received_request&>(req) = r;
  req.signature_valid = verify(r);
  std::lock_guard<std::mutex> guard{mtx_};
  auto reply = default_;
  if (!script_.empty()) {
    reply = std::move(script_.front());
    script_.pop_front();
  }
  // A real receiver acts when it accepts the request, whether or not its answer reaches the client.
  if (reply.status >= 200 && reply.status < 300 && !reply.stall && req.signature_valid)
    effects_.insert(req.header("idempotency-key"));
  requests_.push_back(std::move(req));
  return reply;
}

} // namespace sa::test
