// sse_parser: see the header. Follows https://html.spec.whatwg.org/multipage/server-sent-events.html
// (parsing an event stream), except that an unterminated event at the end is reported, not dropped.
#include "actors/providers/sse_parser.hpp"

namespace sa::providers {

namespace {

/// The first CR or LF at or after `pos`, npos if none. A plain scan: string_view::find_first_of tests
/// every byte against the set with a memchr call (a sixth of the decoding time in the SSE fuzz targets).
std::size_t line_end(std::string_view s, std::size_t pos) {
  for (; pos < s.size(); ++pos)
    if (s[pos] == '\r' || s[pos] == '\n')
      return pos;
  return std::string_view::npos;
}

} // namespace

status sse_parser::fail(std::string message) {
  error_ = std::move(message);
  return failure{error_};
}

status sse_parser::feed(std::string_view chunk, const event_handler& on_event) {
  if (failed())
    return failure{error_};
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (chunk[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    auto end = line_end(chunk, pos);
    if (end == std::string_view::npos) {
      if (line_.size() + (chunk.size() - pos) > limits_.max_line_bytes)
        return fail("sse: a line exceeds " + std::to_string(limits_.max_line_bytes) + " bytes");
      line_.append(chunk.substr(pos));
      break;
    }
    if (line_.size() + (end - pos) > limits_.max_line_bytes)
      return fail("sse: a line exceeds " + std::to_string(limits_.max_line_bytes) + " bytes");
    skip_lf_ = chunk[end] == '\r';
    if (line_.empty()) {
      process_line(chunk.substr(pos, end - pos), on_event);
    } else {
      line_.append(chunk.substr(pos, end - pos));
      std::string line = std::move(line_);
      line_.clear();
      process_line(line, on_event);
    }
    if (failed())
      return failure{error_};
    pos = end + 1;
  }
  return {};
}

void sse_parser::process_line(std::string_view line, const event_handler& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, 3) == "\xEF\xBB\xBF")
      line.remove_prefix(3);
  }
  if (line.empty()) {
    if (has_data_) {
      sse_event ev;
      if (!type_.empty())
        ev.type = std::move(type_);
      ev.data = std::move(data_);
      ev.id = last_id_;
      ev.retry_ms = retry_ms_;
      on_event(ev);
    }
    pending_ = has_data_ = false;
    data_.clear();
    type_.clear();
    retry_ms_.reset();
    return;
  }
  if (line.front() == ':')
    return; // comment (keep-alive)
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
  }
  pending_ = true;
  if (field == "data") {
    if (has_data_)
      data_.push_back('\n');
    if (data_.size() + value.size() > limits_.max_event_bytes) {
      error_ = "sse: an event's data exceeds " + std::to_string(limits_.max_event_bytes) + " bytes";
      return; // feed() sees failed() and reports it
    }
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_id_.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && value.size() <= 18
        && value.find_first_not_of("0123456789") == std::string_view::npos)
      retry_ms_ = std::stoull(std::string(value));
  }
  // other fields are ignored, as the specification requires
}

status sse_parser::finish() {
  if (failed())
    return failure{error_};
  if (!line_.empty() || pending_)
    return fail("sse: truncated: the stream ended inside an event (no empty line dispatched it)");
  return {};
}

} // namespace sa::providers
