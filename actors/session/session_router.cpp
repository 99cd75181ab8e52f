// Session router actor. Sessions are keyed by (tenant, session id), so two tenants can never reach each
// other's session even with the same id. A turn is handed to its session as a request: if the session
// passivated in the meantime, CAF answers with request_receiver_down and the router activates a fresh
// session and hands the turn over again, so no turn is lost to an idle timeout.
#include "actors/session/session_router.hpp"

#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/restart_budget.hpp"
#include "runtime/utf8.hpp"

#include "caf/all.hpp"

#include <unordered_map>

namespace sa {

namespace {

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
      return false;
  return true;
}

struct router_state {
  static inline const char* name = "session_router";
  std::shared_ptr<const router_deps> deps;
  std::unordered_map<std::string, session_actor> sessions;  // tenant \x1f session -> actor
  std::unordered_map<caf::actor_addr, std::string> keys;
  std::shared_ptr<spdlog::logger> log;
  router_stats stats;
  // Supervision of sessions: a session that crashes is re-activated by its next message, within a
  // budget per session key; past it, the session is refused until the window has passed (no crash loop).
  std::unordered_map<std::string, restart_budget> crash_budgets;
};

using router_ptr = session_router_actor::stateful_pointer<router_state>;

std::string session_key(const user_turn& t) {
  return t.tenant.value + '\x1f' + t.session.value;
}

session_actor activate(router_ptr self, const user_turn& t) {
  auto& st = self->state;
  auto key = session_key(t);
  if (auto i = st.sessions.find(key); i != st.sessions.end())
    return i->second;
  auto s = spawn_session(self, t.tenant, t.user, t.session, st.deps->session);
  st.sessions.emplace(key, s);
  st.keys.emplace(s.address(), key);
  ++st.stats.activations;
  if (auto& m = st.deps->session->metrics)
    m->session_activated();
  return s;
}

void hand_over(router_ptr self, user_turn t, bool retried) {
  auto target = activate(self, t);
  // The session acknowledges as soon as it has queued the turn, or CAF answers with an error when it is
  // gone; either way the answer comes without a timer.
  self->request(target, caf::infinite, t)
    .then([] {},
          [self, t, target, retried](caf::error& err) mutable {
            auto& st = self->state;
            // The session went away before it took the turn (passivated or crashed): start it again.
            if (auto i = st.keys.find(target.address()); i != st.keys.end()) {
              st.sessions.erase(i->second);
              st.keys.erase(i);
              if (auto& m = st.deps->session->metrics)
                m->sessions_ended();
            }
            if (!retried) {
              hand_over(self, std::move(t), true);
              return;
            }
            st.log->error("event=turn_not_delivered tenant={} error={}", t.tenant.value, to_string(err));
            self->send(t.listener, turn_failed{t.session, t.client_message_id,
                                               static_cast<uint8_t>(support_errc::internal),
                                               "Sorry, we could not process your message. Please try again."});
          });
}

} // namespace

support_errc validate_turn(const user_turn& t, const router_deps& deps, std::string* message) {
  auto fail = [&](support_errc code, std::string text) {
    if (message)
      *message = std::move(text);
    return code;
  };
  if (!deps.tenants->has_tenant(t.tenant.value))
    return fail(support_errc::unknown_tenant, "Unknown tenant.");
  if (!deps.tenants->has_user(t.tenant.value, t.user.value))
    return fail(support_errc::unknown_user, "Unknown user for this tenant.");
  if (!valid_id(t.session.value))
    return fail(support_errc::internal,
                "Invalid session id: use 1-128 letters, digits, '-', '_', '.' or ':'.");
  auto max = static_cast<size_t>(deps.session->cfg.limits.max_message_bytes);
  if (t.text.size() > max)
    return fail(support_errc::message_too_long,
                "Your message is too long (" + std::to_string(t.text.size()) + " bytes; the limit is "
                  + std::to_string(max) + "). Please shorten it.");
  if (!is_valid_utf8(t.text))
    return fail(support_errc::invalid_utf8, "Your message contains invalid characters (not UTF-8).");
  if (t.text.find_first_not_of(" \t\r\n") == std::string::npos)
    return fail(support_errc::empty_message, "Your message is empty.");
  return support_errc::ok;
}

session_router_actor spawn_session_router(caf::actor_system& sys, std::shared_ptr<const router_deps> deps) {
  // Dependencies travel as a spawn argument, not a lambda capture: CAF 0.17 dereferences a null
  // argument tuple when a function is spawned without arguments (UBSan reports it).
  return sys.spawn([](router_ptr self, std::shared_ptr<const router_deps> deps) -> session_router_actor::behavior_type {
    self->state.deps = std::move(deps);
    self->state.log = log::get("router");
    // A shutdown of the router stops every session it activated (they are monitored, not linked).
    self->set_exit_handler([self](caf::exit_msg& m) {
      auto& st = self->state;
      for (auto& [key, s] : st.sessions)
        self->send_exit(s, m.reason ? m.reason : caf::error{caf::exit_reason::user_shutdown});
      // Their down messages will not be handled any more: they leave the active gauge here.
      if (auto& metrics = st.deps->session->metrics)
        metrics->sessions_ended(st.sessions.size());
      self->quit(m.reason);
    });
    self->set_down_handler([self](caf::down_msg& dm) {
      auto& st = self->state;
      auto i = st.keys.find(dm.source);
      if (i == st.keys.end())
        return;
      auto* metrics = st.deps->session->metrics.get();
      if (metrics)
        metrics->sessions_ended();
      if (dm.reason) {
        ++st.stats.crashes;
        st.log->warn("event=session_died reason={}", to_string(dm.reason));
        // Re-activated by its next message (within the crash budget): counted as a restart.
        if (metrics)
          metrics->actor_restarted("session");
        auto& cfg = st.deps->session->cfg.session;
        auto b = st.crash_budgets.try_emplace(i->second, cfg.restart_budget,
                                              std::chrono::seconds{cfg.restart_window_s});
        b.first->second.try_consume(std::chrono::steady_clock::now());
      } else {
        ++st.stats.passivations;
      }
      st.sessions.erase(i->second);
      st.keys.erase(i);
    });
    return {
      [self](user_turn& t) {
        if (!t.listener)
          return;
        std::string message;
        auto code = validate_turn(t, *self->state.deps, &message);
        if (code != support_errc::ok) {
          self->state.log->info("event=turn_rejected tenant_known={} code={}",
                                self->state.deps->tenants->has_tenant(t.tenant.value), to_string(code));
          self->send(t.listener, turn_failed{t.session, t.client_message_id, static_cast<uint8_t>(code),
                                             std::move(message)});
          return;
        }
        auto& st = self->state;
        if (auto b = st.crash_budgets.find(session_key(t)); b != st.crash_budgets.end()) {
          if (!b->second.has_room(std::chrono::steady_clock::now())) {
            st.log->warn("event=session_quarantined tenant={}", t.tenant.value);
            self->send(t.listener, turn_failed{t.session, t.client_message_id,
                                               static_cast<uint8_t>(support_errc::component_failed),
                                               "Sorry, this conversation keeps failing on our side. Please "
                                               "try again in a minute or start a new conversation."});
            return;
          }
        }
        hand_over(self, std::move(t), false);
      },
      [self](const router_stats_request&) {
        auto stats = self->state.stats;
        stats.active_sessions = self->state.sessions.size();
        return stats;
      },
    };
  }, std::move(deps));
}

} // namespace sa
