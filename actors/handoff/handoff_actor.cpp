#include "actors/handoff/handoff_actor.hpp"

#include "actors/handoff/handoff_record.hpp"
#include "messages/errors.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>

namespace sa::handoff {

namespace {

/// One memory write of a held conversation (or a barrier: no record, just "after the writes before me").
struct write_op {
  bool barrier = false;
  turn_record rec;
  user_id owner;
  std::function<void(turn_number)> done;  ///< the stored turn's number, 0 when it could not be stored
};

struct session_writer {
  std::deque<write_op> ops;
  bool busy = false;
};

struct service_state {
  static inline const char* name = "handoff";
  std::shared_ptr<const handoff_deps> deps;
  std::map<std::string, session_writer> writers;  // tenant \x1f session
  /// What waits for the store: continuations by flush ticket, run in ticket order.
  uint64_t last_ticket = 0;
  std::map<uint64_t, std::function<void()>> after_saved;
  std::shared_ptr<spdlog::logger> log;
};

/// The service's own interface: the public one plus the store's "saved up to this ticket".
using saved_atom = caf::atom_constant<caf::atom("ho_saved")>;
using service_actor = handoff_actor::extend<caf::reacts_to<saved_atom, uint64_t>>;
using self_ptr = service_actor::stateful_pointer<service_state>;

std::string key(const tenant_id& t, const session_id& s) {
  return t.value + '\x1f' + s.value;
}

hub& shared(self_ptr self) {
  return *self->state.deps->state;
}

bool customer_online(self_ptr self, const handoff_view& r) {
  auto it = shared(self).customers.find(key(r.tenant, r.session));
  return it != shared(self).customers.end() && !it->second.empty();
}

handoff_view summary_of(self_ptr self, const handoff_view& r) {
  handoff_view v = r;
  v.summary.clear();
  v.transcript.clear();
  v.facts.clear();
  v.question.clear();
  v.customer_online = customer_online(self, r);
  return v;
}

handoff_view full_of(self_ptr self, const handoff_view& r) {
  handoff_view v = r;
  v.customer_online = customer_online(self, r);
  return v;
}

void broadcast(self_ptr self, const handoff_view& r) {
  auto view = summary_of(self, r);
  for (const auto& a : shared(self).agents)
    if (a.tenant == r.tenant)
      self->send(a.listener, handoff_changed{view});
}

/// What the customer wrote, to the consoles of the agent holding `r`.
void to_holder(self_ptr self, const handoff_view& r, const handoff_customer_said& said) {
  for (const auto& a : shared(self).agents)
    if (a.tenant == r.tenant && a.agent == r.agent)
      self->send(a.listener, said);
}

void to_customer(self_ptr self, const handoff_view& r, handoff_customer_event e) {
  auto it = shared(self).customers.find(key(r.tenant, r.session));
  if (it == shared(self).customers.end())
    return;
  for (const auto& c : it->second)
    self->send(c, e);
}

/// Sends the customer's connections the agent lines they have not had yet; true when one was attached.
bool deliver_pending(self_ptr self, handoff_view& r) {
  if (!customer_online(self, r))
    return false;
  uint32_t last = r.delivered_seq;
  for (const auto& l : r.transcript)
    if (l.role == "agent" && l.seq > r.delivered_seq) {
      to_customer(self, r, {"agent_message", r.id, l.agent_name, l.text, l.seq, r.state});
      last = std::max(last, l.seq);
    }
  shared(self).book.delivered(r, last);
  return true;
}

/// Sends `listener` the agent lines of `r` that went to a customer connection before but come after what its
/// client says it has shown (`seen`): the connection they went to may have been dropping at that moment. A
/// client that names an earlier handoff of the session has shown none of this one's. Without `seen`, nothing.
void resend_unseen(self_ptr self, const handoff_customer_actor& listener, const handoff_view& r,
                   const agent_seen& seen) {
  if (!seen.given)
    return;
  const uint32_t from = seen.handoff == r.id ? seen.seq : 0;
  for (const auto& l : r.transcript)
    if (l.role == "agent" && l.seq > from && l.seq <= r.delivered_seq)
      self->send(listener, handoff_customer_event{"agent_message", r.id, l.agent_name, l.text, l.seq, r.state});
}

void count(self_ptr self, const handoff_view& r, const char* event) {
  if (auto& m = self->state.deps->metrics)
    m->handoff_event(r.tenant.value, event);
}

void audit(self_ptr self, const agent_action& a, const std::string& result, const session_id& session) {
  auto& audit = self->state.deps->audit;
  if (!audit)
    return;
  nlohmann::json args{{"handoff", a.handoff}};
  if (a.op == handoff_ops::tag)
    args["intent"] = a.intent, args["bot_could_answer"] = a.bot_could_answer;
  audit_event e{a.tenant, "agent:" + a.agent, std::string{"handoff_"} + a.op, args.dump(), result, session};
  self->request(audit, self->state.deps->memory_timeout, std::move(e))
    .then([](const audit_receipt&) {},
          [self, op = a.op](caf::error& err) {
            self->state.log->error("event=audit_failed action=handoff_{} error={}", op, to_string(err));
          });
}

// --- acknowledging once durable -------------------------------------------------------------------------

/// Runs `k` once every change the book has made so far is durable (the store's flush; a message either way).
void when_saved(self_ptr self, std::function<void()> k) {
  auto& st = self->state;
  const auto ticket = ++st.last_ticket;
  st.after_saved.emplace(ticket, std::move(k));
  shared(self).book.flush([who = caf::actor_cast<service_actor>(self), ticket] {
    caf::anon_send(who, saved_atom::value, ticket);
  });
}

void on_saved(self_ptr self, uint64_t ticket) {
  auto& pending = self->state.after_saved;
  while (!pending.empty() && pending.begin()->first <= ticket) {
    auto k = std::move(pending.begin()->second);
    pending.erase(pending.begin());
    k();
  }
}

/// Answers with `value` once the book's changes so far are durable.
template <class T>
caf::result<T> reply_when_saved(self_ptr self, T value) {
  auto rp = self->make_response_promise<T>();
  when_saved(self, [rp, value = std::move(value)]() mutable { rp.deliver(std::move(value)); });
  return rp;
}

// --- memory writes, one at a time per session ------------------------------------------------------

void run_writer(self_ptr self, const std::string& k, tenant_id tenant, session_id session);

void write_one(self_ptr self, const std::string& k, tenant_id tenant, session_id session, int attempt) {
  auto timeout = self->state.deps->memory_timeout;
  auto finish = [self, k, tenant, session](turn_number n) {
    auto& w = self->state.writers[k];
    auto op = std::move(w.ops.front());
    w.ops.pop_front();
    w.busy = false;
    if (op.done)
      op.done(n);
    run_writer(self, k, tenant, session);
  };
  self->request(self->state.deps->memory, timeout, memory_load{tenant, session})
    .then(
      [self, k, tenant, session, attempt, timeout, finish](conversation_memory& m) {
        auto& w = self->state.writers[k];
        auto rec = w.ops.front().rec;
        rec.number = m.last_turn + 1;
        self->request(self->state.deps->memory, timeout, memory_append{tenant, session, w.ops.front().owner, rec})
          .then([finish, n = rec.number](const memory_ack& ack) { finish(ack.duplicate ? ack.committed : n); },
                [self, k, tenant, session, attempt, finish](caf::error& err) {
                  if (to_support_errc(err) == support_errc::turn_conflict && attempt < 5) {
                    write_one(self, k, tenant, session, attempt + 1);  // the session wrote meanwhile
                    return;
                  }
                  self->state.log->error("event=handoff_memory_write_failed session={} error={}",
                                         log::tag(tenant.value + "/" + session.value), to_string(err));
                  finish(0);
                });
      },
      [self, tenant, session, finish](caf::error& err) {
        self->state.log->error("event=handoff_memory_load_failed session={} error={}",
                               log::tag(tenant.value + "/" + session.value), to_string(err));
        finish(0);
      });
}

void run_writer(self_ptr self, const std::string& k, tenant_id tenant, session_id session) {
  auto& w = self->state.writers[k];
  while (!w.busy && !w.ops.empty() && w.ops.front().barrier) {
    auto op = std::move(w.ops.front());
    w.ops.pop_front();
    if (op.done)
      op.done(0);
  }
  if (w.busy)
    return;
  if (w.ops.empty()) {
    self->state.writers.erase(k);
    return;
  }
  w.busy = true;
  write_one(self, k, std::move(tenant), std::move(session), 0);
}

void enqueue(self_ptr self, const tenant_id& t, const session_id& s, write_op op) {
  auto k = key(t, s);
  self->state.writers[k].ops.push_back(std::move(op));
  run_writer(self, k, t, s);
}

// --- agent actions -----------------------------------------------------------------------------------

agent_outcome refused(const std::string& code) {
  agent_outcome o;
  o.code = code;
  return o;
}

agent_outcome on_action(self_ptr self, const agent_action& a) {
  auto& book = shared(self).book;
  auto now = now_unix_ms();
  handoff_book::outcome r;
  agent_outcome out;
  const auto& op = a.op;
  if (op == handoff_ops::history) {
    r = book.history(a.tenant, a.handoff);
    if (r.code.empty())
      out.view = full_of(self, *r.record);
    out.code = r.code;
    return out;
  }
  if (op == handoff_ops::take) {
    auto* before = book.history(a.tenant, a.handoff).record;
    bool was_queued = before && before->state == handoff_states::queued;
    r = book.take(a.tenant, a.handoff, a.agent, a.name, now);
    if (r.code.empty() && was_queued) {
      count(self, *r.record, "taken");
      if (auto& m = self->state.deps->metrics)
        m->handoff_taken(a.tenant.value, static_cast<double>(now - r.record->created_unix_ms) / 1000.0);
      to_customer(self, *r.record, {"agent_joined", r.record->id, r.record->agent_name, {}, 0, r.record->state});
      broadcast(self, *r.record);
    }
  } else if (op == handoff_ops::reply) {
    if (a.text.empty() || a.text.size() > max_reply_bytes)
      return refused(handoff_codes::bad_request);
    r = book.reply(a.tenant, a.handoff, a.agent, a.text, now);
    if (r.code.empty()) {
      auto& rec = *r.record;
      // The customer reads the agent's words as written (the transcript copy is redacted).
      if (customer_online(self, rec)) {
        to_customer(self, rec, {"agent_message", rec.id, rec.agent_name, a.text, r.seq, rec.state});
        book.delivered(rec, r.seq);
        out.delivered = true;
      }
      write_op w;
      w.rec.client_message_id = "agent:" + rec.id + ":" + std::to_string(r.seq);
      w.rec.answer_text = a.text;
      w.rec.at_unix_ms = now;
      w.owner = rec.user;
      enqueue(self, rec.tenant, rec.session, std::move(w));
    }
  } else if (op == handoff_ops::hand_back) {
    r = book.hand_back(a.tenant, a.handoff, a.agent, now);
    if (r.code.empty()) {
      count(self, *r.record, "returned");
      to_customer(self, *r.record, {"agent_left", r.record->id, r.record->agent_name, {}, 0, r.record->state});
      broadcast(self, *r.record);
    }
  } else if (op == handoff_ops::close) {
    auto* before = book.history(a.tenant, a.handoff).record;
    bool was_assigned = before && before->state == handoff_states::assigned;
    r = book.close(a.tenant, a.handoff, a.agent, a.text, now);
    if (r.code.empty()) {
      count(self, *r.record, "closed");
      if (was_assigned)
        to_customer(self, *r.record, {"agent_left", r.record->id, r.record->agent_name, {}, 0, r.record->state});
      broadcast(self, *r.record);
    }
  } else if (op == handoff_ops::tag) {
    r = book.tag(a.tenant, a.handoff, a.intent, a.bot_could_answer);
    if (r.code.empty())
      broadcast(self, *r.record);
  } else {
    return refused(handoff_codes::bad_request);
  }
  out.code = r.code;
  if (r.record && r.code != handoff_codes::not_found)
    out.view = op == handoff_ops::take && r.code.empty() ? full_of(self, *r.record) : summary_of(self, *r.record);
  self->state.log->info("event=agent_action tenant={} agent={} op={} handoff={} outcome={}", a.tenant.value,
                        log::tag(a.agent), op, a.handoff, r.code.empty() ? "ok" : r.code);
  audit(self, a, r.code.empty() ? "ok" : "refused:" + r.code,
        r.record && r.code != handoff_codes::not_found ? r.record->session : session_id{});
  return out;
}

// --- customers and agents going away -------------------------------------------------------------------

/// Removes customer connection `who` from the conversation it follows here (only when that is `only`, a key,
/// if given; not when it is `except`); agents of a session that lost its last connection see the customer go
/// offline. True when it followed one and was removed.
bool drop_customer(self_ptr self, const caf::actor_addr& who, const std::string& only = {},
                   const std::string& except = {}) {
  auto& h = shared(self);
  auto f = h.following.find(who);
  if (f == h.following.end() || (!only.empty() && f->second != only) || (!except.empty() && f->second == except))
    return false;
  auto k = std::move(f->second);
  h.following.erase(f);
  if (auto it = h.customers.find(k); it != h.customers.end()) {
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const handoff_customer_actor& c) { return c.address() == who; }),
               list.end());
    if (list.empty())
      h.customers.erase(it);
  }
  auto sep = k.find('\x1f');
  if (auto* r = h.book.active_for(tenant_id{k.substr(0, sep)}, session_id{k.substr(sep + 1)}))
    broadcast(self, *r);  // customer_online changed
  return true;
}

