// The audit commands: verify walks the whole chain (file or stream) and prints the first broken link; show
// prints one tenant's records and nothing of any other tenant. Both only read. record_admin_event opens the
// configured store for one record, so command-line tools audit what they change.
#include "actors/node/audit_command.hpp"

#include "actors/audit/audit_file_store.hpp"
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_redact.hpp"
#include "actors/audit/audit_redis_store.hpp"
#include "actors/audit/audit_settings.hpp"
#include "actors/audit/audit_verify.hpp"
#include "actors/node/node.hpp"
#include "runtime/redis_client.hpp"

#include <deque>
#include <fstream>
#include <future>
#include <ostream>

namespace sa {

namespace {

constexpr auto redis_wait = std::chrono::seconds(10);

config::config for_node(const config::config& cfg, const audit_cli_options& o) {
  auto c = cfg;
  if (!o.node.empty())
    c.node.name = o.node;
  return c;
}

bool use_redis(const config::config& cfg, const audit_cli_options& o) {
  if (o.redis)
    return true;
  if (!o.file.empty())
    return false;
  return audit::resolved_backend(cfg) == "redis";
}

/// A connected client for memory.redis_*, or a message saying why not.
result<std::shared_ptr<redis_client>> connect(const config::config& cfg) {
  if (cfg.memory.backend != "redis")
    return failure{"--redis needs the Redis of memory.redis_* (set memory.backend = redis, e.g. --set "
                   "memory.backend=redis --set memory.redis_address=HOST:PORT)"};
  return node_redis_client(cfg);
}

int verify(const config::config& cfg, const audit_cli_options& o, std::ostream& out, std::ostream& err) {
  audit::verify_report r;
  std::string source;
  if (use_redis(cfg, o)) {
    auto client = connect(cfg);
    if (!client) {
      err << "support-agent: " << client.error() << "\n";
      return audit_exit_usage;
    }
    source = "redis " + (*client)->address() + " " + audit::stream_key(cfg.memory.redis_key_prefix, cfg.node.name);
    r = audit::verify_stream(**client, cfg.memory.redis_key_prefix, cfg.node.name, o.tenant, redis_wait);
    (*client)->stop();
  } else {
    source = o.file.empty() ? audit::file_path(cfg) : o.file;
    r = audit::verify_file(source, o.tenant);
  }
  if (r.broken && r.broken->position == 0 && r.broken->kind == audit::break_kind::malformed && r.records == 0) {
    err << "support-agent: " << r.broken->message << "\n";
    return audit_exit_unreadable;
  }
  out << audit::render(r, source, o.tenant);
  return r.ok() ? audit_exit_ok : audit_exit_broken;
}

int show(const config::config& cfg, const audit_cli_options& o, std::ostream& out, std::ostream& err) {
  if (o.tenant.empty()) {
    err << "support-agent: audit show needs --tenant T (records of one tenant only)\n";
    return audit_exit_usage;
  }
  std::size_t limit = 20;
  if (!o.limit.empty()) {
    std::size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(o.limit, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != o.limit.size() || n < 1 || n > 1000000) {
      err << "support-agent: --limit '" << o.limit << "': expected a whole number in [1, 1000000]\n";
      return audit_exit_usage;
    }
    limit = static_cast<std::size_t>(n);
  }
  // Only lines that parse as records of exactly this tenant are ever kept, so nothing of another tenant
  // (not even a malformed line, which could be anyone's) reaches the output.
  std::deque<std::string> kept;
  uint64_t unreadable = 0;
  auto consider = [&](const std::string& line) {
    audit::record rec;
    if (!audit::parse_json_line(line, rec, nullptr)) {
      ++unreadable;
      return;
    }
    if (rec.tenant != o.tenant)
      return;
    kept.push_back(line);
    if (kept.size() > limit)
      kept.pop_front();
  };
  if (use_redis(cfg, o)) {
    auto client = connect(cfg);
    if (!client) {
      err << "support-agent: " << client.error() << "\n";
      return audit_exit_usage;
    }
    auto st = audit::for_each_stream_record(
      **client, cfg.memory.redis_key_prefix, cfg.node.name,
      [&](const std::string& line, uint64_t) {
        consider(line);
        return true;
      },
      redis_wait);
    (*client)->stop();
    if (!st) {
      err << "support-agent: " << st.error() << "\n";
      return audit_exit_unreadable;
    }
  } else {
    auto path = o.file.empty() ? audit::file_path(cfg) : o.file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << "support-agent: cannot read " << path << "\n";
      return audit_exit_unreadable;
    }
    std::string line;
    while (std::getline(in, line))
      consider(line);
  }
  for (const auto& line : kept)
    out << line << "\n";
  if (unreadable > 0)
    err << "support-agent: " << unreadable << " entries are not audit records and were skipped; run "
        << "`support-agent audit verify`\n";
  return audit_exit_ok;
}

} // namespace

int run_audit_command(const config::config& cfg_in, const audit_cli_options& o, std::ostream& out,
                      std::ostream& err) {
  auto cfg = for_node(cfg_in, o);
  if (o.redis && !o.file.empty()) {
    err << "support-agent: audit: give --file or --redis, not both\n";
    return audit_exit_usage;
  }
  if (o.subcommand == "verify")
    return verify(cfg, o, out, err);
  if (o.subcommand == "show")
    return show(cfg, o, out, err);
  err << "support-agent: audit needs a subcommand: verify [--file PATH | --redis] [--tenant T] [--node N], or "
         "show --tenant T [--limit N] [--file PATH | --redis] [--node N]\n";
  return audit_exit_usage;
}

status record_admin_event(const config::config& cfg, audit_event e, std::chrono::milliseconds within) {
  std::shared_ptr<redis_client> client;
  if (audit::resolved_backend(cfg) == "redis") {
    auto c = node_redis_client(cfg);
    if (!c)
      return failure{c.error()};
    client = std::move(*c);
  }
  auto store = audit::open_store(cfg, client);
  if (!store)
    return failure{store.error()};
  audit::redactor redact;
  audit::entry x;
  x.at = std::chrono::system_clock::now();
  x.tenant = e.tenant.value;
  x.actor = e.actor.empty() ? audit_actors::admin : e.actor;
  x.action = e.action;
  x.args = redact.arguments(e.arguments);
  x.result = redact.text(e.result);
  x.session = e.session.value;
  auto done = std::make_shared<std::promise<audit::stored>>();
  auto outcome = done->get_future();
  status st;
  if (!(*store)->submit(std::move(x), [done](const audit::stored& s) { done->set_value(s); })) {
    st = failure{"the audit store " + (*store)->where() + " refused the record"};
  } else if (outcome.wait_for(within) != std::future_status::ready) {
    st = failure{"the audit record was not stored in " + (*store)->where() + " within "
                 + std::to_string(within.count()) + " ms"};
  } else if (auto s = outcome.get(); !s.ok) {
    st = failure{"the audit record was not stored: " + s.error};
  }
  (*store)->stop();
  store->reset();
  if (client)
    client->stop();
  return st;
}

} // namespace sa
