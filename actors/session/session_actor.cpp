// Session actor: runs the turn pipeline for one conversation, one user message at a time.
//
//   user_turn -> [load memory once] -> classify -> pre-escalation rules (explicit request, sensitive)
//             -> retrieve + account context (in parallel, as routed by intent) -> generate (streamed)
//             -> post-escalation rules (confidence) -> memory append -> [escalated: handoff recorded]
//             -> turn_completed
//
// Messages of one session are handled strictly in order: a turn that arrives while another runs waits
// in a bounded queue. Every accepted turn ends in exactly one turn_completed or turn_failed, even when
// the session itself dies (see `owed`). A child that crashes or stalls is replaced (within the restart
// budget) and the request retried once. When the answer restarts mid-stream (generation_reset from the
// generator, or a generator replaced after it streamed), the listener gets turn_reset and only the
// answer after the last reset is stored. To add a pipeline stage: add its child to session_children,
// call it with ask<>() from the stage before, and keep the stale-callback check.
//
// Actions (docs/actions.md): the generator is offered the tenant's tools and may answer with a tool call.
// A read-only one runs at once and the generator is asked again with its result; one that changes
// something is proposed and kept as the session's pending action, which the next message alone can
// confirm (then the actions service runs it), decline, or drop by being about something else.
#include "actors/session/session_actor.hpp"

#include "actors/actions/action_rules.hpp"
#include "actors/actions/webhook.hpp"
#include "actors/generator/local_composer.hpp"
#include "messages/completion.hpp"
#include "actors/safety/output_filter.hpp"
#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/restart_budget.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <deque>
#include <unordered_set>

