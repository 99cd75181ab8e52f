// Fuzz target: the client wire-protocol decoder (docs/protocol.md). Every input from a WebSocket client
// reaches parse_client_frame; it must answer a frame or a protocol error, never crash or throw.
#include "actors/gateway/protocol.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = sa::gateway::parse_client_frame(text);
  // An error always names its code; a frame never does.
  SA_FUZZ_CHECK(r.ok == r.code.empty());
  if (r.ok && r.frame.kind == sa::gateway::client_kind::feedback)
    SA_FUZZ_CHECK(r.frame.csat >= 1 && r.frame.csat <= 5);
  return 0;
}
