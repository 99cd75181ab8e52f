#include "actors/node/node.hpp"

#include "actors/account/account_actor.hpp"
#include "actors/account/http_account_actor.hpp"
#include "actors/actions/actions_actor.hpp"
#include "actors/audit/audit_actor.hpp"
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_settings.hpp"
#include "actors/classifier/llm_classifier.hpp"
#include "actors/generator/llm_generator.hpp"
#include "actors/escalation/escalation_actor.hpp"
#include "actors/handoff/handoff_actor.hpp"
#include "actors/memory/memory_actor.hpp"
#include "actors/memory/redis_memory.hpp"
#include "actors/quality/quality_actor.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "actors/retriever/knowledge_watcher.hpp"
#include "actors/safety/safety_actor.hpp"
#include "config/load.hpp"
#include "messages/registry.hpp"
#include "runtime/blocking_lane.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"
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
  if (m.redis_tls) {
    // The loader checked the files can be read; this parses them (a bad PEM, a key of another certificate).
    redis_tls_options t;
    t.ca_file = m.redis_tls_ca_file;
    t.cert_file = m.redis_tls_cert_file;
    t.key_file = m.redis_tls_key_file;
    t.server_name = m.redis_tls_server_name;
    t.field_prefix = "memory.redis_tls_";  // failures name the config keys
    auto tls = redis_tls_context::load(t);
    if (!tls)
      return failure{tls.error()};
    o.tls = std::move(*tls);
  }
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

std::string knowledge_root(const config::config& cfg) {
  return (fs::path(cfg.node.state_dir) / "knowledge").string();
}

std::vector<std::string> configured_knowledge_paths(const config::config& cfg, const std::string& tenant) {
  auto paths = cfg.retriever.knowledge_paths;
  if (auto extra = cfg.retriever.tenant_knowledge_paths.find(tenant); extra != cfg.retriever.tenant_knowledge_paths.end())
    paths.insert(paths.end(), extra->second.begin(), extra->second.end());
  return paths;
}

knowledge::chunking_options knowledge_chunking(const config::config& cfg) {
  knowledge::chunking_options opts;
  opts.max_file_bytes = static_cast<std::size_t>(cfg.retriever.max_file_bytes);
  return opts;
}