namespace sa {

namespace {

using std::chrono::steady_clock;

/// Private timer message: the turn with this serial has run out of time.
struct turn_deadline {
  uint64_t serial = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_deadline& x) {
  return f(caf::meta::type_name("sa::turn_deadline"), x.serial);
}

using session_impl = session_actor::extend<caf::reacts_to<generation_delta>, caf::reacts_to<generation_reset>,
                                           caf::reacts_to<turn_deadline>, caf::reacts_to<judging_cost>>;

/// A turn accepted but not yet answered. If the session dies, each gets a turn_failed.
struct owed_answer {
  session_listener_actor listener;
  std::string client_message_id;
};
using owed_list = std::deque<owed_answer>;

struct turn_context {
  uint64_t serial = 0;
  user_turn input;
  turn_number number = 0;
  steady_clock::time_point started;
  classification cls;
  retrieval ret;
  account_facts account;
  bool account_wanted = false;  // the intent's route asked for account facts
  bool account_failed = false;  // the account service did not answer
  int pending = 0;        // parallel requests still out (retrieve, account)
  uint32_t seq = 0;       // next delta number sent to the listener (restarts at 0 after a reset)
  std::string produced;   // what the generator (or the session) produced, before the safety check
  std::string streamed;   // what passed the safety check and was sent to the listener
  bool generating = false;  // a generate_request is out: the only time its answer may restart
  bool classified = false;  // t.cls holds the classifier's answer (metrics label a failure before it "unknown")
  bool first_text_sent = false;  // time to first token observed
  bool recording_handoff = false;  // answered and stored; the escalation's handoff is being recorded
  std::unique_ptr<safety::stream_redactor> redactor;
  safety_verdict safety;                       // the turn's verdict: the most severe of its checks (no text)
  std::shared_ptr<safety::own_data> own = std::make_shared<safety::own_data>();  // contact data the answer may repeat
  generation gen;
  // Actions.
  std::string prefix;                        // what the session said before the generator's answer (kept on a reset)
  std::size_t generated_from = 0;            // t.produced's size when the current generation started
  bool action_requested = false;             // the message asks for a tool in so many words
  std::vector<action_tool> tools;            // offered to the generator this turn
  std::vector<action_result> tool_results;   // read-only tools run this turn; the next generation reports them
  std::vector<ticket_info> created_tickets;  // the actions service's tickets for this user (account facts)
  std::vector<std::string> actions;          // "<tool>:<outcome>" for turn_completed
  action_proposal proposal;
};

/// A tool proposed to the customer, waiting for the next message to confirm it.
struct pending_action {
  action_call call;               // validated; arguments normalised
  std::string summary;            // "open a support ticket titled ..."
  std::string idempotency_key;    // fixed at proposal time: a repeated confirmation never acts twice
  steady_clock::time_point expires;
  sa::intent intent = sa::intent::general;  // of the message that asked for it
};

struct session_state {
  static inline const char* name = "session";
  std::shared_ptr<const session_deps> deps;
  tenant_id tenant;
  user_id user;
  session_id id;
  std::string tag;  // hashed session id for logs
  classifier_actor classifier;
  retriever_actor retriever;
  generator_actor generator;
  escalation_actor escalation;
  safety_actor safety;  // null when session_children has no safety factory: checks run in-line
  std::unique_ptr<restart_budget> budget;
  bool memory_loaded = false;
  bool memory_loading = false;
  conversation_memory memory;
  std::deque<user_turn> queue;
  std::unique_ptr<turn_context> turn;
  std::shared_ptr<owed_list> owed;
  std::unordered_set<caf::actor_addr> children;  // every live child, current or being replaced
  uint64_t next_serial = 1;
  std::shared_ptr<spdlog::logger> log;
  // For sa_conversations_closed_total: turns answered since activation, and whether any turn of the
  // conversation (remembered ones included) went to a human.
  uint32_t answered = 0;
  bool escalated = false;
  double cost_usd = 0;  // LLM cost since activation: moderation, classification, question embeddings, answers
                        // and judging of sampled turns (sa_conversation_cost_usd)
  std::optional<pending_action> pending;  // at most one proposed action, for the next message only
  // Human handoff: while the conversation has an open handoff, each message first asks the handoff service
  // whether an agent holds it (then the message goes to the agent, not the bot).
  bool handoff_check = false;     // the conversation escalated and its handoff may still be open
  bool handoff_checking = false;  // the queue's first message is being routed
  bool handoff_checked = false;   // ... and the handoff service said the bot answers it
  bool memory_ever_loaded = false;
};

using self_ptr = session_impl::stateful_pointer<session_state>;

std::chrono::milliseconds child_timeout(self_ptr self) {
  return std::chrono::milliseconds{self->state.deps->cfg.session.child_timeout_ms};
}

bool is_current(self_ptr self, uint64_t serial) {
  return self->state.turn && self->state.turn->serial == serial;
}

/// The node's figures; null when the node keeps none (some tests).
sa::metrics* metrics_of(self_ptr self) {
  return self->state.deps->metrics.get();
}

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

void pump(self_ptr self);

void settle_owed(self_ptr self, const std::string& client_message_id) {
  auto& owed = *self->state.owed;
  for (auto i = owed.begin(); i != owed.end(); ++i)
    if (i->client_message_id == client_message_id) {
      owed.erase(i);
      return;
    }
}

void send_failed(self_ptr self, const user_turn& t, support_errc code, std::string message) {
  self->send(t.listener, turn_failed{t.session, t.client_message_id, static_cast<uint8_t>(code),
                                     std::move(message)});
  settle_owed(self, t.client_message_id);
}

void end_turn(self_ptr self) {
  self->state.turn.reset();
  pump(self);
}

void fail_turn(self_ptr self, support_errc code, std::string message) {
  auto& t = *self->state.turn;
  self->state.log->warn("event=turn_failed tenant={} session={} code={}", t.input.tenant.value,
                        self->state.tag, to_string(code));
  if (auto* m = metrics_of(self))
    m->turn_finished(self->state.tenant.value, t.classified ? to_string(t.cls.intent) : "unknown", "failed",
                     seconds_since(t.started));
  send_failed(self, t.input, code, std::move(message));
  end_turn(self);
}

/// Asks a child; on a crash or stall replaces it (within the budget) and retries once, calling
/// `on_retry` (when set) just before. A support_errc in the reply is an answer, not a crash: it goes to
/// `on_error` as is.
template <class Response, class Handle, class Request, class OnOk, class OnError>
void ask(self_ptr self, Handle session_state::*slot,
         std::function<Handle(caf::local_actor*)> session_children::*factory, const char* role,
         Request req, OnOk on_ok, OnError on_error, std::function<void()> on_retry = {},
         bool retried = false) {
  auto serial = self->state.turn->serial;
  auto& handle = self->state.*slot;
  if (!handle) {
    auto& st = self->state;
    if (!st.budget)
      st.budget = std::make_unique<restart_budget>(
        st.deps->cfg.session.restart_budget, std::chrono::seconds{st.deps->cfg.session.restart_window_s});
    if (!st.budget->try_consume(steady_clock::now())) {
      st.log->error("event=restart_budget_exhausted session={} child={}", st.tag, role);
      auto err = make_error(support_errc::component_failed);
      on_error(err);
      return;
    }
    handle = (st.deps->children.*factory)(self);
    st.children.insert(handle.address());
    st.log->warn("event=child_restarted session={} child={}", st.tag, role);
    if (auto* m = metrics_of(self))
      m->actor_restarted(role);
  }
  auto target = handle;
  // No per-hop timer: children are local and linked, so a crash answers at once with an error, and a
  // stall is caught by the turn's single deadline (which also replaces the children). One timer per
  // turn instead of one per hop keeps the clock thread out of the hot path.
  self->request(target, caf::infinite, req)
    .then(
      [=](Response& resp) {
        if (is_current(self, serial))
          on_ok(resp);
      },
      [=](caf::error& err) {
        if (!is_current(self, serial))
          return;
        if (err.category() == support_error_atom::value || retried) {
          on_error(err);
          return;
        }
        // The child crashed or stalled: drop it (killing a stalled one) and retry on a fresh one.
        self->state.log->warn("event=child_failed session={} child={} error={}", self->state.tag, role,
                              to_string(err));
        if (self->state.*slot == target) {
          self->send_exit(target, caf::exit_reason::kill);
          self->state.*slot = nullptr;
        }
        if (on_retry)
          on_retry();
        ask<Response>(self, slot, factory, role, req, on_ok, on_error, on_retry, true);
      });
}

void send_delta(self_ptr self, std::string text) {
  auto& t = *self->state.turn;
  if (text.empty())
    return;
  if (!t.first_text_sent) {
    t.first_text_sent = true;
    if (auto* m = metrics_of(self))
      m->first_delta(self->state.tenant.value, seconds_since(t.started));
  }
  t.streamed += text;
  self->send(t.input.listener,
             turn_delta{t.input.session, t.input.client_message_id, t.number, t.seq++, std::move(text)});
}

/// The answer's PII redactor: the customer's own contact data (from their message, account facts and the
/// tenant's documents) may be repeated, another person's may not.
std::unique_ptr<safety::stream_redactor> new_redactor(self_ptr self) {
  auto& t = *self->state.turn;
  const auto& pii = *self->state.deps->pii;
  if (t.account.available)
    for (const auto* field : {&t.account.user_name, &t.account.company})
      t.own->add_from(pii, *field);
  return std::make_unique<safety::stream_redactor>(pii, t.own);
}

/// Everything the customer reads passes the safety check first (PII and secrets are redacted, with
/// hold-back so a number split across chunks is still caught).
void stream_to_listener(self_ptr self, const std::string& text) {
  auto& t = *self->state.turn;
  t.produced += text;
  if (!t.redactor)
    t.redactor = new_redactor(self);
  send_delta(self, t.redactor->push(text));
}

/// The answer restarts (a provider failed mid-answer and another took over, or the generator was
/// replaced): what was produced and streamed is void, the safety check starts fresh (text it held back
/// from the void answer is dropped, never released), delta numbers restart at 0, and the listener is
/// told so the client discards what it rendered. Only the answer after the last reset is stored and
/// counted (redactions included).
void restart_stream(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  auto& t = *st.turn;
  // What came before the current generation (the session's own notes, what a model said before its tool
  // call) is not void: only the current generation's answer restarts.
  auto kept = t.produced.substr(0, std::min(t.generated_from, t.produced.size()));
  st.log->info("event=answer_restarted tenant={} session={} turn={} reason={} discarded_chars={}",
               t.input.tenant.value, st.tag, t.number, reason, t.produced.size() - kept.size());
  t.produced.clear();
  t.streamed.clear();
  t.seq = 0;
  if (t.redactor)
    t.redactor->reset();
  self->send(t.input.listener, turn_reset{t.input.session, t.input.client_message_id, t.number, reason});
  if (!kept.empty())
    stream_to_listener(self, kept);
  t.generated_from = t.produced.size();
}

void finish_stream(self_ptr self) {
  auto& t = *self->state.turn;
  if (t.redactor)
    send_delta(self, t.redactor->finish());
}

/// Records a hand-over to a human in the node's audit trail: who (the bot), why (the reason is the result),
/// and the turn's classification; never the user's text.
void audit_escalation(self_ptr self, const escalation_decision& d) {
  auto& st = self->state;
  if (!d.escalate || !st.deps->audit)
    return;
  const auto& t = *st.turn;
  nlohmann::json args{{"turn", t.number},
                      {"intent", to_string(t.cls.intent)},
                      {"intent_confidence", std::round(t.cls.confidence * 1000) / 1000},
                      {"detail", d.detail}};
  audit_event e{st.tenant, audit_actors::bot, "escalate", args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                to_string(d.reason), st.id};
  self->request(st.deps->audit, child_timeout(self), std::move(e))
    .then([](const audit_receipt&) {},
          [self](caf::error& err) {
            self->state.log->error("event=audit_failed action=escalate tenant={} session={} error={}",
                                   self->state.tenant.value, self->state.tag, to_string(err));
          });
}

/// Names of the account facts the turn's answer could use (never their values).
std::vector<std::string> fact_names(const account_facts& f) {
  std::vector<std::string> out;
  if (!f.available)
    return out;
  if (!f.plan.empty())
    out.emplace_back("subscription");
  if (!f.invoices.empty())
    out.emplace_back("invoices");
  if (!f.usage.empty())
    out.emplace_back("usage");
  if (!f.open_tickets.empty())
    out.emplace_back("open_tickets");
  return out;
}

/// An escalated turn opens a handoff record; the conversation's messages are routed through the handoff service
/// from now on. `recorded` gets the id of the record that holds the conversation once it is durable: the one
/// derived from session and turn, or the one an agent already holds (the escalation joined it); empty when
/// the service failed.
void open_handoff(self_ptr self, const escalation_decision& d, const turn_record& rec, bool stored,
                  std::function<void(std::string)> recorded) {
  auto& st = self->state;
  const auto& t = *st.turn;
  handoff_open o{st.tenant, st.user, st.id, rec.number, to_string(d.reason), d.detail, to_string(t.cls.intent),
                 st.memory.summary, st.memory.turns, fact_names(t.account)};
  if (!stored)
    o.turns.push_back(rec);
  st.handoff_check = true;
  self->request(st.deps->handoff, child_timeout(self), std::move(o))
    .then([recorded](const handoff_opened& opened) { recorded(opened.id); },
          [self, recorded](caf::error& err) {
            self->state.log->error("event=handoff_open_failed tenant={} session={} error={}", self->state.tenant.value,
                                   self->state.tag, to_string(err));
            recorded({});
          });
}

/// Offers the finished turn to the quality monitor: fire and forget, it samples and scores on its own.
void offer_quality_sample(self_ptr self, const escalation_decision& d) {
  auto& st = self->state;
  if (!st.deps->quality)
    return;
  const auto& t = *st.turn;
  quality_sample s;
  s.tenant = st.tenant;
  s.session = st.id;
  s.turn = t.number;
  s.intent = t.cls.intent;
  s.question = t.input.text;
  s.answer = t.streamed;
  s.passages = t.ret.passages;
  for (const auto& c : t.gen.sources)
    s.cited.push_back(c.source_id);
  s.escalation = d.escalate ? d.reason : escalation_reason::none;
  s.provider = t.gen.provider;
  s.cost_sink = caf::actor_cast<judging_cost_sink_actor>(self);
  self->send(st.deps->quality, std::move(s));
}

void record_safety(self_ptr self, const safety_verdict& v, safety_source source);

void complete_turn(self_ptr self, escalation_decision decision) {
  finish_stream(self);
  if (auto& r = self->state.turn->redactor)
    record_safety(self, safety::answer_verdict(r->redactions(), r->other_person_redactions()), safety_source::answer);
  audit_escalation(self, decision);
  auto& t = *self->state.turn;
  auto& st = self->state;
  turn_record rec;
  rec.number = t.number;
  rec.client_message_id = t.input.client_message_id;
  rec.user_text = t.input.text;
  rec.answer_text = t.streamed;
  rec.intent = t.cls.intent;
  rec.escalated = decision.escalate;
  rec.at_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  auto serial = t.serial;
  auto finish = [self, serial, decision, rec](bool stored) {
    if (!is_current(self, serial))
      return;
    auto& st = self->state;
    auto& t = *st.turn;
    if (stored) {
      st.memory.turns.push_back(rec);
      st.memory.last_turn = rec.number;
      if (st.memory.owner.empty())
        st.memory.owner = st.user;
      while (st.memory.turns.size() > static_cast<size_t>(st.deps->cfg.memory.max_turns))
        st.memory.turns.erase(st.memory.turns.begin());
    }
    turn_completed done;
    done.session = t.input.session;
    done.client_message_id = t.input.client_message_id;
    done.turn = t.number;
    done.text = t.streamed;
    done.intent = t.cls.intent;
    done.confidence = t.gen.confidence;
    done.sources = t.gen.sources;
    done.escalation = decision;
    done.actions = t.actions;
    done.proposal = t.proposal;
    done.account_facts_used = t.account.available;
    // Wanted but not there (the service failed, or answered without facts): the turn says so, and why.
    done.account_unavailable = t.account_failed || (t.account_wanted && !t.account.available);
    if (done.account_unavailable)
      done.account_problem = t.account_failed ? account_failure::service_failed : t.account.failure;
    if (t.account.available)  // partial facts: what they lack (with none at all, account_problem says why)
      for (const auto& gap : t.account.missing)
        done.account_missing.push_back(gap.lookup);
    done.redactions = t.redactor ? static_cast<uint32_t>(t.redactor->redactions()) : 0;
    done.safety = t.safety;
    done.provider = t.gen.provider;
    done.usage = t.gen.usage;
    done.latency_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t.started).count());
    st.log->info("event=turn_completed tenant={} session={} turn={} intent={} confidence={:.2f} "
                 "escalated={} reason={} sources={} latency_us={} stored={}",
                 t.input.tenant.value, st.tag, t.number, to_string(t.cls.intent), done.confidence,
                 decision.escalate, to_string(decision.reason), done.sources.size(), done.latency_us,
                 stored);
    ++st.answered;
    st.escalated = st.escalated || decision.escalate;
    if (auto* m = metrics_of(self)) {
      m->turn_finished(st.tenant.value, to_string(t.cls.intent), decision.escalate ? "escalated" : "answered",
                       static_cast<double>(done.latency_us) / 1e6);
      if (decision.escalate)
        m->escalated(st.tenant.value, to_string(decision.reason));
    }
    st.cost_usd += done.usage.cost_usd;
    offer_quality_sample(self, decision);
    auto deliver = [self](turn_completed c) {
      auto& input = self->state.turn->input;
      self->send(input.listener, std::move(c));
      settle_owed(self, input.client_message_id);
      end_turn(self);
    };
    if (!decision.escalate || !st.deps->handoff) {
      deliver(std::move(done));
      return;
    }
    // The customer's `escalated` frame names the record holding the conversation, so the turn completes
    // once that record is durable (a few milliseconds after the answer's last delta): the reference the
    // customer is given exists, also when the escalation joined the record an agent already holds. The
    // turn deadline no longer applies: the answer is complete, and the request has its own timeout.
    t.recording_handoff = true;
    open_handoff(self, decision, rec, stored, [self, serial, deliver, done](std::string id) mutable {
      if (!is_current(self, serial))
        return;
      done.handoff = std::move(id);
      deliver(std::move(done));
    });
  };
  self->request(st.deps->memory, child_timeout(self), memory_append{st.tenant, st.id, st.user, rec})
    .then([finish](const memory_ack&) { finish(true); },
          [self, finish](caf::error& err) {
            // The answer already reached the customer; it is delivered, and the loss is logged loudly.
            self->state.log->error("event=memory_append_failed session={} error={}", self->state.tag,
                                   to_string(err));
            // Another writer (a node that also believed it owned the session) committed this turn number:
            // the next message reloads the shared memory instead of repeating the conflict forever.
            if (to_support_errc(err) == support_errc::turn_conflict)
              self->state.memory_loaded = false;
            finish(false);
          });
}

