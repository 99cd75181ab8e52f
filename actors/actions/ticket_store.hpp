// ticket_store: the embedded ticket store - tickets the bot opened, per tenant, per user, with the
// idempotency key that created each so a retried action never opens a second ticket. Also mirrors the
// tickets a helpdesk webhook created, so they show among the customer's open tickets at once.
//
// Plain class, owned by one actor at a time: the actions service. Its supervisor hands the same store to
// each restarted incarnation, so a crash of the service loses no ticket; a node restart does (it is the
// demo backend - configure actions.ticket_webhook_url for a real helpdesk). Every lookup names the tenant
// and the user: there is no way to list or find another tenant's or another user's tickets.
#pragma once

#include "messages/account.hpp"
#include "runtime/result.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sa::actions {

struct new_ticket {
  std::string subject;
  std::string description;
  std::string priority = "normal";
  std::string opened;          ///< ISO date (UTC)
};

struct stored_ticket {
  ticket_info info;
  std::string priority;
  bool duplicate = false;      ///< the idempotency key had already created this ticket
};

class ticket_store {
public:
  /// `first_number`: the numeric part of the first id (TCK-<n>); `max_per_tenant`: more are refused.
  explicit ticket_store(std::size_t max_per_tenant = 10000, uint64_t first_number = 7001);

  /// Opens a ticket for (tenant, user), or returns the one `idempotency_key` already opened (duplicate).
  /// Fails when the tenant already holds max_per_tenant tickets.
  result<stored_ticket> create(const std::string& tenant, const std::string& user,
                               const std::string& idempotency_key, const new_ticket& t);

  /// Records a ticket another system (a helpdesk webhook) opened under `id` (idempotent by key).
  void record(const std::string& tenant, const std::string& user, const std::string& idempotency_key,
              const ticket_info& info, const std::string& priority);

  /// The ticket `idempotency_key` opened for this tenant, if any.
  std::optional<stored_ticket> by_key(const std::string& tenant, const std::string& idempotency_key) const;

  /// (tenant, user)'s tickets, oldest first.
  std::vector<ticket_info> list(const std::string& tenant, const std::string& user) const;

  /// (tenant, user)'s ticket whose id is `reference` (case-insensitive), or ends in "-<reference>".
  std::optional<ticket_info> find(const std::string& tenant, const std::string& user,
                                  const std::string& reference) const;

  std::size_t size(const std::string& tenant) const;

private:
  struct entry {
    std::string user;
    ticket_info info;
    std::string priority;
  };
  struct tenant_tickets {
    std::vector<entry> tickets;
    std::unordered_map<std::string, std::size_t> by_key;  // idempotency key -> index
    uint64_t next_number = 0;
  };
  std::size_t max_per_tenant_;
  uint64_t first_number_;
  std::unordered_map<std::string, tenant_tickets> tenants_;
};

/// True when `id` is `reference` (case-insensitive) or ends in "-" + `reference` ("0142" finds INV-2026-0142).
bool reference_matches(const std::string& id, const std::string& reference);

} // namespace sa::actions
