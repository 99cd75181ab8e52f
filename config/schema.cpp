// The configuration schema table (see schema.hpp). To add a knob: add the field to config.hpp, a row
// here, and the key with a comment to default.jsonc; tests/config checks the three agree.
#include "config/schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sa::config::schema {

namespace {

rule integer(double min, double max) { return rule{kind::integer, min, max, {}, false}; }
rule number(double min, double max) { return rule{kind::number, min, max, {}, false}; }
rule boolean() { return rule{kind::boolean, 0, 0, {}, false}; }
rule text() { return rule{kind::string, 0, 0, {}, false}; }
rule nonempty_text() { return rule{kind::string, 0, 0, {}, true}; }
rule one_of(std::vector<std::string> names) { return rule{kind::string, 0, 0, std::move(names), true}; }
rule string_list() { return rule{kind::string_list, 0, 0, {}, true}; }

// A plain field: the path is spelled from the member names, so it cannot drift from config.hpp.
#define SA_CONFIG_KEY(section, field, rule_, doc_)                                                       \
  key {                                                                                                   \
    #section "." #field, rule_, doc_,                                                                     \
        [](const config& c, const emit_fn& emit) { emit({}, json(c.section.field)); },                    \
        [](config& c, const map_keys&, const json& v) { v.get_to(c.section.field); }, {}                  \
  }

// A field of every entry of a providers map (endpoints by name, strategies by name, prices by model).
// Writing through operator[] creates an entry with the struct defaults, so an entry keeps the default of
// every field it does not name.
#define SA_PROVIDERS_MAP_KEY(map, segment, field, rule_, doc_)                                            \
  key {                                                                                                   \
    "providers." #map "." segment "." #field, rule_, doc_,                                                \
        [](const config& c, const emit_fn& emit) {                                                        \
          for (const auto& [name, entry] : c.providers.map)                                               \
            emit({name}, json(entry.field));                                                              \
        },                                                                                                \
        [](config& c, const map_keys& k, const json& v) { v.get_to(c.providers.map[k[0]].field); }, {}    \
  }
#define SA_ENDPOINT_KEY(field, rule_, doc_) SA_PROVIDERS_MAP_KEY(endpoints, "<endpoint>", field, rule_, doc_)
#define SA_STRATEGY_KEY(field, rule_, doc_) SA_PROVIDERS_MAP_KEY(strategies, "<strategy>", field, rule_, doc_)
#define SA_PRICE_KEY(field, rule_, doc_) SA_PROVIDERS_MAP_KEY(prices, "<model>", field, rule_, doc_)

// A field of every actions.workflows entry (by name); like the providers maps, an entry keeps the default
// of every field it does not name.
#define SA_WORKFLOW_KEY(field, rule_, doc_)                                                               \
  key {                                                                                                   \
    "actions.workflows.<workflow>." #field, rule_, doc_,                                                  \
        [](const config& c, const emit_fn& emit) {                                                        \
          for (const auto& [name, entry] : c.actions.workflows)                                           \
            emit({name}, json(entry.field));                                                              \
        },                                                                                                \
        [](config& c, const map_keys& k, const json& v) { v.get_to(c.actions.workflows[k[0]].field); }, {} \
  }

// A field of every escalation.tenants entry: an override that is unset unless configured (read emits only
// the fields a tenant sets, so the dump shows exactly the overrides).
#define SA_ESCALATION_TENANT_KEY(suffix, field, rule_, doc_)                                              \
  key {                                                                                                   \
    "escalation.tenants.<tenant>." suffix, rule_, doc_,                                                   \
        [](const config& c, const emit_fn& emit) {                                                        \
          for (const auto& [name, entry] : c.escalation.tenants)                                          \
            if (entry.field)                                                                              \
              emit({name}, json(*entry.field));                                                           \
        },                                                                                                \
        [](config& c, const map_keys& k, const json& v) {                                                 \
          c.escalation.tenants[k[0]].field = v.get<decltype(escalation_tenant_config::field)::value_type>(); \
        }, {}                                                                                             \
  }

std::vector<key> make_keys() {
  std::vector<key> ks{
    // node
    SA_CONFIG_KEY(node, name, nonempty_text(), "this node's name in logs and the cluster"),
    SA_CONFIG_KEY(node, scheduler_threads, integer(0, 256), "CAF worker threads; 0 = one per core"),
    SA_CONFIG_KEY(node, scheduler_max_throughput, integer(1, 1000000),
                  "messages an actor handles before yielding its thread (lower = fairer latency)"),
    SA_CONFIG_KEY(node, scheduler_idle, one_of({"poll", "block"}),
                  "what an idle worker does after spinning: poll (sleep 50 us between polls, then block) or "
                  "block (wait on a condition variable at once)"),
    SA_CONFIG_KEY(node, log_level, one_of({"trace", "debug", "info", "warn", "error", "off"}),
                  "least severe log level written"),
    SA_CONFIG_KEY(node, log_file, text(), "log file path; empty = stderr"),
    SA_CONFIG_KEY(node, data_dir, nonempty_text(),
                  "shipped data (knowledge base, tenants, intents), relative to the working directory"),
    SA_CONFIG_KEY(node, state_dir, nonempty_text(), "what the product writes (trained model, indexes)"),
    // limits
    SA_CONFIG_KEY(limits, max_message_bytes, integer(64, 1048576),
                  "a user message longer than this many bytes is refused"),
    SA_CONFIG_KEY(limits, max_pending_messages, integer(1, 1024),
                  "messages queued per session while a turn runs; more are refused"),
    // session
    SA_CONFIG_KEY(session, idle_timeout_s, integer(1, 604800),
                  "seconds without a message before a session is passivated"),
    SA_CONFIG_KEY(session, turn_timeout_ms, integer(100, 600000), "deadline for one turn end to end, in ms"),
    SA_CONFIG_KEY(session, child_timeout_ms, integer(10, 600000),
                  "deadline for one request from a session to a node service (memory, account context), in ms"),
    SA_CONFIG_KEY(session, restart_budget, integer(0, 100),
                  "child restarts allowed per restart window before the session gives up"),
    SA_CONFIG_KEY(session, restart_window_s, integer(1, 3600),
                  "length of the window restart_budget counts in, in seconds"),
    // memory
    SA_CONFIG_KEY(memory, backend, one_of({"inprocess", "redis"}),
                  "conversation memory store: inprocess (this process only) or redis (shared by nodes, survives restarts)"),
    SA_CONFIG_KEY(memory, max_turns, integer(1, 1000), "turns kept verbatim per session"),
    SA_CONFIG_KEY(memory, ttl_s, integer(1, 2592000),
                  "seconds after its last turn until a session's memory expires"),
    SA_CONFIG_KEY(memory, summary_max_chars, integer(0, 100000),
                  "characters of running summary kept for turns older than the window; 0 = no summary"),
    SA_CONFIG_KEY(memory, max_sessions, integer(1, 100000000),
                  "sessions held by the in-process store (redis: the working copy); least recently used go first"),
    SA_CONFIG_KEY(memory, redis_address, nonempty_text(), "redis: host:port of Redis"),
    SA_CONFIG_KEY(memory, redis_password_env, text(),
                  "redis: environment variable holding the password sent with AUTH; empty = no AUTH"),
    SA_CONFIG_KEY(memory, redis_db, integer(0, 1023), "redis: database SELECTed on every connection"),
    SA_CONFIG_KEY(memory, redis_tls, boolean(),
                  "redis: TLS to Redis; the server's certificate is always verified (redis_tls_ca_file, "
                  "redis_tls_server_name)"),
    SA_CONFIG_KEY(memory, redis_tls_ca_file, text(),
                  "redis TLS: PEM CA bundle that verifies the server's certificate; empty = the system's default store"),
    SA_CONFIG_KEY(memory, redis_tls_cert_file, text(),
                  "redis TLS: client certificate (PEM, chain allowed) for mutual TLS; set with redis_tls_key_file, "
                  "or neither"),
    SA_CONFIG_KEY(memory, redis_tls_key_file, text(),
                  "redis TLS: the client certificate's private key (PEM, unencrypted); set with redis_tls_cert_file, "
                  "or neither"),
    SA_CONFIG_KEY(memory, redis_tls_server_name, text(),
                  "redis TLS: name sent as SNI and verified against the server's certificate (host name or IP "
                  "address); empty = the host of redis_address"),
    SA_CONFIG_KEY(memory, redis_key_prefix, nonempty_text(),
                  "redis: first segment of every key (<prefix>:<tenant>:{<session>}:...); no braces"),
    SA_CONFIG_KEY(memory, redis_max_pending, integer(1, 10000000),
                  "redis: writes queued while Redis is unreachable; further appends are refused (and counted)"),
    SA_CONFIG_KEY(memory, redis_connect_timeout_ms, integer(10, 600000),
                  "redis: deadline for TCP connect plus the TLS and AUTH/SELECT handshakes, in ms"),
    SA_CONFIG_KEY(memory, redis_reply_timeout_ms, integer(10, 600000),
                  "redis: a command unanswered this long marks the connection dead (reconnect, resend), in ms"),
    SA_CONFIG_KEY(memory, redis_backoff_initial_ms, integer(1, 600000),
                  "redis: first reconnect delay, doubled per failed attempt up to redis_backoff_max_ms, with jitter, in ms"),
    SA_CONFIG_KEY(memory, redis_backoff_max_ms, integer(1, 600000), "redis: longest reconnect delay, in ms"),
    SA_CONFIG_KEY(memory, redis_shutdown_drain_ms, integer(0, 600000),
                  "redis: on shutdown, wait this long for queued writes to reach Redis, in ms"),
    // audit
    SA_CONFIG_KEY(audit, backend, one_of({"auto", "file", "redis"}),
                  "where audit records go: file (one per node), redis (a stream per node in the Redis of "
                  "memory.redis_*; needs memory.backend = redis), or auto (redis when memory.backend is redis, else file)"),
    SA_CONFIG_KEY(audit, path, text(), "file: the audit file; empty = <node.state_dir>/audit/<node.name>.jsonl"),
    SA_CONFIG_KEY(audit, fsync, one_of({"every_record", "batched"}),
                  "file: every_record (each record is fdatasync'ed before it is acknowledged; records queued "
                  "together share one) or batched (at most every fsync_interval_ms)"),
    SA_CONFIG_KEY(audit, fsync_interval_ms, integer(1, 60000),
                  "file, batched: longest wait before an fdatasync, in ms (records are acknowledged after it)"),
    SA_CONFIG_KEY(audit, max_queued, integer(1, 10000000),
                  "records waiting for the store (file write or Redis); more are refused and counted"),
    SA_CONFIG_KEY(audit, shutdown_drain_ms, integer(0, 600000),
                  "on shutdown, wait this long for queued audit records to be stored, in ms"),
    // handoff
    SA_CONFIG_KEY(handoff, store, one_of({"file", "memory"}),
                  "where handoff records (the agents' queue) are kept: file (an append log under node.state_dir, "
                  "fdatasync'ed per change; a restart loses nothing) or memory (lost on restart)"),
    SA_CONFIG_KEY(handoff, path, text(), "file: the handoff log; empty = <node.state_dir>/handoff/handoffs.jsonl"),
    SA_CONFIG_KEY(handoff, finished_kept, integer(1, 10000000),
                  "closed or handed-back handoff records kept in memory for the agents' history view; older ones "
                  "stay only in the store"),
    // quality
    SA_CONFIG_KEY(quality, sample_rate, number(0, 1), "share of answered turns the quality monitor scores, 0..1"),
    SA_CONFIG_KEY(quality, seed, integer(0, 2147483647), "sampling seed: the same seed samples the same turns"),
    SA_CONFIG_KEY(quality, judge, text(),
                  "providers endpoint or strategy that scores samples (called with task judge); empty = the local "
                  "groundedness check"),
    SA_CONFIG_KEY(quality, judge_timeout_ms, integer(100, 600000),
                  "a judge call's deadline in ms; past it the sample is scored locally"),
    SA_CONFIG_KEY(quality, dir, text(), "where samples and CSAT records go; empty = <node.state_dir>/quality"),
    SA_CONFIG_KEY(quality, max_records, integer(1, 10000000),
                  "records per file before it rotates to <file>.1 (twice this many are kept on disk)"),
    // classifier
    SA_CONFIG_KEY(classifier, backend, one_of({"local", "llm"}),
                  "intent classifier: local (fastText) or llm (providers.root, local when it fails)"),
    SA_CONFIG_KEY(classifier, model_path, nonempty_text(), "trained model file; trained on first start"),
    SA_CONFIG_KEY(classifier, training_data, nonempty_text(), "labelled utterances (CSV) the model is trained on"),
    SA_CONFIG_KEY(classifier, min_confidence, number(0, 1),
                  "below this confidence the intent becomes general"),
    SA_CONFIG_KEY(classifier, epochs, integer(1, 1000), "fastText training epochs"),
    SA_CONFIG_KEY(classifier, learning_rate, number(0.0001, 10), "fastText learning rate"),
    SA_CONFIG_KEY(classifier, word_ngrams, integer(1, 5), "fastText word n-gram length"),
    SA_CONFIG_KEY(classifier, dim, integer(2, 1000), "fastText vector size"),
    SA_CONFIG_KEY(classifier, minn, integer(0, 10), "shortest character n-gram (0 = no subwords)"),
    SA_CONFIG_KEY(classifier, maxn, integer(0, 10), "longest character n-gram"),
    SA_CONFIG_KEY(classifier, bucket, integer(1000, 10000000), "n-gram hash buckets (model size ~ bucket x dim x 4 bytes)"),
    SA_CONFIG_KEY(classifier, seed, integer(0, 2147483647), "training seed (same seed, same model)"),
    // retriever
    SA_CONFIG_KEY(retriever, top_k, integer(1, 100), "passages returned per retrieval"),
    SA_CONFIG_KEY(retriever, knowledge_paths, string_list(), "knowledge directories searched for every tenant"),
    SA_CONFIG_KEY(retriever, max_file_bytes, integer(1024, 1073741824),
                  "a knowledge source file larger than this many bytes is refused, naming the file (ingest and start-up)"),
    SA_CONFIG_KEY(retriever, reload_interval_ms, integer(0, 3600000),
                  "how often a node checks <node.state_dir>/knowledge/<tenant>/index.sqlite for a re-ingested tenant "
                  "and loads it without a restart, in ms; 0 = never"),
    key{"retriever.tenant_knowledge_paths.<tenant>", string_list(),
        "extra knowledge directories searched for one tenant",
        [](const config& c, const emit_fn& emit) {
          for (const auto& [tenant, paths] : c.retriever.tenant_knowledge_paths)
            emit({tenant}, json(paths));
        },
        [](config& c, const map_keys& k, const json& v) { v.get_to(c.retriever.tenant_knowledge_paths[k[0]]); },
        {}},
    key{"retriever.routes.<intent>.source_weights.<source>", number(0, 100),
        "score multiplier for a source kind under an intent; 0 = not searched",
        [](const config& c, const emit_fn& emit) {
          for (const auto& [intent, route] : c.retriever.routes)
            for (const auto& [source, weight] : route.source_weights)
              emit({intent, source}, json(weight));
        },
        [](config& c, const map_keys& k, const json& v) {
          c.retriever.routes[k[0]].source_weights[k[1]] = v.get<double>();
        },
        {}},
    key{"retriever.routes.<intent>.account_context", boolean(),
        "fetch the customer's account facts for this intent",
        [](const config& c, const emit_fn& emit) {
          for (const auto& [intent, route] : c.retriever.routes)
            emit({intent}, json(route.account_context));
        },
        [](config& c, const map_keys& k, const json& v) { c.retriever.routes[k[0]].account_context = v.get<bool>(); },
        {}},
    SA_CONFIG_KEY(retriever, embedding.provider, text(),
                  "hybrid retrieval: the providers.endpoints entry (kind openai, openai_compatible or gemini) that "
                  "embeds chunks and queries; empty = off, BM25 only"),
    SA_CONFIG_KEY(retriever, embedding.model, text(),
                  "embedding model sent with each request, e.g. text-embedding-3-small (required with a provider)"),
    SA_CONFIG_KEY(retriever, embedding.batch_size, integer(1, 2048),
                  "chunk texts per embedding request while indexing (gemini: at most 100)"),
    SA_CONFIG_KEY(retriever, embedding.timeout_ms, integer(10, 60000),
                  "deadline for embedding one question, in ms; past it (or on an error) the turn is answered from "
                  "BM25 alone"),
    SA_CONFIG_KEY(retriever, embedding.batch_timeout_ms, integer(100, 600000),
                  "deadline for one embedding request while indexing, in ms"),
    SA_CONFIG_KEY(retriever, hybrid.rrf_k, integer(1, 10000),
                  "reciprocal rank fusion constant: a hit scores source weight / (rrf_k + rank) in each list"),
    SA_CONFIG_KEY(retriever, hybrid.candidates, integer(1, 1000),
                  "hits taken from each list (BM25, vectors) before fusing; at least retriever.top_k"),
    SA_CONFIG_KEY(retriever, hybrid.ef_search, integer(1, 10000),
                  "HNSW search breadth (higher: better recall, slower); at least the candidates are searched"),
    // generator
    SA_CONFIG_KEY(generator, backend, one_of({"local", "llm"}),
                  "answer generator: local (extractive composer) or llm (providers.root, local as the last resort)"),
    SA_CONFIG_KEY(generator, thinking_min_words, integer(1, 10000),
                  "llm: questions of at least this many words (or with several questions) ask for thinking"),
    SA_CONFIG_KEY(generator, max_passages, integer(1, 20), "passages an answer is composed from"),
    SA_CONFIG_KEY(generator, max_answer_chars, integer(50, 100000), "longest answer, in characters"),
    SA_CONFIG_KEY(generator, stream_chunk_chars, integer(1, 4096),
                  "the local generator streams in chunks of about this many characters"),
    // escalation
    SA_CONFIG_KEY(escalation, confidence_threshold, number(0, 1),
                  "hand over to a human when the intent confidence is below this"),
    SA_CONFIG_KEY(escalation, sensitive_topics, string_list(),
                  "topics that always hand over to a human (word-prefix match)"),
    SA_CONFIG_KEY(escalation, repeated_failure.enabled, boolean(),
                  "hand over when the customer rephrases an earlier question or says the answer did not help"),
    SA_CONFIG_KEY(escalation, repeated_failure.similarity, number(0.1, 1),
                  "content-word overlap (Dice, 0..1) at or above which a message repeats an earlier one"),
    SA_CONFIG_KEY(escalation, repeated_failure.window, integer(1, 20),
                  "earlier user messages of the conversation a message is compared with"),
    SA_CONFIG_KEY(escalation, negative_sentiment.enabled, boolean(),
                  "hand over on strongly negative, angry or frustrated messages"),
    SA_CONFIG_KEY(escalation, negative_sentiment.threshold, number(0.5, 100),
                  "lexicon score (negation, intensifiers, caps and '!' counted) at or above which a message "
                  "escalates"),
    SA_ESCALATION_TENANT_KEY("confidence_threshold", confidence_threshold, number(0, 1),
                             "this tenant's escalation.confidence_threshold"),
    SA_ESCALATION_TENANT_KEY("sensitive_topics", sensitive_topics, string_list(),
                             "this tenant's sensitive topics (replace the global list)"),
    SA_ESCALATION_TENANT_KEY("repeated_failure.enabled", repeated_failure_enabled, boolean(),
                             "this tenant's escalation.repeated_failure.enabled"),
    SA_ESCALATION_TENANT_KEY("repeated_failure.similarity", repeated_failure_similarity, number(0.1, 1),
                             "this tenant's escalation.repeated_failure.similarity"),
    SA_ESCALATION_TENANT_KEY("repeated_failure.window", repeated_failure_window, integer(1, 20),
                             "this tenant's escalation.repeated_failure.window"),
    SA_ESCALATION_TENANT_KEY("negative_sentiment.enabled", negative_sentiment_enabled, boolean(),
                             "this tenant's escalation.negative_sentiment.enabled"),
    SA_ESCALATION_TENANT_KEY("negative_sentiment.threshold", negative_sentiment_threshold, number(0.5, 100),
                             "this tenant's escalation.negative_sentiment.threshold"),
    // safety
    SA_CONFIG_KEY(safety, enabled, boolean(), "run the safety checks; false: every check allows (answers are "
                                              "still PII-redacted)"),
    SA_CONFIG_KEY(safety, pii, boolean(), "redact personal data and secrets in customer messages and retrieved "
                                          "passages before the pipeline sees them"),
    SA_CONFIG_KEY(safety, harmful, boolean(), "self-harm escalates; violence, weapons and illegal requests are refused"),
    SA_CONFIG_KEY(safety, abusive, boolean(), "insults aimed at the agent are refused politely"),
    SA_CONFIG_KEY(safety, prompt_injection, boolean(),
                  "prompt injection and jailbreak messages are refused; injected retrieved passages are dropped"),
    SA_CONFIG_KEY(safety, off_topic, boolean(), "off-topic messages (configured topics, classifier out_of_scope) are "
                                                "refused with a polite redirect"),
    SA_CONFIG_KEY(safety, off_topic_classifier, boolean(), "the classifier's out_of_scope counts as off topic"),
    SA_CONFIG_KEY(safety, off_topic_topics, string_list(),
                  "off-topic phrases (whole words, case and punctuation ignored) for every tenant"),
    SA_CONFIG_KEY(safety, moderation, text(),
                  "providers endpoint or strategy that moderates each customer message the rules let through "
                  "(called with task moderate; its verdict can refuse or escalate, never allow what the rules "
                  "stopped); empty = rules only"),
    SA_CONFIG_KEY(safety, moderation_timeout_ms, integer(50, 60000),
                  "a moderation call's deadline in ms (the turn waits for it); past it, or on any failure, the "
                  "rules' verdict stands"),
    key{"safety.tenant_off_topic_topics.<tenant>", string_list(),
        "a tenant's own off-topic phrases, instead of safety.off_topic_topics (empty: none)",
        [](const config& c, const emit_fn& emit) {
          for (const auto& [tenant, topics] : c.safety.tenant_off_topic_topics)
            emit({tenant}, json(topics));
        },
        [](config& c, const map_keys& k, const json& v) { v.get_to(c.safety.tenant_off_topic_topics[k[0]]); },
        {}},
    // tenants
    SA_CONFIG_KEY(tenants, accounts_file, nonempty_text(), "embedded account store (demo tenants), JSON"),
    // account
    SA_CONFIG_KEY(account, backend, one_of({"embedded", "http"}),
                  "where account facts come from: embedded (tenants.accounts_file) or http (the company's own "
                  "REST API, account.http; docs/account-api.md)"),
    SA_CONFIG_KEY(account, http.base_url, text(),
                  "http: scheme://host[:port][/prefix] of the account API, no trailing slash; required with "
                  "account.backend = http"),
    SA_CONFIG_KEY(account, http.subscription_url, text(),
                  "http: URL template of the subscription lookup, appended to base_url; {tenant} and {user} "
                  "become the session's (URL-encoded); empty = not looked up"),
    SA_CONFIG_KEY(account, http.invoices_url, text(),
                  "http: URL template of the invoices lookup (like subscription_url); empty = not looked up"),
    SA_CONFIG_KEY(account, http.usage_url, text(),
                  "http: URL template of the usage lookup (like subscription_url); empty = not looked up"),
    SA_CONFIG_KEY(account, http.open_tickets_url, text(),
                  "http: URL template of the open tickets lookup (like subscription_url); empty = not looked up"),
    SA_CONFIG_KEY(account, http.auth_header, text(),
                  "http: name of the header carrying the API credential, e.g. Authorization"),
    SA_CONFIG_KEY(account, http.auth_header_env, text(),
                  "http: environment variable holding the auth header's whole value (e.g. \"Bearer ...\"); "
                  "empty = no auth header; the value is never logged"),
    SA_CONFIG_KEY(account, http.timeout_ms, integer(10, 600000),
                  "http: the lookups run concurrently and are joined under this deadline; a lookup not done by "
                  "then is missing from the answer, in ms"),
    SA_CONFIG_KEY(account, http.cache_ttl_ms, integer(0, 86400000),
                  "http: a successful lookup is reused this long for the same tenant and user, in ms; 0 = no cache"),
    SA_CONFIG_KEY(account, http.cache_max_entries, integer(1, 10000000),
                  "http: (tenant, user) pairs cached; the least recently used go first"),
    SA_CONFIG_KEY(account, http.max_response_bytes, integer(1024, 67108864),
                  "http: a lookup's response larger than this many bytes fails that lookup"),
    // actions
    SA_CONFIG_KEY(actions, enabled, boolean(),
                  "offer the tools (create_ticket, lookup_order_or_invoice, trigger_workflow) to the generators"),
    SA_CONFIG_KEY(actions, confirmation_ttl_s, integer(10, 86400),
                  "seconds a proposed action (ticket, workflow) waits for the customer's confirmation"),
    SA_CONFIG_KEY(actions, ticket_webhook_url, text(),
                  "helpdesk endpoint create_ticket POSTs to (signed); empty = the embedded ticket store"),
    SA_CONFIG_KEY(actions, ticket_webhook_secret_env, text(),
                  "environment variable holding the helpdesk webhook's HMAC-SHA256 secret (required with the URL)"),
    SA_CONFIG_KEY(actions, max_tickets_per_tenant, integer(1, 10000000),
                  "embedded ticket store: tickets kept per tenant; more are refused"),
    SA_CONFIG_KEY(actions, webhook_connect_timeout_ms, integer(10, 600000),
                  "TCP + TLS connect deadline of one webhook attempt, in ms"),
    SA_CONFIG_KEY(actions, webhook_timeout_ms, integer(10, 600000),
                  "one webhook attempt, request to complete response, in ms (also cut to the turn's deadline)"),
    SA_CONFIG_KEY(actions, webhook_max_attempts, integer(1, 20),
                  "webhook attempts per action, the first included; timeouts, 5xx, 408 and 429 are retried"),
    SA_CONFIG_KEY(actions, webhook_backoff_initial_ms, integer(1, 600000),
                  "wait before the first webhook retry, doubled per retry up to webhook_backoff_max_ms, with jitter, in ms"),
    SA_CONFIG_KEY(actions, webhook_backoff_max_ms, integer(1, 600000), "longest wait between webhook attempts, in ms"),
    SA_WORKFLOW_KEY(url, nonempty_text(), "http(s)://host[:port]/path the workflow's signed JSON POST goes to (required)"),
    SA_WORKFLOW_KEY(secret_env, nonempty_text(),
                    "environment variable holding the workflow's HMAC-SHA256 signing secret (required)"),
    SA_WORKFLOW_KEY(description, text(), "what the workflow does (shown to models and in the confirmation question)"),
    SA_WORKFLOW_KEY(tenants, string_list(), "tenants that may start the workflow; empty = every tenant"),
    SA_WORKFLOW_KEY(phrases, string_list(),
                    "customer phrases that ask for the workflow (word-prefix match, in order), e.g. \"escalate my order\""),
    // gateway
    SA_CONFIG_KEY(gateway, listen_address, nonempty_text(), "address the HTTP + WebSocket listener binds"),
    SA_CONFIG_KEY(gateway, port, integer(0, 65535), "listener port; 0 = any free port"),
    SA_CONFIG_KEY(gateway, io_threads, integer(1, 64), "threads running the gateway's network loop"),
    SA_CONFIG_KEY(gateway, web_root, nonempty_text(), "directory of the chat page's static files"),
    SA_CONFIG_KEY(gateway, dev_tokens, boolean(),
                  "serve /dev/token and /dev/tenants that mint development tokens (never in production)"),
    SA_CONFIG_KEY(gateway, jwt_algorithm, one_of({"HS256", "RS256"}),
                  "the only JWT algorithm accepted (pinned here, never read from the token)"),
    SA_CONFIG_KEY(gateway, jwt_secret_env, nonempty_text(), "HS256: environment variable holding the secret"),
    SA_CONFIG_KEY(gateway, jwt_public_key_file, text(), "RS256: PEM public key file that verifies tokens"),
    SA_CONFIG_KEY(gateway, jwt_private_key_file, text(), "RS256: PEM private key file, only to mint dev tokens"),
    SA_CONFIG_KEY(gateway, jwt_issuer, nonempty_text(), "required iss claim"),
    SA_CONFIG_KEY(gateway, jwt_audience, nonempty_text(), "required aud claim"),
    SA_CONFIG_KEY(gateway, jwt_leeway_s, integer(0, 3600), "clock skew allowed for exp and nbf, in seconds"),
    SA_CONFIG_KEY(gateway, dev_token_ttl_s, integer(1, 604800), "lifetime of minted development tokens, in seconds"),
    SA_CONFIG_KEY(gateway, max_frame_bytes, integer(256, 1048576),
                  "largest WebSocket message accepted; larger ones close the connection with 1009"),
    SA_CONFIG_KEY(gateway, messages_per_second, number(0.01, 10000),
                  "client messages per second per connection (token bucket refill)"),
    SA_CONFIG_KEY(gateway, message_burst, integer(1, 10000), "token bucket size (messages accepted in a burst)"),
    SA_CONFIG_KEY(gateway, tenant_messages_per_second, number(0.01, 1000000),
                  "client messages per second per tenant, all its connections on this node together"),
    SA_CONFIG_KEY(gateway, tenant_message_burst, integer(1, 1000000), "the tenant token bucket's size"),
    SA_CONFIG_KEY(gateway, max_connections, integer(1, 1000000), "connections per node; more get HTTP 503"),
    SA_CONFIG_KEY(gateway, max_connections_per_tenant, integer(0, 1000000),
                  "open customer connections of one tenant on this node (agents not counted); more are closed with 1013; 0 = no cap"),
    SA_CONFIG_KEY(gateway, max_connections_per_user, integer(0, 1000000),
                  "open connections of one user (customer or agent) on this node; more are closed with 1013; 0 = no cap"),
    SA_CONFIG_KEY(gateway, idle_timeout_s, integer(1, 86400),
                  "seconds without traffic (pings included) before a connection is closed"),
    SA_CONFIG_KEY(gateway, handshake_timeout_s, integer(1, 600),
                  "seconds allowed for the upgrade, the WebSocket handshake and first-frame auth"),
    SA_CONFIG_KEY(gateway, outbound_queue_frames, integer(1, 100000),
                  "frames queued for a slow client before it is disconnected with 1008"),
    SA_CONFIG_KEY(gateway, outbound_queue_bytes, integer(1024, 1073741824),
                  "bytes of frames queued for a slow client before it is disconnected with 1008"),
    SA_CONFIG_KEY(gateway, shutdown_grace_ms, integer(0, 600000),
                  "graceful shutdown waits this long for connections to close, in ms"),
    SA_CONFIG_KEY(gateway, metrics_enabled, boolean(),
                  "serve GET /metrics (Prometheus text format; labels carry no user text)"),
    SA_CONFIG_KEY(gateway, metrics_token_env, text(),
                  "environment variable holding the bearer token GET /metrics requires; empty = no token needed"),
    SA_CONFIG_KEY(gateway, dashboard_interval_s, integer(1, 3600),
                  "seconds between the dashboard's snapshots of the metrics (its charts' resolution)"),
    SA_CONFIG_KEY(gateway, dashboard_history, integer(1, 100000),
                  "dashboard snapshots kept in memory (counts only, no user data); with the interval, the charts' span"),
    // cluster
    SA_CONFIG_KEY(cluster, port, integer(0, 65535),
                  "cluster endpoint port (CAF middleman); 0 = no clustering, a single node"),
    SA_CONFIG_KEY(cluster, listen_address, nonempty_text(), "address the cluster endpoint binds"),
    SA_CONFIG_KEY(cluster, advertise_host, text(),
                  "host other nodes connect to; empty = listen_address (required when that is 0.0.0.0)"),
    SA_CONFIG_KEY(cluster, seeds, string_list(),
                  "host:port of cluster nodes to join; list every other node on every node"),
    SA_CONFIG_KEY(cluster, secret_env, nonempty_text(),
                  "environment variable holding the shared cluster secret (at least 16 bytes)"),
    SA_CONFIG_KEY(cluster, registry, one_of({"seeds", "redis"}),
                  "where a node finds members to join: seeds (cluster.seeds), or redis (heartbeat keys with a "
                  "TTL in the Redis of memory.redis_*, plus the seeds; needs memory.backend = redis)"),
    SA_CONFIG_KEY(cluster, heartbeat_interval_ms, integer(10, 60000),
                  "heartbeats between nodes (CAF middleman.heartbeat-interval), in ms"),
    SA_CONFIG_KEY(cluster, connection_timeout_ms, integer(20, 600000),
                  "a node silent this long is lost (CAF middleman.connection-timeout), in ms"),
    SA_CONFIG_KEY(cluster, join_timeout_ms, integer(100, 600000),
                  "deadline for one join attempt (connect and handshake), in ms"),
    SA_CONFIG_KEY(cluster, discovery_interval_ms, integer(50, 600000),
                  "how often the member registry is asked for nodes to join, in ms"),
    // providers
    SA_CONFIG_KEY(providers, root, text(),
                  "what the llm backends call: an endpoint, a strategy or local; empty = none"),
    SA_CONFIG_KEY(providers, max_host_connections, integer(1, 100000), "HTTP connections per provider host"),
    SA_ENDPOINT_KEY(kind, one_of({"openai", "anthropic", "gemini", "openai_compatible"}),
                    "wire protocol the endpoint speaks"),
    SA_ENDPOINT_KEY(base_url, nonempty_text(),
                    "scheme://host[:port] without a path, e.g. https://api.openai.com (required)"),
    SA_ENDPOINT_KEY(model, nonempty_text(), "model name sent with each request, e.g. gpt-4o-mini (required)"),
    SA_ENDPOINT_KEY(api_key_env, text(),
                    "environment variable holding the API key; empty = no key (local servers)"),
    SA_ENDPOINT_KEY(max_tokens, integer(1, 1000000), "answer length cap sent with each request, in tokens"),
    SA_ENDPOINT_KEY(temperature, number(-1, 2), "sampling temperature; below 0 = the provider's default"),
    SA_ENDPOINT_KEY(thinking_budget, integer(0, 100000),
                    "anthropic/gemini: thinking tokens for complex questions; 0 = off, else at least 1024"),
    SA_ENDPOINT_KEY(use_max_completion_tokens, boolean(),
                    "openai reasoning models: send max_completion_tokens instead of max_tokens"),
    SA_ENDPOINT_KEY(connect_timeout_ms, integer(1, 600000), "TCP + TLS connect timeout, in ms"),
    SA_ENDPOINT_KEY(first_byte_timeout_ms, integer(1, 600000),
                    "request submitted to first response byte, in ms"),
    SA_ENDPOINT_KEY(idle_timeout_ms, integer(1, 600000), "longest silence inside a streamed answer, in ms"),
    SA_ENDPOINT_KEY(max_retries, integer(0, 10),
                    "retries per call on retryable errors before any token streamed"),
    SA_ENDPOINT_KEY(backoff_initial_ms, integer(1, 600000),
                    "first retry delay, doubled per retry up to backoff_max_ms, with jitter, in ms"),
    SA_ENDPOINT_KEY(backoff_max_ms, integer(1, 600000), "longest retry delay, in ms"),
    SA_ENDPOINT_KEY(max_retry_after_ms, integer(1, 600000),
                    "a longer retry-after from the provider fails over instead of waiting, in ms"),
    SA_ENDPOINT_KEY(retry_budget_ratio, number(0, 10),
                    "retries in flight may be this fraction of requests in flight (or retry_budget_min)"),
    SA_ENDPOINT_KEY(retry_budget_min, integer(0, 10000), "retries in flight always allowed, whatever the ratio"),
    SA_ENDPOINT_KEY(breaker_failure_threshold, integer(1, 100000),
                    "failures within breaker_window_s that open the circuit breaker (with breaker_failure_rate)"),
    SA_ENDPOINT_KEY(breaker_failure_rate, number(0, 1),
                    "share of the window's requests that must have failed too (0 = the count alone decides)"),
    SA_ENDPOINT_KEY(breaker_window_s, integer(1, 3600), "window the breaker counts failures in, in seconds"),
    SA_ENDPOINT_KEY(breaker_open_ms, integer(1, 3600000), "the breaker stays open this long, then half-opens, in ms"),
    SA_ENDPOINT_KEY(breaker_half_open_probes, integer(1, 1000), "requests let through while half-open"),
    SA_STRATEGY_KEY(kind, one_of({"fallback", "hedge", "self_consistency", "by_task", "by_intent"}),
                    "how the strategy uses its members or routes"),
    SA_STRATEGY_KEY(members, string_list(),
                    "endpoints, strategies or local: fallback in order, hedge primary then backups, "
                    "self_consistency the one member sampled"),
    SA_STRATEGY_KEY(hedge_delay_ms, integer(1, 600000),
                    "hedge: start the next member after this long without a token, in ms"),
    SA_STRATEGY_KEY(samples, integer(2, 16), "self_consistency: samples taken in parallel"),
    key{"providers.strategies.<strategy>.routes.<route>", nonempty_text(),
        "by_task: task (generate, classify, judge, summarize, moderate) -> member; by_intent: intent -> member; "
        "\"default\" for the rest",
        [](const config& c, const emit_fn& emit) {
          for (const auto& [name, s] : c.providers.strategies)
            for (const auto& [route, target] : s.routes)
              emit({name, route}, json(target));
        },
        [](config& c, const map_keys& k, const json& v) {
          c.providers.strategies[k[0]].routes[k[1]] = v.get<std::string>();
        },
        {}},
    SA_PRICE_KEY(input_per_mtok, number(0, 100000), "US dollars per million prompt tokens"),
    SA_PRICE_KEY(output_per_mtok, number(0, 100000),
                 "US dollars per million completion tokens (thinking included)"),
  };
  for (auto& k : ks) {
    std::string::size_type start = 0;
    for (;;) {
      auto dot = k.path.find('.', start);
      k.segments.push_back(k.path.substr(start, dot - start));
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
  }
  return ks;
}

#undef SA_ESCALATION_TENANT_KEY
#undef SA_WORKFLOW_KEY
#undef SA_PRICE_KEY
#undef SA_STRATEGY_KEY
#undef SA_ENDPOINT_KEY
#undef SA_PROVIDERS_MAP_KEY
#undef SA_CONFIG_KEY

std::string format_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

} // namespace

const std::vector<key>& keys() {
  static const std::vector<key> table = make_keys();
  return table;
}

bool is_map_segment(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '<' && segment.back() == '>';
}

const std::vector<std::string>& intents() {
  static const std::vector<std::string> names{"billing", "technical", "account", "general", "escalation_request"};
  return names;
}

const std::vector<std::string>& source_kinds() {
  static const std::vector<std::string> names{"doc", "faq", "ticket"};
  return names;
}

const std::vector<std::string>& map_key_names(const std::string& segment) {
  static const std::vector<std::string> any;
  if (segment == "<intent>")
    return intents();
  if (segment == "<source>")
    return source_kinds();
  return any;
}

std::map<std::string, route_config> default_routes() {
  auto route = [](double doc, double faq, double ticket, bool account_context) {
    return route_config{{{"doc", doc}, {"faq", faq}, {"ticket", ticket}}, account_context};
  };
  return {
    {"billing", route(1.0, 1.3, 0.8, true)},
    {"technical", route(1.2, 1.0, 1.0, false)},
    {"account", route(1.0, 1.2, 0.8, true)},
    {"general", route(1.0, 1.0, 0.5, false)},
    {"escalation_request", route(0.5, 0.5, 0.0, false)},
  };
}

std::string type_name(const rule& r) {
  switch (r.type) {
    case kind::integer: return "integer";
    case kind::number: return "number";
    case kind::boolean: return "boolean";
    case kind::string: return "string";
    case kind::string_list: return "list of strings";
  }
  return "?";
}

std::string range_text(const rule& r) {
  switch (r.type) {
    case kind::integer:
    case kind::number: return "[" + format_number(r.min) + ", " + format_number(r.max) + "]";
    case kind::string:
      if (!r.one_of.empty())
        return "one of: " + join(r.one_of);
      return r.non_empty ? "non-empty" : "";
    case kind::string_list: return r.non_empty ? "items non-empty" : "";
    case kind::boolean: return "";
  }
  return "";
}

std::string expectation(const rule& r) {
  switch (r.type) {
    case kind::integer: return "an integer in " + range_text(r);
    case kind::number: return "a number in " + range_text(r);
    case kind::boolean: return "true or false";
    case kind::string:
      if (!r.one_of.empty())
        return "one of " + join(r.one_of);
      return r.non_empty ? "a non-empty string" : "a string";
    case kind::string_list:
      return r.non_empty ? "a list of non-empty strings, e.g. [\"a\", \"b\"]" : "a list of strings, e.g. [\"a\", \"b\"]";
  }
  return "?";
}

bool accepts(const rule& r, const json& v) {
  switch (r.type) {
    case kind::integer:
      if (!v.is_number_integer())
        return false;
      if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        return u >= r.min && u <= r.max;
      }
      return v.get<std::int64_t>() >= r.min && v.get<std::int64_t>() <= r.max;
    case kind::number: {
      if (!v.is_number())
        return false;
      auto x = v.get<double>();
      return std::isfinite(x) && x >= r.min && x <= r.max;
    }
    case kind::boolean: return v.is_boolean();
    case kind::string: {
      if (!v.is_string())
        return false;
      const auto& s = v.get_ref<const std::string&>();
      if (!r.one_of.empty())
        return std::find(r.one_of.begin(), r.one_of.end(), s) != r.one_of.end();
      return !(r.non_empty && s.empty());
    }
    case kind::string_list:
      if (!v.is_array())
        return false;
      return std::all_of(v.begin(), v.end(), [&](const json& item) {
        return item.is_string() && !(r.non_empty && item.get_ref<const std::string&>().empty());
      });
  }
  return false;
}

} // namespace sa::config::schema