result<std::shared_ptr<redis_client>> node_redis_client(const config::config& cfg) {
  return make_redis_client(cfg.memory);
}

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
  if (cfg.account.backend == "http") {
    auto http = account_http_settings_from(cfg.account);
    if (!http)
      return failure{http.error()};
    svc->account_http = std::make_shared<const account_api::http_settings>(std::move(*http));
    log->info("event=account_backend backend=http timeout_ms={} cache_ttl_ms={} auth_header={}",
              cfg.account.http.timeout_ms, cfg.account.http.cache_ttl_ms,
              svc->account_http->auth_header.empty() ? "none" : svc->account_http->auth_header);
  }

  auto model = load_or_train(cfg, progress);
  if (!model)
    return failure{model.error()};
  auto cls = std::make_shared<classifier_deps>();
  cls->model = *model;
  cls->entities = std::make_shared<const classifier::entity_extractor>();
  cls->min_confidence = cfg.classifier.min_confidence;
  svc->classifier = cls;

  // Each tenant is served from its ingested index when it has one, else indexed from the configured paths.
  std::vector<knowledge_catalog::tenant_sources> sources;
  for (auto& tenant : svc->accounts->tenants()) {
    knowledge_catalog::tenant_sources ts{tenant, configured_knowledge_paths(cfg, tenant), {}};
    if (knowledge::valid_tenant_name(tenant))
      ts.index_file = knowledge::tenant_index_file(knowledge_root(cfg), tenant);
    sources.push_back(std::move(ts));
  }
  progress("indexing knowledge for " + std::to_string(sources.size()) + " tenants");
  auto catalog = knowledge_catalog::build(sources, knowledge_chunking(cfg));
  for (auto& [tenant, why] : catalog->problems()) {
    log->error("event=knowledge_unavailable tenant={} problem=\"{}\"", tenant, why);
    progress("knowledge for tenant " + tenant + " is unavailable: " + why);
  }
  for (auto& ts : sources)
    if (auto* from = catalog->origin_of(ts.tenant); from && from->ingested)
      log->info("event=knowledge_loaded tenant={} source=ingested generation={} chunks={}", ts.tenant,
                catalog->find(ts.tenant)->generation(), catalog->find(ts.tenant)->chunk_count());
  svc->knowledge = std::make_shared<knowledge_catalog_slot>(catalog);
  auto ret = std::make_shared<retriever_deps>();
  ret->catalog = svc->knowledge;
  ret->routes = cfg.retriever.routes;
  svc->retriever = ret;

  auto actions = actions::settings_from(cfg);  // fails naming a webhook secret variable that is not set
  if (!actions)
    return failure{actions.error()};
  svc->actions = std::move(*actions);

  auto gen = std::make_shared<generator_deps>();
  if (svc->actions->enabled)
    gen->rules = svc->actions->rules;
  composer_options copts;
  copts.max_passages = static_cast<size_t>(cfg.generator.max_passages);
  copts.max_answer_chars = static_cast<size_t>(cfg.generator.max_answer_chars);
  gen->composer = std::make_shared<const local_composer>(copts);
  gen->stream_chunk_chars = static_cast<size_t>(cfg.generator.stream_chunk_chars);
  svc->generator = gen;

  svc->escalation = std::make_shared<const escalation_policies>(cfg.escalation);
  svc->safety = make_safety_checks(cfg.safety);
  auto endpoints = providers::all_endpoint_settings(cfg);
  if (!endpoints)
    return failure{endpoints.error()};
  svc->endpoints = std::move(*endpoints);
  if (!cfg.retriever.embedding.provider.empty()) {
    auto hybrid = make_hybrid_setup(cfg, svc->endpoints, svc->retriever, svc->metrics);
    if (!hybrid)
      return failure{hybrid.error()};
    svc->hybrid = std::make_shared<const hybrid_setup>(std::move(*hybrid));
    log->info("event=hybrid_retrieval provider={} model={} rrf_k={} candidates={}", cfg.retriever.embedding.provider,
              cfg.retriever.embedding.model, cfg.retriever.hybrid.rrf_k, cfg.retriever.hybrid.candidates);
  }
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
  auto audit = audit::open_store(cfg, svc->redis);
  if (!audit)
    return failure{audit.error()};
  svc->audit = std::move(*audit);
  {
    // The audit store's own counters as sa_audit_* figures, read at scrape time (weakly held).
    std::weak_ptr<audit::store> weak = svc->audit;
    auto figure = [weak](const char* name, const char* help, bool counter, auto field) {
      return sampled_metric{name, help, counter, [weak, field]() -> double {
                              auto s = weak.lock();
                              return s ? static_cast<double>(field(s->stats())) : 0.0;
                            }};
    };
    using st = audit::store_stats;
    if (!svc->metrics->add_sampled({
          figure("sa_audit_records_stored_total", "Audit records stored durably (fsynced, or confirmed by Redis).",
                 true, [](const st& s) { return s.durable; }),
          figure("sa_audit_queued_records", "Audit records submitted and not yet durable.", false,
                 [](const st& s) { return s.queued; }),
          figure("sa_audit_store_errors_total", "Failed audit writes, fsyncs or Redis commands (retried or reported).",
                 true, [](const st& s) { return s.store_errors; }),
          figure("sa_audit_records_failed_total", "Audit records the store could not store (never acknowledged).",
                 true, [](const st& s) { return s.failed; }),
        }))
      log->error("event=metrics_not_registered what=sa_audit_*");
  }
  return std::shared_ptr<const node_services>{std::move(svc)};
}

session_children default_children(std::shared_ptr<const node_services> svc) {
  session_children c;
  c.classifier = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(local_classifier, svc->classifier);
  };
  c.retriever = [svc](caf::local_actor* self) {
    if (svc->hybrid)
      return spawn_hybrid_retriever(self, svc->hybrid->deps);
    return self->spawn<caf::linked>(bm25_retriever, svc->retriever);
  };
  c.generator = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(local_generator, svc->generator);
  };
  c.escalation = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(rule_escalation, svc->escalation);
  };
  c.safety = [svc](caf::local_actor* self) {
    return self->spawn<caf::linked>(safety_checker, svc->safety, std::shared_ptr<const moderation_deps>{});
  };
  return c;
}

