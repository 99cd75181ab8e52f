// The product's configuration: one typed struct per section.
//
// Every field here is a key in config/default.jsonc (the documented default file) and can be overridden
// on the command line (`--set section.key=value`) or by environment (`SUPPORT_AGENT_SECTION__KEY=value`).
// Secrets never live here: fields ending in `_env` name the environment variable that holds them.
// To add a knob: add the field with its default here, describe it in schema.cpp (type, range, doc),
// and add it to default.jsonc; the loader test checks the three agree.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sa::config {

struct node_config {
  std::string name = "node-1";      ///< this node's name in logs and the cluster
  int scheduler_threads = 0;        ///< CAF worker threads; 0 = one per core
  int scheduler_max_throughput = 16;///< messages an actor handles before yielding its thread (fairness)
  std::string scheduler_idle = "block"; ///< block (spin, then block) or poll (CAF's spin, sleep-poll, block)
  std::string log_level = "info";   ///< trace, debug, info, warn, error, off
  std::string log_file;             ///< empty: stderr
  std::string data_dir = "data";    ///< shipped data (knowledge base, tenants, intents), relative to cwd
  std::string state_dir = "var";    ///< what the product writes (trained model, indexes)
};

struct limits_config {
  int max_message_bytes = 8192;           ///< a user message longer than this is refused
  int max_pending_messages = 16;          ///< per session, queued while a turn runs; more are refused
};

struct session_config {
  int idle_timeout_s = 900;       ///< passivate a session after this long without a message
  int turn_timeout_ms = 15000;    ///< deadline for one turn end to end
  int child_timeout_ms = 5000;    ///< deadline for one request to a node service (memory, account); children share the turn deadline
  int restart_budget = 3;         ///< child restarts allowed per window before the session gives up
  int restart_window_s = 10;
};

struct memory_config {
  std::string backend = "inprocess";  ///< inprocess (this process only) or redis (shared, survives restarts)
  int max_turns = 10;                 ///< turns kept verbatim per session
  int ttl_s = 3600;                   ///< a session's memory expires this long after its last turn
  int summary_max_chars = 1200;       ///< running summary of turns older than the window
  int max_sessions = 200000;          ///< in-process store bound (redis: the working copy); least recently used go first
  std::string redis_address = "127.0.0.1:6379";  ///< redis: host:port of Redis
  std::string redis_password_env;     ///< redis: environment variable holding the AUTH password; empty = no AUTH
  int redis_db = 0;                   ///< redis: database SELECTed on every connection
  bool redis_tls = false;             ///< redis: TLS to Redis; the server's certificate is always verified
  std::string redis_tls_ca_file;      ///< redis TLS: PEM CA bundle verifying the server; empty = system default store
  std::string redis_tls_cert_file;    ///< redis TLS: client certificate (PEM) for mutual TLS; with redis_tls_key_file
  std::string redis_tls_key_file;     ///< redis TLS: its unencrypted PEM private key; with redis_tls_cert_file
  std::string redis_tls_server_name;  ///< redis TLS: SNI and name verified in the certificate; empty = redis_address's host
  std::string redis_key_prefix = "sa";///< redis: keys are <prefix>:<tenant>:{<session>}:turns|ids|meta
  int redis_max_pending = 10000;      ///< redis: writes queued while Redis is unreachable; more are refused
  int redis_connect_timeout_ms = 2000;///< redis: TCP connect + TLS + AUTH/SELECT handshake deadline
  int redis_reply_timeout_ms = 2000;  ///< redis: a command unanswered this long marks the connection dead
  int redis_backoff_initial_ms = 50;  ///< redis: first reconnect delay, doubled per failure, with jitter
  int redis_backoff_max_ms = 2000;    ///< redis: longest reconnect delay
  int redis_shutdown_drain_ms = 2000; ///< redis: on shutdown, wait this long for queued writes to reach Redis
};

/// The audit trail (actors/audit): a hash-chained record of actions, escalations and admin operations.
struct audit_config {
  std::string backend = "auto";       ///< file, redis (needs memory.backend redis), or auto (redis when memory is in Redis)
  std::string path;                   ///< file: the audit file; empty = <node.state_dir>/audit/<node.name>.jsonl
  std::string fsync = "every_record"; ///< file: every_record (fdatasync before each acknowledgement) or batched
  int fsync_interval_ms = 50;         ///< file, batched: longest wait before an fdatasync (records wait for it)
  int max_queued = 100000;            ///< records waiting for the store; more are refused (busy) and counted
  int shutdown_drain_ms = 2000;       ///< on shutdown, wait this long for queued records to be stored
};

