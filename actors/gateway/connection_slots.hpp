// connection_slots: open WebSockets per tenant and per user, held against the configured caps, so that one
// tenant's customers cannot take a node's whole gateway.max_connections and one user's token cannot open
// hundreds of sockets. Agent consoles count against their agent's cap but not the tenant's (customers must
// not lock out the agents). A connection claims its slot once authenticated (its tenant and user are known
// only then) and gives it back when it is destroyed. Thread-safe: sessions on different strands share it.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sa::gateway {

class connection_slots {
public:
  /// Caps on open connections; 0 means no cap of that kind.
  connection_slots(int per_tenant, int per_user) : per_tenant_(per_tenant), per_user_(per_user) {}

  enum class verdict { granted, tenant_full, user_full };

  /// A held slot: returned to its owner when destroyed. Move-only; an empty lease holds nothing.
  class lease {
  public:
    lease() = default;
    lease(lease&& other) noexcept { *this = std::move(other); }
    lease& operator=(lease&& other) noexcept;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { reset(); }

    explicit operator bool() const { return owner_ != nullptr; }
    void reset();

  private:
    friend class connection_slots;
    connection_slots* owner_ = nullptr;
    std::string tenant_;
    std::string user_;           // the user key: tenant, role and user id
    bool counts_tenant_ = false;  // false for an agent's console (not counted against the tenant)
  };

  /// Claims one slot for `user` of `tenant` (`agent`: an agent console connection; agents and customers of
  /// one id count apart, and agents not against the tenant). On `granted`, `out` holds the slot (and gives
  /// back the one it held before); otherwise `out` is left as it was.
  verdict acquire(const std::string& tenant, const std::string& user, bool agent, lease& out);

  /// Open connections counted for a tenant (its customers'), and for one of its users (tests, diagnostics).
  int tenant_count(const std::string& tenant) const;
  int user_count(const std::string& tenant, const std::string& user, bool agent) const;

private:
  static std::string user_key(std::string_view tenant, std::string_view user, bool agent);
  void release(const std::string& tenant, const std::string& user, bool counts_tenant);

  const int per_tenant_;
  const int per_user_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> tenants_;  // entries at zero are erased: the maps hold open ones only
  std::unordered_map<std::string, int> users_;
};

} // namespace sa::gateway
