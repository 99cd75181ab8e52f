// Strong identifiers: a tenant id cannot be passed where a session id is expected.
// Every message that concerns a tenant carries its tenant_id (docs/architecture.md, "Tenant first").
#pragma once

#include "caf/meta/type_name.hpp"

#include <functional>
#include <string>
#include <utility>

namespace sa {

template <class Tag>
struct basic_id {
  std::string value;

  basic_id() = default;
  explicit basic_id(std::string v) : value(std::move(v)) {}

  bool empty() const noexcept { return value.empty(); }
  friend bool operator==(const basic_id& a, const basic_id& b) { return a.value == b.value; }
  friend bool operator!=(const basic_id& a, const basic_id& b) { return a.value != b.value; }
  friend bool operator<(const basic_id& a, const basic_id& b) { return a.value < b.value; }
};

template <class Inspector, class Tag>
typename Inspector::result_type inspect(Inspector& f, basic_id<Tag>& x) {
  return f(caf::meta::type_name(Tag::name), x.value);
}

struct tenant_tag { static constexpr const char* name = "tenant_id"; };
struct user_tag { static constexpr const char* name = "user_id"; };
struct session_tag { static constexpr const char* name = "session_id"; };

using tenant_id = basic_id<tenant_tag>;
using user_id = basic_id<user_tag>;
using session_id = basic_id<session_tag>;

/// A turn's number within its session: 1, 2, 3, ... (memory's sequence number).
using turn_number = unsigned;

} // namespace sa

namespace std {
template <class Tag>
struct hash<sa::basic_id<Tag>> {
  size_t operator()(const sa::basic_id<Tag>& x) const noexcept { return hash<string>{}(x.value); }
};
} // namespace std
