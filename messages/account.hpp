// account: the customer's own account facts (subscription, invoices, usage, open tickets), tenant-scoped.
// A backend that cannot get every part answers what it has: `missing` names the lookups that failed
// (partial facts), and available=false with a `failure` reason when it has nothing.
#pragma once

#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// Why account facts are missing, wholly or in part. Stable names (logs, metrics, the client protocol).
enum class account_failure : uint8_t {
  none = 0,
  not_found = 1,      ///< no such tenant or user (the embedded store; the API answered 404)
  timeout = 2,        ///< the lookup did not finish within account.http.timeout_ms
  unreachable = 3,    ///< the API could not be reached (connect, DNS, TLS, a broken connection)
  http_status = 4,    ///< the API answered another status than 2xx or 404
  bad_response = 5,   ///< the body was not JSON of the documented shape (docs/account-api.md), or too large
  wrong_account = 6,  ///< the API echoed another tenant or user than the one asked for
  service_failed = 7, ///< the account service itself did not answer (crashed, or the request timed out)
};
const char* to_string(account_failure x) noexcept;

struct invoice_info {
  std::string id;
  std::string date;        ///< ISO 8601
  double amount = 0;
  std::string currency;
  std::string status;      ///< paid, open, failed, refunded, ...
  std::string description;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invoice_info& x) {
  return f(caf::meta::type_name("invoice_info"), x.id, x.date, x.amount, x.currency, x.status,
           x.description);
}

struct ticket_info {
  std::string id;
  std::string subject;
  std::string status;
  std::string opened;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ticket_info& x) {
  return f(caf::meta::type_name("ticket_info"), x.id, x.subject, x.status, x.opened);
}

/// One figure of the current billing period's usage.
struct usage_metric {
  std::string name;   ///< e.g. builds, bandwidth
  double used = 0;
  double limit = 0;   ///< 0 = no limit
  std::string unit;   ///< e.g. builds, GB
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage_metric& x) {
  return f(caf::meta::type_name("usage_metric"), x.name, x.used, x.limit, x.unit);
}

/// A lookup whose part of the facts is missing: subscription, invoices, usage or open_tickets.
struct account_gap {
  std::string lookup;
  account_failure reason = account_failure::none;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_gap& x) {
  return f(caf::meta::type_name("account_gap"), x.lookup, x.reason);
}

struct account_request {
  tenant_id tenant;
  user_id user;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_request& x) {
  return f(caf::meta::type_name("account_request"), x.tenant, x.user);
}

struct account_facts {
  bool available = false;   ///< false: no facts (service failed or not asked); the turn says so
  std::string company;
  std::string user_name;
  std::string user_role;
  std::string plan;
  std::string plan_status;
  int seats_purchased = 0;
  int seats_used = 0;
  std::string billing_cycle;
  double price = 0;
  std::string currency;
  std::string next_renewal;
  std::string payment_method;
  std::vector<invoice_info> invoices;     ///< newest first
  std::vector<ticket_info> open_tickets;
  std::string usage_period_start;         ///< ISO 8601; the billing period `usage` covers
  std::string usage_period_end;
  std::vector<usage_metric> usage;
  account_failure failure = account_failure::none;  ///< available=false: why (none when not asked)
  std::vector<account_gap> missing;       ///< lookups that failed: their fields are empty, not "none"

  /// True when `lookup`'s part is missing (an empty invoice list then means "unknown", not "no invoices").
  bool lacks(const std::string& lookup) const {
    for (const auto& g : missing)
      if (g.lookup == lookup)
        return true;
    return false;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_facts& x) {
  return f(caf::meta::type_name("account_facts"), x.available, x.company, x.user_name, x.user_role,
           x.plan, x.plan_status, x.seats_purchased, x.seats_used, x.billing_cycle, x.price, x.currency,
           x.next_renewal, x.payment_method, x.invoices, x.open_tickets, x.usage_period_start,
           x.usage_period_end, x.usage, x.failure, x.missing);
}

using account_actor = caf::typed_actor<caf::replies_to<account_request>::with<account_facts>>;

} // namespace sa