/// The handoff queue for human agents (actors/handoff, docs/protocol.md "Agent console").
struct handoff_config {
  std::string store = "file";         ///< file (append log, fdatasync per change) or memory (lost on restart)
  std::string path;                   ///< file: the log; empty = <node.state_dir>/handoff/handoffs.jsonl
  int finished_kept = 1000;           ///< closed or handed-back records kept in memory (older: store only)
};

/// The quality monitor (actors/quality, README "Quality and CSAT"): scores a sampled share of answers and
/// stores them with the customers' CSAT ratings and surveys under `dir`.
struct quality_config {
  double sample_rate = 0.05;          ///< share of turns scored, 0..1 (0 = off)
  int seed = 0;                       ///< sampling seed: the same seed picks the same turns (tests, replays)
  std::string judge;                  ///< providers endpoint or strategy asked to score (task judge); "" = local groundedness
  int judge_timeout_ms = 20000;       ///< a judge call's deadline; past it the sample is scored locally
  std::string dir;                    ///< samples and CSAT records; empty = <node.state_dir>/quality
  int max_records = 10000;            ///< records per file before it rotates to <file>.1 (2x this kept on disk)
};

struct classifier_config {
  std::string backend = "local";                         ///< local (fastText) or llm (providers.root, local on failure)
  std::string model_path = "var/models/intents.bin";     ///< trained model; trained on first start
  std::string training_data = "data/intents/intents.csv";
  double min_confidence = 0.45;   ///< below this the intent becomes general with the low confidence
  int epochs = 40;
  double learning_rate = 0.5;
  int word_ngrams = 2;
  int dim = 50;          ///< fastText vector size
  int minn = 3;          ///< shortest character n-gram (subwords make typos survivable)
  int maxn = 6;          ///< longest character n-gram
  int bucket = 100000;   ///< hash buckets for n-grams (model size ~ bucket x dim x 4 bytes)
  int seed = 42;
};

struct route_config {
  std::map<std::string, double> source_weights;  ///< doc, faq, ticket -> weight (0 = not searched)
  bool account_context = false;                  ///< fetch the user's account facts for this intent
};

/// Vectors for hybrid retrieval: chunks and queries embedded through a providers endpoint. Off while provider is "".
struct embedding_config {
  std::string provider;            ///< "" = off (BM25 only); else a providers.endpoints name (openai, openai_compatible, gemini)
  std::string model;               ///< embedding model, e.g. text-embedding-3-small (required with a provider)
  int batch_size = 64;             ///< chunk texts per embedding request while indexing (gemini: at most 100)
  int timeout_ms = 1500;           ///< a query's embedding deadline; past it the turn is answered from BM25 alone
  int batch_timeout_ms = 30000;    ///< deadline of one indexing request
};

/// How the BM25 and vector result lists are fused (used when retriever.embedding.provider is set).
struct hybrid_config {
  int rrf_k = 60;                  ///< reciprocal rank fusion constant: score = weight / (rrf_k + rank) per list
  int candidates = 20;             ///< hits taken from each list before fusing (at least top_k)
  int ef_search = 64;              ///< HNSW search breadth: recall against latency
};

struct retriever_config {
  int top_k = 5;
  std::vector<std::string> knowledge_paths{"data/kb"};  ///< searched for every tenant
  std::map<std::string, std::vector<std::string>> tenant_knowledge_paths;  ///< extra per tenant
  int max_file_bytes = 16777216;  ///< a knowledge source file larger than this is refused (ingest and start-up)
  int reload_interval_ms = 2000;  ///< how often a node looks for re-ingested tenants; 0 = never (restart to reload)
  std::map<std::string, route_config> routes;  ///< per intent; filled with defaults by the loader
  embedding_config embedding;
  hybrid_config hybrid;
};

struct generator_config {
  std::string backend = "local";  ///< local (extractive composer) or llm (providers.root, local last)
  int thinking_min_words = 40;    ///< llm: questions this long (or with several questions) ask for thinking
  int max_passages = 3;           ///< passages the answer is composed from
  int max_answer_chars = 1200;
  int stream_chunk_chars = 32;    ///< the local provider streams in chunks of about this size
};

