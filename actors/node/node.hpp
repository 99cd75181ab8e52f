// The composition root: builds a node's shared services from the config, then spawns its actors.
// Nothing else in the product knows how the pieces fit together.
#pragma once

#include "actors/account/account_api.hpp"
#include "actors/account/account_store.hpp"
#include "actors/actions/actions_settings.hpp"
#include "actors/audit/audit_store.hpp"
#include "actors/classifier/classifier_actor.hpp"
#include "actors/escalation/escalation_policies.hpp"
#include "actors/generator/generator_actor.hpp"
#include "actors/providers/provider_graph.hpp"
#include "actors/retriever/hybrid_setup.hpp"
#include "actors/retriever/retriever_actor.hpp"
#include "actors/safety/safety_checks.hpp"
#include "actors/session/session_router.hpp"
#include "config/config.hpp"
#include "messages/handoff.hpp"
#include "messages/quality.hpp"
#include "runtime/result.hpp"

#include "caf/actor_addr.hpp"
#include "caf/fwd.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sa {

class http_client;
class metrics;
class redis_client;

/// Immutable heavy state, built once per node and shared by every session.
struct node_services {
  config::config cfg;
  std::shared_ptr<const account_store> accounts;
  /// account.backend = "http": the account API's settings, the auth header's value read from the
  /// environment at build time (else null: the embedded store answers).
  std::shared_ptr<const account_api::http_settings> account_http;
  std::shared_ptr<const classifier_deps> classifier;
  std::shared_ptr<const retriever_deps> retriever;
  /// The knowledge catalog the retrievers read; the knowledge watcher publishes re-ingested tenants here.
  std::shared_ptr<knowledge_catalog_slot> knowledge;
  /// Hybrid retrieval (retriever.embedding.provider set; else null): the hybrid retrievers' shared deps, the
  /// node's embedding http client, and the vector catalog the embedding indexer publishes.
  std::shared_ptr<const hybrid_setup> hybrid;
  std::shared_ptr<const generator_deps> generator;
  std::shared_ptr<const escalation_policies> escalation;  ///< one policy per tenant (escalation.tenants)
  std::shared_ptr<const safety::safety_checks> safety;   ///< compiled PII and content checks (safety.*)
  /// Configured LLM endpoints with their API keys (read from the environment at build time).
  std::map<std::string, providers::endpoint_settings> endpoints;
  /// The node's Redis client when memory.backend is "redis" (else null): one connection, thread-safe,
  /// shareable by any service of the node (any command, any reply). Connects in the background.
  std::shared_ptr<redis_client> redis;
  /// The node's Prometheus figures (runtime/metrics.hpp), served at /metrics: updated by the sessions,
  /// providers, supervisors, memory and gateway of this node (thread-safe; the pointer is what is const).
  std::shared_ptr<sa::metrics> metrics;
  /// Where audit records go (a file per node, or the node's Redis stream): opened, its tail checked, before
  /// any actor starts; outlives restarts of the audit actor.
  std::shared_ptr<audit::store> audit;
  /// The `actions` section resolved: webhook targets with their secrets, the tool registry, the local rules.
  std::shared_ptr<const actions::actions_settings> actions;
};

/// Progress lines for long start-up work (training, indexing), for the terminal.
using progress_fn = std::function<void(const std::string&)>;

/// Loads accounts, loads (or, when missing, trains and saves) the intent model, indexes knowledge.
/// Fails on what the node cannot run without (accounts, a corrupt model); a tenant whose knowledge
/// cannot be loaded is logged and served without it.
result<std::shared_ptr<const node_services>> build_node_services(const config::config& cfg,
                                                                 const progress_fn& progress);

/// The handoff log: handoff.path, or <node.state_dir>/handoff/handoffs.jsonl.
std::string handoff_path(const config::config& cfg);

/// Where `support-agent ingest` keeps per-tenant indexes: <node.state_dir>/knowledge.
std::string knowledge_root(const config::config& cfg);

/// The knowledge paths configured for a tenant: retriever.knowledge_paths + retriever.tenant_knowledge_paths.
std::vector<std::string> configured_knowledge_paths(const config::config& cfg, const std::string& tenant);

