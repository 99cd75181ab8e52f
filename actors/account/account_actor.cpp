#include "actors/account/account_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

account_actor::behavior_type embedded_accounts(account_actor::pointer self,
                                               std::shared_ptr<const account_store> store) {
  log_exceptions(self, "account");
  return {
    [store](const account_request& r) -> account_facts {
      return store->lookup(r.tenant.value, r.user.value);
    },
  };
}

} // namespace sa
