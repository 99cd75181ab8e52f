// connection_slots: see the header.
#include "actors/gateway/connection_slots.hpp"

#include <utility>

namespace sa::gateway {

connection_slots::lease& connection_slots::lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    tenant_ = std::move(other.tenant_);
    user_ = std::move(other.user_);
    counts_tenant_ = other.counts_tenant_;
  }
  return *this;
}

void connection_slots::lease::reset() {
  if (auto* owner = std::exchange(owner_, nullptr))
    owner->release(tenant_, user_, counts_tenant_);
}

std::string connection_slots::user_key(std::string_view tenant, std::string_view user, bool agent) {
  // The tenant's length first: claims are any text a token carries, and distinct triples give distinct keys.
  std::string key = std::to_string(tenant.size());
  key.push_back(':');
  key.append(tenant).push_back(agent ? 'a' : 'c');
  key.append(user);
  return key;
}

connection_slots::verdict connection_slots::acquire(const std::string& tenant, const std::string& user, bool agent,
                                                    lease& out) {
  auto key = user_key(tenant, user, agent);
  {
    std::lock_guard<std::mutex> guard{mutex_};
    // Agents' consoles are not counted against the tenant: customers must not lock out the people who take
    // their handoffs. Each agent is still held to the per-user cap.
    auto t = agent ? tenants_.end() : tenants_.find(tenant);
    if (!agent && per_tenant_ > 0 && t != tenants_.end() && t->second >= per_tenant_)
      return verdict::tenant_full;
    auto u = users_.find(key);
    if (per_user_ > 0 && u != users_.end() && u->second >= per_user_)
      return verdict::user_full;
    if (!agent)
      ++(t != tenants_.end() ? t->second : tenants_[tenant]);
    ++(u != users_.end() ? u->second : users_[key]);
  }
  out.reset();
  out.owner_ = this;
  out.tenant_ = tenant;
  out.user_ = std::move(key);
  out.counts_tenant_ = !agent;
  return verdict::granted;
}

void connection_slots::release(const std::string& tenant, const std::string& user, bool counts_tenant) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto t = counts_tenant ? tenants_.find(tenant) : tenants_.end(); t != tenants_.end() && --t->second <= 0)
    tenants_.erase(t);
  if (auto u = users_.find(user); u != users_.end() && --u->second <= 0)
    users_.erase(u);
}

int connection_slots::tenant_count(const std::string& tenant) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto t = tenants_.find(tenant);
  return t == tenants_.end() ? 0 : t->second;
}

int connection_slots::user_count(const std::string& tenant, const std::string& user, bool agent) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto u = users_.find(user_key(tenant, user, agent));
  return u == users_.end() ? 0 : u->second;
}

} // namespace sa::gateway
