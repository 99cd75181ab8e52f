// account context service (one per node, supervised): the embedded demo store behind account_actor.
// The HTTP backend of the knowledge/account issue implements the same interface.
#pragma once

#include "actors/account/account_store.hpp"
#include "messages/account.hpp"

#include <memory>

namespace sa {

account_actor::behavior_type embedded_accounts(account_actor::pointer self,
                                               std::shared_ptr<const account_store> store);

} // namespace sa