void escalate_now(self_ptr self, const escalation_decision& d) {
  auto& t = *self->state.turn;
  t.gen.confidence = t.cls.confidence;
  t.gen.provider = "none";
  for (auto& piece : local_composer::stream_chunks(handoff_message(d.reason), 48))
    stream_to_listener(self, piece);
  complete_turn(self, d);
}

/// The classification the escalation rules see: a message that asks for a tool in so many words ("open a
/// ticket", "escalate my order") is not a request for a person, whatever the intent model says; an explicit
/// "talk to a human" still is (the policy reads the text too).
classification escalation_view(const turn_context& t) {
  auto c = t.cls;
  if (t.action_requested && c.intent == intent::escalation_request)
    c.intent = intent::general;
  return c;
}

/// The escalation rules' input for this turn, with the conversation's earlier user messages (oldest first,
/// from the memory loaded for the turn) and whether each went to a human (repeated_failure needs both).
escalation_request escalation_input(self_ptr self, double answer_confidence, bool knowledge_available) {
  auto& t = *self->state.turn;
  escalation_request req;
  req.tenant = t.input.tenant;
  req.text = t.input.text;
  req.intent = escalation_view(t);
  req.answer_confidence = answer_confidence;
  req.knowledge_available = knowledge_available;
  req.safety = t.safety;
  for (const auto& rec : self->state.memory.turns) {
    req.recent_user_texts.push_back(rec.user_text);
    req.recent_escalated.push_back(rec.escalated);
  }
  return req;
}

