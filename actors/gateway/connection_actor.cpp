// Connection actor: one per authenticated WebSocket, spawned by the io thread. It owns the client's
// session id (claimed from the gateway actor), turns client frames into user turns for the router and
// turn events into JSON frames. Messages received while a session id is being claimed wait in a small
// queue so turns keep their order. To add a client frame: a message in gateway_messages.hpp and a handler.
#include "actors/gateway/connection_actor.hpp"

#include "actors/gateway/protocol.hpp"
#include "actors/handoff/handoff_record.hpp"
#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <deque>
#include <unordered_map>

namespace sa::gateway {

namespace {

constexpr size_t max_waiting = 16;
constexpr size_t max_rated_turns = 32;  // recent answers whose rating can still be labelled
constexpr auto claim_timeout = std::chrono::seconds(5);
constexpr const char* escalate_text = "I would like to talk to a human agent, please.";

/// What a rating of an answer is labelled with: the answered turn's intent and escalation reason.
struct answered_turn {
  uint32_t turn = 0;
  intent what = intent::general;
  escalation_reason reason = escalation_reason::none;
};

struct connection_state {
  static inline const char* name = "gateway_connection";
  connection_deps deps;
  connection_link link;
  std::string session;
  std::string tag;  // hashed session id for logs
  bool claiming = false;
  std::deque<client_message> waiting;
  unsigned next_id = 0;
  std::deque<answered_turn> answered;  // the last max_rated_turns answers, oldest first
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = connection_actor::stateful_pointer<connection_state>;

void forward(self_ptr self, client_message m);

void flush_waiting(self_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && !st.claiming) {
    auto m = std::move(st.waiting.front());
    st.waiting.pop_front();
    forward(self, std::move(m));
  }
}

void claim(self_ptr self, std::string session, bool resume, agent_seen seen = {}) {
  auto& st = self->state;
  st.claiming = true;
  self->request(st.deps.gateway, claim_timeout, session_claim{st.deps.tenant, st.deps.user, session})
    .then(
      [self, session, seen = std::move(seen)](session_grant g) mutable {
        auto& st = self->state;
        st.claiming = false;
        st.session = session;
        st.tag = log::tag(st.deps.tenant + "/" + session);  // as the session actor tags it
        st.log->info("event=session_bound tenant={} session={} resumed={}", st.deps.tenant, st.tag, g.resumed);
        st.link.send(session_frame(session, g.resumed));
        // Agent frames of this session reach this connection from now on (and, at once, those it missed).
        if (st.deps.handoff)
          self->send(st.deps.handoff, customer_attach{tenant_id{st.deps.tenant}, session_id{session},
                                                      caf::actor_cast<handoff_customer_actor>(self),
                                                      std::move(seen)});
        flush_waiting(self);
      },
      [self, resume](caf::error& e) {
        auto& st = self->state;
        st.claiming = false;
        auto code = to_support_errc(e);
        if (code == support_errc::session_forbidden) {
          st.log->warn("event=resume_refused tenant={} reason=session_forbidden", st.deps.tenant);
          st.link.send(error_frame(codes::session_forbidden,
                                   "This conversation belongs to someone else; start a new one."));
        } else {
          st.link.send(error_frame(to_string(code), resume ? "That conversation cannot be resumed."
                                                           : "Could not start a conversation; try again."));
        }
        flush_waiting(self);
      });
}

void forward(self_ptr self, client_message m) {
  auto& st = self->state;
  if (st.claiming) {
    if (st.waiting.size() >= max_waiting) {
      st.link.send(error_frame(codes::busy, "Too many messages at once; wait for the answer.", m.id));
      return;
    }
    st.waiting.push_back(std::move(m));
    return;
  }
  if (st.session.empty()) {
    st.waiting.push_back(std::move(m));
    claim(self, random_id("s-"), false);
    return;
  }
  if (m.id.empty())
    m.id = "m" + std::to_string(++st.next_id);
  self->send(st.deps.router, user_turn{tenant_id{st.deps.tenant}, user_id{st.deps.user}, session_id{st.session},
                                       std::move(m.id), std::move(m.text),
                                       caf::actor_cast<session_listener_actor>(self)});
}

void remember_answer(self_ptr self, const turn_completed& c) {
  auto& answered = self->state.answered;
  answered.push_back(answered_turn{c.turn, c.intent, c.escalation.escalate ? c.escalation.reason
                                                                          : escalation_reason::none});
  if (answered.size() > max_rated_turns)
    answered.pop_front();
}

/// Counts a rating (sa_csat_ratings_total, labelled by the rated turn when this connection still remembers
/// it) or a survey (sa_csat_surveys_total, labelled by the conversation's last answer and its latest
/// escalation), and sends it to the quality service to be stored with the conversation.
void record_feedback(self_ptr self, client_feedback& f) {
  auto& st = self->state;
  csat_record r{tenant_id{st.deps.tenant}, session_id{st.session}, f.survey, f.turn, f.csat, f.resolved,
                std::move(f.comment), intent::general, escalation_reason::none, false};
  for (const auto& a : st.answered)
    if (f.survey || a.turn == f.turn) {
      r.known = true;
      r.intent = a.what;
      if (!f.survey || a.reason != escalation_reason::none)
        r.escalation = a.reason;
    }
  std::string intent_label = r.known ? to_string(r.intent) : "unknown";
  std::string reason_label = r.known ? to_string(r.escalation) : "unknown";
  if (st.deps.metrics && f.survey)
    st.deps.metrics->csat_survey(st.deps.tenant, intent_label, reason_label, f.csat, f.resolved);
  else if (st.deps.metrics)
    st.deps.metrics->csat_rated(st.deps.tenant, intent_label, reason_label, f.csat);
  if (st.deps.quality)
    self->send(st.deps.quality, std::move(r));
}

} // namespace

connection_actor spawn_connection(caf::actor_system& sys, connection_deps deps, connection_link link) {
  // Arguments, not captures: CAF 0.17 dereferences a null argument tuple for argument-less spawns.
  auto fn = [](self_ptr self, connection_deps deps, connection_link link) -> connection_actor::behavior_type {
    auto& st = self->state;
    st.deps = std::move(deps);
    st.link = std::move(link);
    st.log = log::get("gateway");
    // An actor that fails (an exception, killed) closes its WebSocket with 1011 rather than leaving a client
    // whose frames go nowhere; the client reconnects and resumes. Ending for any other reason (the client
    // left, the node stopping) closes nothing here: that path has closed the socket already.
    self->attach_functor([link = st.link](const caf::error& reason) {
      if (reason && reason != caf::exit_reason::user_shutdown && reason != caf::exit_reason::normal)
        link.close(1011, "internal error");
    });
    // The gateway actor going away (node shutdown) ends every connection actor.
    self->monitor(st.deps.gateway);
    self->set_down_handler([self](caf::down_msg&) {
      self->state.link.close(1001, "server stopping");
      self->quit();
    });
    return {
      [self](client_message& m) { forward(self, std::move(m)); },
      [self](client_resume& r) {
        auto& st = self->state;
        if (r.session == st.session) {
          st.link.send(session_frame(st.session, true));
          return;
        }
        if (st.claiming) {
          st.link.send(error_frame(codes::busy, "A session is being set up; try again."));
          return;
        }
        claim(self, std::move(r.session), true, std::move(r.seen));
      },
      [self](client_feedback& f) {
        auto& st = self->state;
        if (st.session.empty()) {
          st.link.send(error_frame(codes::bad_request, "Feedback needs a conversation; send a message first."));
          return;
        }
        // The comment is the user's text: counted, never logged (stored redacted by the quality service).
        st.log->info("event={} tenant={} session={} turn={} csat={} resolved={} comment_bytes={}",
                     f.survey ? "survey" : "feedback", st.deps.tenant, st.tag, f.turn, f.csat, f.resolved,
                     f.comment.size());
        bool survey = f.survey;
        auto turn = f.turn;
        record_feedback(self, f);
        st.link.send(survey ? survey_frame() : feedback_frame(turn));
      },
      [self](client_escalate&) {
        auto& st = self->state;
        forward(self, client_message{"escalate-" + std::to_string(++st.next_id), escalate_text});
      },
      [self](connection_closed&) { self->quit(); },
      [self](turn_delta& d) { self->state.link.send(delta_frame(d)); },
      [self](turn_reset& r) { self->state.link.send(reset_frame(r)); },  // logged by the session
      [self](turn_completed& c) {
        auto& st = self->state;
        remember_answer(self, c);
        st.link.send(final_frame(c));
        if (c.escalation.escalate) {
          // The record the session opened, or joined. None recorded (the handoff service failed): the id it
          // would have had, which the audit trail and this log line still tie to the turn.
          auto id = c.handoff.empty() ? handoff::handoff_id(st.deps.tenant, c.session.value, c.turn) : c.handoff;
          st.log->info("event=escalated tenant={} session={} turn={} reason={} handoff={}", st.deps.tenant,
                       st.tag, c.turn, to_string(c.escalation.reason), id);
          st.link.send(escalated_frame(c, id));
        }
      },
      [self](handoff_customer_event& e) { self->state.link.send(handoff_event_frame(e)); },
      [self](turn_failed& f) {
        self->state.link.send(
          error_frame(to_string(static_cast<support_errc>(f.code)), f.message, f.client_message_id));
      },
    };
  };
  return sys.spawn(fn, std::move(deps), std::move(link));
}

} // namespace sa::gateway
