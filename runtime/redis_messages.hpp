// Messages of a redis command as an actor sees them (sent by caf_redis_listener): redis_command_waiting
// zero or more times, then redis_command_replied or redis_command_failed. Each carries the id returned by
// redis_client::submit.
#pragma once

#include "runtime/redis_client.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace sa {

struct redis_command_replied {
  uint64_t request_id = 0;
  redis_reply reply;
};

struct redis_command_failed {
  uint64_t request_id = 0;
  redis_error_kind kind = redis_error_kind::connection_lost;
  std::string message;
};

/// The command waits for a connection (submitted while none was up, or put back after a loss).
struct redis_command_waiting {
  uint64_t request_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_reply& x) {
  return f(caf::meta::type_name("redis_reply"), x.type, x.integer, x.str, x.elements);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_command_replied& x) {
  return f(caf::meta::type_name("redis_command_replied"), x.request_id, x.reply);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_command_failed& x) {
  return f(caf::meta::type_name("redis_command_failed"), x.request_id, x.kind, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_command_waiting& x) {
  return f(caf::meta::type_name("redis_command_waiting"), x.request_id);
}

} // namespace sa
