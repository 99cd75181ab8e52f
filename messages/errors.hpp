// support_errc: the product's stable error codes. Never renumber; append new codes at the end.
// Each code has a stable name (used in the client protocol, logs and metrics labels).
#pragma once

#include "caf/atom.hpp"
#include "caf/error.hpp"

#include <cstdint>
#include <string>

namespace sa {

enum class support_errc : uint8_t {
  ok = 0,
  empty_message = 1,        ///< the user message has no text
  message_too_long = 2,     ///< over limits.max_message_bytes
  invalid_utf8 = 3,         ///< the message is not valid UTF-8
  unknown_tenant = 4,       ///< no such tenant on this node
  unknown_user = 5,         ///< the tenant has no such user
  busy = 6,                 ///< too many messages queued for this session
  knowledge_unavailable = 7,///< the tenant's knowledge base could not be loaded
  component_failed = 8,     ///< a pipeline component crashed and its restart did not help
  timeout = 9,              ///< the turn missed its deadline
  account_unavailable = 10, ///< the account context service failed
  shutting_down = 11,       ///< the node is stopping
  internal = 12,
  session_forbidden = 13,  ///< the session belongs to another user or tenant
  turn_conflict = 14,      ///< another writer committed this turn number first
};

const char* to_string(support_errc x) noexcept;

/// The category atom under which support_errc travels inside caf::error.
using support_error_atom = caf::atom_constant<caf::atom("support")>;

inline caf::error make_error(support_errc x) {
  return caf::error{static_cast<uint8_t>(x), support_error_atom::value};
}

/// Maps any caf::error to the product's code (non-support errors become internal or timeout).
support_errc to_support_errc(const caf::error& e) noexcept;

} // namespace sa
