// fake_account_api: the company account API of docs/account-api.md, for tests, on a loopback_http_server.
// It serves GET /v1/tenants/<tenant>/users/<user>/{subscription,invoices,usage,tickets} for the two demo
// tenants (acme: alice, bob; globex: carol), decoding the percent-encoded ids the way a real server would,
// echoing the tenant and user, and answering 404 for anyone else. Per lookup a test can add a delay or
// replace the answer (status and body).
#pragma once

#include "tests/support/loopback_http_server.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sa::test {

class fake_account_api {
public:
  fake_account_api();

  /// "http://127.0.0.1:<port>"; the default URL templates apply (/v1/tenants/{tenant}/users/{user}/...).
  std::string base_url() const { return server_.base_url(); }
  loopback_http_server& server() noexcept { return server_; }

  /// The lookups are "subscription", "invoices", "usage", "tickets" (the last path segment).
  void delay(const std::string& lookup, std::chrono::milliseconds by);
  /// Answers `status` with `body` for that lookup instead of the data.
  void replace(const std::string& lookup, int status, std::string body);
  void reset();

  /// The (tenant, user) of a request target, decoded; nullopt when the path is not one of the API's.
  struct parsed_target {
    std::string tenant, user, lookup;
  };
  static std::optional<parsed_target> parse(const std::string& target);

  /// Requests received for `lookup` ("" = all).
  std::size_t count(const std::string& lookup = "") const;

private:
  scripted_reply answer(const received_request& r);

  struct override_t {
    std::chrono::milliseconds delay{0};
    std::optional<std::pair<int, std::string>> reply;
  };
  mutable std::mutex mtx_;
  std::map<std::string, override_t> overrides_;
  loopback_http_server server_;
};

} // namespace sa::test
