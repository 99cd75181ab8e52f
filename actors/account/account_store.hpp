// account_store: the embedded account context backend (demo tenants), loaded from JSON once and shared
// read-only. Every lookup is scoped by tenant: there is no way to ask for a user without naming the
// tenant, and a user of another tenant is simply not found.
#pragma once

#include "messages/account.hpp"
#include "runtime/result.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sa {

class account_store {
public:
  /// Loads `path` ({"tenants":[...]}, see data/README.md). Fails naming the file and the field.
  static result<std::shared_ptr<const account_store>> load(const std::string& path);

  bool has_tenant(const std::string& tenant) const;
  bool has_user(const std::string& tenant, const std::string& user) const;
  std::vector<std::string> tenants() const;
  std::vector<std::string> users(const std::string& tenant) const;

  /// The user's account facts; available=false when the tenant or user is unknown.
  account_facts lookup(const std::string& tenant, const std::string& user) const;

private:
  struct user_entry {
    std::string name;
    std::string role;
  };
  struct tenant_entry {
    account_facts base;  // everything but the user fields and the open tickets
    std::vector<std::pair<std::string, ticket_info>> tickets;  // (opened by user, ticket)
    std::unordered_map<std::string, user_entry> users;
    std::vector<std::string> user_order;
  };
  std::unordered_map<std::string, tenant_entry> tenants_;
  std::vector<std::string> tenant_order_;
};

} // namespace sa