namespace {

/// With safety.moderation naming a providers member: safety actors that also ask it about each message.
void use_moderation(session_children& c, const std::shared_ptr<const node_services>& svc,
                    const providers::provider_graph& graph) {
  const auto& name = svc->cfg.safety.moderation;
  if (name.empty() || !svc->safety)
    return;
  auto member = graph.members.find(name);
  if (member == graph.members.end()) {
    log::get("node")->error("event=moderation_missing moderator={} fallback=rules", name);
    return;
  }
  auto deps = std::make_shared<moderation_deps>();
  deps->moderator = member->second;
  deps->name = name;
  deps->timeout = std::chrono::milliseconds{svc->cfg.safety.moderation_timeout_ms};
  deps->metrics = svc->metrics;
  c.safety = [svc, deps = std::shared_ptr<const moderation_deps>{deps}](caf::local_actor* self) {
    return self->spawn<caf::linked>(safety_checker, svc->safety, deps);
  };
}

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
    deps->rules = svc->generator->rules;
    c.generator = [deps = std::shared_ptr<const llm_generator_deps>{deps}](caf::local_actor* self) {
      return spawn_llm_generator(self, deps);
    };
  }
}

} // namespace

void stop_node(const node_handles& h) {
  if (h.knowledge_watcher)
    caf::anon_send_exit(h.knowledge_watcher, caf::exit_reason::user_shutdown);
  if (h.embedding_indexer)
    caf::anon_send_exit(h.embedding_indexer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(h.router, caf::exit_reason::user_shutdown);
  if (h.actions)  // webhooks in flight are cancelled (their idempotency keys make a later retry safe)
    caf::anon_send_exit(h.actions, caf::exit_reason::user_shutdown);
  if (h.actions_http)
    h.actions_http->stop();
  // Writes queued for Redis get their chance while the memory service still hears the replies.
  if (h.redis && !h.redis->drain(h.redis_drain))
    log::get("node")->warn("event=redis_drain_incomplete pending={} in_flight={} waited_ms={}",
                           h.redis->stats().pending, h.redis->stats().in_flight, h.redis_drain.count());
  // Audit records the sessions sent get stored before the audit service stops (a file write, or Redis).
  if (h.audit_store && !h.audit_store->drain(h.audit_drain))
    log::get("node")->warn("event=audit_drain_incomplete queued={} waited_ms={}", h.audit_store->stats().queued,
                           h.audit_drain.count());
  if (h.audit)
    caf::anon_send_exit(h.audit, caf::exit_reason::user_shutdown);
  if (h.quality)
    caf::anon_send_exit(h.quality, caf::exit_reason::user_shutdown);
  if (h.session_handoff && h.session_handoff != h.handoff)
    caf::anon_send_exit(h.session_handoff, caf::exit_reason::user_shutdown);
  if (h.handoff)
    caf::anon_send_exit(h.handoff, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(h.memory, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(h.account, caf::exit_reason::user_shutdown);
  if (h.account_http)  // account lookups in flight end now (the actor answers their waiters on exit)
    h.account_http->stop();
  if (h.providers)
    for (const auto& [name, member] : h.providers->members)
      caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
}

std::vector<std::pair<std::string, caf::actor>> node_services_to_watch(const node_handles& h) {
  std::vector<std::pair<std::string, caf::actor>> out;
  auto add = [&out](const char* name, const auto& handle) {
    if (handle)
      out.emplace_back(name, caf::actor_cast<caf::actor>(handle));
  };
  add("router", h.router);
  add("memory", h.memory);
  add("account", h.account);
  add("audit", h.audit);
  add("quality", h.quality);
  add("actions", h.actions);
  add("handoff", h.handoff);
  return out;
}

std::string handoff_path(const config::config& cfg) {
  if (!cfg.handoff.path.empty())
    return cfg.handoff.path;
  return (fs::path(cfg.node.state_dir) / "handoff" / "handoffs.jsonl").string();
}

namespace {

/// The handoff service (supervised): its book replays the store; throws when the file cannot be opened.
handoff_actor start_handoff(caf::actor_system& sys, const node_services& svc, node_handles& h,
                            std::shared_ptr<const safety::pii_scanner> pii, const supervision_policy& policy) {
  std::unique_ptr<handoff::store> store;
  if (svc.cfg.handoff.store == "file") {
    auto opened = handoff::open_file_store(handoff_path(svc.cfg));
    if (!opened)
      throw std::runtime_error("handoff store: " + opened.error());
    store = std::move(*opened);
  } else {
    store = handoff::make_memory_store();
  }
  auto deps = std::make_shared<handoff::handoff_deps>();
  deps->state = std::make_shared<handoff::hub>(
    handoff::handoff_book{std::move(store), std::move(pii), classifier::intent_model::labels(),
                          static_cast<std::size_t>(svc.cfg.handoff.finished_kept)});
  h.blocking_state.push_back(deps->state);
  deps->memory = h.memory;
  deps->audit = h.audit;
  deps->metrics = svc.metrics;
  deps->memory_timeout = std::chrono::milliseconds{svc.cfg.session.child_timeout_ms};
  return spawn_supervised<handoff_actor>(
    sys, "handoff",
    [deps = std::shared_ptr<const handoff::handoff_deps>{deps}](caf::local_actor* self) {
      return handoff::spawn_handoff(self, deps);
    },
    policy);
}

/// The quality monitor, judging through the providers member quality.judge names (the local groundedness
/// check when none is configured, or when the graph has no such member).
quality_actor start_quality(caf::actor_system& sys, const node_services& svc, node_handles& h,
                            std::shared_ptr<const safety::pii_scanner> pii, const supervision_policy& policy) {
  completion_actor judge;
  if (const auto& name = svc.cfg.quality.judge; !name.empty()) {
    if (h.providers && h.providers->members.count(name) != 0)
      judge = h.providers->members.at(name);
    else
      log::get("node")->error("event=quality_judge_missing judge={} fallback=local_groundedness", name);
  }
  auto d = std::make_shared<quality_deps>(*quality_deps_from(svc.cfg, svc.metrics, std::move(pii), judge));
  d->lane = std::make_shared<blocking_lane>("sa-quality");
  h.blocking_state.push_back(d->lane);
  return spawn_supervised<quality_actor>(
    sys, "quality",
    [deps = std::shared_ptr<const quality_deps>{d}](caf::local_actor* self) { return spawn_quality(self, deps); },
    policy);
}

} // namespace

node_handles start_node(caf::actor_system& sys, std::shared_ptr<const node_services> svc,
                        session_children children, const handoff_front_fn& handoff_front) {
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
    if (h.providers)
      use_moderation(children, svc, *h.providers);
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
      // One store for every incarnation: a restarted memory actor loses no conversation.
      [store = std::make_shared<memory_store>(limits)](caf::local_actor* self) {
        return self->spawn(inprocess_memory, store);
      },
      policy);
  }
  if (svc->account_http) {
    // The account API's lookups run on an http client of their own (its loop thread does the I/O and
    // reads the responses); the backend's counters outlive restarts of its actor.
    http_client_options hopts;
    hopts.thread_name = "sa-account-http";
    h.account_http = std::make_shared<http_client>(hopts);
    auto stats = std::make_shared<account_http_stats>();
    if (svc->metrics && !add_account_http_metrics(*svc->metrics, stats))
      log::get("node")->error("event=metrics_not_registered what=sa_account_*");
    h.account = spawn_supervised<account_actor>(
      sys, "account",
      [settings = svc->account_http, client = h.account_http, stats](caf::local_actor* self) {
        return spawn_http_accounts(self, settings, client, stats);
      },
      policy);
  } else {
    h.account = spawn_supervised<account_actor>(
      sys, "account",
      [store = svc->accounts](caf::local_actor* self) { return self->spawn(embedded_accounts, store); },
      policy);
  }
  if (svc->knowledge && svc->cfg.retriever.reload_interval_ms > 0) {
    knowledge_watch_settings watch;
    watch.slot = svc->knowledge;
    watch.interval = std::chrono::milliseconds{svc->cfg.retriever.reload_interval_ms};
    for (auto& tenant : svc->accounts->tenants())
      if (knowledge::valid_tenant_name(tenant))
        watch.index_files[tenant] = knowledge::tenant_index_file(knowledge_root(svc->cfg), tenant);
    watch.lane = std::make_shared<blocking_lane>("sa-kb-reload");
    h.blocking_state.push_back(watch.lane);
    h.knowledge_watcher = spawn_knowledge_watcher(sys, std::move(watch));
  }
  if (svc->hybrid) {
    auto lane = std::make_shared<blocking_lane>("sa-embed-index");
    h.blocking_state.push_back(lane);
    h.embedding_indexer = start_embedding_indexer(sys, svc->cfg, *svc->hybrid, svc->accounts->tenants(), std::move(lane));
  }
  if (svc->audit) {
    auto adeps = std::make_shared<audit_deps>();
    adeps->store = svc->audit;
    adeps->redactor = std::make_shared<const audit::redactor>();
    h.audit_store = svc->audit;
    h.audit_drain = std::chrono::milliseconds{svc->cfg.audit.shutdown_drain_ms};
    h.audit = spawn_supervised<audit_actor>(
      sys, "audit",
      [deps = std::shared_ptr<const audit_deps>{adeps}](caf::local_actor* self) { return spawn_audit(self, deps); },
      policy);
    // The configuration this node runs with, by fingerprint (the effective config holds no secrets).
    audit_event loaded{tenant_id{}, audit_actors::system, "config_load", {}, "ok", session_id{}};
    loaded.arguments = "{\"config_sha256\":\"" + audit::sha256_hex(config::to_json_text(svc->cfg)) + "\"}";
    caf::anon_send(h.audit, std::move(loaded));
  }
  if (svc->actions) {
    auto adeps = std::make_shared<actions::actions_deps>();
    adeps->settings = svc->actions;
    // One store for every incarnation of the service: a restart loses no ticket.
    adeps->tickets = std::make_shared<actions::ticket_store>(svc->actions->max_tickets_per_tenant);
    if (svc->actions->uses_webhooks()) {
      http_client_options hopts;
      hopts.thread_name = "sa-actions-http";
      h.actions_http = std::make_shared<http_client>(hopts);
      adeps->http = h.actions_http;
    }
    adeps->account = h.account;
    adeps->audit = h.audit;
    adeps->account_timeout = std::chrono::milliseconds{svc->cfg.session.child_timeout_ms};
    h.actions = spawn_supervised<actions_actor>(
      sys, "actions",
      [deps = std::shared_ptr<const actions::actions_deps>{adeps}](caf::local_actor* self) {
        return actions::spawn_actions(self, deps);
      },
      policy);
  }
  // One compiled scanner for messages, passages, answers, handoff transcripts and quality samples.
  auto pii = svc->safety ? svc->safety->pii_ptr() : std::make_shared<const safety::pii_scanner>();
  h.handoff = start_handoff(sys, *svc, h, pii, policy);
  h.session_handoff = handoff_front ? handoff_front(h.handoff) : h.handoff;
  h.quality = start_quality(sys, *svc, h, pii, policy);
  auto sdeps = std::make_shared<session_deps>();
  sdeps->cfg = svc->cfg;
  sdeps->pii = pii;
  sdeps->safety = svc->safety;
  sdeps->memory = h.memory;
  sdeps->account = h.account;
  sdeps->children = std::move(children);
  sdeps->metrics = svc->metrics;
  sdeps->audit = h.audit;
  sdeps->quality = h.quality;
  sdeps->actions = h.actions;
  sdeps->action_settings = svc->actions;
  sdeps->handoff = h.session_handoff;
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
  if (product.node.scheduler_idle == "block") {
    // Skip the work-stealing scheduler's moderate phase (sleep_for(50us) between polls, ~120 us per
    // wake-up on a VM): after the aggressive spin an idle worker blocks on its condition variable and
    // is signalled when work is enqueued.
    cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
  }
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
