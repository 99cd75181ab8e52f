// Redis memory actor: answers memory_load / memory_append with Redis as the shared truth and its own
// memory_store as the working copy. It owns the store, the operations waiting for Redis (by command id)
// and the counters; the shared redis_client owns the connection, the queue and the reconnects.
// Replies come back as runtime/redis_messages.hpp messages (caf_redis_listener). A new kind of operation
// is a pending_op::kind, a command from redis_layout, and a case in each of the three reply handlers.
#include "actors/memory/redis_memory.hpp"

#include "actors/memory/redis_layout.hpp"
#include "messages/errors.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/redis_caf_listener.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_messages.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_map>

namespace sa {

namespace {

using clock_type = memory_store::clock;

/// Private: time to answer loads that waited load_timeout for Redis (one timer for all of them).
struct load_sweep {};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_sweep&) {
  return f(caf::meta::type_name("load_sweep"));
}

using redis_memory_actor =
  memory_actor::extend<caf::reacts_to<redis_command_replied>, caf::reacts_to<redis_command_failed>,
                       caf::reacts_to<redis_command_waiting>, caf::reacts_to<load_sweep>>;

struct pending_op {
  enum class kind : uint8_t { load, append, park } what = kind::load;
  tenant_id tenant;
  session_id session;
  redis_layout::session_keys keys;
  redis_layout::append_args args;      ///< append: what the command carries (the EVAL form is built from it)
  uint64_t command = 0;                ///< the command in flight for this operation
  bool by_eval = false;
  // load
  std::function<void(conversation_memory)> then;
  // append
  memory_append request;
  caf::typed_response_promise<memory_ack> promise;
  bool answered = false;  ///< acknowledged (confirmed, or waiting in the queue)
};

struct redis_memory_state {
  static inline const char* name = "redis_memory";
  memory_store store{memory_store::limits{}};
  redis_memory_options opts;
  std::shared_ptr<redis_client> client;
  std::shared_ptr<redis_listener> listener;
  std::unordered_map<uint64_t, pending_op> ops;       // by operation id
  std::unordered_map<uint64_t, uint64_t> by_command;  // command id -> operation id
  std::deque<std::pair<clock_type::time_point, uint64_t>> load_deadlines;  // in order: one timeout for all
  bool sweep_armed = false;
  uint64_t next_op = 1;
  memory_stats counters;
  std::shared_ptr<spdlog::logger> log = log::get("memory");
  clock_type::time_point last_degraded_log{};
  uint64_t degraded_since_log = 0;
};

using self_ptr = redis_memory_actor::stateful_pointer<redis_memory_state>;

/// One backend problem for sa_memory_backend_errors_total (the counters in state are for memory_stats). The
/// kinds do not overlap: a load Redis did not answer usably is one load_fallback, whatever the cause.
void count_error(self_ptr self, const char* kind) {
  if (auto& m = self->state.opts.metrics)
    m->memory_backend_error("redis", kind);
}

redis_layout::session_keys keys_of(self_ptr self, const tenant_id& t, const session_id& s) {
  return redis_layout::keys_for(self->state.opts.key_prefix, t, s);
}

/// Hands the operation's command to the client; false when the client refused it (queue full, stopped).
bool submit(self_ptr self, uint64_t op_id, std::vector<std::string> args, bool wait, bool resend,
            redis_error_kind* refused = nullptr, bool replaces_accepted = false) {
  auto& st = self->state;
  redis_command c;
  c.args = std::move(args);
  c.wait_for_connection = wait;
  c.resend_after_loss = resend;
  c.replaces_accepted = replaces_accepted;
  auto sub = st.client->submit(std::move(c), st.listener);
  if (!sub) {
    if (refused)
      *refused = sub.refused;
    return false;
  }
  st.by_command[sub.id] = op_id;
  st.ops[op_id].command = sub.id;
  return true;
}

/// Warn about degraded answers at most once a second, with how many there were.
void note_degraded(self_ptr self, const char* what, const pending_op& op) {
  auto& st = self->state;
  ++st.degraded_since_log;
  auto now = clock_type::now();
  if (now - st.last_degraded_log < std::chrono::seconds(1)) {
    st.log->debug("event=memory_degraded what={} tenant={} session={}", what, op.tenant.value,
                  log::tag(op.session.value));
    return;
  }
  st.log->warn("event=memory_degraded what={} tenant={} session={} count={} redis={} connected={}", what,
               op.tenant.value, log::tag(op.session.value), st.degraded_since_log, st.client->address(),
               st.client->connected());
  st.last_degraded_log = now;
  st.degraded_since_log = 0;
}

pending_op take(self_ptr self, uint64_t op_id) {
  auto& st = self->state;
  auto i = st.ops.find(op_id);
  auto op = std::move(i->second);
  st.ops.erase(i);
  st.by_command.erase(op.command);
  return op;
}

// --- loads ------------------------------------------------------------------------------------------

/// An append of the session is waiting for Redis's answer.
bool append_waiting(self_ptr self, const tenant_id& t, const session_id& s) {
  for (const auto& [id, op] : self->state.ops)
    if (op.what == pending_op::kind::append && op.tenant == t && op.session == s)
      return true;
  return false;
}

/// Ends a load: with Redis' answer (which refreshes the working copy, unless an append the copy has is still
/// on its way) or, without one, the working copy.
void finish_load(self_ptr self, uint64_t op_id, conversation_memory* from_redis) {
  auto& st = self->state;
  auto op = take(self, op_id);
  auto now = clock_type::now();
  if (from_redis) {
    // While an append of the session sent after this load is still waiting for Redis (which answers in
    // order), the working copy holds it and Redis's answer does not: replacing the copy would drop the turn
    // from it, and the session's next turn number would be refused here as a conflict. The copy is the
    // newer answer then. Otherwise Redis's answer wins, also over a copy that is ahead of it (Redis expired,
    // evicted or lost the session: the copy is stale).
    const auto* mine = st.store.find(op.tenant, op.session, now);
    if (mine && mine->last_turn > from_redis->last_turn && append_waiting(self, op.tenant, op.session)) {
      op.then(*mine);
      return;
    }
    st.store.restore(op.tenant, op.session, *from_redis, now);
    op.then(std::move(*from_redis));
    return;
  }
  ++st.counters.load_fallbacks;
  count_error(self, "load_fallback");
  note_degraded(self, "load_from_working_copy", op);
  const auto* mem = st.store.find(op.tenant, op.session, now);
  op.then(mem ? *mem : conversation_memory{});
}

void start_load(self_ptr self, const tenant_id& t, const session_id& s, std::function<void(conversation_memory)> then) {
  auto& st = self->state;
  auto op_id = st.next_op++;
  auto keys = keys_of(self, t, s);
  auto& op = st.ops[op_id];
  op.what = pending_op::kind::load;
  op.tenant = t;
  op.session = s;
  op.then = std::move(then);
  op.keys = keys;
  // A load never waits for a connection that is known to be down: the working copy answers at once.
  if (!submit(self, op_id, redis_layout::load_command(keys, true), /*wait=*/false, /*resend=*/false)) {
    finish_load(self, op_id, nullptr);
    return;
  }
  st.load_deadlines.emplace_back(clock_type::now() + st.opts.load_timeout, op_id);
  if (!st.sweep_armed) {
    st.sweep_armed = true;
    self->delayed_send(self, st.opts.load_timeout, load_sweep{});
  }
}

/// Answers, from the working copy, every load that waited load_timeout; re-arms for the next one.
void sweep_loads(self_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  auto now = clock_type::now();
  while (!st.load_deadlines.empty() && st.load_deadlines.front().first <= now) {
    auto op_id = st.load_deadlines.front().second;
    st.load_deadlines.pop_front();
    auto i = st.ops.find(op_id);
    if (i != st.ops.end() && i->second.what == pending_op::kind::load)
      finish_load(self, op_id, nullptr);  // a late reply finds no operation and is ignored
  }
  if (!st.load_deadlines.empty()) {
    st.sweep_armed = true;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(st.load_deadlines.front().first - now);
    self->delayed_send(self, std::max(wait, std::chrono::milliseconds(1)), load_sweep{});
  }
}

void on_load_reply(self_ptr self, uint64_t op_id, const redis_reply& reply) {
  conversation_memory mem;
  std::string why;
  if (!redis_layout::parse_load_reply(reply, mem, &why)) {
    if (!reply.is_error())  // (error replies are counted by the client)
      ++self->state.counters.redis_errors;
    self->state.log->error("event=memory_load_failed tenant={} session={} error=\"{}\"",
                           self->state.ops[op_id].tenant.value, log::tag(self->state.ops[op_id].session.value), why);
    finish_load(self, op_id, nullptr);
    return;
  }
  finish_load(self, op_id, &mem);
}

// --- appends ----------------------------------------------------------------------------------------

void handle_append(self_ptr self, const memory_append& r, caf::typed_response_promise<memory_ack> rp,
                   bool reloaded);

void answer(pending_op& op, memory_ack ack) {
  if (op.answered)
    return;
  op.answered = true;
  op.promise.deliver(ack);
}

void answer(pending_op& op, support_errc code) {
  if (op.answered)
    return;
  op.answered = true;
  op.promise.deliver(make_error(code));
}

void handle_append(self_ptr self, const memory_append& r, caf::typed_response_promise<memory_ack> rp,
                   bool reloaded) {
  auto& st = self->state;
  auto now = clock_type::now();
  const auto* mem = st.store.find(r.tenant, r.session, now);
  if (!mem && r.turn.number > 1 && !reloaded) {
    // Not in the working copy (evicted, or another node served the session): Redis knows its window.
    start_load(self, r.tenant, r.session,
               [self, r, rp](conversation_memory) mutable { handle_append(self, r, std::move(rp), true); });
    return;
  }
  auto last = mem ? mem->last_turn : 0;
  switch (memory_store::decide(mem, r.owner, r.turn)) {
    case memory_store::append_outcome::duplicate: rp.deliver(memory_ack{last, true}); return;
    case memory_store::append_outcome::conflict: rp.deliver(make_error(support_errc::turn_conflict)); return;
    case memory_store::append_outcome::wrong_owner: rp.deliver(make_error(support_errc::session_forbidden)); return;
    case memory_store::append_outcome::committed: break;
  }
  const auto& lim = st.opts.limits;
  redis_layout::append_args args;
  args.turn = r.turn;
  args.turn_json = redis_layout::encode_turn(r.turn);
  args.owner = r.owner;
  args.max_turns = lim.max_turns;
  args.ttl = std::chrono::duration_cast<std::chrono::milliseconds>(lim.ttl);
  if (mem) {
    args.summary = memory_store::summary_after_append(*mem, lim.max_turns, lim.summary_max_chars);
    args.replace_summary = args.summary != mem->summary;
  }
  auto keys = keys_of(self, r.tenant, r.session);
  auto op_id = st.next_op++;
  auto& op = st.ops[op_id];
  op.what = pending_op::kind::append;
  op.tenant = r.tenant;
  op.session = r.session;
  op.request = r;
  op.promise = rp;
  auto command = redis_layout::append_command(keys, args, true);
  op.keys = std::move(keys);
  op.args = std::move(args);
  redis_error_kind refused = redis_error_kind::overflow;
  if (!submit(self, op_id, std::move(command), /*wait=*/true, /*resend=*/true, &refused)) {
    // Nothing was stored, the working copy is untouched, and the session hears it: no silent loss. (The
    // client's event=redis_queue_overflow warns once a second with the count; this line is per append.)
    st.ops.erase(op_id);
    ++st.counters.appends_refused;
    count_error(self, "append_refused");
    st.log->debug("event=memory_append_refused reason={} tenant={} session={} turn={} pending={}",
                 refused == redis_error_kind::overflow ? "queue_full" : "client_stopped", r.tenant.value,
                 log::tag(r.session.value), r.turn.number, st.client->stats().pending);
    rp.deliver(make_error(refused == redis_error_kind::overflow ? support_errc::busy : support_errc::shutting_down));
    return;
  }
  st.store.append(r.tenant, r.session, r.owner, r.turn, now, nullptr);  // the verdict decide() gave
}

void park(self_ptr self, const pending_op& op, redis_layout::append_status why, turn_number stored_last) {
  auto& st = self->state;
  auto keys = keys_of(self, op.tenant, op.session);
  auto op_id = st.next_op++;
  auto& p = st.ops[op_id];
  p.what = pending_op::kind::park;
  p.tenant = op.tenant;
  p.session = op.session;
  auto entry = redis_layout::park_entry(op.request.turn, why, stored_last);
  auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.limits.ttl);
  // Resent after a loss: a duplicate entry in a list for operators beats a missing one.
  if (!submit(self, op_id, redis_layout::park_command(keys, entry, ttl), true, true)) {
    st.ops.erase(op_id);
    ++st.counters.lost;
    count_error(self, "write_lost");
    st.log->error("event=memory_write_lost reason=park_refused tenant={} session={} turn={}", op.tenant.value,
                  log::tag(op.session.value), op.request.turn.number);
  }
}

