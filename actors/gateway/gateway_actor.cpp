// Gateway actor: the node's map of session id -> (tenant, user). A connection claims an id before its
// first turn (a new random one, or one it resumes); an id bound to anyone else is refused with
// support_errc::session_forbidden. Bounded: past max_bindings the least recently used half is forgotten
// (the session router still refuses a foreign user of a forgotten id).
#include "actors/gateway/connection_actor.hpp"

#include "messages/errors.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <vector>

namespace sa::gateway {

namespace {

struct binding {
  std::string tenant;
  std::string user;
  uint64_t last_use = 0;
};

struct gateway_state {
  static inline const char* name = "gateway";
  std::unordered_map<std::string, binding> bindings;
  uint64_t clock = 0;
  size_t max_bindings = 0;
};

bool valid_session_id(const std::string& s) {
  if (s.empty() || s.size() > 128)
    return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
      return false;
  return true;
}

} // namespace

gateway_actor spawn_gateway_actor(caf::actor_system& sys, size_t max_bindings) {
  // max_bindings is a spawn argument: CAF 0.17 dereferences a null argument tuple for argument-less spawns.
  auto fn = [](gateway_actor::stateful_pointer<gateway_state> self, size_t max_bindings)
    -> gateway_actor::behavior_type {
    self->state.max_bindings = max_bindings;
    return {
      [self](session_claim& c) -> caf::result<session_grant> {
        auto& st = self->state;
        if (!valid_session_id(c.session))
          return make_error(support_errc::internal);
        ++st.clock;
        if (auto i = st.bindings.find(c.session); i != st.bindings.end()) {
          if (i->second.tenant != c.tenant || i->second.user != c.user)
            return make_error(support_errc::session_forbidden);
          i->second.last_use = st.clock;
          return session_grant{true};
        }
        if (st.bindings.size() >= st.max_bindings) {
          // Forget the least recently used half (rare: sized for the node's sessions).
          std::vector<uint64_t> uses;
          for (auto& [id, b] : st.bindings)
            uses.push_back(b.last_use);
          std::nth_element(uses.begin(), uses.begin() + uses.size() / 2, uses.end());
          auto cut = uses[uses.size() / 2];
          for (auto i = st.bindings.begin(); i != st.bindings.end();)
            i = i->second.last_use < cut ? st.bindings.erase(i) : std::next(i);
        }
        st.bindings.emplace(c.session, binding{c.tenant, c.user, st.clock});
        return session_grant{false};
      },
    };
  };
  return sys.spawn(fn, max_bindings);
}

} // namespace sa::gateway