void after_generation(self_ptr self) {
  auto& t = *self->state.turn;
  auto req = escalation_input(self, t.gen.confidence, t.ret.knowledge_available);
  ask<escalation_decision>(
    self, &session_state::escalation, &session_children::escalation, "escalation", req,
    [self](escalation_decision& d) {
      if (d.escalate)
        for (auto& piece : local_composer::stream_chunks("\n\n" + handoff_message(d.reason), 48))
          stream_to_listener(self, piece);
      complete_turn(self, d);
    },
    [self](caf::error&) {
      // Without a verdict, hand over rather than risk an unchecked answer.
      escalation_decision d{true, escalation_reason::component_failure, "escalation check failed"};
      for (auto& piece : local_composer::stream_chunks("\n\n" + handoff_message(d.reason), 48))
        stream_to_listener(self, piece);
      complete_turn(self, d);
    });
}

// --- actions -------------------------------------------------------------------------------------------

/// True when the generator may be offered tools (an actions service and enabled tools).
bool tools_offered(self_ptr self) {
  const auto& d = *self->state.deps;
  return d.actions && d.action_settings && d.action_settings->enabled;
}

/// What is left of the turn's time; actions must answer well within it.
std::chrono::milliseconds turn_time_left(self_ptr self) {
  auto& t = *self->state.turn;
  auto total = std::chrono::milliseconds{self->state.deps->cfg.session.turn_timeout_ms};
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t.started);
  return std::max(std::chrono::milliseconds{1}, total - elapsed);
}

/// The deadline an action gets: the turn's, less a margin to tell the customer the outcome.
steady_deadline action_deadline(self_ptr self) {
  auto total = std::chrono::milliseconds{self->state.deps->cfg.session.turn_timeout_ms};
  auto margin = std::min(std::chrono::milliseconds{1000}, total / 10);
  return deadline_in(std::max(std::chrono::milliseconds{1}, turn_time_left(self) - margin));
}

/// Streams a sentence of the session's own (proposals, outcomes), as its own paragraph.
void say(self_ptr self, const std::string& text) {
  auto& t = *self->state.turn;
  auto paragraph = t.produced.empty() || t.produced.back() == '\n' ? text : "\n\n" + text;
  for (auto& piece : local_composer::stream_chunks(paragraph, 48))
    stream_to_listener(self, piece);
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void generate(self_ptr self);

/// A tool call from the generator: refused when invalid (the customer is told why), run at once when
/// read-only (the generator is then asked again with the result), proposed when it changes something (it
/// runs only if the next message confirms it).
void handle_tool_call(self_ptr self, const action_call& call) {
  auto& st = self->state;
  auto& t = *st.turn;
  const auto& settings = *st.deps->action_settings;
  auto valid = settings.registry->validate(t.input.tenant.value, call);
  if (!valid) {
    // The problem text may quote the customer's words: logged by kind only.
    st.log->warn("event=tool_call_refused tenant={} session={} tool={} reason=invalid_arguments",
                 t.input.tenant.value, st.tag, call.tool.size() <= 64 ? call.tool : call.tool.substr(0, 64));
    t.actions.push_back(call.tool + ":" + to_string(action_status::invalid_arguments));
    // Not run: answered to the generator as a tool error, so a model phrases what went wrong (the local
    // generator reports the summary as it is).
    action_result refused;
    refused.call_id = call.id;
    refused.tool = call.tool;
    refused.status = action_status::invalid_arguments;
    refused.summary = "I couldn't do that: " + valid.error() + ".";
    refused.detail = valid.error();
    t.tool_results.push_back(std::move(refused));
    generate(self);
    return;
  }
  t.action_requested = true;  // the customer asked for something the bot can do, not for a person
  action_call normalized{call.id, call.tool, dump_json(valid->arguments)};
  if (!settings.registry->mutating(call.tool)) {
    auto serial = t.serial;
    action_request req{t.input.tenant, t.input.user, t.input.session, normalized, {}, action_deadline(self)};
    self->request(st.deps->actions, turn_time_left(self), std::move(req))
      .then(
        [self, serial](action_result& r) {
          if (!is_current(self, serial))
            return;
          auto& t = *self->state.turn;
          t.actions.push_back(r.tool + ":" + to_string(r.status));
          t.tool_results.push_back(std::move(r));
          generate(self);
        },
        [self, serial, normalized](caf::error& err) {
          if (!is_current(self, serial))
            return;
          self->state.log->error("event=action_failed session={} tool={} error={}", self->state.tag,
                                 normalized.tool, to_string(err));
          action_result r;
          r.call_id = normalized.id;
          r.tool = normalized.tool;
          r.status = action_status::unavailable;
          r.summary = "I can't look that up right now. Please try again in a moment.";
          r.detail = "actions service did not answer";
          auto& t = *self->state.turn;
          t.actions.push_back(r.tool + ":" + to_string(r.status));
          t.tool_results.push_back(std::move(r));
          generate(self);
        });
    return;
  }
  auto summary = actions::tool_registry::describe(*valid);
  auto ttl = settings.confirmation_ttl;
  pending_action p;
  p.call = normalized;
  p.summary = summary;
  p.idempotency_key = actions::idempotency_key(t.input.tenant.value, t.input.session.value, t.number, call.tool,
                                               normalized.arguments_json);
  p.expires = steady_clock::now() + ttl;
  p.intent = t.cls.intent;
  st.pending = std::move(p);
  t.proposal = action_proposal{call.tool, summary,
                               unix_ms_now() + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count()};
  t.actions.push_back(call.tool + ":proposed");
  t.gen.confidence = 1.0;
  say(self, "I can " + summary + ". Shall I go ahead? Reply \u201cyes\u201d to confirm or \u201cno\u201d to cancel.");
  complete_turn(self, {});  // nothing was answered yet: no post-answer escalation check
}

/// Runs a confirmed action through the actions service and tells the customer the outcome.
void run_confirmed(self_ptr self, pending_action p) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto serial = t.serial;
  action_request req{t.input.tenant, t.input.user, t.input.session, p.call, p.idempotency_key, action_deadline(self)};
  self->request(st.deps->actions, turn_time_left(self), std::move(req))
    .then(
      [self, serial](action_result& r) {
        if (!is_current(self, serial))
          return;
        self->state.turn->actions.push_back(r.tool + ":" + to_string(r.status));
        say(self, r.summary);
        complete_turn(self, {});
      },
      [self, serial, p](caf::error& err) {
        if (!is_current(self, serial))
          return;
        self->state.log->error("event=action_failed session={} tool={} error={}", self->state.tag, p.call.tool,
                               to_string(err));
        self->state.turn->actions.push_back(p.call.tool + ":" + to_string(action_status::failed));
        say(self, "I couldn't " + p.summary + ": something went wrong on our side, and I can't tell whether it "
                  "went through. Please ask me again in a moment (it won't be done twice), or ask for a member of "
                  "our team.");
        complete_turn(self, {});
      });
}

