// support-agent: the product's command line.
//
//   support-agent chat --tenant T --user U [--session ID]   terminal chat against the in-process runtime
//   support-agent train-intents CSV [--out PATH]           (re)train the local intent classifier
//   support-agent config [--describe | --print]            list every key, or print the effective config
//   support-agent serve                                    HTTP + WebSocket gateway and chat page
//   support-agent token --tenant T --user U [--ttl S] [--role agent] [--name N]   mint a development token
//   support-agent export-training --tenant T [--out FILE]  agents' handoff tags as a labeled CSV for train-intents
//   support-agent ingest --tenant T [PATH...] [--skip-bad] build or update a tenant's on-disk knowledge index
//   support-agent audit verify|show ...                    check the audit chain, show a tenant's records
//   support-agent eval SET [--json FILE] [--rows FILE] [...]  offline evaluation of a labeled set (no network)
//   support-agent cost --conversations N [...]              monthly cost projection at the configured prices
//   support-agent csat [--tenant T] [--since WHEN] [--json FILE|-]  stored CSAT by intent, reason, conversation
// Common options: --config FILE, --set section.key=value (repeatable); SUPPORT_AGENT_* environment.
#include "actors/cluster/cluster.hpp"
#include "actors/cluster/redis_registry.hpp"
#include "actors/gateway/gateway.hpp"
#include "actors/handoff/export_training.hpp"
#include "actors/handoff/handoff_store.hpp"
#include "actors/eval/eval_command.hpp"
#include "actors/node/audit_command.hpp"
#include "actors/node/chat.hpp"
#include "actors/node/cost_command.hpp"
#include "actors/node/csat_command.hpp"
#include "actors/node/ingest_command.hpp"
#include "actors/node/node.hpp"
#include "config/load.hpp"
#include "runtime/exit_watchdog.hpp"
#include "runtime/log.hpp"
#include "runtime/service_watch.hpp"

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

extern char** environ;

