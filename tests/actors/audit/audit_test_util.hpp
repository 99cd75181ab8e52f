// Helpers for the audit tests: a scratch directory per test, whole-file reads and writes, and a store that
// appends synchronously (submit, then wait for the outcome with a deadline).
#pragma once

#include "actors/audit/audit_store.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace sa::test {

/// A fresh directory under the temp dir, removed with everything in it at scope exit.
class scratch_dir {
public:
  scratch_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path()
            / ("sa-audit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  write_text(path, text);
}

inline audit::entry make_entry(const std::string& tenant, const std::string& action, const std::string& args = "{}",
                               const std::string& result = "ok", const std::string& session = {}) {
  audit::entry e;
  e.at = std::chrono::system_clock::now();
  e.tenant = tenant;
  e.actor = "bot";
  e.action = action;
  e.args = args;
  e.result = result;
  e.session = session;
  return e;
}

/// Submits and waits for the store's outcome (throws when it is refused or does not come in time).
inline audit::stored append_now(audit::store& s, audit::entry e,
                                std::chrono::milliseconds within = std::chrono::seconds(20)) {
  auto p = std::make_shared<std::promise<audit::stored>>();
  auto f = p->get_future();
  if (!s.submit(std::move(e), [p](const audit::stored& r) { p->set_value(r); }))
    throw std::runtime_error("the audit store refused the record");
  if (f.wait_for(within) != std::future_status::ready)
    throw std::runtime_error("no outcome from the audit store in time");
  return f.get();
}

} // namespace sa::test