/// Chunking and source limits from the config (retriever.max_file_bytes).
knowledge::chunking_options knowledge_chunking(const config::config& cfg);

/// Trains the intent model from a labeled CSV and saves it to `out`.
/// The Redis client memory.redis_* describe (for the command line's audit and admin tools; the node builds
/// its own in build_node_services). Connects in the background.
result<std::shared_ptr<redis_client>> node_redis_client(const config::config& cfg);

status train_intents(const config::config& cfg, const std::string& csv, const std::string& out,
                     const progress_fn& progress);

/// The default children of a session (local classifier, BM25 retriever, local generator, rules).
session_children default_children(std::shared_ptr<const node_services> svc);

/// A running node: supervised memory and account services, the provider actors, the session router.
struct node_handles {
  session_router_actor router;
  /// The actions service (supervised) and the HTTP client its webhooks use (null without webhooks).
  actions_actor actions;
  std::shared_ptr<http_client> actions_http;
  memory_actor memory;
  account_actor account;
  /// The handoff service (supervised): escalated conversations queued for human agents.
  handoff_actor handoff;
  /// What the sessions ask about handoffs: `handoff`, or the actor start_node's `handoff_front` put in front
  /// of it (clustered: the handoff router, which also finds a moved session's record on another member).
  handoff_actor session_handoff;
  /// The HTTP account backend's client (null with the embedded store); stops when the last owner goes.
  std::shared_ptr<http_client> account_http;
  /// Endpoints, strategies and the local provider; its http client stops when the last owner goes.
  std::shared_ptr<providers::provider_graph> providers;
  /// The Redis client of the memory service (null with the in-process backend); stop_node drains it.
  std::shared_ptr<redis_client> redis;
  std::chrono::milliseconds redis_drain{0};
  /// The node's audit service (supervised); stop_node waits up to audit.shutdown_drain_ms for its records.
  audit_actor audit;
  std::shared_ptr<audit::store> audit_store;
  /// The quality monitor and CSAT store (supervised; its files are written on a thread of its own).
  quality_actor quality;
  std::chrono::milliseconds audit_drain{0};
  /// Reloads re-ingested tenants (none with retriever.reload_interval_ms = 0); stop_node stops it.
  caf::actor knowledge_watcher;
  /// Embeds tenants' knowledge for hybrid retrieval (null without retriever.embedding.provider).
  caf::actor embedding_indexer;
  /// State whose threads do the services' blocking work (the handoff store's writer, the quality files,
  /// the watcher's and the indexer's lanes): held here too, so that it is released with the handles, after
  /// the actors have stopped, and its last writes are waited for on the main thread, not a scheduler thread.
  std::vector<std::shared_ptr<const void>> blocking_state;
};

/// Stops the node's actors (router, memory, account, providers), then waits up to memory.redis_shutdown_drain_ms
/// for writes still queued for Redis to get there (a write that does not is logged as lost).
void stop_node(const node_handles& h);

/// The node's long-lived services by name (router, memory, account, audit, actions: those present), for
/// runtime/service_watch.hpp: each is supervised, and one that still fails has exhausted its restart budget.
std::vector<std::pair<std::string, caf::actor>> node_services_to_watch(const node_handles& h);

/// Puts an actor in front of the node's handoff service for its sessions (the cluster's handoff router).
using handoff_front_fn = std::function<handoff_actor(handoff_actor local)>;

/// Spawns the node's actors. `children` defaults to default_children(svc), with the LLM classifier
/// and generator over providers.root where classifier.backend / generator.backend say "llm".
/// `handoff_front`, when given, is called once with the handoff service before any session exists; the
/// sessions use what it returns (stop_node stops it).
/// Throws std::runtime_error for a provider graph the config loader would have refused.
node_handles start_node(caf::actor_system& sys, std::shared_ptr<const node_services> svc,
                        session_children children = {}, const handoff_front_fn& handoff_front = {});

/// The CAF settings the product drives from its own config (scheduler threads; with cluster.port set, the
/// middleman and its heartbeat interval and connection timeout), plus message types.
void configure_actor_system(caf::actor_system_config& cfg, const config::config& product);

} // namespace sa
