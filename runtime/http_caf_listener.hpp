// caf_http_listener: an http_listener that forwards each callback to an actor as one of the messages
// in runtime/http_messages.hpp (anon_send: thread-safe, never blocks the loop). One listener can serve
// many requests of the same actor. If the actor is gone the messages are dropped.
#pragma once

#include "runtime/http_client.hpp"

#include <caf/actor.hpp>

namespace sa {

class caf_http_listener final : public http_listener {
public:
  explicit caf_http_listener(caf::actor receiver) : receiver_(std::move(receiver)) {}

  void on_headers(uint64_t id, int status, const http_headers& headers) noexcept override;
  void on_chunk(uint64_t id, std::string chunk) noexcept override;
  void on_complete(uint64_t id) noexcept override;
  void on_error(uint64_t id, const http_error& error) noexcept override;

private:
  caf::actor receiver_;
};

} // namespace sa
