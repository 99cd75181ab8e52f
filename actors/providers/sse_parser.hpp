// sse_parser: incremental Server-Sent Events framing (WHATWG "event stream interpretation"), the common
// layer under the openai, anthropic and gemini stream decoders.
//
// Plain class, one per response stream, not thread-safe. Bytes go in as the socket delivers them (split
// anywhere, even inside a UTF-8 character or between the \r and \n of one line end); whole events come
// out through a callback. Limits bound memory: a line or an event over its limit fails the stream.
#pragma once

#include "runtime/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sa::providers {

/// One dispatched event. `type` is the `event:` field, or "message" when the event had none.
struct sse_event {
  std::string type = "message";
  std::string data;                    ///< the `data:` lines joined with '\n'
  std::string id;                      ///< the last `id:` seen on the stream (persists across events)
  std::optional<uint64_t> retry_ms;    ///< a `retry:` field in this event, if any
};

struct sse_limits {
  std::size_t max_line_bytes = 1u << 20;       ///< one line, without its line end
  std::size_t max_event_bytes = 4u << 20;      ///< the joined data of one event
};

class sse_parser {
public:
  using event_handler = std::function<void(const sse_event&)>;

  explicit sse_parser(sse_limits limits = {}) : limits_(limits) {}

  /// Consumes the next bytes of the stream and calls `on_event` for each event they complete.
  /// Fails (and keeps failing) once a limit is exceeded; events completed before that were delivered.
  status feed(std::string_view chunk, const event_handler& on_event);

  /// The stream has ended. Fails with a "truncated" message when an event was started (a partial line
  /// or fields without the empty line that dispatches them); that event is not delivered.
  status finish();

  /// True once feed() or finish() has failed.
  bool failed() const noexcept { return !error_.empty(); }

private:
  void process_line(std::string_view line, const event_handler& on_event);
  status fail(std::string message);

  sse_limits limits_;
  std::string line_;             ///< bytes of the current, unterminated line
  bool skip_lf_ = false;         ///< the previous byte was a '\r': a following '\n' belongs to it
  bool first_line_ = true;       ///< strip a UTF-8 BOM from the first line
  bool pending_ = false;         ///< fields seen since the last dispatch
  bool has_data_ = false;
  std::string data_;
  std::string type_;
  std::string last_id_;
  std::optional<uint64_t> retry_ms_;
  std::string error_;
};

} // namespace sa::providers
