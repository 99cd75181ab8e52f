// Fuzz target: the embedding answer reader of hybrid retrieval (what an OpenAI-compatible or Gemini embedding
// endpoint sends back) and the one-line error message made of a non-2xx body.
//
// Input: byte 0 picks the wire (bit 0: openai / gemini) and the number of inputs the request had (bits 1-3:
// 1..8); the rest is the response body.
// Invariants: parsing never throws or crashes; an accepted answer has exactly one vector per input, all of
// one non-zero length, every value finite and every vector of unit length; the error message starts with
// "HTTP <status>" and stays short whatever the body.
#include "actors/retriever/embedding_protocol.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  using namespace sa::knowledge;
  const auto wire = (data[0] & 1) != 0 ? embedding_wire::gemini : embedding_wire::openai;
  const std::size_t expected = 1 + ((data[0] >> 1) & 7);
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = parse_embedding_response(wire, body, expected);
  if (parsed) {
    SA_FUZZ_CHECK(parsed->size() == expected);
    const auto dims = parsed->front().size();
    SA_FUZZ_CHECK(dims > 0);
    for (const auto& v : *parsed) {
      SA_FUZZ_CHECK(v.size() == dims);
      double norm = 0;
      for (float x : v) {
        SA_FUZZ_CHECK(std::isfinite(x));
        norm += static_cast<double>(x) * x;
      }
      SA_FUZZ_CHECK(std::fabs(norm - 1.0) < 1e-3);
    }
  }
  auto message = embedding_error_message(500, body);
  SA_FUZZ_CHECK(message.rfind("HTTP 500", 0) == 0);
  SA_FUZZ_CHECK(message.size() <= 220);
  return 0;
}