void classify(self_ptr self);

/// The first message after a proposal: "yes" runs it, "no" drops it; anything else drops it too and is
/// handled as a new message. An expired proposal is never run.
void answer_pending(self_ptr self) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto p = std::move(*st.pending);
  st.pending.reset();
  auto reply = actions::read_confirmation(t.input.text);
  bool expired = steady_clock::now() >= p.expires;
  if (reply == actions::reply_kind::other) {
    t.actions.push_back(p.call.tool + (expired ? ":expired" : ":cancelled"));
    if (!expired) {
      t.prefix = "(I did not " + p.summary + ", as you didn't confirm it.)\n\n";
      for (auto& piece : local_composer::stream_chunks(t.prefix, 48))
        stream_to_listener(self, piece);
    }
    classify(self);
    return;
  }
  t.cls.intent = p.intent;
  t.classified = true;
  t.gen.confidence = 1.0;
  t.gen.provider = "actions";
  if (reply == actions::reply_kind::decline) {
    t.actions.push_back(p.call.tool + ":declined");
    say(self, "OK, I won't " + p.summary + ". Nothing was changed.");
    complete_turn(self, {});
    return;
  }
  if (expired) {
    t.actions.push_back(p.call.tool + ":expired");
    say(self, "That request has expired, so I did not " + p.summary + ". If you still want me to, just ask again.");
    complete_turn(self, {});
    return;
  }
  run_confirmed(self, std::move(p));
}

void generate(self_ptr self) {
  auto& st = self->state;
  auto& t = *st.turn;
  generate_request req;
  req.tenant = t.input.tenant;
  req.session = t.input.session;
  req.turn = t.serial;
  req.question = t.input.text;
  req.intent = t.cls;
  // The intent model does not know every word the knowledge base does (a page ingested after training): a
  // question the retrieved passages cover is in scope, and its answer's confidence is the evidence's.
  if (req.intent.out_of_scope && safety::knowledge_covers(t.ret))
    req.intent.out_of_scope = false;
  req.passages = t.ret.passages;
  req.account = t.account;
  if (req.account.available)  // tickets the bot opened show among the customer's open tickets
    for (const auto& ticket : t.created_tickets)
      if (std::none_of(req.account.open_tickets.begin(), req.account.open_tickets.end(),
                       [&](const ticket_info& x) { return x.id == ticket.id; }))
        req.account.open_tickets.push_back(ticket);
  req.history = st.memory.turns;
  req.summary = st.memory.summary;
  req.sink = caf::actor_cast<generation_sink_actor>(self);
  if (t.tool_results.empty())
    req.tools = t.tools;
  req.tool_results = t.tool_results;
  if (!t.tool_results.empty() && !t.produced.empty() && t.produced.back() != '\n')
    stream_to_listener(self, "\n\n");  // the answer after the results is a paragraph of its own
  t.generated_from = t.produced.size();
  t.generating = true;
  ask<generation>(
    self, &session_state::generator, &session_children::generator, "generator", std::move(req),
    [self](generation& g) {
      auto& t = *self->state.turn;
      t.generating = false;
      // Deltas arrived before this reply; anything not streamed (a sink-less generator) goes now.
      auto produced = std::string_view{t.produced}.substr(std::min(t.generated_from, t.produced.size()));
      if (produced.size() < g.text.size() && g.text.compare(0, produced.size(), produced) == 0)
        stream_to_listener(self, g.text.substr(produced.size()));
      if (!g.tool_calls.empty() && !t.tools.empty() && t.tool_results.empty()) {
        if (g.tool_calls.size() > 1)
          self->state.log->warn("event=tool_calls_dropped session={} count={}", self->state.tag,
                                g.tool_calls.size() - 1);  // one action per turn: the first is handled
        auto call = g.tool_calls.front();
        t.gen = std::move(g);
        handle_tool_call(self, call);
        return;
      }
      t.gen = std::move(g);
      after_generation(self);
    },
    [self](caf::error&) {
      // No answer (or only part of one went out): hand over rather than leave the customer without.
      self->state.turn->generating = false;
      escalate_now(self, {true, escalation_reason::component_failure, "generator failed"});
    },
    [self] {
      // A fresh generator answers from the start: void whatever the crashed one streamed.
      auto& t = *self->state.turn;
      if (t.produced.size() > t.generated_from)
        restart_stream(self, "generator_restarted");
    });
}

bool refused_off_topic(self_ptr self, bool with_classifier_signal);

void gathered_one(self_ptr self) {
  auto& t = *self->state.turn;
  if (--t.pending != 0)
    return;
  // The off-topic gate (actors/safety/safety_checks.hpp): a message naming an invoice or ticket, asking for
  // one of the tenant's tools, or that the knowledge base covers is not refused as off-topic.
  if (safety::off_topic_candidate(t.cls, t.action_requested, t.ret)
      && refused_off_topic(self, true))
    return;
  generate(self);
}

// --- safety ------------------------------------------------------------------------------------------

/// Folds one check's verdict into the turn's; a verdict that is not allow is counted
/// (sa_safety_verdicts_total) and recorded in the audit trail: action, reason, detail, never the text.
void record_safety(self_ptr self, const safety_verdict& v, safety_source source) {
  auto& st = self->state;
  auto& t = *st.turn;
  safety::merge_verdict(t.safety, v);
  if (v.action == safety_action::allow)
    return;
  if (auto* m = metrics_of(self))
    m->safety_checked(to_string(v.action), to_string(v.reason));
  st.log->info("event=safety_verdict tenant={} session={} turn={} source={} action={} reason={} detail=\"{}\"",
               t.input.tenant.value, st.tag, t.number, to_string(source), to_string(v.action), to_string(v.reason),
               v.detail);
  if (!st.deps->audit)
    return;
  nlohmann::json args{{"turn", t.number}, {"source", to_string(source)}, {"detail", v.detail},
                      {"redactions", v.redactions}};
  audit_event e{st.tenant, audit_actors::bot, "safety", dump_json(args),
                std::string(to_string(v.action)) + ":" + to_string(v.reason), st.id};
  self->request(st.deps->audit, child_timeout(self), std::move(e))
    .then([](const audit_receipt&) {},
          [self](caf::error& err) {
            self->state.log->error("event=audit_failed action=safety tenant={} session={} error={}",
                                   self->state.tenant.value, self->state.tag, to_string(err));
          });
}

