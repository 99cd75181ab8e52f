#include "actors/node/node.hpp"

#include "actors/account/account_actor.hpp"
#include "actors/classifier/llm_classifier.hpp"
#include "actors/generator/llm_generator.hpp"
#include "actors/escalation/escalation_actor.hpp"
#include "actors/memory/memory_actor.hpp"
#include "actors/memory/redis_memory.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/supervisor.hpp"

#include "caf/all.hpp"
#include "caf/io/middleman.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sa {

namespace fs = std::filesystem;

namespace {

classifier::training_options training_options_from(const config::config& cfg) {
  classifier::training_options opts;
  opts.epochs = cfg.classifier.epochs;
  opts.learning_rate = cfg.classifier.learning_rate;
  opts.word_ngrams = cfg.classifier.word_ngrams;
  opts.seed = cfg.classifier.seed;
  opts.dim = cfg.classifier.dim;
  opts.minn = cfg.classifier.minn;
  opts.maxn = cfg.classifier.maxn;
  opts.bucket = cfg.classifier.bucket;
  return opts;
}

result<std::shared_ptr<const classifier::intent_model>> load_or_train(const config::config& cfg,
                                                                      const progress_fn& progress) {
  auto& path = cfg.classifier.model_path;
  if (fs::exists(path)) {
    auto model = classifier::intent_model::load(path);
    if (!model)
      return failure{model.error() + " (delete it or run `support-agent train-intents "
                     + cfg.classifier.training_data + "` to retrain)"};
    return model;
  }
  progress("no intent model at " + path + ": training one from " + cfg.classifier.training_data);
  if (auto st = train_intents(cfg, cfg.classifier.training_data, path, progress); !st)
    return failure{st.error()};
  return classifier::intent_model::load(path);
}

/// The Redis client of memory.backend = "redis", from memory.redis_* and the password's environment variable.
result<std::shared_ptr<redis_client>> make_redis_client(const config::memory_config& m) {
  redis_client_options o;
  if (!parse_redis_address(m.redis_address, o.host, o.port))
    return failure{"memory.redis_address = \"" + m.redis_address + "\": expected host:port"};
  if (m.redis_tls)  // refused by the config loader already; never connect in the clear instead
    return failure{"memory.redis_tls = true: TLS to Redis is not supported (Debian 12's hiredis 0.14 has none); "
                   "use a TLS proxy such as stunnel"};
  if (!m.redis_password_env.empty()) {
    const char* pw = std::getenv(m.redis_password_env.c_str());
    if (!pw || !*pw)
      return failure{"memory.redis_password_env names " + m.redis_password_env +
                     ", which is not set in the environment (it holds the Redis password)"};
    o.password = pw;
  }
  o.db = m.redis_db;
  o.max_pending = static_cast<std::size_t>(m.redis_max_pending);
  o.connect_timeout = std::chrono::milliseconds{m.redis_connect_timeout_ms};
  o.reply_timeout = std::chrono::milliseconds{m.redis_reply_timeout_ms};
  o.backoff_initial = std::chrono::milliseconds{m.redis_backoff_initial_ms};
  o.backoff_max = std::chrono::milliseconds{m.redis_backoff_max_ms};
  return std::make_shared<redis_client>(std::move(o));
}

/// The Redis client's own counters as sa_redis_* figures, read at scrape time (they are atomics). Holds the
/// client weakly: a scrape after it is gone reads zeros. False when a name was taken (a programming error).
bool add_redis_metrics(metrics& m, const std::shared_ptr<redis_client>& client) {
  std::weak_ptr<redis_client> weak = client;
  auto figure = [weak](const char* name, const char* help, bool counter, auto field) {
    return sampled_metric{name, help, counter, [weak, field]() -> double {
                            auto c = weak.lock();
                            return c ? static_cast<double>(field(c->stats())) : 0.0;
                          }};
  };
  using stats = redis_client_stats;
  return m.add_sampled({
    figure("sa_redis_connected", "1 while the Redis connection is up and its handshake done, else 0.", false,
           [](const stats& s) { return s.connected ? 1 : 0; }),
    figure("sa_redis_pending_commands", "Redis commands waiting to be written (bounded by memory.redis_max_pending).",
           false, [](const stats& s) { return s.pending; }),
    figure("sa_redis_in_flight_commands", "Redis commands written and not yet answered.", false,
           [](const stats& s) { return s.in_flight; }),
    figure("sa_redis_commands_total", "Redis commands accepted by the client.", true,
           [](const stats& s) { return s.submitted; }),
    figure("sa_redis_error_replies_total", "Redis error replies (-ERR ...).", true,
           [](const stats& s) { return s.error_replies; }),
    figure("sa_redis_failed_commands_total", "Redis commands that got no reply (lost, timed out, client stopped).",
           true, [](const stats& s) { return s.failed; }),
    figure("sa_redis_overflows_total", "Redis commands refused because the pending queue was full.", true,
           [](const stats& s) { return s.overflows; }),
    figure("sa_redis_reconnects_total", "Redis connections made after the first.", true,
           [](const stats& s) { return s.reconnects; }),
    figure("sa_redis_connect_failures_total", "Redis connection attempts that failed.", true,
           [](const stats& s) { return s.connect_failures; }),
  });
}

} // namespace

