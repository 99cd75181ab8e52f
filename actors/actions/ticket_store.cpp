// ticket_store: see ticket_store.hpp.
#include "actors/actions/ticket_store.hpp"

#include <strings.h>

namespace sa::actions {

bool reference_matches(const std::string& id, const std::string& reference) {
  if (reference.empty() || id.empty())
    return false;
  if (id.size() == reference.size())
    return strcasecmp(id.c_str(), reference.c_str()) == 0;
  // A bare number (with at least two digits) matches the id it ends: "0142" -> INV-2026-0142.
  if (reference.size() < 2 || reference.size() + 1 > id.size() || id[id.size() - reference.size() - 1] != '-')
    return false;
  for (char c : reference)
    if (c < '0' || c > '9')
      return false;
  return id.compare(id.size() - reference.size(), reference.size(), reference) == 0;
}

ticket_store::ticket_store(std::size_t max_per_tenant, uint64_t first_number)
  : max_per_tenant_(max_per_tenant), first_number_(first_number) {
}

result<stored_ticket> ticket_store::create(const std::string& tenant, const std::string& user,
                                           const std::string& idempotency_key, const new_ticket& t) {
  auto& tt = tenants_[tenant];
  if (tt.next_number == 0)
    tt.next_number = first_number_;
  if (auto i = tt.by_key.find(idempotency_key); !idempotency_key.empty() && i != tt.by_key.end()) {
    auto& e = tt.tickets[i->second];
    if (e.user == user)
      return stored_ticket{e.info, e.priority, true};
    return failure{"idempotency key already used by another user"};
  }
  if (tt.tickets.size() >= max_per_tenant_)
    return failure{"the embedded ticket store holds " + std::to_string(max_per_tenant_) +
                   " tickets for this tenant (actions.max_tickets_per_tenant)"};
  entry e;
  e.user = user;
  e.info.id = "TCK-" + std::to_string(tt.next_number++);
  e.info.subject = t.subject;
  e.info.status = "open";
  e.info.opened = t.opened;
  e.priority = t.priority;
  if (!idempotency_key.empty())
    tt.by_key.emplace(idempotency_key, tt.tickets.size());
  tt.tickets.push_back(e);
  return stored_ticket{e.info, e.priority, false};
}

void ticket_store::record(const std::string& tenant, const std::string& user, const std::string& idempotency_key,
                          const ticket_info& info, const std::string& priority) {
  auto& tt = tenants_[tenant];
  if (!idempotency_key.empty() && tt.by_key.count(idempotency_key))
    return;
  if (tt.tickets.size() >= max_per_tenant_)
    return;  // the helpdesk holds it; only the mirror is bounded
  if (!idempotency_key.empty())
    tt.by_key.emplace(idempotency_key, tt.tickets.size());
  tt.tickets.push_back(entry{user, info, priority});
}

std::optional<stored_ticket> ticket_store::by_key(const std::string& tenant, const std::string& idempotency_key) const {
  auto t = tenants_.find(tenant);
  if (t == tenants_.end() || idempotency_key.empty())
    return std::nullopt;
  auto i = t->second.by_key.find(idempotency_key);
  if (i == t->second.by_key.end())
    return std::nullopt;
  auto& e = t->second.tickets[i->second];
  return stored_ticket{e.info, e.priority, true};
}

std::vector<ticket_info> ticket_store::list(const std::string& tenant, const std::string& user) const {
  std::vector<ticket_info> out;
  auto t = tenants_.find(tenant);
  if (t == tenants_.end())
    return out;
  for (auto& e : t->second.tickets)
    if (e.user == user)
      out.push_back(e.info);
  return out;
}

std::optional<ticket_info> ticket_store::find(const std::string& tenant, const std::string& user,
                                              const std::string& reference) const {
  auto t = tenants_.find(tenant);
  if (t == tenants_.end())
    return std::nullopt;
  for (auto& e : t->second.tickets)
    if (e.user == user && reference_matches(e.info.id, reference))
      return e.info;
  return std::nullopt;
}

std::size_t ticket_store::size(const std::string& tenant) const {
  auto t = tenants_.find(tenant);
  return t == tenants_.end() ? 0 : t->second.tickets.size();
}

} // namespace sa::actions
