#include "runtime/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdint>
#include <cstdio>
#include <mutex>

namespace sa::log {

namespace {

std::mutex mtx;
spdlog::sink_ptr sink;
spdlog::level::level_enum level = spdlog::level::info;

spdlog::sink_ptr current_sink() {
  if (!sink)
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

} // namespace

bool init(const std::string& level_name, const std::string& file, std::string* error) {
  auto lvl = spdlog::level::from_str(level_name);
  if (lvl == spdlog::level::off && level_name != "off") {
    if (error)
      *error = "unknown log level '" + level_name + "'";
    return false;
  }
  spdlog::sink_ptr new_sink;
  try {
    if (file.empty())
      new_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
      new_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
  } catch (const spdlog::spdlog_ex& e) {
    if (error)
      *error = "cannot open log file '" + file + "': " + e.what();
    return false;
  }
  new_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  std::lock_guard<std::mutex> guard{mtx};
  sink = new_sink;
  level = lvl;
  spdlog::drop_all();
  return true;
}

std::shared_ptr<spdlog::logger> get(const std::string& role) {
  std::lock_guard<std::mutex> guard{mtx};
  if (auto existing = spdlog::get(role))
    return existing;
  auto logger = std::make_shared<spdlog::logger>(role, current_sink());
  logger->set_level(level);
  spdlog::register_logger(logger);
  return logger;
}

std::string tag(std::string_view id) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string{buf, 12};
}

} // namespace sa::log
