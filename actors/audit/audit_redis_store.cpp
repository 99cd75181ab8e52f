// Redis store: chaining and the compare-and-set protocol. The store's state (records not yet confirmed, the
// chain's tail and the head Redis last reported) is guarded by one mutex: submit() runs on actor threads, the
// replies on the client's loop thread. Callbacks (`done`) are always called after the mutex is released.
#include "actors/audit/audit_redis_store.hpp"

#include "actors/audit/audit_record.hpp"
#include "runtime/log.hpp"
#include "runtime/redis_client.hpp"

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <unordered_map>

namespace sa::audit {

namespace {

std::string escape(const std::string& id) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == ':' || c == '@' || c == '-';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

/// The value of `name` in a stream entry's field list [f1, v1, f2, v2, ...]; null when absent.
const std::string* field_of(const redis_reply& fields, const char* name) {
  if (fields.type != redis_reply::kind::array)
    return nullptr;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
    if (fields.elements[i].str == name)
      return &fields.elements[i + 1].str;
  return nullptr;
}

using clock = std::chrono::system_clock;

} // namespace

std::string stream_key(const std::string& prefix, const std::string& node) {
  return prefix + ":audit:{" + escape(node) + "}";
}

std::string stream_head_key(const std::string& prefix, const std::string& node) {
  return stream_key(prefix, node) + ":head";
}

const std::string& append_script() {
  // KEYS[1] stream, KEYS[2] head; ARGV seq, prev, hash, record, gap. Answers {status, seq, hash}: status 2
  // added, 1 already there (a resend), 0 refused (seq/prev do not follow the last entry, which the reply
  // names). gap = "1" accepts a seq beyond the last entry + 1 (the writer knows Redis lost records it had
  // confirmed: the chain goes on where it was, and verify reports the hole).
  static const std::string body = R"lua(
local seq = tonumber(ARGV[1])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 1 then
  local cur_seq, cur_hash = 0, ''
  local f = last[1][2]
  for i = 1, #f, 2 do
    if f[i] == 'seq' then cur_seq = tonumber(f[i + 1]) elseif f[i] == 'hash' then cur_hash = f[i + 1] end
  end
  if seq <= cur_seq then
    local e = redis.call('XRANGE', KEYS[1], '0-' .. seq, '0-' .. seq)
    if #e == 1 then
      local g = e[1][2]
      for i = 1, #g, 2 do
        if g[i] == 'hash' and g[i + 1] == ARGV[3] then return {1, cur_seq, cur_hash} end
      end
    end
    return {0, cur_seq, cur_hash}
  end
  if (seq ~= cur_seq + 1 or ARGV[2] ~= cur_hash) and not (ARGV[5] == '1' and seq > cur_seq + 1) then
    return {0, cur_seq, cur_hash}
  end
end
redis.call('XADD', KEYS[1], '0-' .. seq, 'seq', ARGV[1], 'hash', ARGV[3], 'record', ARGV[4])
redis.call('HSET', KEYS[2], 'seq', ARGV[1], 'hash', ARGV[3])
return {2, seq, ARGV[3]}
)lua";
  return body;
}

std::vector<std::string> append_command(const std::string& prefix, const std::string& node, const record& r,
                                        bool by_sha, bool allow_gap) {
  static const std::string sha = redis_script_sha1(append_script());
  return {by_sha ? "EVALSHA" : "EVAL",
          by_sha ? sha : append_script(),
          "2",
          stream_key(prefix, node),
          stream_head_key(prefix, node),
          std::to_string(r.seq),
          r.prev,
          r.hash,
          to_json_line(r),
          allow_gap ? "1" : "0"};
}

/// What the client calls back: forwards to the store while it exists. The client holds listeners until
/// their commands end, so the store itself (which holds the client) must not be one: that would be a cycle.
class forwarder final : public redis_listener {
public:
  explicit forwarder(std::weak_ptr<redis_store::impl> target) : target_(std::move(target)) {}
  void on_reply(uint64_t id, redis_reply reply) noexcept override;
  void on_error(uint64_t id, const redis_error& e) noexcept override;

private:
  std::weak_ptr<redis_store::impl> target_;
};

struct redis_store::impl final : std::enable_shared_from_this<redis_store::impl> {
  struct rec {
    entry e;
    stored_fn done;
    record r;              ///< as last chained
    uint64_t command = 0;  ///< in flight; 0 = not sent
    bool by_eval = false;
    bool allow_gap = false;  ///< the first record after Redis lost confirmed ones
  };
  using report_list = std::vector<std::pair<stored_fn, stored>>;