namespace {

/// How long the actor system's destructor may take once every actor has stopped (normally milliseconds: the
/// middleman and the scheduler's threads stop); runtime/exit_watchdog.hpp says why it is bounded at all.
constexpr std::chrono::milliseconds exit_bound{2000};

constexpr const char* usage = R"(usage: support-agent <command> [options]

commands:
  chat --tenant T --user U [--session ID]   chat in the terminal (reads standard input line by line)
  train-intents CSV [--out PATH]            train the intent classifier from a labeled CSV (text,intent)
  config [--describe | --print]             list every config key, or print the effective config
  serve                                     run the HTTP + WebSocket gateway (chat page at /) until SIGINT/SIGTERM
  token --tenant T --user U [--ttl SECONDS] [--role agent] [--name NAME]
                                            mint a development token with the configured gateway key
                                            (--role agent: for the agent console, /agent/ws)
  export-training --tenant T [--out FILE]   the agents' tags of tenant T's handoffs as a labeled CSV
                                            (text,intent,...) that train-intents accepts; default: stdout
  ingest --tenant T [PATH...] [--skip-bad]  build or update tenant T's knowledge index under node.state_dir
                                            (default PATHs: the tenant's configured knowledge paths)
  audit verify [--file PATH | --redis] [--tenant T] [--node N]
                                            check the audit chain; exit 3 and name the first broken link
  audit show --tenant T [--limit N] [--file PATH | --redis] [--node N]
                                            print the last N audit records of one tenant (JSON lines)
  eval SET [--json FILE] [--rows FILE] [--k N] [--limit N] [--tenant T] [--user U]
                                            run a labeled set (data/eval/README.md) through the local
                                            pipeline: intent accuracy/F1, out-of-scope recall, recall@k,
                                            escalation precision/recall, groundedness, latency
                                            (--rows FILE: each row's outcome, a JSON line each)
  cost --conversations N [--turns-per-conversation T] [--model-mix MODEL=SHARE,...]
       [--tokens COMPONENT=IN:OUT,...] [--from-metrics URL|FILE] [--json FILE|-]
                                            monthly cost projection by component at providers.prices
                                            (--from-metrics: tokens per turn measured by a node's /metrics)
  csat [--tenant T] [--since 24h|7d|DATE|TIME] [--file PATH] [--json FILE|-]
                                            the stored CSAT (ratings and surveys) by intent, by escalation
                                            reason and per conversation

options:
  --config FILE          config file (JSON with comments); default: built-in defaults
  --set KEY=VALUE        override one key, e.g. --set escalation.confidence_threshold=0.6 (repeatable)
  environment            SUPPORT_AGENT_<SECTION>__<KEY>=VALUE overrides a key as well
)";

struct cli {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --name value
  std::vector<std::string> sets;
  std::vector<std::string> flags;
};

bool parse_cli(int argc, char** argv, cli& out, std::string& error) {
  static const std::vector<std::string> with_value{"--tenant", "--user", "--session", "--out", "--config",
                                                     "--ttl", "--file", "--limit", "--node",
                                                     "--json", "--k", "--conversations",
                                                     "--turns-per-conversation", "--model-mix", "--tokens",
                                                     "--from-metrics", "--since",
                                                     "--role", "--name", "--rows"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--set") {
      if (++i >= argc)
        return error = "--set needs KEY=VALUE", false;
      out.sets.push_back(argv[i]);
    } else if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      if (++i >= argc)
        return error = a + " needs a value", false;
      out.options[a] = argv[i];
    } else if (a.rfind("--", 0) == 0) {
      out.flags.push_back(a);
    } else if (out.command.empty()) {
      out.command = a;
    } else {
      out.positional.push_back(a);
    }
  }
  return true;
}

std::string option(const cli& c, const std::string& name, const std::string& fallback = {}) {
  auto i = c.options.find(name);
  return i == c.options.end() ? fallback : i->second;
}

bool has_flag(const cli& c, const std::string& name) {
  return std::find(c.flags.begin(), c.flags.end(), name) != c.flags.end();
}

void progress(const std::string& line) {
  std::cerr << "support-agent: " << line << std::endl;
}

// Why this node cannot go on (a cluster member refused, a service beyond its restart budget): set from an
// actor, read by serve after the stop signal.
std::mutex node_fatal_mutex;
std::string node_fatal_message;
int node_fatal_code = 0;

void node_fatal(int exit_code, const std::string& message) {
  {
    std::lock_guard<std::mutex> guard{node_fatal_mutex};
    if (!node_fatal_message.empty())
      return;
    node_fatal_message = message;
    node_fatal_code = exit_code;
  }
  ::kill(::getpid(), SIGTERM);  // wakes serve's sigwait: shut down the way a signal does
}

/// support-agent export-training: the tagged handoffs of `tenant` from the node's handoff log, as a labeled
/// CSV (actors/handoff/export_training.hpp) on `out` or standard output.
int export_training_command(const sa::config::config& cfg, const std::string& tenant, const std::string& out) {
  if (tenant.empty()) {
    std::cerr << "support-agent: export-training needs --tenant\n" << usage;
    return 2;
  }
  auto path = sa::handoff_path(cfg);
  std::vector<sa::handoff_view> records;
  if (std::filesystem::exists(path)) {
    // Only the tenant's tagged records are held: the log may hold years of handoffs.
    auto read = sa::handoff::read_file_records(
      path, [&tenant](const sa::handoff_view& v) { return v.tagged && v.tenant.value == tenant; });
    if (!read) {
      std::cerr << "support-agent: " << read.error() << "\n";
      return 1;
    }
    records = std::move(*read);
  }
  std::ofstream file;
  if (!out.empty()) {
    file.open(out, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "support-agent: cannot write " << out << "\n";
      return 1;
    }
  }
  auto rows = sa::handoff::export_training(records, tenant, out.empty() ? std::cout : file);
  if (!out.empty() && !file.flush()) {
    std::cerr << "support-agent: cannot write " << out << "\n";
    return 1;
  }
  progress("exported " + std::to_string(rows) + " tagged handoffs of tenant " + tenant
           + (out.empty() ? std::string{} : " to " + out));
  return 0;
}

/// Runs the node with its gateway until SIGINT or SIGTERM, then shuts down gracefully.
int serve(const sa::config::config& cfg) {
  // Block the stop signals before any thread starts (build_node_services starts some: the audit file
  // store's writer, HTTP and Redis clients), so every thread inherits the mask and only sigwait below takes
  // them. A thread without the mask would take a SIGTERM - node_fatal's own, or the supervisor's - with the
  // default action: killed by the signal, no graceful stop, and not node_fatal's exit code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  sa::gateway::gateway_settings settings;
  settings.cfg = cfg.gateway;
  std::string error;
  if (!sa::gateway::load_token_keys(cfg.gateway, settings.keys, error)
      || !sa::gateway::load_metrics_token(cfg.gateway, settings.metrics_token, error)) {
    std::cerr << "support-agent: " << error << "\n";
    return 2;
  }
  std::optional<sa::cluster::cluster_settings> cluster_settings;
  if (cfg.cluster.port != 0) {
    auto cs = sa::cluster::settings_from(cfg, [](const char* name) { return std::getenv(name); });
    if (!cs) {
      std::cerr << "support-agent: " << cs.error() << "\n";
      return 2;
    }
    cluster_settings = std::move(*cs);
  }
  auto svc = sa::build_node_services(cfg, progress);
  if (!svc) {
    std::cerr << "support-agent: " << svc.error() << "\n";
    return 1;
  }
  settings.accounts = (*svc)->accounts;
  settings.metrics = (*svc)->metrics;
  caf::actor_system_config sys_cfg;
  sa::configure_actor_system(sys_cfg, cfg);
  sa::exit_watchdog watchdog;  // outlives the actor system: bounds its destructor (runtime/exit_watchdog.hpp)
  caf::actor_system sys{sys_cfg};
  // Clustered, the sessions reach handoffs through the handoff router: a session that moved here finds the
  // record it left on the member where it ran before.
  sa::cluster::handoff_router_actor handoff_router;
  sa::handoff_front_fn handoff_front;
  if (cluster_settings)
    handoff_front = [&](sa::handoff_actor local) {
      sa::cluster::handoff_router_options options{cluster_settings->name};
      options.store_timeout = std::chrono::milliseconds{cfg.session.child_timeout_ms};
      handoff_router = sa::cluster::spawn_handoff_router(sys, std::move(local), std::move(options));
      return caf::actor_cast<sa::handoff_actor>(handoff_router);
    };
  auto node = sa::start_node(sys, *svc, {}, handoff_front);
  // Every actor was told to stop: wait for them as the actor system's destructor would, let the services'
  // blocking lanes finish their queued writes on this thread (not on a scheduler thread, where the last actor
  // holding one would release it), then give the rest of the destructor a bound.
  auto finish = [&](int code) {
    sys.await_all_actors_done();
    node.blocking_state.clear();
    watchdog.arm(exit_bound, code, "the actor system's shutdown");
    return code;
  };
  // A service whose supervisor gave up (restart budget exhausted) stops the process with exit code 70
  // (EX_SOFTWARE), so systemd or Kubernetes starts it afresh rather than leaving it serving half-alive.
  auto watch = sa::watch_services(sys, sa::node_services_to_watch(node),
                                  [](const std::string& service, const caf::error& reason) {
                                    node_fatal(70, "the " + service + " service failed beyond its restart budget ("
                                                        + caf::to_string(reason) + ")");
                                  });
  // With clustering on, the gateway talks to the cluster router, which sends each turn to its owner node.
  sa::session_actor front = node.router;
  sa::cluster::cluster_handles cluster;
  if (cluster_settings) {
    sa::member_registry_actor registry;  // none: start_cluster uses the seeds
    if (cfg.cluster.registry == "redis") {
      // The config loader allows it only with memory.backend = redis: the memory service's client.
      sa::cluster::redis_registry_options ro;
      ro.key_prefix = cfg.memory.redis_key_prefix;
      ro.seeds = cluster_settings->seeds;
      registry = sa::cluster::spawn_redis_registry(sys, (*svc)->redis, std::move(ro));
    }
    auto started = sa::cluster::start_cluster(sys, node.router, *cluster_settings, node_fatal, registry, handoff_router);
    if (!started) {
      std::cerr << "support-agent: " << started.error() << "\n";
      sa::stop_node(node);
      return finish(1);
    }
    cluster = *started;
    front = cluster.router;
    std::cerr << "support-agent: cluster node " << cfg.node.name << " listening on " << cfg.cluster.listen_address
              << ":" << cluster.port << " (advertised as " << cluster_settings->advertise_host << ":"
              << cluster.port << ", " << cfg.cluster.seeds.size() << " seeds, registry " << cfg.cluster.registry
              << ")" << std::endl;
  }
  auto stop_node = [&] {
    caf::anon_send_exit(watch, caf::exit_reason::user_shutdown);  // stopping is not a failure
    sa::cluster::stop_cluster(cluster);
    // The Redis registry deletes this node's heartbeat key as it stops. Wait for it to stop (this is the
    // main thread, not an actor), so the key's DEL is queued before stop_node drains the Redis client.
    if (cluster.registry) {
      caf::scoped_actor waiter{sys};
      waiter->wait_for(cluster.registry);
    }
    sa::stop_node(node);
  };
  // Clustered: agents and customers reach the handoff records of every member through the handoff router.
  settings.handoff = cluster.handoff ? cluster.handoff : node.handoff;
  settings.quality = node.quality;
  auto gw = sa::gateway::gateway::start(sys, front, settings);
  if (!gw) {
    std::cerr << "support-agent: " << gw.error() << "\n";
    stop_node();
    return finish(1);
  }
  // One write: std::cerr is unbuffered, so piece by piece a log line of another thread could land inside
  // this one, between the address and the port that scripts read from it.
  std::ostringstream serving;
  serving << "support-agent: serving on http://" << cfg.gateway.listen_address << ":" << (*gw)->port()
          << "/ (WebSocket at /ws" << (cfg.gateway.metrics_enabled ? ", metrics at /metrics" : "")
          << (cfg.gateway.dev_tokens ? ", dev tokens at /dev/token" : "") << "); Ctrl-C stops\n";
  std::cerr << serving.str() << std::flush;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::string fatal;
  int fatal_code = 0;
  {
    std::lock_guard<std::mutex> guard{node_fatal_mutex};
    fatal = node_fatal_message;
    fatal_code = node_fatal_code;
  }
  if (!fatal.empty())
    std::cerr << "support-agent: " << fatal << "; stopping" << std::endl;
  else
    std::cerr << "support-agent: stopping (signal " << sig << ")" << std::endl;
  (*gw)->stop();
  stop_node();
  return finish(fatal.empty() ? 0 : fatal_code);
}

} // namespace

