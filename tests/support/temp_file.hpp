// temp_file: a file with the given text in the temp directory, removed at scope exit. Names are unique
// per process and call, so parallel tests never share one.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <unistd.h>

namespace sa::test {

class temp_file {
public:
  explicit temp_file(const std::string& text, const std::string& suffix = ".txt") {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path()
             / ("sa-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + suffix))
              .string();
    std::ofstream(path_) << text;
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

} // namespace sa::test