  std::shared_ptr<redis_client> client;
  std::shared_ptr<redis_listener> listener;
  redis_store_options o;
  std::string key;
  std::shared_ptr<spdlog::logger> log = log::get("audit");

  mutable std::mutex mtx;
  std::condition_variable drained;
  std::map<uint64_t, rec> recs;                     // by submission number: not yet reported
  std::unordered_map<uint64_t, uint64_t> by_command;  // command id -> submission number
  uint64_t next_rec = 1;
  uint64_t head_command = 0;
  bool head_known = false;
  bool rechain_pending = false;  // a compare-and-set was refused: chain again once nothing is in flight
  bool stopped = false;
  std::size_t in_flight = 0;
  uint64_t head_seq = 0;         // what Redis last said the chain's end is
  std::string head_hash;
  uint64_t tail_seq = 0;         // the last record chained (sent or not)
  std::string tail_hash;
  uint64_t confirmed_max = 0;    // highest seq Redis confirmed to this store
  std::string confirmed_hash;    // its hash
  bool lost_in_redis = false;    // Redis reported an end before confirmed_max: continue after it, with a gap
  uint64_t stat_durable = 0, stat_errors = 0, stat_failed = 0;

  void start() {
    listener = std::make_shared<forwarder>(weak_from_this());
    std::lock_guard<std::mutex> guard{mtx};
    read_head();
  }

  void read_head() {
    redis_command c;
    c.args = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    c.wait_for_connection = true;
    c.resend_after_loss = true;
    auto sub = client->submit(std::move(c), listener);
    head_command = sub.id;
    if (!sub)
      log->error("event=audit_head_read_refused stream={} reason={}", key, to_string(sub.refused));
  }

  void chain(rec& x) {
    x.r.seq = tail_seq + 1;
    x.r.prev = tail_hash;
    x.r.time = rfc3339_utc_ms(x.e.at);
    x.r.node = o.node;
    x.r.tenant = x.e.tenant;
    x.r.actor = x.e.actor;
    x.r.action = x.e.action;
    x.r.args = x.e.args;
    x.r.result = x.e.result;
    x.r.session = x.e.session;
    x.r.hash = compute_hash(x.r);
    tail_seq = x.r.seq;
    tail_hash = x.r.hash;
  }

  /// Sends one chained record; on refusal by the client the record fails and the tail steps back over it.
  void send(uint64_t id, rec& x, report_list& reports) {
    redis_command c;
    c.args = append_command(o.key_prefix, o.node, x.r, !x.by_eval, x.allow_gap);
    c.wait_for_connection = true;
    c.resend_after_loss = true;
    auto sub = client->submit(std::move(c), listener);
    if (!sub) {
      ++stat_failed;
      tail_seq = x.r.seq - 1;
      tail_hash = x.r.prev;
      log->error("event=audit_record_refused stream={} seq={} reason={}", key, x.r.seq, to_string(sub.refused));
      stored s;
      s.shutting_down = sub.refused == redis_error_kind::stopped;
      s.error = "redis " + client->address() + ": " + to_string(sub.refused);
      reports.emplace_back(std::move(x.done), std::move(s));
      recs.erase(id);
      return;
    }
    x.command = sub.id;
    by_command[sub.id] = id;
    ++in_flight;
  }

  /// Chains and sends every record not sent yet, in submission order.
  void send_unsent(report_list& reports) {
    if (!head_known || rechain_pending || stopped)
      return;
    for (auto i = recs.begin(); i != recs.end();) {
      auto id = i->first;
      auto& x = i->second;
      ++i;  // send() may erase x
      if (x.command != 0)
        continue;
      chain(x);
      send(id, x, reports);
    }
  }

  void finish(uint64_t id, bool ok, const std::string& error, bool shutting_down, report_list& reports) {
    auto i = recs.find(id);
    if (i == recs.end())
      return;
    stored s;
    s.ok = ok;
    s.seq = ok ? i->second.r.seq : 0;
    s.hash = ok ? i->second.r.hash : std::string{};
    s.error = error;
    s.shutting_down = shutting_down;
    reports.emplace_back(std::move(i->second.done), std::move(s));
    recs.erase(i);
    if (ok)
      ++stat_durable;
    else
      ++stat_failed;
  }

  void deliver(report_list& reports) {
    for (auto& [fn, s] : reports)
      if (fn)
        fn(s);
    reports.clear();
  }

