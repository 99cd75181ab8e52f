// log_scan: the "no PII in logs" check, run by ctest after every other test (fixture sa_log_scan, see
// tests/CMakeLists.txt). Looks for every seeded PII value (seeded_pii.hpp) in the test logs under the
// build directory: ctest's Testing/Temporary/LastTest*.log (every test's stdout and stderr, node logs
// included: test nodes log to stderr; while ctest runs, only the running suite's LastTest*.log.tmp) and any other *.log file (node log files of integration tests,
// artifacts). Reports each hit as file:line and the value's name (never the value, or the report itself
// would plant it in LastTest.log) and exits 1; exits 2 when there is no ctest log to scan.
//
// Usage: test_log_scan <build dir> [<extra file or dir>...]
#include "tests/support/seeded_pii.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

namespace fs = std::filesystem;
namespace seeded = sa::test::seeded_pii;

namespace {

constexpr std::uintmax_t max_bytes = 512u << 20;

bool wanted(const fs::path& p, bool ctest_running) {
  auto name = p.filename().string();
  if (name.rfind("LastTest", 0) == 0)  // while ctest runs, LastTest*.log is the previous run's
    return !ctest_running || p.extension() == ".tmp";
  return p.extension() == ".log";
}

/// ctest writes the running suite's output to Testing/Temporary/LastTest*.log.tmp.
bool ctest_running(const fs::path& build) {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(build / "Testing" / "Temporary", ec))
    if (e.path().extension() == ".tmp" && e.path().filename().string().rfind("LastTest", 0) == 0)
      return true;
  return false;
}

/// Scans one file; returns the hits.
int scan(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string line;
  int hits = 0;
  for (size_t n = 1; std::getline(in, line); ++n)
    for (size_t i = 0; i < seeded::all.size(); ++i)
      if (line.find(seeded::all[i]) != std::string::npos) {
        std::cout << p.string() << ":" << n << ": seeded PII '" << seeded::names[i] << "' found\n";
        ++hits;
      }
  return hits;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: test_log_scan <build dir> [<file or dir>...]\n";
    return 2;
  }
  int hits = 0, files = 0;
  bool ctest_log = false;
  bool running = ctest_running(argv[1]);
  for (int a = 1; a < argc; ++a) {
    fs::path root{argv[a]};
    std::error_code ec;
    if (fs::is_regular_file(root, ec)) {
      hits += scan(root);
      ++files;
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && (it->path().filename() == "node_modules" || it->path().filename() == "CMakeFiles")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || !wanted(it->path(), running) || it->file_size(ec) > max_bytes)
        continue;
      ctest_log = ctest_log || it->path().filename().string().rfind("LastTest", 0) == 0;
      hits += scan(it->path());
      ++files;
    }
  }
  std::cout << "scanned " << files << " log files for " << seeded::all.size() << " seeded PII values: " << hits
            << " found\n";
  if (!ctest_log) {
    std::cout << "no ctest log (Testing/Temporary/LastTest*.log) under " << argv[1] << ": run me from ctest\n";
    return 2;
  }
  return hits == 0 ? 0 : 1;
}
