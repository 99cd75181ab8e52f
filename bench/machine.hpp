// The machine a figure was measured on: cores and CPU model, for every bench's JSON line.
#pragma once

#include <fstream>
#include <string>
#include <thread>

namespace sa::bench {

inline std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

inline unsigned cores() {
  return std::thread::hardware_concurrency();
}

} // namespace sa::bench
