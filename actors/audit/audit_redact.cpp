#include "actors/audit/audit_redact.hpp"

#include "actors/audit/audit_record.hpp"
#include "actors/safety/output_filter.hpp"

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace sa::audit {

using json = nlohmann::json;

namespace {

constexpr std::size_t unparsed_max_bytes = 1024;

/// Keys whose value is a secret or a sensitive number whatever it looks like.
bool sensitive_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::array<const char*, 9> contains{"password", "passwd",     "secret", "token",     "api_key",
                                                   "apikey",   "authorization", "cookie", "credential"};
  for (auto* c : contains)
    if (k.find(c) != std::string::npos)
      return true;
  static const std::array<const char*, 5> exact{"cvv", "cvc", "pin", "ssn", "card_number"};
  for (auto* e : exact)
    if (k == e)
      return true;
  return false;
}

} // namespace

redactor::redactor(std::shared_ptr<const safety::pii_scanner> scanner)
  : scanner_(scanner ? std::move(scanner) : std::make_shared<const safety::pii_scanner>()) {
  re2::RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  email_ = std::make_unique<re2::RE2>(
    R"([a-z0-9._%+\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,})", o);
}

redactor::~redactor() = default;

std::string redactor::text(std::string_view in, std::size_t* count) const {
  std::size_t n = 0;
  std::string out = scanner_->redact(in, &n);
  if (out.find('@') != std::string::npos)
    n += static_cast<std::size_t>(re2::RE2::GlobalReplace(&out, *email_, "[redacted email]"));
  if (count)
    *count += n;
  return out;
}

std::string redactor::arguments(std::string_view text_in, std::size_t* count, bool* was_object) const {
  std::size_t n = 0;
  std::string canonical;
  if (!canonical_args(text_in, canonical)) {
    if (was_object)
      *was_object = false;
    auto head = text_in.substr(0, unparsed_max_bytes);
    json j = json::object();
    j["unparsed"] = text(head, &n);
    if (count)
      *count += n;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (was_object)
    *was_object = true;
  auto root = json::parse(canonical);
  // Walks the value, rebuilding objects so that redacted keys are redacted too.
  auto walk = [&](auto&& self, json& v) -> void {
    if (v.is_string()) {
      auto& s = v.get_ref<std::string&>();
      s = text(s, &n);
    } else if (v.is_number_integer() || v.is_number_unsigned()) {
      auto digits = v.dump();
      if (digits.size() >= 9) {  // short numbers are counts and ids; long ones may be card numbers or SSNs
        std::size_t k = 0;
        auto red = text(digits, &k);
        if (k > 0) {
          n += k;
          v = red;
        }
      }
    } else if (v.is_array()) {
      for (auto& item : v)
        self(self, item);
    } else if (v.is_object()) {
      json rebuilt = json::object();
      for (auto& [key, value] : v.items()) {
        auto new_key = text(key, &n);
        if (sensitive_key(key)) {
          if (!value.is_null()) {
            ++n;
            rebuilt[new_key] = "[redacted]";
          } else {
            rebuilt[new_key] = nullptr;
          }
          continue;
        }
        self(self, value);
        rebuilt[new_key] = std::move(value);
      }
      v = std::move(rebuilt);
    }
  };
  walk(walk, root);
  if (count)
    *count += n;
  return root.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace sa::audit
