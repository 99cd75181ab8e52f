// Redis member registry actor: answers registry_heartbeat / registry_lookup from Redis through the node's
// shared redis_client. It owns the lookups waiting for Redis (promise by command id), the name this node
// heartbeats under (to delete its key on stop) and the availability it last saw (one log line per change,
// not one per tick). Replies come back as runtime/redis_messages.hpp messages (caf_redis_listener); it
// never waits for them. Another store would be another actor of member_registry_actor, not a mode here.
#include "actors/cluster/redis_registry.hpp"

#include "actors/cluster/redis_registry_layout.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"
#include "runtime/redis_caf_listener.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_messages.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace sa::cluster {

namespace {

using redis_registry_actor =
  member_registry_actor::extend<caf::reacts_to<redis_command_replied>, caf::reacts_to<redis_command_failed>,
                                caf::reacts_to<redis_command_waiting>>;

struct redis_registry_state {
  static inline const char* name = "redis_registry";
  redis_registry_options opts;
  registry_layout::registry_keys keys;
  std::shared_ptr<redis_client> client;
  std::shared_ptr<redis_listener> listener;
  std::unordered_map<uint64_t, caf::typed_response_promise<registry_members>> lookups;  // by command id
  std::unordered_set<uint64_t> heartbeats;  // command ids
  std::string self_name;                    // the name of the last heartbeat
  bool available = true;                    // what the last outcome said; logged when it changes
  std::set<std::string> warned;             // malformed keys already warned about
  std::shared_ptr<spdlog::logger> log = log::get("cluster");

  redis_registry_state() = default;
  redis_registry_state(const redis_registry_state&) = delete;
  redis_registry_state& operator=(const redis_registry_state&) = delete;