/// Escalation rule: the customer rephrases an earlier question or says the answer did not help.
struct repeated_failure_config {
  bool enabled = true;
  double similarity = 0.6;  ///< content-word overlap (Dice) at or above which a message repeats an earlier one
  int window = 3;           ///< earlier user messages of the conversation compared
};

/// Escalation rule: strongly negative, angry or frustrated messages (lexicon score, see sentiment.hpp).
struct negative_sentiment_config {
  bool enabled = true;
  double threshold = 3.0;   ///< score at or above which a message escalates
};

/// One tenant's overrides of the escalation settings; an unset field keeps the global value.
struct escalation_tenant_config {
  std::optional<double> confidence_threshold;
  std::optional<std::vector<std::string>> sensitive_topics;
  std::optional<bool> repeated_failure_enabled;
  std::optional<double> repeated_failure_similarity;
  std::optional<int> repeated_failure_window;
  std::optional<bool> negative_sentiment_enabled;
  std::optional<double> negative_sentiment_threshold;
};

struct escalation_config {
  double confidence_threshold = 0.7;
  std::vector<std::string> sensitive_topics{"legal", "lawsuit", "lawyer", "refund", "cancel subscription",
                                            "competitor", "data breach"};
  repeated_failure_config repeated_failure;
  negative_sentiment_config negative_sentiment;
  std::map<std::string, escalation_tenant_config> tenants;  ///< by tenant id
};

/// The safety checks (actors/safety, docs/protocol.md "safety"): PII redaction, and harmful, abusive,
/// off-topic and prompt-injection content in customer messages and retrieved passages.
struct safety_config {
  bool enabled = true;           ///< false: every check allows (answers are still PII-redacted)
  bool pii = true;               ///< redact PII in customer messages and retrieved passages
  bool harmful = true;           ///< self-harm escalates; violence, weapons, illegal requests are refused
  bool abusive = true;           ///< insults aimed at the agent are refused politely
  bool prompt_injection = true;  ///< injection/jailbreak messages refused, injected passages dropped
  bool off_topic = true;         ///< configured topics (and the classifier's out_of_scope) are refused
  bool off_topic_classifier = true;  ///< the classifier's out_of_scope counts as off topic
  std::vector<std::string> off_topic_topics{"weather forecast", "sports scores", "horoscope", "lottery numbers",
                                            "stock tips", "dating advice", "celebrity gossip", "tell me a joke",
                                            "write me a poem"};
  /// Per tenant: its own off-topic topics instead of off_topic_topics (an empty list: none).
  std::map<std::string, std::vector<std::string>> tenant_off_topic_topics;
  /// LLM moderation: a providers endpoint or strategy (called with task moderate) that adds its verdict to
  /// the rules' on every customer message the rules let through. "" = off.
  std::string moderation;
  int moderation_timeout_ms = 1500;  ///< past it (or on any failure) the rules' verdict stands
};

struct tenants_config {
  std::string accounts_file = "data/tenants/accounts.json";  ///< embedded account store (demo tenants)
};

/// account.backend = "http": the company's own REST API (docs/account-api.md), one GET per lookup.
struct account_http_config {
  std::string base_url;             ///< scheme://host[:port][/prefix]; required with backend http
  // URL templates per lookup, appended to base_url; {tenant} and {user} are the session's, URL-encoded.
  // Empty = that lookup is not made.
  std::string subscription_url = "/v1/tenants/{tenant}/users/{user}/subscription";
  std::string invoices_url = "/v1/tenants/{tenant}/users/{user}/invoices";
  std::string usage_url = "/v1/tenants/{tenant}/users/{user}/usage";
  std::string open_tickets_url = "/v1/tenants/{tenant}/users/{user}/tickets?status=open";
  std::string auth_header = "Authorization";  ///< header carrying the credential
  std::string auth_header_env;      ///< env variable holding that header's value; empty = no auth header
  int timeout_ms = 2000;            ///< the lookups run concurrently and are joined under this
  int cache_ttl_ms = 30000;         ///< a successful lookup is reused this long per (tenant, user); 0 = no cache
  int cache_max_entries = 10000;    ///< (tenant, user) pairs cached; least recently used go first
  int max_response_bytes = 1048576; ///< a larger response fails its lookup
};

/// The account context service: where a customer's account facts come from.
struct account_config {
  std::string backend = "embedded"; ///< embedded (tenants.accounts_file) or http (account.http)
  account_http_config http;
};

