// account: the customer's own account facts (subscription, invoices, open tickets), tenant-scoped.
#pragma once

#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>
#include <vector>

namespace sa {

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
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_facts& x) {
  return f(caf::meta::type_name("account_facts"), x.available, x.company, x.user_name, x.user_role,
           x.plan, x.plan_status, x.seats_purchased, x.seats_used, x.billing_cycle, x.price, x.currency,
           x.next_renewal, x.payment_method, x.invoices, x.open_tickets);
}

using account_actor = caf::typed_actor<caf::replies_to<account_request>::with<account_facts>>;

} // namespace sa