/// A check the session runs in-line (no hop: each retrieved passage, the off-topic check after
/// classification, or every check when the node gave no safety child). Without compiled checks, PII
/// redaction only.
safety_verdict check_inline(self_ptr self, const safety_check_request& req) {
  const auto& deps = *self->state.deps;
  if (deps.safety)
    return deps.safety->check(req);
  safety_verdict v;
  if (req.source == safety_source::user_message && !req.classified)
    v.own_contacts = safety::own_data::values_in(*deps.pii, req.text);
  size_t n = 0;
  v.redacted = deps.pii->redact(req.text, &n);
  if (n > 0 && req.source == safety_source::user_message) {
    v.action = safety_action::redact;
    v.reason = safety_reason::pii;
    v.redactions = static_cast<uint32_t>(n);
  } else {
    v.redacted = req.text;
  }
  return v;
}

/// The customer's message was refused (harmful, abusive, off topic, injection): a polite answer, no
/// generator, no escalation; the turn completes as usual.
void refuse_turn(self_ptr self, safety_reason reason) {
  auto& t = *self->state.turn;
  t.gen.confidence = 1.0;
  t.gen.provider = "safety";
  say(self, safety::refusal_message(reason));
  complete_turn(self, {});
}

/// After the message check: the redacted text replaces the message for everything downstream (pipeline,
/// memory, logs, audit, handoff); refuse and escalate end the turn here.
void apply_message_verdict(self_ptr self, safety_verdict& v) {
  auto& st = self->state;
  auto& t = *st.turn;
  // The customer's own contact data, found by the scan that redacted the message: the answer may repeat it.
  t.own->values.insert(t.own->values.end(), std::make_move_iterator(v.own_contacts.begin()),
                       std::make_move_iterator(v.own_contacts.end()));
  v.own_contacts.clear();
  st.cost_usd += v.cost_usd;  // an LLM moderation call (sa_conversation_cost_usd)
  t.input.text = std::move(v.redacted);
  v.redacted.clear();
  record_safety(self, v, safety_source::user_message);
  if (v.action == safety_action::refuse) {
    st.pending.reset();  // a refused message neither confirms nor keeps a proposal
    refuse_turn(self, v.reason);
  } else if (v.action == safety_action::escalate) {
    st.pending.reset();
    escalate_now(self, {true, escalation_reason::safety, v.detail});
  } else if (st.pending) {  // the message right after a proposal: a confirmation, a refusal or a new message
    answer_pending(self);
  } else {
    classify(self);
  }
}

/// The first stage of every turn: the customer's message through the safety actor (PII redacted; harmful,
/// abusive, injection, configured off-topic phrases). A safety child that fails twice degrades to the
/// in-line check, logged: the message is never passed on unchecked.
void check_message(self_ptr self) {
  auto& st = self->state;
  auto& t = *st.turn;
  safety_check_request req{t.input.tenant, safety_source::user_message, t.input.text, {}, false};
  if (!st.deps->children.safety) {
    auto v = check_inline(self, req);
    apply_message_verdict(self, v);
    return;
  }
  ask<safety_verdict>(
    self, &session_state::safety, &session_children::safety, "safety", req,
    [self](safety_verdict& v) { apply_message_verdict(self, v); },
    [self, req](caf::error& err) {
      self->state.log->error("event=safety_check_failed session={} error={} fallback=inline", self->state.tag,
                             to_string(err));
      auto v = check_inline(self, req);
      apply_message_verdict(self, v);
    });
}

/// The tenant's off-topic topics (after classification) and the classifier's out_of_scope (after retrieval)
/// may make the message off topic; then it is refused with a polite redirect. True when the turn was refused.
/// The classifier's signal alone counts only when the knowledge base has nothing on the question either: the
/// intent model does not know the words of newly ingested pages ("quokka deliveries"), the index does.
bool refused_off_topic(self_ptr self, bool with_classifier_signal) {
  auto& t = *self->state.turn;
  if (!self->state.deps->safety)
    return false;
  safety_check_request req{t.input.tenant, safety_source::user_message, t.input.text, t.cls, true};
  req.intent.out_of_scope = with_classifier_signal && t.cls.out_of_scope;
  auto v = check_inline(self, req);
  if (v.action != safety_action::refuse)
    return false;
  v.redacted.clear();
  record_safety(self, v, safety_source::user_message);
  refuse_turn(self, v.reason);
  return true;
}

/// Retrieved passages before the generator sees them: one with injected instructions is dropped
/// (recorded as a redaction, reason prompt_injection: the turn still answers); card numbers, ids and
/// secrets in the rest are redacted. Contact data in the tenant's documents may be repeated in the answer.
void screen_passages(self_ptr self) {
  auto& t = *self->state.turn;
  auto& passages = t.ret.passages;
  for (auto i = passages.begin(); i != passages.end();) {
    auto v = check_inline(self, {t.input.tenant, safety_source::retrieved_passage, i->text, {}, false});
    if (v.action == safety_action::refuse) {
      v.action = safety_action::redact;
      v.detail = "passage_dropped:" + v.detail;
      v.redacted.clear();
      record_safety(self, v, safety_source::retrieved_passage);
      i = passages.erase(i);
      continue;
    }
    i->text = std::move(v.redacted);
    v.redacted.clear();
    record_safety(self, v, safety_source::retrieved_passage);
    t.own->add_from(*self->state.deps->pii, i->text);
    ++i;
  }
}

void gather(self_ptr self) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto& routes = st.deps->cfg.retriever.routes;
  auto route = routes.find(to_string(t.cls.intent));
  bool want_account = route != routes.end() && route->second.account_context;
  bool want_knowledge = true;
  if (route != routes.end() && !route->second.source_weights.empty()) {
    want_knowledge = false;
    for (auto& [kind, weight] : route->second.source_weights)
      want_knowledge = want_knowledge || weight > 0;
  }
  bool want_tickets = want_account && tools_offered(self);  // tickets the bot opened join the account facts
  t.pending = 1 + (want_knowledge ? 1 : 0) + (want_account ? 1 : 0) + (want_tickets ? 1 : 0);
  t.account_wanted = want_account;
  if (tools_offered(self))
    t.tools = st.deps->action_settings->registry->tools_for(t.input.tenant.value);
  if (want_tickets) {
    auto serial = t.serial;
    self->request(st.deps->actions, child_timeout(self), ticket_list_request{t.input.tenant, t.input.user})
      .then(
        [self, serial](ticket_list& l) {
          if (!is_current(self, serial))
            return;
          self->state.turn->created_tickets = std::move(l.tickets);
          gathered_one(self);
        },
        [self, serial](caf::error& err) {
          if (!is_current(self, serial))
            return;
          self->state.log->warn("event=ticket_list_failed session={} error={}", self->state.tag, to_string(err));
          gathered_one(self);  // the account facts' own tickets still show
        });
  }
  if (want_knowledge) {
    retrieve_request req{t.input.tenant, t.input.text, t.cls.intent,
                         static_cast<unsigned>(st.deps->cfg.retriever.top_k)};
    ask<retrieval>(
      self, &session_state::retriever, &session_children::retriever, "retriever", req,
      [self](retrieval& r) {
        self->state.cost_usd += r.cost_usd;  // the question's embedding (hybrid retrieval), spent either way
        self->state.turn->ret = std::move(r);
        screen_passages(self);
        gathered_one(self);
      },
      [self](caf::error& err) {
        self->state.log->error("event=retrieval_failed session={} error={}", self->state.tag,
                               to_string(err));
        self->state.turn->ret = retrieval{};  // no passages: the answer will say so, confidence low
        gathered_one(self);
      });
  }
  if (want_account) {
    auto serial = t.serial;
    self->request(st.deps->account, child_timeout(self), account_request{t.input.tenant, t.input.user})
      .then(
        [self, serial](account_facts& f) {
          if (!is_current(self, serial))
            return;
          if (!f.available || !f.missing.empty()) {
            std::string missing;
            for (const auto& gap : f.missing)
              missing += (missing.empty() ? "" : ",") + gap.lookup + ":" + to_string(gap.reason);
            self->state.log->warn("event=account_context_degraded session={} available={} reason={} missing={}",
                                  self->state.tag, f.available, to_string(f.failure),
                                  missing.empty() ? "none" : missing);
          }
          self->state.turn->account = std::move(f);
          gathered_one(self);
        },
        [self, serial](caf::error& err) {
          if (!is_current(self, serial))
            return;
          self->state.log->warn("event=account_context_failed session={} error={}", self->state.tag,
                                to_string(err));
          self->state.turn->account_failed = true;  // answer without account facts, flagged
          self->state.turn->account.failure = account_failure::service_failed;
          gathered_one(self);
        });
  }
  gathered_one(self);  // the "1 +" above: start only when both requests are out
}