void on_append_reply(self_ptr self, uint64_t op_id, const redis_reply& reply) {
  auto& st = self->state;
  auto op = take(self, op_id);
  redis_layout::append_result res;
  std::string why;
  if (!redis_layout::parse_append_reply(reply, res, &why)) {
    // Redis refused the script (out of memory, a script error): the working copy holds a turn Redis does
    // not, so it is dropped and the next load reads Redis.
    if (!reply.is_error())  // (error replies are counted by the client)
      ++st.counters.redis_errors;
    st.store.forget(op.tenant, op.session);
    if (op.answered) {
      ++st.counters.lost;
      count_error(self, "write_lost");
      st.log->error("event=memory_write_lost reason=redis_error tenant={} session={} turn={} error=\"{}\"",
                    op.tenant.value, log::tag(op.session.value), op.request.turn.number, why);
    } else {
      count_error(self, "append_failed");
      st.log->error("event=memory_append_failed tenant={} session={} turn={} error=\"{}\"", op.tenant.value,
                    log::tag(op.session.value), op.request.turn.number, why);
      answer(op, support_errc::internal);
    }
    return;
  }
  using status = redis_layout::append_status;
  switch (res.status) {
    case status::committed:
    case status::duplicate:
      ++st.counters.confirmed;
      answer(op, memory_ack{res.last, res.status == status::duplicate});
      return;
    case status::conflict:
    case status::wrong_owner:
      // Another writer got there first: Redis is right, the working copy is not.
      ++st.counters.conflicts;
      st.store.forget(op.tenant, op.session);
      if (!op.answered) {
        st.log->info("event=memory_conflict tenant={} session={} turn={} stored_last={} verdict={}", op.tenant.value,
                     log::tag(op.session.value), op.request.turn.number, res.last, to_string(res.status));
        answer(op, res.status == status::conflict ? support_errc::turn_conflict : support_errc::session_forbidden);
        return;
      }
      // Acknowledged while Redis was away, refused now: keep it next to the session for an operator.
      ++st.counters.parked;
      st.log->error("event=memory_flush_conflict tenant={} session={} turn={} stored_last={} verdict={} kept_in=conflicts",
                    op.tenant.value, log::tag(op.session.value), op.request.turn.number, res.last,
                    to_string(res.status));
      park(self, op, res.status, res.last);
      return;
  }
}