int main(int argc, char** argv) {
  cli args;
  std::string error;
  if (!parse_cli(argc, argv, args, error)) {
    std::cerr << "support-agent: " << error << "\n" << usage;
    return 2;
  }
  if (args.command.empty() || has_flag(args, "--help") || args.command == "help") {
    std::cout << usage;
    return args.command.empty() && !has_flag(args, "--help") ? 2 : 0;
  }
  for (auto& f : args.flags)
    if (f != "--describe" && f != "--print" && f != "--help" && f != "--skip-bad" && f != "--redis") {
      std::cerr << "support-agent: unknown option " << f << "\n" << usage;
      return 2;
    }

  sa::config::load_options lo;
  lo.path = option(args, "--config");
  lo.overrides = args.sets;
  for (char** e = environ; *e != nullptr; ++e)
    lo.environment.emplace_back(*e);
  auto loaded = sa::config::load(lo);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return 2;
  }
  auto& cfg = *loaded;
  // The terminal chat owns the terminal, and eval prints a report: unless a log file is configured, their
  // logs go to a file.
  auto log_file = cfg.node.log_file;
  if ((args.command == "chat" || args.command == "eval") && log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.node.state_dir + "/log", ec);
    log_file = cfg.node.state_dir + "/log/support-agent.log";
  }
  if (!sa::log::init(cfg.node.log_level, log_file, &error)) {
    std::cerr << "support-agent: " << error << "\n";
    return 2;
  }
  for (const auto& warning : sa::config::warnings(cfg))
    sa::log::get("config")->warn("{}", warning);

  if (args.command == "config") {
    std::cout << (has_flag(args, "--describe") ? sa::config::describe() : sa::config::to_json_text(cfg));
    return 0;
  }
  if (args.command == "train-intents") {
    if (args.positional.size() != 1) {
      std::cerr << "support-agent: train-intents needs exactly one CSV file\n" << usage;
      return 2;
    }
    auto out = option(args, "--out", cfg.classifier.model_path);
    auto trained = sa::train_intents(cfg, args.positional[0], out, progress);
    sa::audit_event ev{sa::tenant_id{}, sa::audit_actors::admin, "train_intents",
                       nlohmann::json{{"csv", args.positional[0]}, {"out", out}}.dump(), trained ? "ok" : "error",
                       sa::session_id{}};
    if (auto st = sa::record_admin_event(cfg, std::move(ev)); !st)
      std::cerr << "support-agent: warning: not audited: " << st.error() << "\n";
    if (!trained) {
      std::cerr << "support-agent: " << trained.error() << "\n";
      return 1;
    }
    return 0;
  }
  if (args.command == "token") {
    auto tenant = option(args, "--tenant");
    auto user = option(args, "--user");
    if (tenant.empty() || user.empty()) {
      std::cerr << "support-agent: token needs --tenant and --user\n" << usage;
      return 2;
    }
    long ttl = cfg.gateway.dev_token_ttl_s;
    try {
      if (auto t = option(args, "--ttl"); !t.empty())
        ttl = std::stol(t);
    } catch (const std::exception&) {
      std::cerr << "support-agent: --ttl needs a number of seconds\n";
      return 2;
    }
    sa::gateway::token_keys keys;
    if (!sa::gateway::load_token_keys(cfg.gateway, keys, error)) {
      std::cerr << "support-agent: " << error << "\n";
      return 2;
    }
    auto role = option(args, "--role");
    if (!role.empty() && role != sa::gateway::roles::agent) {
      std::cerr << "support-agent: --role must be agent (or absent, for a customer)\n";
      return 2;
    }
    auto token = sa::gateway::mint_token(keys, tenant, user, std::chrono::seconds(ttl),
                                         sa::gateway::token_extras{role, option(args, "--name")}, &error);
    if (token.empty()) {
      std::cerr << "support-agent: " << error << "\n";
      return 1;
    }
    std::cout << token << "\n";
    return 0;
  }
  if (args.command == "serve")
    return serve(cfg);
  if (args.command == "export-training")
    return export_training_command(cfg, option(args, "--tenant"), option(args, "--out"));
  if (args.command == "ingest") {
    sa::ingest_cli_options io;
    io.tenant = option(args, "--tenant");
    io.paths = args.positional;
    io.skip_bad = has_flag(args, "--skip-bad");
    if (io.tenant.empty()) {
      std::cerr << "support-agent: ingest needs --tenant\n" << usage;
      return 2;
    }
    int rc = sa::run_ingest_command(cfg, io, std::cout, std::cerr);
    if (rc != 2) {  // 2: refused before anything was read (bad usage or tenant name): nothing to audit
      sa::audit_event ev{sa::tenant_id{io.tenant}, sa::audit_actors::admin, "ingest",
                         nlohmann::json{{"paths", io.paths}, {"skip_bad", io.skip_bad}}.dump(),
                         rc == 0 ? "ok" : rc == 130 ? "interrupted" : "error", sa::session_id{}};
      if (auto st = sa::record_admin_event(cfg, std::move(ev)); !st)
        std::cerr << "support-agent: warning: not audited: " << st.error() << "\n";
    }
    return rc;
  }
  if (args.command == "audit") {
    sa::audit_cli_options ao;
    ao.subcommand = args.positional.empty() ? "" : args.positional[0];
    ao.file = option(args, "--file");
    ao.redis = has_flag(args, "--redis");
    ao.tenant = option(args, "--tenant");
    ao.node = option(args, "--node");
    ao.limit = option(args, "--limit");
    if (args.positional.size() > 1) {
      std::cerr << "support-agent: audit takes one subcommand, verify or show\n" << usage;
      return 2;
    }
    return sa::run_audit_command(cfg, ao, std::cout, std::cerr);
  }
  if (args.command == "eval") {
    if (args.positional.size() != 1) {
      std::cerr << "support-agent: eval needs exactly one set file\n" << usage;
      return 2;
    }
    sa::eval::eval_cli_options eo;
    eo.set = args.positional[0];
    eo.json_file = option(args, "--json");
    eo.rows_file = option(args, "--rows");
    eo.k = option(args, "--k", "5");
    eo.limit = option(args, "--limit");
    eo.tenant = option(args, "--tenant", "acme");
    eo.user = option(args, "--user", "alice");
    return sa::eval::run_eval_command(cfg, eo, std::cout, std::cerr);
  }
  auto no_positional = [&](const char* command) {
    if (args.positional.empty())
      return true;
    std::cerr << "support-agent: " << command << " takes no positional argument (got " << args.positional[0] << ")\n"
              << usage;
    return false;
  };
  if (args.command == "cost") {
    if (!no_positional("cost"))
      return 2;
    sa::cost_cli_options co;
    co.conversations = option(args, "--conversations");
    co.turns_per_conversation = option(args, "--turns-per-conversation");
    co.model_mix = option(args, "--model-mix");
    co.tokens = option(args, "--tokens");
    co.from_metrics = option(args, "--from-metrics");
    co.json_file = option(args, "--json");
    return sa::run_cost_command(cfg, co, std::cout, std::cerr);
  }
  if (args.command == "csat") {
    if (!no_positional("csat"))
      return 2;
    sa::csat_cli_options so;
    so.tenant = option(args, "--tenant");
    so.since = option(args, "--since");
    so.file = option(args, "--file");
    so.json_file = option(args, "--json");
    return sa::run_csat_command(cfg, so, std::cout, std::cerr);
  }
  if (args.command == "chat") {
    sa::chat_options chat;
    chat.tenant = option(args, "--tenant");
    chat.user = option(args, "--user");
    chat.session = option(args, "--session");
    if (chat.tenant.empty() || chat.user.empty()) {
      std::cerr << "support-agent: chat needs --tenant and --user\n" << usage;
      return 2;
    }
    chat.turn_wait = std::chrono::milliseconds{cfg.session.turn_timeout_ms + 5000};
    chat.prompt = isatty(STDIN_FILENO) != 0;
    // Check who is asking before the slow start-up work (training, indexing).
    auto accounts = sa::account_store::load(cfg.tenants.accounts_file);
    if (!accounts) {
      std::cerr << "support-agent: " << accounts.error() << "\n";
      return 1;
    }
    if (!(*accounts)->has_tenant(chat.tenant)) {
      std::cerr << "support-agent: unknown tenant '" << chat.tenant << "' (known:";
      for (auto& t : (*accounts)->tenants())
        std::cerr << " " << t;
      std::cerr << ")\n";
      return 2;
    }
    if (!(*accounts)->has_user(chat.tenant, chat.user)) {
      std::cerr << "support-agent: tenant '" << chat.tenant << "' has no user '" << chat.user << "' (known:";
      for (auto& u : (*accounts)->users(chat.tenant))
        std::cerr << " " << u;
      std::cerr << ")\n";
      return 2;
    }
    auto svc = sa::build_node_services(cfg, progress);
    if (!svc) {
      std::cerr << "support-agent: " << svc.error() << "\n";
      return 1;
    }
    caf::actor_system_config sys_cfg;
    sa::configure_actor_system(sys_cfg, cfg);
    sa::exit_watchdog watchdog;
    caf::actor_system sys{sys_cfg};
    auto node = sa::start_node(sys, *svc);
    if (chat.prompt)
      std::cout << "Support agent demo - tenant " << chat.tenant << ", user " << chat.user
                << ". Knowledge base: sample content from the Read the Docs documentation (MIT), not an\n"
                   "official Read the Docs support channel. Ask a question; Ctrl-D quits. Logs: "
                << log_file << "\n";
    int rc = sa::run_chat(sys, node.router, chat, std::cin, std::cout);
    sa::stop_node(node);
    sys.await_all_actors_done();
    node.blocking_state.clear();  // the services' queued writes, on this thread
    watchdog.arm(exit_bound, rc, "the actor system's shutdown");
    return rc;
  }
  std::cerr << "support-agent: unknown command '" << args.command << "'\n" << usage;
  return 2;
}
