// fake_provider_fixture: the fake LLM provider (actors/providers/fake) running in-process on a real
// loopback socket, for tests and benchmarks that drive the product's HTTP client and provider actors.
//
//   sa::test::fake_provider_fixture fake;                  // 127.0.0.1, any free port, own io thread
//   settings.base_url = fake.base_url();                   // "http://127.0.0.1:<port>"
//   fake.set_faults({status_fault(500, 1)});               // or fault_table JSON via parse_faults
//   ... run the code under test ...
//   CHECK(fake.requests("openai") == 2);
//
// Threading: fake_service and its fault_table are single-threaded and live on the fixture's io thread.
// Every accessor below (faults, counters, last request) is posted to that thread and waits for it, so
// they are safe to call from any other thread (the test's thread, an actor) and see a consistent state;
// they must not be called from inside the io thread (i.e. from within on_io). The destructor stops the
// server (closing open connections, so clients see a reset or EOF) and joins the io thread.
//
// Routes counted by requests(): "openai" (also OpenAI-compatible clients), "anthropic", "gemini",
// "embeddings". Links: sa_fake_provider_fixture (tests/actors/providers/CMakeLists.txt).
#pragma once

#include "actors/providers/fake/fake_service.hpp"
#include "actors/providers/fake/fault_table.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::test {

struct fake_provider_options {
  uint32_t ttft_ms = 0;        ///< delay before the first token of every stream
  double tokens_per_s = 0;     ///< 0: tokens as fast as the socket takes them
  uint64_t seed = 1;           ///< seeds the faults' probability rolls (reproducible runs)
  unsigned embedding_dim = 16;
  uint16_t port = 0;           ///< 0: any free port (the default; tests run in parallel)
};

class fake_provider_fixture {
public:
  /// Starts listening and the io thread. Throws std::runtime_error when the port cannot be bound.
  explicit fake_provider_fixture(fake_provider_options opts = {});
  /// Stops the server and joins the io thread.
  ~fake_provider_fixture();
  fake_provider_fixture(const fake_provider_fixture&) = delete;
  fake_provider_fixture& operator=(const fake_provider_fixture&) = delete;

  uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>" (no trailing slash), as endpoint_settings::base_url expects.
  std::string base_url() const;

  // --- faults (fault_table.hpp: rules match in order, `count` -1 = unlimited) ------------------------

  /// Replaces every fault rule.
  void set_faults(std::vector<providers::fake::fault_spec> faults);
  /// Appends one rule after the existing ones.
  void add_fault(providers::fake::fault_spec fault);
  void clear_faults();

  // --- counters (since start or the last reset_stats) ----------------------------------------------

  /// Requests received on a route: "openai", "anthropic", "gemini", "embeddings".
  uint64_t requests(std::string_view route);
  /// Requests a fault of `kind` was applied to (fault_kind::none: requests answered normally).
  uint64_t faults(providers::fake::fault_kind kind);
  /// Every request on a model route (admin calls excluded).
  uint64_t total_requests();
  void reset_stats();
  /// The fault_table's stats as JSON ({"total":N,"requests":{...},"faults":{...},"by_route":{...}}).
  std::string stats_json();

  /// The last chat request as received (request.method/target/body, headers); empty before the first.
  providers::fake::received_request last_request();

  /// Runs `f` on the io thread with the service and waits for it to return: for anything the accessors
  /// above do not cover. `f` must not block (it holds up every connection of the fake).
  void on_io(std::function<void(providers::fake::fake_service&)> f);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  uint16_t port_ = 0;
};

/// A fault rule for `status` (e.g. 429, 500, 529) applied to the next `count` requests (-1: all).
providers::fake::fault_spec status_fault(int status, int64_t count = -1, std::string provider = "*");

/// A fault rule of `kind` for the next `count` requests (-1: all); set its other fields as needed.
providers::fake::fault_spec make_fault(providers::fake::fault_kind kind, int64_t count = -1,
                                       std::string provider = "*");

} // namespace sa::test
