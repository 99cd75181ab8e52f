#include "actors/quality/jsonl_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sa::quality {

namespace fs = std::filesystem;

jsonl_store::jsonl_store(std::string path, std::size_t max_records)
    : path_(std::move(path)), max_records_(std::max<std::size_t>(1, max_records)) {
  std::error_code ec;
  auto parent = fs::path(path_).parent_path();
  if (!parent.empty())
    fs::create_directories(parent, ec);
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line))
    ++records_;
}

bool jsonl_store::rotate() {
  out_.close();
  std::error_code ec;
  fs::rename(path_, path_ + ".1", ec);
  if (ec) {
    error_ = "rename " + path_ + ": " + ec.message();
    return false;
  }
  records_ = 0;
  return true;
}

bool jsonl_store::append(std::string_view line) {
  if (line.find('\n') != std::string_view::npos) {
    error_ = "a record must be one line";
    return false;
  }
  if (records_ >= max_records_ && !rotate())
    return false;
  if (!out_.is_open()) {
    out_.open(path_, std::ios::app | std::ios::binary);
    if (!out_) {
      error_ = "open " + path_ + ": " + std::strerror(errno);
      return false;
    }
  }
  out_ << line << '\n';
  out_.flush();
  if (!out_) {
    error_ = "write " + path_ + ": " + std::strerror(errno);
    out_.close();
    return false;
  }
  ++records_;
  return true;
}

} // namespace sa::quality