/// A workflow customers can start through the bot (tool trigger_workflow): a signed POST to its URL.
struct workflow_config {
  std::string url;                    ///< http(s)://host[:port]/path the signed JSON POST goes to (required)
  std::string secret_env;             ///< env variable holding the HMAC-SHA256 signing secret (required)
  std::string description;            ///< what it does: shown to models and in the confirmation question
  std::vector<std::string> tenants;   ///< tenants that may start it; empty = every tenant
  std::vector<std::string> phrases;   ///< customer phrases that ask for it, e.g. "escalate my order"
};

/// Actions (actors/actions, docs/actions.md): tools the bot uses for the customer, confirmed first when
/// they change something.
struct actions_config {
  bool enabled = true;                ///< offer the tools at all (create_ticket, lookup_order_or_invoice, trigger_workflow)
  int confirmation_ttl_s = 300;       ///< a proposed action waits this long for the customer's "yes"
  std::string ticket_webhook_url;     ///< helpdesk endpoint for create_ticket; empty = the embedded ticket store
  std::string ticket_webhook_secret_env;  ///< env variable holding the helpdesk webhook's signing secret
  int max_tickets_per_tenant = 10000; ///< embedded ticket store: tickets kept per tenant; more are refused
  int webhook_connect_timeout_ms = 2000;  ///< TCP + TLS connect deadline per webhook attempt
  int webhook_timeout_ms = 5000;      ///< one webhook attempt, request to complete response
  int webhook_max_attempts = 4;       ///< attempts per action, the first included (timeouts, 5xx, 429 retry)
  int webhook_backoff_initial_ms = 200;  ///< wait before the first retry, doubled per retry, with jitter
  int webhook_backoff_max_ms = 2000;  ///< longest wait between attempts
  std::map<std::string, workflow_config> workflows;  ///< by name (the trigger_workflow argument)
};

struct gateway_config {
  std::string listen_address = "127.0.0.1";  ///< HTTP + WebSocket listener address
  int port = 8080;                            ///< 0 = any free port (tests)
  int io_threads = 1;                         ///< threads running the gateway's io_context
  std::string web_root = "web";               ///< static files for the chat page, relative to cwd
  bool dev_tokens = false;                    ///< serve /dev/token and /dev/tenants (never in production)
  std::string jwt_algorithm = "HS256";        ///< pinned by the server, never taken from the token
  std::string jwt_secret_env = "SA_JWT_SECRET";  ///< HS256: env variable holding the secret
  std::string jwt_public_key_file;            ///< RS256: PEM public key that verifies tokens
  std::string jwt_private_key_file;           ///< RS256: PEM private key (only to mint dev tokens)
  std::string jwt_issuer = "support-agent";
  std::string jwt_audience = "support-agent-gateway";
  int jwt_leeway_s = 30;                      ///< clock skew allowed for exp and nbf
  int dev_token_ttl_s = 3600;
  int max_frame_bytes = 16384;                ///< larger WebSocket messages close with 1009
  double messages_per_second = 2;             ///< token bucket refill per connection
  int message_burst = 10;                     ///< token bucket size
  double tenant_messages_per_second = 100;    ///< token bucket refill shared by all of a tenant's connections
  int tenant_message_burst = 200;             ///< that bucket's size
  int max_connections = 1000;                 ///< per node; more get HTTP 503
  int max_connections_per_tenant = 0;         ///< open customer connections of one tenant on this node; 0 = no cap
  int max_connections_per_user = 32;          ///< open connections of one user (customer or agent); 0 = no cap
  int idle_timeout_s = 60;                    ///< no traffic (pings included) for this long closes
  int handshake_timeout_s = 10;               ///< upgrade, WebSocket handshake and first-frame auth
  int outbound_queue_frames = 256;            ///< per client; overflow closes with 1008
  int outbound_queue_bytes = 4194304;         ///< per client, the frames' bytes together; overflow closes with 1008
  int shutdown_grace_ms = 5000;               ///< graceful shutdown waits this long for clients
  bool metrics_enabled = true;                ///< serve GET /metrics (Prometheus text format)
  std::string metrics_token_env;              ///< env variable holding the bearer token /metrics requires; empty = none
  int dashboard_interval_s = 10;              ///< the dashboard's history: one snapshot of the metrics this often
  int dashboard_history = 1080;               ///< snapshots kept in memory (1080 x 10 s = 3 hours)
};

