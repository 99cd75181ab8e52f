// A small Boost.Beast WebSocket (and HTTP GET) client for gateway tests. Every operation takes a
// deadline and runs the client's own io_context for at most that long: no sleeps, no hangs.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sa::test {

using namespace std::chrono_literals;

class ws_client {
public:
  ws_client();
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Connects to 127.0.0.1:port and upgrades on `target` (e.g. "/ws?token=..."); optional bearer token
  /// in the Authorization header. False on failure; http_status() then tells the refusal (e.g. 503).
  bool connect(uint16_t port, const std::string& target, const std::string& bearer = {},
               std::chrono::milliseconds deadline = 5s);

  bool send_text(const std::string& text, std::chrono::milliseconds deadline = 5s);
  bool send_binary(const std::string& data, std::chrono::milliseconds deadline = 5s);
  bool send_json(const nlohmann::json& j, std::chrono::milliseconds deadline = 5s) { return send_text(j.dump(), deadline); }

  /// The next frame as JSON; nullopt when the connection closed (see close_code()) or the deadline passed.
  std::optional<nlohmann::json> read(std::chrono::milliseconds deadline = 10s);

  /// Reads frames until one of `type` arrives (others are kept in skipped()); nullopt on close/deadline.
  std::optional<nlohmann::json> read_until(const std::string& type, std::chrono::milliseconds deadline = 20s);

  /// Reads until the server closes; true when it did within the deadline.
  bool wait_closed(std::chrono::milliseconds deadline = 10s);

  bool closed() const noexcept { return closed_; }
  int close_code() const noexcept { return close_code_; }
  bool timed_out() const noexcept { return timed_out_; }
  int http_status() const noexcept { return http_status_; }
  const nlohmann::json& skipped() const noexcept { return skipped_; }

  void close();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
  bool closed_ = false;
  bool timed_out_ = false;
  int close_code_ = 0;
  int http_status_ = 0;
  nlohmann::json skipped_ = nlohmann::json::array();
};

struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// GET http://127.0.0.1:port{target} (with `Authorization: Bearer <bearer>` when given); status 0 when the
/// deadline passed or the connection failed.
http_reply http_get(uint16_t port, const std::string& target, std::chrono::milliseconds deadline = 5s,
                    const std::string& bearer = {});

} // namespace sa::test