status train_intents(const config::config& cfg, const std::string& csv, const std::string& out,
                     const progress_fn& progress) {
  auto examples = classifier::read_labeled_csv(csv);
  if (!examples)
    return failure{examples.error()};
  progress("training on " + std::to_string(examples->size()) + " labeled examples");
  classifier::training_report report;
  auto model = classifier::intent_model::train(*examples, training_options_from(cfg), &report);
  if (!model)
    return failure{model.error()};
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "trained: holdout accuracy %.3f on %zu examples, calibration temperature %.2f, ECE %.3f",
                report.holdout_accuracy, report.holdout, report.temperature, report.holdout_ece);
  progress(buf);
  std::error_code ec;
  if (auto dir = fs::path(out).parent_path(); !dir.empty())
    fs::create_directories(dir, ec);
  if (ec)
    return failure{"cannot create directory for '" + out + "': " + ec.message()};
  if (auto st = (*model)->save(out); !st)
    return st;
  progress("saved model to " + out);
  return {};
}

result<std::shared_ptr<const node_services>> build_node_services(const config::config& cfg,
                                                                 const progress_fn& progress) {
  auto log = log::get("node");
  auto svc = std::make_shared<node_services>();
  svc->cfg = cfg;
  svc->metrics = std::make_shared<metrics>();
  auto accounts = account_store::load(cfg.tenants.accounts_file);
  if (!accounts)
    return failure{accounts.error()};
  svc->accounts = *accounts;

  auto model = load_or_train(cfg, progress);
  if (!model)
    return failure{model.error()};
  auto cls = std::make_shared<classifier_deps>();
  cls->model = *model;
  cls->entities = std::make_shared<const classifier::entity_extractor>();
  cls->min_confidence = cfg.classifier.min_confidence;
  svc->classifier = cls;

  std::vector<knowledge_catalog::tenant_sources> sources;
  for (auto& tenant : svc->accounts->tenants()) {
    knowledge_catalog::tenant_sources ts{tenant, cfg.retriever.knowledge_paths};
    if (auto extra = cfg.retriever.tenant_knowledge_paths.find(tenant);
        extra != cfg.retriever.tenant_knowledge_paths.end())
      ts.paths.insert(ts.paths.end(), extra->second.begin(), extra->second.end());
    sources.push_back(std::move(ts));
  }
  progress("indexing knowledge for " + std::to_string(sources.size()) + " tenants");
  auto catalog = knowledge_catalog::build(sources);
  for (auto& [tenant, why] : catalog->problems()) {
    log->error("event=knowledge_unavailable tenant={} problem=\"{}\"", tenant, why);
    progress("knowledge for tenant " + tenant + " is unavailable: " + why);
  }
  auto ret = std::make_shared<retriever_deps>();
  ret->catalog = catalog;
  ret->routes = cfg.retriever.routes;
  svc->retriever = ret;

  auto gen = std::make_shared<generator_deps>();
  composer_options copts;
  copts.max_passages = static_cast<size_t>(cfg.generator.max_passages);
  copts.max_answer_chars = static_cast<size_t>(cfg.generator.max_answer_chars);
  gen->composer = std::make_shared<const local_composer>(copts);
  gen->stream_chunk_chars = static_cast<size_t>(cfg.generator.stream_chunk_chars);
  svc->generator = gen;

  svc->escalation = std::make_shared<const escalation_policy>(cfg.escalation.confidence_threshold,
                                                              cfg.escalation.sensitive_topics);
  auto endpoints = providers::all_endpoint_settings(cfg);
  if (!endpoints)
    return failure{endpoints.error()};
  svc->endpoints = std::move(*endpoints);
  if (cfg.memory.backend == "redis") {
    auto client = make_redis_client(cfg.memory);
    if (!client)
      return failure{client.error()};
    svc->redis = std::move(*client);
    if (!add_redis_metrics(*svc->metrics, svc->redis))
      log->error("event=metrics_not_registered what=sa_redis_*");
    log->info("event=memory_backend backend=redis address={} db={} key_prefix={}", svc->redis->address(),
              cfg.memory.redis_db, cfg.memory.redis_key_prefix);
  }
  return std::shared_ptr<const node_services>{std::move(svc)};
}

