// Internals shared by the gateway's io-side files (server.cpp: listener, HTTP, the gateway object;
// ws_session.cpp: one WebSocket). Everything declared here runs on the io thread(s) only.
#pragma once

#include "actors/gateway/connection_slots.hpp"
#include "actors/gateway/dashboard.hpp"
#include "actors/gateway/gateway.hpp"
#include "actors/gateway/gateway_messages.hpp"
#include "actors/gateway/rate_limit.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace caf {
class actor_system;
}

namespace sa::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class ws_session;

/// How a connection actor posts to its connection's strand, from any thread. The server closes every
/// poster when it stops, before its io_context goes away: posts after that are dropped, and the strand
/// (which belongs to the io_context) is released while the io_context still exists - a connection actor
/// may outlive the server, and destroying its copy of the strand later would touch freed memory.
class strand_poster {
public:
  explicit strand_poster(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  template <class F>
  void post(F&& f) {
    std::lock_guard<std::mutex> guard{m_};
    if (ex_)
      asio::post(*ex_, std::forward<F>(f));
  }

  void close() {
    std::lock_guard<std::mutex> guard{m_};
    ex_.reset();
  }

private:
  std::mutex m_;
  std::optional<asio::any_io_executor> ex_;
};

/// What every connection of one server shares. Immutable after start, except the atomics and the
/// live-session set (guarded: with several io threads, sessions on different strands touch it).
struct server_state {
  caf::actor_system* sys = nullptr;
  session_actor router;
  gateway_actor gateway;
  gateway_settings settings;
  std::shared_ptr<spdlog::logger> log;
  std::atomic<int> connections{0};
  std::optional<connection_slots> slots;                  // per tenant and per user; set at start
  std::atomic<bool> stopping{false};
  std::mutex live_mutex;
  std::unordered_set<std::shared_ptr<ws_session>> live;  // open WebSockets (for shutdown)
  std::vector<std::weak_ptr<strand_poster>> posters;     // guarded by live_mutex; closed on shutdown
  std::mutex tenant_mutex;                                // held only to take one token
  std::unordered_map<std::string, token_bucket> tenant_buckets;
  std::shared_ptr<dashboard_history> dashboard;           // null when metrics are off
};

/// Takes one token from the tenant's shared bucket (messages per tenant, across its connections).
bool take_tenant_token(server_state& state, const std::string& tenant);

/// The path of a request target, without the query.
std::string_view target_path(std::string_view target);

/// The percent-decoded value of one query parameter of a request target ("" when absent).
std::string query_param(std::string_view target, std::string_view name);

/// The token of an `Authorization: Bearer` header ("" when absent).
std::string bearer_token(const http::request<http::string_body>& req);

/// Takes over an upgraded socket: WebSocket handshake, authentication, then the connection's life.
/// `agent`: the agent console (/agent/ws) instead of the customer protocol (/ws).
void start_websocket(tcp::socket&& socket, std::shared_ptr<server_state> state,
                     http::request<http::string_body> req, bool agent);

/// Shutdown: asks every open WebSocket to close with 1001 (from any thread).
void close_websockets(server_state& state);

/// After the io threads stopped: cuts the sockets that did not close in time.
void abort_websockets(server_state& state);

/// A poster for `ex`, registered so that close_posters can release it at shutdown.
std::shared_ptr<strand_poster> make_poster(server_state& state, asio::any_io_executor ex);

/// After the io threads stopped, before the io_context is destroyed: closes every poster.
void close_posters(server_state& state);

} // namespace sa::gateway