  void settle(report_list& reports) {
    if (stopped) {  // nothing is sent any more: what waits to be (re)sent fails now
      for (auto i = recs.begin(); i != recs.end();) {
        auto id = (i++)->first;
        if (recs.at(id).command == 0)
          finish(id, false, "the audit store stopped before Redis had the record", true, reports);
      }
    }
    if (rechain_pending && in_flight == 0) {
      rechain_pending = false;
      tail_seq = head_seq;
      tail_hash = head_hash;
      if (lost_in_redis) {
        // Redis lost records it had confirmed (a restart without them on disk). Going on from its end would
        // reuse their seqs and hide the loss; going on from ours leaves a hole that verify reports.
        lost_in_redis = false;
        tail_seq = confirmed_max;
        tail_hash = confirmed_hash;
        for (auto& [id, x] : recs)
          if (x.command == 0) {
            x.allow_gap = true;
            break;
          }
      }
      send_unsent(reports);
    }
    if (recs.empty())
      drained.notify_all();
  }

  void on_head(const redis_reply& reply, report_list& reports) {
    head_command = 0;
    if (reply.is_error() || reply.type != redis_reply::kind::array) {
      ++stat_errors;
      log->error("event=audit_head_read_failed stream={} error=\"unexpected reply\"", key);
      read_head();  // queued: tried again on the connection
      return;
    }
    head_seq = 0;
    head_hash = genesis_hash;
    if (reply.elements.size() == 1 && reply.elements[0].elements.size() == 2) {
      const auto& fields = reply.elements[0].elements[1];
      auto* s = field_of(fields, "seq");
      auto* h = field_of(fields, "hash");
      if (!s || !h || !is_hash(*h)) {
        log->error("event=audit_stream_corrupt stream={} error=\"the last entry has no seq or hash\"", key);
      } else {
        head_seq = std::strtoull(s->c_str(), nullptr, 10);
        head_hash = *h;
      }
    }
    head_known = true;
    tail_seq = head_seq;
    tail_hash = head_hash;
    log->info("event=audit_store_opened backend=redis stream={} last_seq={}", key, head_seq);
    send_unsent(reports);
  }

  void on_append(uint64_t command, uint64_t id, redis_reply& reply, report_list& reports) {
    auto& x = recs.at(id);
    if (reply.is_error("NOSCRIPT") && !x.by_eval) {
      x.by_eval = true;  // the script cache was flushed: send the script itself (which caches it again)
      redis_command c;
      c.args = append_command(o.key_prefix, o.node, x.r, false, x.allow_gap);
      c.wait_for_connection = true;
      c.resend_after_loss = true;
      auto sub = client->submit(std::move(c), listener);
      if (sub) {
        x.command = sub.id;
        by_command[sub.id] = id;
        ++in_flight;
        return;
      }
    }
    bool well_formed = reply.type == redis_reply::kind::array && reply.elements.size() == 3
                       && reply.elements[0].type == redis_reply::kind::integer;
    if (!well_formed) {
      ++stat_errors;
      log->error("event=audit_append_failed stream={} seq={} error=\"{}\"", key, x.r.seq,
                 reply.is_error() ? reply.str.substr(0, 120) : std::string{"unexpected reply"});
      // Records chained after it will be refused by the compare-and-set and chained again.
      finish(id, false, "redis " + client->address() + ": the append script failed", false, reports);
      rechain_pending = true;
      head_seq = x.r.seq - 1;  // provisional: the next refusal reports the real end
      head_hash = x.r.prev;
      return;
    }
    auto status = reply.elements[0].integer;
    auto seq = static_cast<uint64_t>(reply.elements[1].type == redis_reply::kind::integer
                                       ? reply.elements[1].integer
                                       : std::strtoll(reply.elements[1].str.c_str(), nullptr, 10));
    const auto& hash = reply.elements[2].str;
    if (status == 1 || status == 2) {
      if (x.r.seq > confirmed_max) {
        confirmed_max = x.r.seq;
        confirmed_hash = x.r.hash;
      }
      if (x.r.seq >= head_seq) {
        head_seq = x.r.seq;
        head_hash = x.r.hash;
      }
      finish(id, true, {}, false, reports);
      return;
    }
    // Refused although it follows what Redis reports: the stream's last entry is not a usable audit record
    // (edited by hand). Chaining again would only be refused again: the record fails, loudly.
    if (seq + 1 == x.r.seq && (hash.empty() ? genesis_hash : hash) == x.r.prev) {
      ++stat_errors;
      log->error("event=audit_append_failed stream={} seq={} error=\"the stream's last entry is not a valid audit "
                 "record; run support-agent audit verify --redis\"", key, x.r.seq);
      finish(id, false, key + ": the stream's last entry is not a valid audit record", false, reports);
      return;
    }
    // Refused: someone else appended (or Redis lost records). Chain again from what Redis has, once every
    // command in flight has answered (so none of them can still land and be stored twice).
    x.command = 0;
    head_seq = seq;
    head_hash = hash.empty() ? genesis_hash : hash;
    if (seq < confirmed_max && !lost_in_redis) {
      lost_in_redis = true;
      log->error("event=audit_records_lost_in_redis stream={} confirmed_up_to={} redis_ends_at={} (the chain goes "
                 "on after seq {}; verify reports the missing records)", key, confirmed_max, seq, confirmed_max);
    } else if (!rechain_pending && !lost_in_redis) {
      log->warn("event=audit_chain_conflict stream={} seq={} redis_ends_at={} (another writer appended)", key,
                x.r.seq, seq);
    }
    rechain_pending = true;
    (void) command;
  }

