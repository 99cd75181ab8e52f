// A fake webhook receiver for the actions tests, on the tests' loopback_http_server: it records every
// request, checks its signature the way docs/actions.md tells a receiver to - independently of the
// product's code: HMAC-SHA256(secret, "<timestamp>.<body>") in X-Support-Agent-Signature as "v1=<hex>", a
// timestamp within five minutes - and answers from a script (status, body, delay, stall, headers: a
// scripted_reply, brace-initialised in that order).
//
// Like a real receiver it performs each action once per Idempotency-Key: effects() counts the distinct keys
// it accepted (a 2xx with a valid signature), even when its answer came too late for the client.
#pragma once

#include "tests/support/loopback_http_server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace sa::test {

struct webhook_request : received_request {
  bool signature_valid = false;  ///< signature and timestamp checked with the receiver's secret on arrival
};

using webhook_reply = scripted_reply;

class webhook_receiver {
public:
  explicit webhook_receiver(std::string secret);

  uint16_t port() const { return server_.port(); }
  std::string url(const std::string& path) const { return server_.url(path); }

  /// The replies for the next requests, in order; after them, the default reply (200 "{}").
  void script(std::vector<webhook_reply> replies);
  void set_default(webhook_reply reply);

  std::vector<webhook_request> requests() const;
  std::size_t request_count() const;
  /// Distinct idempotency keys accepted with a valid signature (the actions this receiver performed).
  std::size_t effects() const;

  /// Waits until at least `n` requests arrived or `within` passes; true when they did.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds within) {
    return server_.wait_until([&] { return request_count() >= n; }, within);
  }

private:
  scripted_reply answer(const received_request& r);
  bool verify(const received_request& r) const;

  std::string secret_;
  mutable std::mutex mtx_;
  std::deque<webhook_reply> script_;
  webhook_reply default_{200, "{}"};
  std::vector<webhook_request> requests_;
  std::set<std::string> effects_;
  loopback_http_server server_;  // last: stopped (its io thread joined) before the state it calls into
};

} // namespace sa::test
