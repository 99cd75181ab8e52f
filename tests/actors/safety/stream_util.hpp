// Test helper: a text pushed through a stream_redactor in chunks of a given size, as a streamed answer.
#pragma once

#include "actors/safety/output_filter.hpp"

#include <string>

namespace sa::test {

/// What the customer would read: every push's release, then finish(). `r` is left finished.
inline std::string stream_through(safety::stream_redactor& r, const std::string& text, size_t chunk) {
  std::string out;
  for (size_t pos = 0; pos < text.size(); pos += chunk)
    out += r.push(text.substr(pos, chunk));
  return out + r.finish();
}

} // namespace sa::test
