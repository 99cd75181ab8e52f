// stream_decoder: turns the bytes of one streamed response into stream_events. The base owns the SSE
// framing and the contract (deltas, then exactly one stream_end or provider_error, then nothing); each
// protocol subclass only interprets events.
//
// Never throws: bad JSON, wrong types and missing fields become a provider_error of kind malformed (or
// defaults, for optional data such as usage). The sink is called outside any internal try block, so an
// exception thrown by the sink propagates to the caller of feed()/finish().
#pragma once

#include "actors/providers/provider_types.hpp"
#include "actors/providers/sse_parser.hpp"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace sa::providers {

using stream_sink = std::function<void(const stream_event&)>;

class stream_decoder {
public:
  explicit stream_decoder(sse_limits limits = {}) : parser_(limits) {}
  virtual ~stream_decoder() = default;
  stream_decoder(const stream_decoder&) = delete;
  stream_decoder& operator=(const stream_decoder&) = delete;

  /// Consumes the next bytes of the response body (after a 2xx status).
  void feed(std::string_view bytes, const stream_sink& sink);

  /// The body ended (connection closed cleanly). Emits a truncated error unless the stream already ended.
  void finish(const stream_sink& sink);

  /// True once the terminal event (stream_end or provider_error) was emitted.
  bool done() const noexcept { return done_; }

protected:
  /// Interprets one SSE event; may push any number of events to `out` (the base stops after a terminal one).
  virtual void on_event(const sse_event& ev, std::vector<stream_event>& out) = 0;

  /// The body ended cleanly without a terminal event; push a stream_end or an error to `out`.
  virtual void on_close(std::vector<stream_event>& out) = 0;

  /// Used in messages ("openai", "anthropic", "gemini").
  virtual const char* provider_name() const noexcept = 0;

  static provider_error make_error(error_kind kind, std::string message, bool retryable = false);

  /// Checks the tool calls of a stream that ended normally: each needs a name and arguments that are one
  /// JSON object (empty arguments become "{}"). A call whose arguments were cut by the token limit
  /// (`finish` length) is `truncated`, any other bad call `malformed`; neither is retryable (the SDKs do
  /// not retry a 200 response). The message names the call by index and tool, never quotes the arguments.
  /// nullopt when every call is usable.
  std::optional<provider_error> check_tool_calls(std::vector<tool_call>& calls, finish_kind finish) const;

private:
  void deliver(std::vector<stream_event>& events, const stream_sink& sink);

  sse_parser parser_;
  bool done_ = false;
};

} // namespace sa::providers
