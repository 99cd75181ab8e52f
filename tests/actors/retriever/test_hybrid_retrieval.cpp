// Hybrid retrieval end to end: the embedding indexer and the hybrid retriever actors against the fake embedding
// endpoint (OpenAI and Gemini wire formats) over loopback, with real embedding caches on disk.
#include "actors/node/node.hpp"
#include "actors/retriever/embedding_cache.hpp"
#include "actors/retriever/embedding_indexer.hpp"
#include "actors/retriever/hybrid_retriever.hpp"
#include "actors/retriever/knowledge_catalog.hpp"
#include "config/load.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "tests/support/fake_provider_fixture.hpp"
#include "tests/support/test_node.hpp"
#include "test_support.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace sa;
using knowledge::test::temp_dir;
using providers::fake::fault_kind;
using std::chrono::milliseconds;

namespace {

void write_acme(const temp_dir& dir) {
  dir.write("acme/acme-invoices.md",
            "# Invoices\n\nOrganization owners can download every invoice and receipt from the billing portal. "
            "Reimbursement requests for duplicate charges are handled by the support team.\n");
  dir.write("acme/acme-domains.md",
            "# Custom domains\n\nPoint a CNAME record at your project to serve documentation on your own domain. "
            "The TLS certificate is issued automatically once the record resolves.\n");
  dir.write("acme/acme-builds.md",
            "# Build limits\n\nBuilds time out after 15 minutes and may use up to 7 GB of memory. Large projects "
            "should split their documentation.\n");
  dir.write("acme/faq.csv", "id,question,answer\r\nfaq-1,How do I change my payment card?,"
                            "Open the billing portal and update the payment card there.\r\n");
  dir.write("acme/tickets.jsonl",
            R"({"id":"T-1","subject":"Charged twice for the plan","conversation":[{"role":"customer","text":"We were charged twice this month."},{"role":"agent","text":"I refunded the duplicate charge."}],"resolution":"The duplicate charge was refunded.","tags":["refund"]})"
            "\n");
}

void write_globex(const temp_dir& dir) {
  dir.write("globex/globex-zebra.md",
            "# Zebra stripes\n\nThe zebra theme paints stripes on every page of the documentation.\n");
  dir.write("globex/globex-domains.md",
            "# Custom domains for Globex\n\nGlobex projects use a custom domain through an ALIAS record.\n");
}

/// Two tenants with their own knowledge, an actor system, the embedding http client, and the fake endpoint.
struct hybrid_env {
  temp_dir dir;
  test::fake_provider_fixture fake{[] {
    test::fake_provider_options o;
    o.embedding_dim = 256;
    return o;
  }()};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<knowledge_catalog_slot> catalog;
  std::shared_ptr<http_client> http = std::make_shared<http_client>();
  std::shared_ptr<hybrid_stats> stats = std::make_shared<hybrid_stats>();
  std::shared_ptr<sa::metrics> meter = std::make_shared<sa::metrics>();
  embedding_settings embedding;
  std::map<std::string, config::route_config> routes = config::defaults().retriever.routes;

