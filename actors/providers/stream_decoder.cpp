// stream_decoder: the SSE framing and the terminal-event contract shared by every protocol.
#include "actors/providers/stream_decoder.hpp"

#include "actors/providers/json_util.hpp"

#include <cctype>
#include <exception>

namespace sa::providers {

provider_error stream_decoder::make_error(error_kind kind, std::string message, bool retryable) {
  provider_error e;
  e.kind = kind;
  e.message = std::move(message);
  e.retryable = retryable;
  return e;
}

namespace {

/// A tool name fit for a message: the provider's names are [A-Za-z0-9_-]{1,64}; anything else is not quoted.
std::string printable_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return "(invalid name)";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return "(invalid name)";
  return "'" + name + "'";
}

} // namespace

std::optional<provider_error> stream_decoder::check_tool_calls(std::vector<tool_call>& calls,
                                                               finish_kind finish) const {
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto& call = calls[i];
    auto which = std::string(provider_name()) + ": tool call " + std::to_string(i) + " ";
    if (call.name.empty())
      return make_error(error_kind::malformed, which + "has no tool name");
    if (call.arguments_json.find_first_not_of(" \t\r\n") == std::string::npos) {
      call.arguments_json = "{}";
      continue;
    }
    auto args = json_util::parse(call.arguments_json);
    if (args && args->is_object())
      continue;
    which += printable_tool_name(call.name);
    if (!args && finish == finish_kind::length)
      return make_error(error_kind::truncated, which + "was cut by the token limit: its arguments (" +
                                                 std::to_string(call.arguments_json.size()) +
                                                 " bytes) are incomplete JSON");
    return make_error(error_kind::malformed, which + (args ? "has arguments that are not a JSON object"
                                                           : "has arguments that are not valid JSON (" +
                                                               std::to_string(call.arguments_json.size()) + " bytes)"));
  }
  return std::nullopt;
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