void on_append_failed(self_ptr self, uint64_t op_id, const redis_command_failed& f) {
  auto& st = self->state;
  auto op = take(self, op_id);
  if (op.answered) {
    ++st.counters.lost;
    count_error(self, "write_lost");
    st.log->error("event=memory_write_lost reason={} tenant={} session={} turn={} error=\"{}\"", to_string(f.kind),
                  op.tenant.value, log::tag(op.session.value), op.request.turn.number, f.message);
    return;
  }
  st.store.forget(op.tenant, op.session);
  count_error(self, "append_failed");
  st.log->error("event=memory_append_failed reason={} tenant={} session={} turn={}", to_string(f.kind),
                op.tenant.value, log::tag(op.session.value), op.request.turn.number);
  answer(op, f.kind == redis_error_kind::stopped ? support_errc::shutting_down : support_errc::internal);
}

// --- the actor --------------------------------------------------------------------------------------

/// The operation a command belongs to, or 0 for a command nobody waits for any more.
uint64_t op_of(self_ptr self, uint64_t command) {
  auto i = self->state.by_command.find(command);
  return i == self->state.by_command.end() ? 0 : i->second;
}

redis_memory_actor::behavior_type redis_memory(self_ptr self, std::shared_ptr<redis_client> client,
                                               redis_memory_options opts) {
  log_exceptions(self, "memory");
  auto& st = self->state;
  st.store = memory_store{opts.limits};
  st.opts = std::move(opts);
  st.client = std::move(client);
  st.listener = std::make_shared<caf_redis_listener>(caf::actor_cast<caf::actor>(self));
  st.client->preload_script(redis_layout::append_script());
  st.client->preload_script(redis_layout::load_script());
  return {
    [self](const memory_load& r) -> caf::result<conversation_memory> {
      auto rp = self->make_response_promise<conversation_memory>();
      start_load(self, r.tenant, r.session, [rp](conversation_memory m) mutable { rp.deliver(std::move(m)); });
      return rp;
    },
    [self](const memory_append& r) -> caf::result<memory_ack> {
      auto rp = self->make_response_promise<memory_ack>();
      handle_append(self, r, rp, false);
      return rp;
    },
    [self](const memory_stats_request&) -> memory_stats {
      auto& st = self->state;
      auto s = st.counters;
      s.backend = "redis";
      s.sessions = st.store.size();
      auto c = st.client->stats();
      s.redis_connected = c.connected;
      s.redis_pending = c.pending;
      s.redis_in_flight = c.in_flight;
      s.redis_overflows = c.overflows;
      s.redis_reconnects = c.reconnects;
      s.redis_connect_failures = c.connect_failures;
      s.redis_errors += c.error_replies + c.failed;  // + replies this actor could not use
      return s;
    },
    [self](redis_command_replied& m) {
      auto op_id = op_of(self, m.request_id);
      if (op_id == 0)
        return;
      auto& op = self->state.ops[op_id];
      if (m.reply.is_error("NOSCRIPT") && !op.by_eval) {
        // The script cache was flushed under us: send the script itself (which caches it again).
        op.by_eval = true;
        self->state.by_command.erase(m.request_id);
        bool is_append = op.what == pending_op::kind::append;
        auto eval = is_append ? redis_layout::append_command(op.keys, op.args, false)
                              : redis_layout::load_command(op.keys, false);
        // In place of the command already accepted (an append may have been acknowledged while it waited):
        // a full queue must not refuse it.
        if (submit(self, op_id, std::move(eval), is_append, is_append, nullptr, true))
          return;
        m.reply = redis_reply{redis_reply::kind::error, 0, "ERR cannot resend the script", {}};
        self->state.by_command[m.request_id] = op_id;
      }
      switch (op.what) {
        case pending_op::kind::load: on_load_reply(self, op_id, m.reply); return;
        case pending_op::kind::append: on_append_reply(self, op_id, m.reply); return;
        case pending_op::kind::park: {
          auto done = take(self, op_id);
          if (m.reply.is_error()) {
            ++self->state.counters.lost;
            count_error(self, "write_lost");
            self->state.log->error("event=memory_write_lost reason=park_failed tenant={} session={} error=\"{}\"",
                                   done.tenant.value, log::tag(done.session.value), m.reply.str);
          }
          return;
        }
      }
    },
    [self](const redis_command_failed& f) {
      auto op_id = op_of(self, f.request_id);
      if (op_id == 0)
        return;
      switch (self->state.ops[op_id].what) {
        case pending_op::kind::load: finish_load(self, op_id, nullptr); return;
        case pending_op::kind::append: on_append_failed(self, op_id, f); return;
        case pending_op::kind::park: {
          auto done = take(self, op_id);
          ++self->state.counters.lost;
          count_error(self, "write_lost");
          self->state.log->error("event=memory_write_lost reason=park_{} tenant={} session={}", to_string(f.kind),
                                 done.tenant.value, log::tag(done.session.value));
          return;
        }
      }
    },
    [self](const redis_command_waiting& w) {
      auto op_id = op_of(self, w.request_id);
      if (op_id == 0)
        return;
      auto& op = self->state.ops[op_id];
      if (op.what != pending_op::kind::append || op.answered)
        return;
      // Queued for a Redis that is away: the turn is in the working copy and in the bounded queue, which is
      // flushed in order when Redis is back. That is the acknowledgement the session gets.
      ++self->state.counters.acked_while_queued;
      answer(op, memory_ack{op.request.turn.number, false});
    },
    [self](const load_sweep&) { sweep_loads(self); },
  };
}

} // namespace

memory_actor spawn_redis_memory(caf::local_actor* parent, std::shared_ptr<redis_client> client,
                                redis_memory_options options) {
  return parent->spawn(redis_memory, std::move(client), std::move(options));
}

memory_actor spawn_redis_memory(caf::actor_system& sys, std::shared_ptr<redis_client> client,
                                redis_memory_options options) {
  return sys.spawn(redis_memory, std::move(client), std::move(options));
}

} // namespace sa