session_children default_children(std::shared_ptr<const node_services> svc) {
  session_children c;
  c.classifier = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(local_classifier, svc->classifier);
  };
  c.retriever = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(bm25_retriever, svc->retriever);
  };
  c.generator = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(local_generator, svc->generator);
  };
  c.escalation = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(rule_escalation, svc->escalation);
  };
  return c;
}

namespace {

/// Replaces the local classifier and generator with the LLM ones where the config asks for them.
void use_llm_children(session_children& c, const std::shared_ptr<const node_services>& svc,
                      const completion_actor& root) {
  const auto& cfg = svc->cfg;
  if (cfg.classifier.backend == "llm") {
    auto deps = std::make_shared<llm_classifier_deps>();
    deps->chain = root;
    deps->local = svc->classifier;
    deps->budget = std::chrono::milliseconds{cfg.session.child_timeout_ms};
    c.classifier = [deps = std::shared_ptr<const llm_classifier_deps>{deps}](caf::local_actor* self) {
      return self->spawn<caf::linked>(llm_classifier, deps);
    };
  }
  if (cfg.generator.backend == "llm") {
    auto deps = std::make_shared<llm_generator_deps>();
    deps->chain = root;
    deps->composer = svc->generator->composer;
    deps->prompt.max_passages = static_cast<std::size_t>(cfg.generator.max_passages);
    deps->prompt.thinking_min_words = static_cast<std::size_t>(cfg.generator.thinking_min_words);
    deps->budget = std::chrono::milliseconds{cfg.session.turn_timeout_ms};
    deps->stream_chunk_chars = svc->generator->stream_chunk_chars;
    c.generator = [deps = std::shared_ptr<const llm_generator_deps>{deps}](caf::local_actor* self) {
      return spawn_llm_generator(self, deps);
    };
  }
}

} // namespace