  void on_reply(uint64_t command, redis_reply reply) noexcept {
    report_list reports;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (command == head_command) {
        on_head(reply, reports);
      } else if (auto i = by_command.find(command); i != by_command.end()) {
        auto id = i->second;
        by_command.erase(i);
        --in_flight;
        on_append(command, id, reply, reports);
      }
      settle(reports);
    }
    deliver(reports);
  }

  void on_error(uint64_t command, const redis_error& e) noexcept {
    report_list reports;
    {
      std::lock_guard<std::mutex> guard{mtx};
      bool down = e.kind == redis_error_kind::stopped;
      if (command == head_command) {
        head_command = 0;
        ++stat_errors;
        log->error("event=audit_head_read_failed stream={} reason={}", key, to_string(e.kind));
        if (down) {
          for (auto i = recs.begin(); i != recs.end();)
            finish((i++)->first, false, "redis " + client->address() + ": client stopped", true, reports);
        } else {
          read_head();
        }
      } else if (auto i = by_command.find(command); i != by_command.end()) {
        auto id = i->second;
        by_command.erase(i);
        --in_flight;
        ++stat_errors;
        auto seq = recs.at(id).r.seq;
        log->error("event=audit_append_failed stream={} seq={} reason={}", key, seq, to_string(e.kind));
        auto prev = recs.at(id).r.prev;
        finish(id, false, "redis " + client->address() + ": " + to_string(e.kind), down, reports);
        if (!down) {
          rechain_pending = true;
          head_seq = seq - 1;
          head_hash = prev;
        }
      }
      settle(reports);
    }
    deliver(reports);
  }
};

void forwarder::on_reply(uint64_t id, redis_reply reply) noexcept {
  if (auto t = target_.lock())
    t->on_reply(id, std::move(reply));
}

void forwarder::on_error(uint64_t id, const redis_error& e) noexcept {
  if (auto t = target_.lock())
    t->on_error(id, e);
}

redis_store::redis_store(std::shared_ptr<redis_client> client, redis_store_options options)
  : impl_(std::make_shared<impl>()) {
  impl_->client = std::move(client);
  impl_->o = std::move(options);
  impl_->key = stream_key(impl_->o.key_prefix, impl_->o.node);
  impl_->head_hash = genesis_hash;
  impl_->tail_hash = genesis_hash;
  impl_->client->preload_script(append_script());
  impl_->start();
}

redis_store::~redis_store() {
  stop();
}

const std::string& redis_store::where() const noexcept {
  return impl_->key;
}

bool redis_store::submit(entry e, stored_fn done) {
  auto& i = *impl_;
  if (e.at == clock::time_point{})
    e.at = clock::now();
  impl::report_list reports;
  {
    std::lock_guard<std::mutex> guard{i.mtx};
    if (i.stopped || i.recs.size() >= i.o.max_queued)
      return false;
    auto id = i.next_rec++;
    auto& x = i.recs[id];
    x.e = std::move(e);
    x.done = std::move(done);
    if (i.head_known && !i.rechain_pending) {
      i.chain(x);
      i.send(id, x, reports);
    }
  }
  i.deliver(reports);
  return true;
}

bool redis_store::drain(std::chrono::milliseconds within) {
  auto& i = *impl_;
  std::unique_lock<std::mutex> lock{i.mtx};
  return i.drained.wait_for(lock, within, [&] { return i.recs.empty(); });
}

