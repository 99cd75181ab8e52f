// fake_server: the Boost.Beast HTTP/1.1 front of the fake provider. Accepts on 127.0.0.1, reads requests
// (keep-alive), asks fake_service for a response_plan and executes it step by step: one write in flight,
// delays on steady timers (the io thread never sleeps), close or reset when the plan says so.
//
// Single-threaded: run the io_context on one thread; fake_service is touched only from it.
#pragma once

#include "actors/providers/fake/fake_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace sa::providers::fake {

class fake_server {
public:
  fake_server(boost::asio::io_context& ioc, fake_service& service);
  ~fake_server();
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  /// Binds 127.0.0.1:`port` (0: any free port) and starts accepting. Returns the bound port, or a failure
  /// naming the port and the reason.
  result<uint16_t> listen(uint16_t port);

  /// Stops accepting and closes every open connection. Call on the io thread (post it).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sa::providers::fake
