// Fuzz target: one provider's streamed-response decoder (SSE framing plus the provider's JSON events)
// and its error-body parser. Built once per provider (SA_FUZZ_PROVIDER = openai, anthropic, gemini).
//
// Input: byte 0 picks the chunk size (1..64) used to split the rest, the rest is a response body.
// Invariants: decoding never throws or crashes; the events obey the contract (deltas, then exactly one
// terminal event, then nothing); and the outcome does not depend on how the bytes were split (the same
// body fed whole and fed in chunks gives the same text and the same terminal kind).
#include "actors/providers/anthropic/anthropic_protocol.hpp"
#include "actors/providers/gemini/gemini_protocol.hpp"
#include "actors/providers/openai/openai_protocol.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace {

using namespace sa::providers;

#if SA_FUZZ_PROVIDER_OPENAI
using protocol = openai_protocol;
#elif SA_FUZZ_PROVIDER_ANTHROPIC
using protocol = anthropic_protocol;
#elif SA_FUZZ_PROVIDER_GEMINI
using protocol = gemini_protocol;
#else
#error "define SA_FUZZ_PROVIDER_OPENAI, _ANTHROPIC or _GEMINI"
#endif

struct outcome {
  std::string text;      // every delta, in order (thinking marked)
  std::string terminal;  // "end:<finish_reason>", "error:<kind>", or "" if none yet
  int terminals = 0;
  bool delta_after_terminal = false;
};

outcome decode(std::string_view body, size_t chunk) {
  protocol p;
  auto decoder = p.make_decoder();
  outcome o;
  auto sink = [&o](const stream_event& ev) {
    if (auto d = std::get_if<stream_delta>(&ev)) {
      if (o.terminals > 0)
        o.delta_after_terminal = true;
      o.text += d->thinking ? "[t]" : "[a]";
      o.text += d->text;
    } else if (auto e = std::get_if<stream_end>(&ev)) {
      ++o.terminals;
      o.terminal = "end:" + e->finish_reason;
    } else {
      ++o.terminals;
      o.terminal = std::string{"error:"} + to_string(std::get<provider_error>(ev).kind);
    }
  };
  for (size_t at = 0; at < body.size(); at += chunk)
    decoder->feed(body.substr(at, chunk), sink);
  decoder->finish(sink);
  SA_FUZZ_CHECK(decoder->done());
  return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto whole = decode(body, body.size() + 1);
  auto split = decode(body, chunk);
  SA_FUZZ_CHECK(whole.terminals == 1 && split.terminals == 1);
  SA_FUZZ_CHECK(!whole.delta_after_terminal && !split.delta_after_terminal);
  SA_FUZZ_CHECK(whole.text == split.text);
  SA_FUZZ_CHECK(whole.terminal == split.terminal);

  // The same bytes as a non-2xx body with headers the SDKs read.
  protocol p;
  header_list headers{{"retry-after", std::string(body.substr(0, 16))}, {"x-should-retry", "true"}};
  auto e = p.parse_error(429 + data[0] % 200, headers, body);
  (void) e;
  return 0;
}