void redis_store::stop() {
  auto& i = *impl_;
  impl::report_list reports;
  {
    std::lock_guard<std::mutex> guard{i.mtx};
    if (i.stopped)
      return;
    i.stopped = true;
    // Records never sent fail now; those in flight are answered by Redis or failed by the client's stop.
    for (auto it = i.recs.begin(); it != i.recs.end();) {
      auto id = (it++)->first;
      if (i.recs.at(id).command == 0)
        i.finish(id, false, "the audit store stopped before Redis had the record", true, reports);
    }
    if (i.recs.empty())
      i.drained.notify_all();
  }
  i.deliver(reports);
}

store_stats redis_store::stats() const {
  auto& i = *impl_;
  std::lock_guard<std::mutex> guard{i.mtx};
  store_stats s;
  s.last_seq = i.confirmed_max;
  s.durable = i.stat_durable;
  s.queued = i.recs.size();
  s.store_errors = i.stat_errors;
  s.failed = i.stat_failed;
  return s;
}

// --- blocking helpers ---------------------------------------------------------------------------------

namespace {

class promise_listener final : public redis_listener {
public:
  std::promise<result<redis_reply>> p;
  void on_reply(uint64_t, redis_reply reply) noexcept override { p.set_value(std::move(reply)); }
  void on_error(uint64_t, const redis_error& e) noexcept override { p.set_value(failure{e.message}); }
};

} // namespace

result<redis_reply> run_command(redis_client& client, std::vector<std::string> args, std::chrono::milliseconds within) {
  auto l = std::make_shared<promise_listener>();
  auto f = l->p.get_future();
  redis_command c;
  c.args = std::move(args);
  c.wait_for_connection = true;
  c.resend_after_loss = true;
  auto sub = client.submit(std::move(c), l);
  if (!sub)
    return failure{"redis " + client.address() + ": " + to_string(sub.refused)};
  if (f.wait_for(within) != std::future_status::ready)
    return failure{"redis " + client.address() + ": no answer within " + std::to_string(within.count()) + " ms"};
  return f.get();
}

result<std::optional<chain_head>> read_stream_head(redis_client& client, const std::string& prefix,
                                                   const std::string& node, std::chrono::milliseconds within) {
  auto r = run_command(client, {"HMGET", stream_head_key(prefix, node), "seq", "hash"}, within);
  if (!r)
    return failure{r.error()};
  if (r->is_error())
    return failure{"redis " + client.address() + ": " + r->str};
  if (r->elements.size() != 2 || r->elements[0].type == redis_reply::kind::nil)
    return std::optional<chain_head>{};
  chain_head h;
  h.seq = std::strtoull(r->elements[0].str.c_str(), nullptr, 10);
  h.hash = r->elements[1].str;
  if (!is_hash(h.hash))
    return failure{stream_head_key(prefix, node) + ": not an audit head (hash is not 64 hex digits)"};
  return std::optional<chain_head>{h};
}

status for_each_stream_record(redis_client& client, const std::string& prefix, const std::string& node,
                              const std::function<bool(const std::string&, uint64_t)>& fn,
                              std::chrono::milliseconds within, std::size_t page) {
  auto key = stream_key(prefix, node);
  std::string from = "-";
  uint64_t n = 0;
  for (;;) {
    auto r = run_command(client, {"XRANGE", key, from, "+", "COUNT", std::to_string(page)}, within);
    if (!r)
      return failure{r.error()};
    if (r->is_error())
      return failure{"redis " + client.address() + ": XRANGE " + key + ": " + r->str};
    for (const auto& e : r->elements) {
      if (e.elements.size() != 2)
        return failure{key + ": not a stream entry"};
      auto* line = field_of(e.elements[1], "record");
      if (!fn(line ? *line : std::string{}, ++n))
        return {};
      from = "(" + e.elements[0].str;
    }
    if (r->elements.size() < page)
      return {};
  }
}

verify_report verify_stream(redis_client& client, const std::string& prefix, const std::string& node,
                            const std::string& tenant, std::chrono::milliseconds within) {
  auto head = read_stream_head(client, prefix, node, within);
  if (!head) {
    verify_report r;
    r.unit = "entry";
    r.broken = chain_break{break_kind::malformed, 0, 0, head.error()};
    return r;
  }
  chain_verifier v{"entry", tenant, *head};
  bool feeding = true;
  auto st = for_each_stream_record(
    client, prefix, node,
    [&](const std::string& line, uint64_t n) {
      if (feeding) {
        feeding = v.push(line, n);
        return feeding || v.wants_more();
      }
      return v.lookahead(line, n);
    },
    within);
  if (!st) {
    verify_report r;
    r.unit = "entry";
    r.broken = chain_break{break_kind::malformed, 0, 0, st.error()};
    return r;
  }
  return v.finish();
}

} // namespace sa::audit
