// Fuzz target: the config loader. Byte 0 picks the layer: the config file (JSON with comments, through a
// memfd so no disk is touched), or `--set` overrides / SUPPORT_AGENT_* environment entries (one per line).
// load() must answer a config or a failure whose every line is a "config error: ...", never crash or
// throw; a loaded config must pass validate() and print as JSON that loads back.
#include "config/load.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

/// A path that reads back `content`: one memfd made on the first call and rewritten for every input (making
/// and closing a memfd per input took a seventh of the fuzzer's time); empty when memfd_create fails.
std::string memfd_path(const std::string& content) {
  static const int fd = ::memfd_create("sa-fuzz-config", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0)
    return {};
  if (!content.empty() && ::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()))
    return {};
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  sa::config::load_options opts;
  switch (data[0] % 3) {
    case 0: opts.path = memfd_path(rest); break;
    case 1: opts.overrides = lines(rest); break;
    default:
      for (auto& l : lines(rest))
        opts.environment.push_back("SUPPORT_AGENT_" + l);
  }
  auto r = sa::config::load(opts);
  if (r) {
    SA_FUZZ_CHECK(sa::config::validate(*r).empty());
  } else {
    SA_FUZZ_CHECK(r.error().find("config error") != std::string::npos);
  }
  return 0;
}
