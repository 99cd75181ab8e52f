#include "runtime/redis_caf_listener.hpp"

#include "runtime/redis_messages.hpp"

#include <caf/send.hpp>

namespace sa {

void caf_redis_listener::on_reply(uint64_t id, redis_reply reply) noexcept {
  caf::anon_send(receiver_, redis_command_replied{id, std::move(reply)});
}

void caf_redis_listener::on_error(uint64_t id, const redis_error& error) noexcept {
  caf::anon_send(receiver_, redis_command_failed{id, error.kind, error.message});
}

void caf_redis_listener::on_waiting(uint64_t id) noexcept {
  caf::anon_send(receiver_, redis_command_waiting{id});
}

} // namespace sa