void classify(self_ptr self) {
  auto& t = *self->state.turn;
  ask<classification>(
    self, &session_state::classifier, &session_children::classifier, "classifier",
    classify_request{t.input.tenant, t.input.text},
    [self](classification& c) {
      auto& t = *self->state.turn;
      self->state.cost_usd += c.cost_usd;  // an LLM classifier's call (sa_conversation_cost_usd)
      t.cls = std::move(c);
      t.classified = true;
      t.action_requested = tools_offered(self) && self->state.deps->action_settings->rules->asks_for_action(t.input.text);
      if (refused_off_topic(self, false))
        return;
      // Rules that need no answer first: an explicit request or a sensitive topic skips generation.
      auto req = escalation_input(self, -1.0, true);
      ask<escalation_decision>(
        self, &session_state::escalation, &session_children::escalation, "escalation", req,
        [self](escalation_decision& d) {
          if (d.escalate)
            escalate_now(self, d);
          else
            gather(self);
        },
        [self](caf::error&) { gather(self); });  // the post-answer check runs the rules again
    },
    [self](caf::error&) {
      fail_turn(self, support_errc::component_failed,
                "Sorry, something went wrong on our side while reading your message. Please send it again.");
    });
}

void start_turn(self_ptr self, user_turn input) {
  auto& st = self->state;
  auto owner = st.memory.owner.empty() ? st.user : st.memory.owner;
  if (input.user != owner) {
    st.log->warn("event=session_forbidden tenant={} session={}", input.tenant.value, st.tag);
    send_failed(self, input, support_errc::session_forbidden, "This conversation belongs to someone else.");
    pump(self);
    return;
  }
  // A retry of a message that was already answered gets the stored answer again, not a second turn.
  for (auto& rec : st.memory.turns) {
    if (!input.client_message_id.empty() && rec.client_message_id == input.client_message_id) {
      turn_completed done;
      done.session = input.session;
      done.client_message_id = input.client_message_id;
      done.turn = rec.number;
      done.text = rec.answer_text;
      done.intent = rec.intent;
      done.escalation.escalate = rec.escalated;
      done.provider = "memory";
      self->send(input.listener, std::move(done));
      settle_owed(self, input.client_message_id);
      pump(self);
      return;
    }
  }
  st.turn = std::make_unique<turn_context>();
  auto& t = *st.turn;
  t.serial = st.next_serial++;
  t.number = st.memory.last_turn + 1;
  t.started = steady_clock::now();
  t.input = std::move(input);
  self->delayed_send(self, std::chrono::milliseconds{st.deps->cfg.session.turn_timeout_ms},
                     turn_deadline{t.serial});
  check_message(self);  // then answer_pending or classify
}

