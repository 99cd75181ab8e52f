// Command-line options of the bench programs: each option is bound to the variable it sets, so a bench
// declares its options once and gets strict parsing (an unknown option, a missing value or a malformed
// number is an error naming the option) without a hand-written loop.
//
//   sa::bench::option_parser p;
//   p.add("--turns", o.turns).add("--server", o.server).add("--server-set", o.server_sets);
//   if (!p.parse(argc, argv)) { std::cout << usage; return 0; }   // --help / -h
//   // then check ranges: the parser only knows types
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sa::bench {

class option_parser {
public:
  option_parser& add(std::string name, int& target) {
    return bind(std::move(name), [&target](const std::string& n, const std::string& v) { target = to_int(n, v); });
  }
  option_parser& add(std::string name, double& target) {
    return bind(std::move(name), [&target](const std::string& n, const std::string& v) { target = to_double(n, v); });
  }
  option_parser& add(std::string name, std::string& target) {
    return bind(std::move(name), [&target](const std::string&, const std::string& v) { target = v; });
  }
  /// A repeatable option: every occurrence appends its value.
  option_parser& add(std::string name, std::vector<std::string>& target) {
    return bind(std::move(name), [&target](const std::string&, const std::string& v) { target.push_back(v); });
  }

  /// Sets the bound variables from argv[1..]. False for --help or -h (the caller prints its usage);
  /// throws std::runtime_error naming the option for anything it cannot take.
  bool parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      std::string name = argv[i];
      if (name == "--help" || name == "-h")
        return false;
      auto set = setters_.find(name);
      if (set == setters_.end())
        throw std::runtime_error("unknown option " + name);
      if (i + 1 >= argc)
        throw std::runtime_error(name + " needs a value");
      set->second(name, argv[++i]);
    }
    return true;
  }

private:
  using setter = std::function<void(const std::string& name, const std::string& value)>;

  option_parser& bind(std::string name, setter s) {
    setters_[std::move(name)] = std::move(s);
    return *this;
  }

  /// `convert` (std::stoi, std::stod, ...) must take the whole of `v`.
  template <class Convert>
  static auto to_number(const std::string& name, const std::string& v, const char* what, Convert convert) {
    std::size_t used = 0;
    decltype(convert(v, &used)) x{};
    try {
      x = convert(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != v.size())
      throw std::runtime_error(name + ": '" + v + "' is not " + what);
    return x;
  }

  static int to_int(const std::string& name, const std::string& v) {
    return to_number(name, v, "a whole number", [](const std::string& t, std::size_t* used) { return std::stoi(t, used); });
  }
  static double to_double(const std::string& name, const std::string& v) {
    return to_number(name, v, "a number", [](const std::string& t, std::size_t* used) { return std::stod(t, used); });
  }

  std::map<std::string, setter> setters_;
};

} // namespace sa::bench