  explicit hybrid_env(knowledge::embedding_wire wire = knowledge::embedding_wire::openai) {
    log::init("warn", "");
    write_acme(dir);
    write_globex(dir);
    catalog = std::make_shared<knowledge_catalog_slot>(knowledge_catalog::build(
      {{"acme", {(dir.path() / "acme").string()}, {}}, {"globex", {(dir.path() / "globex").string()}, {}}}));
    REQUIRE(catalog->load()->find("acme") != nullptr);
    REQUIRE(catalog->load()->find("globex") != nullptr);
    embedding.endpoint = {"fake", wire, fake.base_url(), "fake-embedding", "test-key"};
    embedding.batch_size = 4;
    embedding.query_timeout = milliseconds(5000);
    embedding.batch_timeout = milliseconds(5000);
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  std::vector<retriever_actor> retrievers; ///< stopped at the end (a pending timeout would keep one alive)

  ~hybrid_env() {
    for (const auto& r : retrievers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    http->stop();
    sys.reset();
  }

  std::shared_ptr<const retriever_deps> bm25_deps() const {
    auto d = std::make_shared<retriever_deps>();
    d->catalog = catalog;
    d->routes = routes;
    return d;
  }

  /// Starts an indexer filling `vectors` with caches under `state_dir` (empty: none).
  caf::actor start_indexer(const std::shared_ptr<vector_catalog_slot>& vectors, const std::string& state_dir) {
    embedding_indexer_settings s;
    s.tenants = {"acme", "globex"};
    s.catalog = catalog;
    s.vectors = vectors;
    s.http = http;
    s.embedding = embedding;
    s.state_dir = state_dir;
    s.check_interval = milliseconds(20);
    s.retry_initial = milliseconds(20);
    s.stats = stats;
    return spawn_embedding_indexer(*sys, std::move(s));
  }

  retriever_actor hybrid(const std::shared_ptr<vector_catalog_slot>& vectors, milliseconds query_timeout = milliseconds(5000)) {
    auto d = std::make_shared<hybrid_retriever_deps>();
    d->base = bm25_deps();
    d->vectors = vectors;
    d->http = http;
    d->embedding = embedding;
    d->embedding.query_timeout = query_timeout;
    d->candidates = 20;
    d->stats = stats;
    d->metrics = meter;
    retrievers.push_back(spawn_hybrid_retriever(*sys, d));
    return retrievers.back();
  }

  retrieval ask(const retriever_actor& r, const std::string& tenant, const std::string& question,
                intent in = intent::general, unsigned limit = 5) {
    caf::scoped_actor self{*sys};
    retrieval out;
    bool answered = false;
    self->request(r, std::chrono::seconds(20), retrieve_request{tenant_id{tenant}, question, in, limit})
      .receive([&](retrieval& got) {
                 out = std::move(got);
                 answered = true;
               },
               [&](caf::error& err) { FAIL("retrieval failed: " << sys->render(err)); });
    REQUIRE(answered);
    return out;
  }
};

/// Waits (polling, with a deadline) until every tenant has vectors for its current BM25 index.
bool wait_for_vectors(const knowledge_catalog_slot& catalog, const vector_catalog_slot& vectors,
                      std::vector<std::string> tenants, milliseconds deadline = milliseconds(20000)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    auto cat = catalog.load();
    auto vec = vectors.load();
    bool all = true;
    for (const auto& t : tenants)
      all = all && vectors_for(*vec, t, cat->find(t)) != nullptr;
    if (all)
      return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

std::vector<std::string> ids(const retrieval& r) {
  std::vector<std::string> out;
  for (const auto& p : r.passages)
    out.push_back(p.source_id);
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

TEST_CASE("hybrid retrieval fuses BM25 and vector hits through the fake embedding endpoint over loopback") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, (env.dir.path() / "state").string());
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
  CHECK(env.stats->texts_embedded > 0);
  CHECK(env.stats->index_tokens > 0);  // the chunks' tokens as the answers' usage reports them
  env.embedding.input_per_mtok = 0.02;
  auto r = env.hybrid(vectors);
  auto before = env.fake.requests("embeddings");
  auto got = env.ask(r, "acme", "where can I download my invoices");
  CHECK(env.fake.requests("embeddings") == before + 1); // the question, embedded once
  // Its tokens as the API's usage reports them (the fake: 4 characters a token, 32 -> 8) at the input price.
  CHECK(got.embedding_tokens == 8);
  CHECK(got.cost_usd == Approx(8 * 0.02 / 1e6));
  auto exposition = env.meter->render();
  CHECK(exposition.find("sa_component_tokens_total{component=\"retrieval_embeddings\",kind=\"input\","
                        "model=\"fake-embedding\",tenant=\"acme\"} 8") != std::string::npos);
  CHECK(got.hybrid);
  CHECK_FALSE(got.degraded);
  REQUIRE_FALSE(got.passages.empty());
  CHECK(got.passages[0].source_id == "acme-invoices.md#0");
  CHECK(got.passages[0].score > 0); // its own BM25 score
  CHECK(env.stats->fused == 1);

  // A misspelt word BM25 cannot match: only the vectors (character trigrams) find the page.
  auto bm25 = env.sys->spawn(bm25_retriever, env.bm25_deps());
  CHECK(env.ask(bm25, "acme", "riembursement").passages.empty());
  auto fuzzy = env.ask(r, "acme", "riembursement");
  CHECK(fuzzy.hybrid);
  REQUIRE_FALSE(fuzzy.passages.empty());
  CHECK(fuzzy.passages[0].source_id == "acme-invoices.md#0");
  CHECK(fuzzy.passages[0].score == 0); // found by the vectors alone
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bm25, caf::exit_reason::user_shutdown);
}

TEST_CASE("a past ticket found by hybrid retrieval carries its resolution as evidence") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme"}));
  auto got = env.ask(env.hybrid(vectors), "acme", "we were charged twice this month", intent::billing);
  REQUIRE(got.hybrid);
  auto it = std::find_if(got.passages.begin(), got.passages.end(),
                         [](const passage& p) { return p.source_id == "ticket:T-1"; });
  REQUIRE(it != got.passages.end());
  CHECK(it->kind == source_kind::ticket);
  CHECK(it->url == "ticket:T-1");
  CHECK(it->section == "Resolution: The duplicate charge was refunded.");
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("the embedding cache makes a second load, and a re-ingest, send no embedding requests for known chunks") {
  hybrid_env env;
  const auto state = (env.dir.path() / "state").string();
  {
    auto vectors = std::make_shared<vector_catalog_slot>();
    auto indexer = env.start_indexer(vectors, state);
    REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
    caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
  }
  const auto first = env.fake.requests("embeddings");
  CHECK(first > 0);
  CHECK(std::filesystem::exists(knowledge::embedding_cache_file(state, "acme")));
  CHECK(std::filesystem::exists(knowledge::embedding_cache_file(state, "globex")));

  SECTION("a restart: new indexes built from the same files, vectors from the cache") {
    env.catalog->store(knowledge_catalog::build({{"acme", {(env.dir.path() / "acme").string()}, {}},
                                                 {"globex", {(env.dir.path() / "globex").string()}, {}}}));
    auto vectors = std::make_shared<vector_catalog_slot>();
    env.stats->texts_embedded = 0;
    env.stats->index_tokens = 0;
    auto indexer = env.start_indexer(vectors, state);
    REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
    CHECK(env.fake.requests("embeddings") == first);
    CHECK(env.stats->texts_embedded == 0);
    CHECK(env.stats->index_tokens == 0);  // nothing embedded, nothing billed
    CHECK(env.stats->texts_cached > 0);
    caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
  }
  SECTION("a re-ingest: BM25 answers until the new index has vectors; only the changed chunk is embedded") {
    auto vectors = std::make_shared<vector_catalog_slot>();
    auto indexer = env.start_indexer(vectors, state);
    REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
    CHECK(env.fake.requests("embeddings") == first);
    // Hold the indexer off the new index until the retriever has seen the gap.
    caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
    env.dir.write("acme/acme-builds.md", "# Build limits\n\nBuilds now time out after 30 minutes.\n");
    auto rebuilt = knowledge::knowledge_index::build({(env.dir.path() / "acme").string()}, ":memory:");
    REQUIRE(rebuilt.ok());
    env.catalog->store(env.catalog->load()->with_index("acme", *rebuilt, {}));
    auto r = env.hybrid(vectors);
    auto gap = env.ask(r, "acme", "build time out");
    CHECK(gap.degraded);
    CHECK_FALSE(gap.hybrid);
    CHECK(env.stats->fallback_not_ready >= 1);
    REQUIRE_FALSE(gap.passages.empty());
    CHECK(gap.passages[0].text.find("30 minutes") != std::string::npos); // the new index answers
    auto again = env.start_indexer(vectors, state);
    REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
    CHECK(env.fake.requests("embeddings") == first + 1); // one batch: the one changed chunk
    auto after = env.ask(r, "acme", "build time out");
    CHECK(after.hybrid);
    caf::anon_send_exit(again, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("an embedding endpoint answering 500 leaves BM25 to answer, flagged degraded, never failing the turn") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
  env.fake.set_faults({test::status_fault(500, -1, "embeddings")});
  auto r = env.hybrid(vectors);
  auto got = env.ask(r, "acme", "custom domain certificate", intent::technical);
  CHECK(got.degraded);
  CHECK_FALSE(got.hybrid);
  CHECK(env.stats->fallback_error == 1);
  // Exactly what the BM25 retriever answers.
  auto bm25 = env.sys->spawn(bm25_retriever, env.bm25_deps());
  auto plain = env.ask(bm25, "acme", "custom domain certificate", intent::technical);
  REQUIRE_FALSE(plain.passages.empty());
  CHECK(ids(got) == ids(plain));
  CHECK(got.passages[0].score == plain.passages[0].score);
  CHECK_FALSE(plain.hybrid);
  CHECK_FALSE(plain.degraded);
  // Half an answer is an error too; once the endpoint recovers, answers are fused again.
  env.fake.set_faults({test::make_fault(fault_kind::cut_line, 1, "embeddings")});
  CHECK(env.ask(r, "acme", "custom domain certificate").degraded);
  CHECK(env.ask(r, "acme", "custom domain certificate").hybrid);
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bm25, caf::exit_reason::user_shutdown);
}

TEST_CASE("an embedding endpoint that stalls past the timeout leaves BM25 to answer at the deadline") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme"}));
  auto stall = test::make_fault(fault_kind::stall_before_headers, -1, "embeddings");
  stall.stall_ms = 20000;
  env.fake.set_faults({stall});
  auto r = env.hybrid(vectors, milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  auto got = env.ask(r, "acme", "download invoice receipt");
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(got.degraded);
  REQUIRE_FALSE(got.passages.empty());
  CHECK(got.passages[0].source_id == "acme-invoices.md#0");
  CHECK(waited >= milliseconds(250));
  CHECK(waited < milliseconds(5000));
  CHECK(env.stats->fallback_timeout == 1);
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("before a tenant's vectors are built, BM25 answers alone, flagged degraded") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>(); // no indexer: never filled
  auto got = env.ask(env.hybrid(vectors), "acme", "custom domain");
  CHECK(got.degraded);
  CHECK_FALSE(got.hybrid);
  REQUIRE_FALSE(got.passages.empty());
  CHECK(got.passages[0].source_id == "acme-domains.md#0");
  CHECK(env.fake.requests("embeddings") == 0);
  CHECK(env.stats->fallback_not_ready == 1);
  auto none = env.ask(env.hybrid(vectors), "initech", "custom domain"); // a tenant without knowledge
  CHECK_FALSE(none.knowledge_available);
}

TEST_CASE("intent routing weights are applied in the fusion: a weight of zero excludes a source, a larger one lifts it") {
  hybrid_env env;
  // billing: no FAQ; technical: tickets weigh five times the rest.
  env.routes["billing"].source_weights = {{"doc", 1.0}, {"faq", 0.0}, {"ticket", 1.0}};
  env.routes["technical"].source_weights = {{"doc", 1.0}, {"faq", 1.0}, {"ticket", 5.0}};
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme"}));
  auto r = env.hybrid(vectors);
  auto general = env.ask(r, "acme", "change my payment card in the billing portal", intent::general);
  REQUIRE(general.hybrid);
  CHECK(general.passages[0].source_id == "faq:faq-1");
  auto billing = env.ask(r, "acme", "change my payment card in the billing portal", intent::billing);
  REQUIRE(billing.hybrid);
  for (const auto& p : billing.passages)
    CHECK(p.kind != source_kind::faq);
  auto technical = env.ask(r, "acme", "duplicate charges", intent::technical);
  REQUIRE(technical.hybrid);
  REQUIRE_FALSE(technical.passages.empty());
  CHECK(technical.passages[0].source_id == "ticket:T-1");
  auto neutral = env.ask(r, "acme", "duplicate charges", intent::general);
  REQUIRE_FALSE(neutral.passages.empty());
  CHECK(neutral.passages[0].source_id == "acme-invoices.md#0"); // without the ticket weight, the page wins
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("tenant isolation: a tenant's hybrid retrieval never returns another tenant's chunks") {
  hybrid_env env;
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, (env.dir.path() / "state").string());
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
  auto r = env.hybrid(vectors);
  // Questions worded for the other tenant's pages.
  for (const auto* q : {"zebra theme stripes", "custom domain ALIAS record for Globex", "zebra"}) {
    auto got = env.ask(r, "acme", q);
    CHECK(got.hybrid);
    for (const auto& p : got.passages)
      CHECK_FALSE(starts_with(p.source_id, "globex-"));
  }
  for (const auto* q : {"download invoices receipts", "charged twice refund", "build memory limit", "custom domain CNAME"}) {
    auto got = env.ask(r, "globex", q);
    CHECK(got.hybrid);
    for (const auto& p : got.passages) {
      CHECK(starts_with(p.source_id, "globex-"));
      CHECK(p.source_id != "ticket:T-1");
    }
  }
  auto zebra = env.ask(r, "globex", "zebra stripes");
  REQUIRE_FALSE(zebra.passages.empty());
  CHECK(zebra.passages[0].source_id == "globex-zebra.md#0");
  // Each tenant's cache holds its own chunks only.
  auto acme_cache = knowledge::embedding_cache::open(knowledge::embedding_cache_file((env.dir.path() / "state").string(), "acme"));
  auto globex_cache = knowledge::embedding_cache::open(knowledge::embedding_cache_file((env.dir.path() / "state").string(), "globex"));
  REQUIRE(acme_cache.ok());
  REQUIRE(globex_cache.ok());
  CHECK(*(*acme_cache)->count("fake-embedding") == env.catalog->load()->find("acme")->chunk_count());
  CHECK(*(*globex_cache)->count("fake-embedding") == env.catalog->load()->find("globex")->chunk_count());
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("hybrid retrieval speaks Gemini's embedContent and batchEmbedContents") {
  hybrid_env env(knowledge::embedding_wire::gemini);
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
  auto got = env.ask(env.hybrid(vectors), "acme", "custom domain certificate");
  CHECK(got.hybrid);
  REQUIRE_FALSE(got.passages.empty());
  CHECK(got.passages[0].source_id == "acme-domains.md#0");
  // Gemini's answers report no usage: the chunks' tokens are estimated at 4 characters a token.
  CHECK(env.stats->index_tokens > 0);
  auto last = env.fake.last_request(); // chat requests only: embeddings leave it empty
  CHECK(last.request.target.empty());
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("an indexing batch that fails is retried, and the vectors still arrive") {
  hybrid_env env;
  env.fake.set_faults({test::status_fault(503, 2, "embeddings")});
  auto vectors = std::make_shared<vector_catalog_slot>();
  auto indexer = env.start_indexer(vectors, {});
  REQUIRE(wait_for_vectors(*env.catalog, *vectors, {"acme", "globex"}));
  CHECK(env.stats->index_failures == 2);
  CHECK(env.fake.faults(fault_kind::status) == 2);
  caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
}

TEST_CASE("a node with retriever.embedding answers turns through the hybrid retriever and counts them at /metrics") {
  temp_dir dir;
  test::fake_provider_options fo;
  fo.embedding_dim = 256;
  test::fake_provider_fixture fake(fo);
  auto cfg = test::test_config();
  cfg.node.state_dir = (dir.path() / "state").string();
  config::endpoint_config ep;
  ep.kind = "openai_compatible";
  ep.base_url = fake.base_url();
  ep.model = "unused-chat-model";
  cfg.providers.endpoints["embedder"] = ep;
  cfg.retriever.embedding.provider = "embedder";
  cfg.retriever.embedding.model = "fake-embedding";
  cfg.providers.prices["fake-embedding"] = {0.02, 0};
  REQUIRE(config::validate(cfg).empty());
  log::init("warn", "");
  auto built = build_node_services(cfg, [](const std::string&) {});
  REQUIRE(built.ok());
  auto svc = *built;
  REQUIRE(svc->hybrid);
  {
    test::test_node node({}, svc);
    std::vector<std::string> tenants = svc->accounts->tenants();
    REQUIRE(wait_for_vectors(*svc->knowledge, *svc->hybrid->vectors, tenants, milliseconds(60000)));
    caf::scoped_actor self{*node.sys};
    auto turn = test::run_turn(self, node.handles.router, "acme", "alice", "s-hybrid-1",
                               "How do I add a custom domain to my documentation?");
    CHECK(turn.completed.has_value());
    auto text = svc->metrics->render();
    CHECK(text.find("sa_retrieval_hybrid_total 1") != std::string::npos);
    // The question's embedding counted as a component of the turn's cost (the fake reports its usage).
    CHECK(text.find("sa_component_tokens_total{component=\"retrieval_embeddings\",kind=\"input\","
                    "model=\"fake-embedding\",tenant=\"acme\"} 13") != std::string::npos);
    // Indexing the knowledge is counted apart (a cost of the knowledge base, not of conversations).
    auto value_of = [&text](const std::string& name) {
      auto at = text.find("\n" + name + " ");
      REQUIRE(at != std::string::npos);
      return std::stod(text.substr(at + name.size() + 2));
    };
    const double tokens = value_of("sa_embedding_index_tokens_total");
    CHECK(tokens > 0);
    CHECK(tokens == Approx(static_cast<double>(svc->hybrid->deps->stats->index_tokens)));
    CHECK(value_of("sa_embedding_index_cost_usd_total") == Approx(tokens * 0.02 / 1e6));
  }
  CHECK(std::filesystem::exists(knowledge::embedding_cache_file(cfg.node.state_dir, "acme")));
}