void on_down(self_ptr self, const caf::actor_addr& who) {
  auto& h = shared(self);
  h.agents.erase(std::remove_if(h.agents.begin(), h.agents.end(),
                                [&](const hub::agent_sub& a) { return a.listener.address() == who; }),
                 h.agents.end());
  drop_customer(self, who);
}

service_actor::behavior_type service(self_ptr self, std::shared_ptr<const handoff_deps> deps) {
  self->state.deps = std::move(deps);
  self->state.log = log::get("handoff");
  self->set_down_handler([self](caf::down_msg& m) { on_down(self, m.source); });
  // A restarted incarnation watches the connections the previous one had.
  for (auto& a : shared(self).agents)
    self->monitor(a.listener);
  for (auto& [k, list] : shared(self).customers)
    for (auto& c : list)
      self->monitor(c);
  return {
    [self](handoff_open& o) -> caf::result<handoff_opened> {
      auto opened = shared(self).book.open(o, now_unix_ms());
      auto& r = *opened.record;
      if (opened.superseded) {
        count(self, *opened.superseded, "closed");
        broadcast(self, *opened.superseded);
      }
      if (opened.created) {
        count(self, r, "queued");
        self->state.log->info("event=handoff_queued tenant={} handoff={} session={} reason={}", r.tenant.value,
                              r.id, log::tag(r.tenant.value + "/" + r.session.value), r.reason);
        broadcast(self, r);
      } else if (!opened.joined.empty()) {
        // Escalated again while an agent holds the conversation: the agent sees what the customer asked.
        self->state.log->info("event=handoff_escalation_joined tenant={} handoff={} session={} reason={}",
                              r.tenant.value, r.id, log::tag(r.tenant.value + "/" + r.session.value), o.reason);
        for (auto at : opened.joined) {
          const auto& line = r.transcript[at];
          to_holder(self, r, {r.id, r.session, line.text, line.turn, line.at_unix_ms});
        }
        broadcast(self, r);
      }
      return reply_when_saved(self, handoff_opened{r.id});
    },
    [self](handoff_route_request& q) -> caf::result<handoff_route> {
      auto& book = shared(self).book;
      auto rp = self->make_response_promise<handoff_route>();
      auto* r = book.active_for(q.tenant, q.session);
      // What the record says; a probe (the cluster's router looking for the member that knows the session)
      // gets only that, at once, and nothing is stored.
      bool held = r && r->state == handoff_states::assigned && r->user == q.user;
      const auto* latest = r ? r : book.latest_for(q.tenant, q.session);
      bool had_agent = !r && latest && latest->taken_unix_ms > 0;
      if (q.probe) {
        rp.deliver(handoff_route{held, r != nullptr, had_agent, 0});
        return rp;
      }
      if (held) {
        write_op w;
        w.rec.client_message_id = q.client_message_id;
        w.rec.user_text = q.text;
        w.rec.at_unix_ms = now_unix_ms();
        w.owner = q.user;
        w.done = [self, rp, tenant = q.tenant, id = r->id, text = q.text, at = w.rec.at_unix_ms](turn_number n) mutable {
          auto* rec = shared(self).book.history(tenant, id).record;
          if (rec && n > 0) {
            if (!shared(self).book.customer_line(*rec, text, n, at))
              self->state.log->warn("event=handoff_transcript_full tenant={} handoff={} limit_bytes={}",
                                    rec->tenant.value, rec->id, handoff_book::max_transcript_bytes);
            to_holder(self, *rec, {rec->id, rec->session, shared(self).book.redact(text), n, at});
          }
          // Not stored (memory failed): the message still went nowhere else, and the agent did not see it.
          when_saved(self, [rp, n]() mutable { rp.deliver(handoff_route{true, true, false, n}); });
        };
        enqueue(self, q.tenant, q.session, std::move(w));
        return rp;
      }
      if (r) {
        rp.deliver(handoff_route{false, true, false, 0});
        return rp;
      }
      // After the agent's last writes: the session reloads its memory and must find them there.
      write_op barrier;
      barrier.barrier = true;
      barrier.done = [rp, had_agent](turn_number) mutable { rp.deliver(handoff_route{false, false, had_agent, 0}); };
      enqueue(self, q.tenant, q.session, std::move(barrier));
      return rp;
    },
    [self](customer_attach& a) {
      // One conversation per connection: a connection that moved to this session leaves the one it followed
      // (and is monitored already).
      auto k = key(a.tenant, a.session);
      bool followed = drop_customer(self, a.listener.address(), {}, k);
      auto& list = shared(self).customers[k];
      for (auto& c : list)
        if (c == a.listener)
          return;
      list.push_back(a.listener);
      shared(self).following[a.listener.address()] = k;
      if (!followed)
        self->monitor(a.listener);
      auto* r = shared(self).book.latest_for(a.tenant, a.session);
      if (!r)
        return;
      if (r->state == handoff_states::assigned)
        self->send(a.listener, handoff_customer_event{"agent_joined", r->id, r->agent_name, {}, 0, r->state});
      resend_unseen(self, a.listener, *r, a.seen);
      deliver_pending(self, *r);
      if (r->state == handoff_states::queued || r->state == handoff_states::assigned)
        broadcast(self, *r);  // customer_online
    },
    [self](customer_detach& d) {
      // Its next conversation is followed on another member: unless it still follows one here, stop watching it.
      auto who = d.listener.address();
      if (drop_customer(self, who, key(d.tenant, d.session)))
        self->demonitor(who);  // it follows one conversation at a time: nothing here any more
    },
    [self](agent_subscribe& s) -> handoff_list {
      shared(self).agents.push_back({s.tenant, s.agent, s.listener});
      self->monitor(s.listener);
      handoff_list out;
      for (const auto* r : shared(self).book.list(s.tenant, false))
        out.handoffs.push_back(summary_of(self, *r));
      return out;
    },
    [self](handoff_list_request& q) -> handoff_list {
      handoff_list out;
      for (const auto* r : shared(self).book.list(q.tenant, q.include_closed))
        out.handoffs.push_back(summary_of(self, *r));
      return out;
    },
    [self](agent_action& a) -> caf::result<agent_outcome> {
      auto out = on_action(self, a);
      if (a.op == handoff_ops::history)
        return out;  // changes nothing
      return reply_when_saved(self, std::move(out));
    },
    [self](saved_atom, uint64_t ticket) { on_saved(self, ticket); },
  };
}

} // namespace

handoff_actor spawn_handoff(caf::local_actor* parent, std::shared_ptr<const handoff_deps> deps) {
  return parent->spawn(service, std::move(deps));
}

} // namespace sa::handoff
