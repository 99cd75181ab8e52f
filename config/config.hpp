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
#include <string>
#include <vector>

namespace sa::config {

struct node_config {
  std::string name = "node-1";      ///< this node's name in logs and the cluster
  int scheduler_threads = 0;        ///< CAF worker threads; 0 = one per core
  int scheduler_max_throughput = 16;///< messages an actor handles before yielding its thread (fairness)
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
  std::string backend = "inprocess";  ///< inprocess (redis arrives with the cluster issue)
  int max_turns = 10;                 ///< turns kept verbatim per session
  int ttl_s = 3600;                   ///< a session's memory expires this long after its last turn
  int summary_max_chars = 1200;       ///< running summary of turns older than the window
  int max_sessions = 200000;          ///< in-process store bound; least recently used go first
};

struct classifier_config {
  std::string backend = "local";                         ///< local (fastText) or llm (providers issue)
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

struct retriever_config {
  int top_k = 5;
  std::vector<std::string> knowledge_paths{"data/kb"};  ///< searched for every tenant
  std::map<std::string, std::vector<std::string>> tenant_knowledge_paths;  ///< extra per tenant
  std::map<std::string, route_config> routes;  ///< per intent; filled with defaults by the loader
};

struct generator_config {
  std::string backend = "local";  ///< local (providers issue adds openai, anthropic, gemini, ...)
  int max_passages = 3;           ///< passages the answer is composed from
  int max_answer_chars = 1200;
  int stream_chunk_chars = 32;    ///< the local provider streams in chunks of about this size
};

struct escalation_config {
  double confidence_threshold = 0.7;
  std::vector<std::string> sensitive_topics{"legal", "lawsuit", "lawyer", "refund", "cancel subscription",
                                            "competitor", "data breach"};
};

struct tenants_config {
  std::string accounts_file = "data/tenants/accounts.json";  ///< embedded account store (demo tenants)
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
  int idle_timeout_s = 60;                    ///< no traffic (pings included) for this long closes
  int handshake_timeout_s = 10;               ///< upgrade, WebSocket handshake and first-frame auth
  int outbound_queue_frames = 256;            ///< per client; overflow closes with 1008
  int shutdown_grace_ms = 5000;               ///< graceful shutdown waits this long for clients
};

struct config {
  node_config node;
  limits_config limits;
  session_config session;
  memory_config memory;
  classifier_config classifier;
  retriever_config retriever;
  generator_config generator;
  escalation_config escalation;
  tenants_config tenants;
  gateway_config gateway;
};

} // namespace sa::config