/// Clustering over CAF's middleman (README, "Running a cluster"). Off while port is 0.
struct cluster_config {
  int port = 0;                               ///< cluster endpoint; 0 = no clustering (a single node)
  std::string listen_address = "127.0.0.1";   ///< address the cluster endpoint binds
  std::string advertise_host;                 ///< host other nodes connect to; empty = listen_address
  std::vector<std::string> seeds;             ///< "host:port" of nodes to join (list them all on every node)
  std::string secret_env = "SA_CLUSTER_SECRET";  ///< env variable holding the shared cluster secret
  std::string registry = "seeds";             ///< where members are found: seeds, or redis (needs memory.backend redis)
  int heartbeat_interval_ms = 250;            ///< CAF middleman heartbeats between nodes
  int connection_timeout_ms = 1000;           ///< a node silent this long is lost
  int join_timeout_ms = 2000;                 ///< connect + handshake deadline per join attempt
  int discovery_interval_ms = 1000;           ///< how often the registry is asked for nodes to join
};

/// One remote model endpoint: a provider actor with its own breaker, retries and retry budget.
struct endpoint_config {
  std::string kind = "openai";          ///< openai, anthropic, gemini, openai_compatible
  std::string base_url;                 ///< e.g. https://api.openai.com (no trailing path)
  std::string model;                    ///< e.g. gpt-4o-mini
  std::string api_key_env;              ///< env variable holding the key; empty: no key (local servers)
  int max_tokens = 1024;                ///< answer length cap sent with each request
  double temperature = -1;              ///< < 0: the provider's default
  int thinking_budget = 0;              ///< anthropic/gemini: thinking tokens for complex queries; 0 = off
  bool use_max_completion_tokens = false;  ///< openai reasoning models take max_completion_tokens
  int connect_timeout_ms = 2000;
  int first_byte_timeout_ms = 10000;    ///< submission -> first response byte
  int idle_timeout_ms = 10000;          ///< longest silence inside a stream
  int max_retries = 2;                  ///< per call, on retryable errors before any token streamed
  int backoff_initial_ms = 250;         ///< doubled per retry, up to backoff_max_ms, with jitter
  int backoff_max_ms = 4000;
  int max_retry_after_ms = 20000;       ///< a longer retry-after fails over instead of waiting
  double retry_budget_ratio = 0.2;      ///< retries in flight <= ratio x requests in flight ...
  int retry_budget_min = 3;             ///< ... or this many, whichever is larger
  int breaker_failure_threshold = 5;    ///< failures within breaker_window_s that open the breaker ...
  double breaker_failure_rate = 0.5;    ///< ... when they are also at least this share of its requests
  int breaker_window_s = 30;
  int breaker_open_ms = 5000;           ///< open this long, then half-open
  int breaker_half_open_probes = 1;     ///< requests let through while half-open
};
/// A strategy actor composed of endpoints and other strategies (by name; "local" is built in).
struct strategy_config {
  std::string kind = "fallback";        ///< fallback, hedge, self_consistency, by_task, by_intent
  std::vector<std::string> members;     ///< fallback: in order; hedge: primary then backups;
                                        ///< self_consistency: the one member sampled
  int hedge_delay_ms = 400;             ///< hedge: start the next member after this long without a token
  int samples = 3;                      ///< self_consistency: samples taken in parallel
  std::map<std::string, std::string> routes;  ///< by_task: task -> member; by_intent: intent -> member;
                                              ///< key "default" for the rest
};
struct price_config {
  double input_per_mtok = 0;            ///< US dollars per million prompt tokens
  double output_per_mtok = 0;           ///< per million completion tokens (thinking included)
};
struct providers_config {
  std::string root;                     ///< what llm backends call (strategy or endpoint); empty = none
  std::map<std::string, endpoint_config> endpoints;
  std::map<std::string, strategy_config> strategies;
  std::map<std::string, price_config> prices;  ///< by model name
  int max_host_connections = 256;       ///< HTTP connections per provider host
};
struct config {
  node_config node;
  limits_config limits;
  session_config session;
  memory_config memory;
  audit_config audit;
  handoff_config handoff;
  quality_config quality;
  classifier_config classifier;
  retriever_config retriever;
  generator_config generator;
  escalation_config escalation;
  safety_config safety;
  tenants_config tenants;
  account_config account;
  actions_config actions;
  gateway_config gateway;
  cluster_config cluster;
  providers_config providers;
};

} // namespace sa::config
