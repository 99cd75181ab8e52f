// stream_decoder: the SSE framing and the terminal-event contract shared by every protocol.
#include "actors/providers/stream_decoder.hpp"

#include <exception>

namespace sa::providers {

provider_error stream_decoder::make_error(error_kind kind, std::string message, bool retryable) {
  provider_error e;
  e.kind = kind;
  e.message = std::move(message);
  e.retryable = retryable;
  return e;
}

void stream_decoder::deliver(std::vector<stream_event>& events, const stream_sink& sink) {
  for (auto& ev : events) {
    if (done_)
      break;
    if (!std::holds_alternative<stream_delta>(ev))
      done_ = true;
    sink(ev);
  }
  events.clear();
}

void stream_decoder::feed(std::string_view bytes, const stream_sink& sink) {
  if (done_)
    return;
  std::vector<stream_event> out;
  auto st = parser_.feed(bytes, [&](const sse_event& ev) {
    if (done_ || (!out.empty() && !std::holds_alternative<stream_delta>(out.back())))
      return; // already ended: later events are ignored
    try {
      on_event(ev, out);
    } catch (const std::exception& ex) {
      // A JSON type error or similar on untrusted input: a typed error, never an escaping exception.
      out.emplace_back(make_error(error_kind::malformed,
                                  std::string(provider_name()) + ": cannot decode a stream event: " + ex.what()));
    }
  });
  if (!st)
    out.emplace_back(make_error(error_kind::malformed, std::string(provider_name()) + ": " + st.error()));
  deliver(out, sink);
}

void stream_decoder::finish(const stream_sink& sink) {
  if (done_)
    return;
  std::vector<stream_event> out;
  if (auto st = parser_.finish(); !st) {
    out.emplace_back(make_error(error_kind::truncated, std::string(provider_name()) + ": " + st.error(), true));
  } else {
    try {
      on_close(out);
    } catch (const std::exception& ex) {
      out.emplace_back(make_error(error_kind::malformed, std::string(provider_name()) + ": " + ex.what()));
    }
    if (out.empty())
      out.emplace_back(make_error(error_kind::truncated,
                                  std::string(provider_name()) + ": the stream ended before its final event", true));
  }
  deliver(out, sink);
}

} // namespace sa::providers