void stop_node(const node_handles& h) {
  caf::anon_send_exit(h.router, caf::exit_reason::user_shutdown);
  // Writes queued for Redis get their chance while the memory service still hears the replies.
  if (h.redis && !h.redis->drain(h.redis_drain))
    log::get("node")->warn("event=redis_drain_incomplete pending={} in_flight={} waited_ms={}",
                           h.redis->stats().pending, h.redis->stats().in_flight, h.redis_drain.count());
  caf::anon_send_exit(h.memory, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(h.account, caf::exit_reason::user_shutdown);
  if (h.providers)
    for (const auto& [name, member] : h.providers->members)
      caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
}

node_handles start_node(caf::actor_system& sys, std::shared_ptr<const node_services> svc,
                        session_children children) {
  supervision_policy policy{svc->cfg.session.restart_budget,
                            std::chrono::seconds{svc->cfg.session.restart_window_s}, svc->metrics};
  node_handles h;
  if (!svc->cfg.providers.root.empty() || !svc->endpoints.empty()) {
    providers::graph_options gopts;
    gopts.restart_budget = svc->cfg.session.restart_budget;
    gopts.restart_window = std::chrono::seconds{svc->cfg.session.restart_window_s};
    gopts.metrics = svc->metrics;
    auto graph = providers::build_provider_graph(sys, svc->cfg, svc->endpoints, svc->generator, gopts);
    if (!graph)
      throw std::runtime_error("provider graph: " + graph.error());
    h.providers = std::make_shared<providers::provider_graph>(std::move(*graph));
  }
  if (!children.classifier) {
    children = default_children(svc);
    if (h.providers && h.providers->root)
      use_llm_children(children, svc, h.providers->root);
  }
  memory_store::limits limits;
  limits.max_turns = static_cast<size_t>(svc->cfg.memory.max_turns);
  limits.ttl = std::chrono::seconds{svc->cfg.memory.ttl_s};
  limits.summary_max_chars = static_cast<size_t>(svc->cfg.memory.summary_max_chars);
  limits.max_sessions = static_cast<size_t>(svc->cfg.memory.max_sessions);
  if (svc->cfg.memory.backend == "redis" && svc->redis) {
    redis_memory_options ropts;
    ropts.limits = limits;
    ropts.key_prefix = svc->cfg.memory.redis_key_prefix;
    ropts.load_timeout = std::chrono::milliseconds{svc->cfg.memory.redis_reply_timeout_ms};
    ropts.metrics = svc->metrics;
    h.redis = svc->redis;
    h.redis_drain = std::chrono::milliseconds{svc->cfg.memory.redis_shutdown_drain_ms};
    h.memory = spawn_supervised<memory_actor>(
      sys, "memory",
      [client = svc->redis, ropts](caf::local_actor* self) { return spawn_redis_memory(self, client, ropts); },
      policy);
  } else {
    h.memory = spawn_supervised<memory_actor>(
      sys, "memory",
      [limits](caf::local_actor* self) { return self->spawn(inprocess_memory, limits); }, policy);
  }
  h.account = spawn_supervised<account_actor>(
    sys, "account",
    [store = svc->accounts](caf::local_actor* self) { return self->spawn(embedded_accounts, store); },
    policy);
  auto sdeps = std::make_shared<session_deps>();
  sdeps->cfg = svc->cfg;
  sdeps->pii = std::make_shared<const safety::pii_scanner>();
  sdeps->memory = h.memory;
  sdeps->account = h.account;
  sdeps->children = std::move(children);
  sdeps->metrics = svc->metrics;
  auto rdeps = std::make_shared<router_deps>();
  rdeps->session = sdeps;
  rdeps->tenants = svc->accounts;
  h.router = spawn_session_router(sys, rdeps);
  return h;
}

void configure_actor_system(caf::actor_system_config& cfg, const config::config& product) {
  register_message_types(cfg);
  providers::register_provider_types(cfg);
  auto threads = product.node.scheduler_threads > 0 ? product.node.scheduler_threads
                                                     : static_cast<int>(std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(1, threads)));
  cfg.set("scheduler.max-throughput", static_cast<size_t>(product.node.scheduler_max_throughput));
  if (product.cluster.port != 0) {
    // Remote actors need the I/O module; heartbeats are what turns a dead or cut-off node into a
    // down_msg (remote_link_unreachable) within the connection timeout - CAF's defaults never notice it.
    cfg.load<caf::io::middleman>();
    cfg.set("middleman.heartbeat-interval",
            caf::timespan{std::chrono::milliseconds{product.cluster.heartbeat_interval_ms}});
    cfg.set("middleman.connection-timeout",
            caf::timespan{std::chrono::milliseconds{product.cluster.connection_timeout_ms}});
  }
}

} // namespace sa