/// While an agent holds the conversation the bot does not answer: the handoff service stores the message
/// as a turn and forwards it to the agent, and the customer gets one final of the agent's (empty text,
/// provider "agent": the gateway renders "handled_by":"agent"). Otherwise the bot answers as usual.
void route_via_handoff(self_ptr self) {
  auto& st = self->state;
  st.handoff_checking = true;
  const auto& front = st.queue.front();
  // What an agent reads (and the handoff record keeps) passes the PII check like everything else: card
  // numbers, secrets and other sensitive numbers never reach the console.
  auto text = st.deps->pii ? st.deps->pii->redact(front.text) : front.text;
  handoff_route_request q{front.tenant, front.user, front.session, front.client_message_id, std::move(text)};
  self->request(st.deps->handoff, child_timeout(self), std::move(q))
    .then(
      [self](const handoff_route& r) {
        auto& st = self->state;
        st.handoff_checking = false;
        if (r.held) {
          auto input = std::move(st.queue.front());
          st.queue.pop_front();
          st.memory_loaded = false;  // the turn was written by the handoff service: reload before the bot answers
          if (r.turn == 0) {
            send_failed(self, input, support_errc::component_failed,
                        "Sorry, your message could not be passed on. Please send it again.");
          } else {
            turn_completed done;
            done.session = input.session;
            done.client_message_id = input.client_message_id;
            done.turn = r.turn;
            done.provider = "agent";
            st.log->info("event=turn_to_agent tenant={} session={} turn={}", st.tenant.value, st.tag, r.turn);
            self->send(input.listener, std::move(done));
            settle_owed(self, input.client_message_id);
          }
          pump(self);
          return;
        }
        if (!r.open) {
          st.handoff_check = false;
          if (r.had_agent)
            st.memory_loaded = false;  // the agent's exchange is in the stored memory: the bot must see it
        }
        st.handoff_checked = true;
        pump(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.handoff_checking = false;
        st.log->error("event=handoff_route_failed session={} error={}", st.tag, to_string(err));
        st.handoff_checked = true;  // the bot answers rather than leave the customer without one
        pump(self);
      });
}

void pump(self_ptr self) {
  auto& st = self->state;
  if (st.turn || st.queue.empty() || st.handoff_checking)
    return;
  if (!st.memory_loaded) {
    if (st.memory_loading)
      return;
    st.memory_loading = true;
    self->request(st.deps->memory, child_timeout(self), memory_load{st.tenant, st.id})
      .then(
        [self](conversation_memory& m) {
          self->state.memory = std::move(m);
          for (const auto& rec : self->state.memory.turns)
            self->state.escalated = self->state.escalated || rec.escalated;
          // A conversation that escalated may be held by an agent. So may one this node has no history of:
          // its memory expired or was evicted here, or (clustered) it ran on another member until it moved
          // here, and its handoff record stayed there (the handoff router asks the members).
          if (!self->state.memory_ever_loaded) {
            self->state.memory_ever_loaded = true;
            self->state.handoff_check = self->state.escalated || self->state.memory.last_turn == 0;
          }
          self->state.memory_loaded = true;
          self->state.memory_loading = false;
          pump(self);
        },
        [self](caf::error& err) {
          auto& st = self->state;
          st.memory_loading = false;
          st.log->error("event=memory_load_failed session={} error={}", st.tag, to_string(err));
          auto t = std::move(st.queue.front());
          st.queue.pop_front();
          send_failed(self, t, support_errc::component_failed,
                      "Sorry, we could not load this conversation. Please try again in a moment.");
          pump(self);
        });
    return;
  }
  if (st.handoff_check && st.deps->handoff && !st.handoff_checked) {
    route_via_handoff(self);
    return;
  }
  auto next = std::move(st.queue.front());
  st.queue.pop_front();
  st.handoff_checked = false;  // the next message asks again
  start_turn(self, std::move(next));
}

void stop_children(self_ptr self) {
  auto& st = self->state;
  auto stop = [self](auto& h) {
    if (h)
      self->send_exit(h, caf::exit_reason::user_shutdown);
    h = nullptr;
  };
  stop(st.classifier);
  stop(st.retriever);
  stop(st.generator);
  stop(st.escalation);
  stop(st.safety);
}

void spawn_children(self_ptr self) {
  auto& st = self->state;
  auto& kids = st.deps->children;
  st.classifier = kids.classifier(self);
  st.retriever = kids.retriever(self);
  st.generator = kids.generator(self);
  st.escalation = kids.escalation(self);
  if (kids.safety) {
    st.safety = kids.safety(self);
    st.children.insert(st.safety.address());
  }
  for (auto addr : {st.classifier.address(), st.retriever.address(), st.generator.address(),
                    st.escalation.address()})
    st.children.insert(addr);
}

session_impl::behavior_type session(self_ptr self, tenant_id tenant, user_id user, session_id id,
                                    std::shared_ptr<const session_deps> deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.tenant = std::move(tenant);
  st.user = std::move(user);
  st.id = std::move(id);
  st.tag = log::tag(st.tenant.value + '/' + st.id.value);
  st.log = log::get("session");
  st.owed = std::make_shared<owed_list>();
  log_exceptions(self, "session");
  spawn_children(self);
  // Whatever kills this session, every accepted turn still gets an answer.
  self->attach_functor([owed = st.owed, sid = st.id](const caf::error& reason) {
    for (auto& o : *owed)
      caf::anon_send(o.listener, turn_failed{sid, o.client_message_id,
                                             static_cast<uint8_t>(support_errc::component_failed),
                                             "Sorry, something went wrong on our side. Please send "
                                             "your message again."});
    owed->clear();
    (void) reason;
  });
  self->set_exit_handler([self](caf::exit_msg& m) {
    auto& st = self->state;
    bool child = st.children.erase(m.source) > 0;
    auto drop = [&](auto& h) {
      if (h && h.address() == m.source)
        h = nullptr;
    };
    drop(st.classifier);
    drop(st.retriever);
    drop(st.generator);
    drop(st.escalation);
    drop(st.safety);
    if (child) {
      st.log->warn("event=child_exited session={} reason={}", st.tag, to_string(m.reason));
      return;  // replaced on next use, within the restart budget
    }
    if (m.reason)
      self->quit(m.reason);  // a shutdown from outside
  });
  auto idle = std::chrono::seconds{st.deps->cfg.session.idle_timeout_s};
  return {
    [self](user_turn& t) {
      auto& st = self->state;
      if (st.queue.size() >= static_cast<size_t>(st.deps->cfg.limits.max_pending_messages)) {
        send_failed(self, t, support_errc::busy,
                    "You are sending messages faster than we can answer. Please wait for the answer.");
        return;
      }
      st.owed->push_back(owed_answer{t.listener, t.client_message_id});
      st.queue.push_back(std::move(t));
      pump(self);
    },
    [self](generation_delta& d) {
      auto& st = self->state;
      if (st.turn && st.turn->serial == d.turn)
        stream_to_listener(self, d.text);
    },
    [self](generation_reset& r) {
      auto& st = self->state;
      if (st.turn && st.turn->serial == r.turn && st.turn->generating)
        restart_stream(self, r.reason);
    },
    [self](const judging_cost& c) {
      // The quality monitor judged one of this conversation's turns (seconds after it was answered).
      if (c.session == self->state.id && c.usd > 0)
        self->state.cost_usd += c.usd;
    },
    [self](const turn_deadline& d) {
      if (!is_current(self, d.serial) || self->state.turn->recording_handoff)
        return;
      // Whichever child stalled is replaced: the next turn starts with a fresh set.
      stop_children(self);
      spawn_children(self);
      fail_turn(self, support_errc::timeout,
                "Sorry, this is taking longer than it should. Please send your message again.");
    },
    caf::after(idle) >>
      [self] {
        auto& st = self->state;
        if (st.turn || !st.queue.empty())
          return;
        st.log->debug("event=session_passivated session={}", st.tag);
        // An idle conversation that was answered is closed: by the bot unless a turn went to a human.
        if (auto* m = metrics_of(self); m && st.answered > 0) {
          m->conversation_closed(st.tenant.value, st.escalated);
          m->conversation_cost(st.tenant.value, st.cost_usd);
        }
        stop_children(self);
        self->quit();
      },
  };
}

} // namespace

session_actor spawn_session(caf::local_actor* parent, tenant_id tenant, user_id user, session_id id,
                            std::shared_ptr<const session_deps> deps) {
  return caf::actor_cast<session_actor>(parent->spawn<caf::monitored>(session, std::move(tenant),
                                                                      std::move(user), std::move(id),
                                                                      std::move(deps)));
}

std::string handoff_message(escalation_reason reason) {
  switch (reason) {
    case escalation_reason::user_requested:
      return "I'm connecting you with a member of our support team. They will see this conversation, "
             "so you won't need to repeat yourself.";
    case escalation_reason::sensitive_topic:
      return "This is something a member of our team should handle personally. I've passed your "
             "conversation to them and they will get back to you here.";
    case escalation_reason::low_confidence:
      return "I'm not confident this fully answers your question, so I've asked a member of our "
             "support team to follow up with you here.";
    case escalation_reason::knowledge_unavailable:
    case escalation_reason::component_failure:
      return "I can't answer this reliably right now, so I've passed your conversation to a member of "
             "our support team.";
    case escalation_reason::safety:
      return "A member of our support team will take it from here; I've passed your conversation to them.";
    case escalation_reason::repeated_failure:
      return "I'm sorry my answers haven't helped. I've passed your conversation to a member of our "
             "support team, who will see everything you've told me so far.";
    case escalation_reason::negative_sentiment:
      return "I'm sorry about the trouble. I've asked a member of our support team to take over; they "
             "will see this conversation, so you won't need to repeat yourself.";
    case escalation_reason::agent_requested:
      return "A member of our support team has joined the conversation.";
    case escalation_reason::none:
      break;
  }
  return {};
}

} // namespace sa
