// fake-provider: a loopback stand-in for the OpenAI, Anthropic and Gemini streaming APIs, with
// deterministic answers and fault injection, for tests and for chaos-testing a provider config.
//
//   fake-provider --port P [--ttft-ms N] [--tokens-per-s N] [--seed S] [--embedding-dim N] [--fault JSON]...
//
// Faults change at run time through the admin API on the same port (see fake_service.hpp).
#include "actors/providers/fake/fake_server.hpp"
#include "actors/providers/fake/fake_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

using namespace sa::providers::fake;

constexpr const char* usage_text =
  "usage: fake-provider --port P [--ttft-ms N] [--tokens-per-s N] [--seed S] [--embedding-dim N]\n"
  "                     [--fault JSON]...\n"
  "  --port P           port on 127.0.0.1 (0: any free port; the chosen one is printed)\n"
  "  --ttft-ms N        time to first token in milliseconds (default 0)\n"
  "  --tokens-per-s N   streaming rate (default 0: as fast as possible)\n"
  "  --seed S           seed of the fault probability rolls (default 1)\n"
  "  --embedding-dim N  length of embedding vectors, OpenAI and Gemini routes (default 16)\n"
  "  --fault JSON       a fault rule, e.g. '{\"provider\":\"openai\",\"fault\":\"status\",\"status\":429,\n"
  "                     \"retry_after_s\":2,\"count\":3}'; repeatable, matched in order; a scripted tool call:\n"
  "                     '{\"fault\":\"tool_call\",\"tool\":\"create_ticket\",\"arguments\":{\"subject\":\"x\"}}'\n";

bool parse_number(std::string_view text, double& out) {
  try {
    std::size_t used = 0;
    out = std::stod(std::string(text), &used);
    return used == text.size() && out >= 0;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace

int main(int argc, char** argv) {
  service_options opts;
  std::optional<uint16_t> port;
  std::vector<fault_spec> faults;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage_text;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "fake-provider: " << arg << " needs a value\n" << usage_text;
      return 2;
    }
    std::string_view value = argv[++i];
    double n = 0;
    if (arg == "--fault") {
      auto f = parse_fault(value);
      if (!f) {
        std::cerr << f.error() << '\n';
        return 2;
      }
      faults.push_back(std::move(*f));
      continue;
    }
    if (!parse_number(value, n)) {
      std::cerr << "fake-provider: " << arg << " takes a non-negative number, not '" << value << "'\n";
      return 2;
    }
    if (arg == "--port" && n <= 65535 && n == static_cast<uint16_t>(n)) {
      port = static_cast<uint16_t>(n);
    } else if (arg == "--ttft-ms" && n <= 3600000) {
      opts.ttft_ms = static_cast<uint32_t>(n);
    } else if (arg == "--tokens-per-s") {
      opts.tokens_per_s = n;
    } else if (arg == "--seed") {
      opts.seed = static_cast<uint64_t>(n);
    } else if (arg == "--embedding-dim" && n >= 1 && n <= 65536) {
      opts.embedding_dim = static_cast<unsigned>(n);
    } else {
      std::cerr << "fake-provider: unknown option or value out of range: " << arg << ' ' << value << '\n'
                << usage_text;
      return 2;
    }
  }
  if (!port) {
    std::cerr << "fake-provider: --port is required\n" << usage_text;
    return 2;
  }

  boost::asio::io_context ioc(1);
  fake_service service(opts);
  service.faults().replace(std::move(faults));
  fake_server server(ioc, service);
  auto bound = server.listen(*port);
  if (!bound) {
    std::cerr << bound.error() << '\n';
    return 1;
  }
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec)
      return;
    server.stop();
    ioc.stop();
  });
  std::cout << "fake-provider: listening on 127.0.0.1:" << *bound << std::endl; // endl flushes
  ioc.run();
  std::cout << "fake-provider: stopped" << std::endl;
  return 0;
}