  /// The actor is gone (stopped, or died of an exception): every lookup still waiting for Redis gets the
  /// answer CAF gives a request to a stopped actor, so no requester depends on its own timeout.
  ~redis_registry_state() {
    for (auto& [id, rp] : lookups)
      rp.deliver(caf::make_error(caf::sec::request_receiver_down));
  }
};

using self_ptr = redis_registry_actor::stateful_pointer<redis_registry_state>;

void note_unavailable(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  if (!st.available)
    return;
  st.available = false;
  st.log->warn("event=registry_unavailable redis={} reason={} keeping=last_known_members", st.client->address(),
               reason);
}

void note_available(self_ptr self) {
  auto& st = self->state;
  if (st.available)
    return;
  st.available = true;
  st.log->info("event=registry_available redis={}", st.client->address());
}

/// Hands a command to the client without waiting for a connection: a lookup or heartbeat that waited
/// would be stale by the next discovery tick. 0 when the client refused it (queue full, stopped).
uint64_t submit(self_ptr self, std::vector<std::string> args, redis_error_kind* refused) {
  auto& st = self->state;
  redis_command c;
  c.args = std::move(args);
  c.wait_for_connection = false;
  auto sub = st.client->submit(std::move(c), st.listener);
  if (!sub && refused)
    *refused = sub.refused;
  return sub.id;
}

void heartbeat(self_ptr self, const registry_heartbeat& hb) {
  auto& st = self->state;
  if (hb.self.name.empty() || hb.self.host.empty() || hb.self.port == 0) {
    st.log->warn("event=registry_heartbeat_dropped reason=incomplete_address name={}", hb.self.name);
    return;
  }
  st.self_name = hb.self.name;
  redis_error_kind refused = redis_error_kind::overflow;
  auto id = submit(self, registry_layout::heartbeat_command(st.keys, hb.self, hb.ttl_ms), &refused);
  if (id == 0) {
    note_unavailable(self, to_string(refused));
    return;
  }
  st.heartbeats.insert(id);
}

/// Members from Redis, then the seeds that are not one of them.
registry_members with_seeds(self_ptr self, std::vector<member_address> live) {
  registry_members out{std::move(live)};
  for (const auto& s : self->state.opts.seeds) {
    bool known = std::any_of(out.members.begin(), out.members.end(),
                             [&](const member_address& m) { return m.host == s.host && m.port == s.port; });
    if (!known)
      out.members.push_back(member_address{s.host, s.port, {}});
  }
  return out;
}

caf::result<registry_members> lookup(self_ptr self) {
  auto& st = self->state;
  redis_error_kind refused = redis_error_kind::overflow;
  auto id = submit(self, registry_layout::lookup_command(st.keys), &refused);
  if (id == 0) {
    note_unavailable(self, to_string(refused));
    return make_error(cluster_errc::registry_unavailable);
  }
  auto rp = self->make_response_promise<registry_members>();
  st.lookups.emplace(id, rp);
  return rp;
}

void on_lookup_reply(self_ptr self, caf::typed_response_promise<registry_members> rp, const redis_reply& reply) {
  auto& st = self->state;
  registry_layout::lookup_result r;
  std::string why;
  if (!registry_layout::parse_lookup_reply(reply, st.keys, r, &why)) {
    st.log->error("event=registry_lookup_failed redis={} reason=\"{}\"", st.client->address(), why);
    rp.deliver(make_error(cluster_errc::registry_unavailable));
    return;
  }
  note_available(self);
  // Someone else's data, or a bug elsewhere: skip it and say so once per key (lookups run every tick).
  std::set<std::string> now_malformed;
  for (auto& bad : r.malformed) {
    if (st.warned.count(bad.key) == 0)
      st.log->warn("event=registry_entry_skipped key={} reason=\"{}\"", bad.key, bad.why);
    now_malformed.insert(std::move(bad.key));
  }
  st.warned = std::move(now_malformed);
  st.log->debug("event=registry_lookup live={} skipped={} seeds={}", r.members.size(), r.malformed.size(),
                st.opts.seeds.size());
  rp.deliver(with_seeds(self, std::move(r.members)));
}

redis_registry_actor::behavior_type redis_registry(self_ptr self, std::shared_ptr<redis_client> client,
                                                   redis_registry_options opts) {
  log_exceptions(self, "cluster");
  auto& st = self->state;
  st.keys = registry_layout::keys_for(opts.key_prefix, opts.cluster_name);
  st.opts = std::move(opts);
  st.client = std::move(client);
  st.listener = std::make_shared<caf_redis_listener>(caf::actor_cast<caf::actor>(self));
  // Leaving: delete our key so the others stop joining an address that is going away (best effort: its
  // TTL removes it anyway). Then stop as asked.
  self->set_exit_handler([self](caf::exit_msg& m) {
    auto& st = self->state;
    if (!st.self_name.empty()) {
      st.log->info("event=registry_leave name={} redis={}", st.self_name, st.client->address());
      submit(self, registry_layout::leave_command(st.keys, st.self_name), nullptr);
    }
    self->quit(m.reason);
  });
  return {
    [self](registry_heartbeat& hb) { heartbeat(self, hb); },
    [self](registry_lookup&) -> caf::result<registry_members> { return lookup(self); },
    [self](redis_command_replied& m) {
      auto& st = self->state;
      if (st.heartbeats.erase(m.request_id) != 0) {
        if (m.reply.is_error())  // refused by Redis (out of memory, say): our key is not refreshed
          note_unavailable(self, "redis_error_" + m.reply.str.substr(0, m.reply.str.find(' ')));
        else
          note_available(self);
        return;
      }
      auto i = st.lookups.find(m.request_id);
      if (i == st.lookups.end())
        return;  // the leave on stop, or nothing anyone waits for
      auto rp = std::move(i->second);
      st.lookups.erase(i);
      on_lookup_reply(self, std::move(rp), m.reply);
    },
    [self](redis_command_failed& f) {
      auto& st = self->state;
      bool was_heartbeat = st.heartbeats.erase(f.request_id) != 0;
      auto i = st.lookups.find(f.request_id);
      if (!was_heartbeat && i == st.lookups.end())
        return;
      note_unavailable(self, to_string(f.kind));
      if (i == st.lookups.end())
        return;
      auto rp = std::move(i->second);
      st.lookups.erase(i);
      rp.deliver(make_error(cluster_errc::registry_unavailable));
    },
    // Our commands never wait for a connection (wait_for_connection = false), so this is not expected;
    // the command's outcome follows anyway.
    [](redis_command_waiting&) {},
  };
}

} // namespace

member_registry_actor spawn_redis_registry(caf::actor_system& sys, std::shared_ptr<redis_client> client,
                                           redis_registry_options options) {
  return sys.spawn(redis_registry, std::move(client), std::move(options));
}

} // namespace sa::cluster
