// caf_redis_listener: a redis_listener that forwards each callback to an actor as one of the messages in
// runtime/redis_messages.hpp (anon_send: thread-safe, never blocks the loop). One listener can serve many
// commands of the same actor. If the actor is gone the messages are dropped.
#pragma once

#include "runtime/redis_client.hpp"

#include <caf/actor.hpp>

namespace sa {

class caf_redis_listener final : public redis_listener {
public:
  explicit caf_redis_listener(caf::actor receiver) : receiver_(std::move(receiver)) {}

  void on_reply(uint64_t id, redis_reply reply) noexcept override;
  void on_error(uint64_t id, const redis_error& error) noexcept override;
  void on_waiting(uint64_t id) noexcept override;

private:
  caf::actor receiver_;
};

} // namespace sa
