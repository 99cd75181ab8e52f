// Hybrid retrieval's plain classes: reciprocal rank fusion, the HNSW vector index, the embedding wire formats,
// the embedding cache, embedding jobs and ticket evidence. No actors, no sockets.
#include "actors/retriever/embedding_cache.hpp"
#include "actors/retriever/embedding_job.hpp"
#include "actors/retriever/embedding_protocol.hpp"
#include "actors/retriever/rank_fusion.hpp"
#include "actors/retriever/retrieved_passage.hpp"
#include "actors/retriever/vector_index.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>

using namespace sa::knowledge;
using sa::knowledge::test::temp_dir;

namespace {

chunk make_chunk(std::string id, source_kind kind = source_kind::doc, std::string text = "") {
  chunk c;
  c.id = std::move(id);
  c.kind = kind;
  c.title = "Title of " + c.id;
  c.text = text.empty() ? "Body of " + c.id : std::move(text);
  return c;
}

search_hit bm25_hit(std::string id, double score, source_kind kind = source_kind::doc) {
  return {make_chunk(std::move(id), kind), score};
}

std::vector<std::string> ids(const std::vector<fused_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits)
    out.push_back(h.passage.id);
  return out;
}

/// A unit vector along axis `i` of `dims`, tilted slightly towards axis `j`.
std::vector<float> axis(std::size_t dims, std::size_t i, std::size_t j = 0, float tilt = 0) {
  std::vector<float> v(dims, 0.0f);
  v[i] = 1.0f;
  v[j] += tilt;
  return v;
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t dims) {
  std::normal_distribution<float> d;
  std::vector<float> v(dims);
  for (auto& x : v)
    x = d(rng);
  return v;
}

/// The value of a result that must be ok (moved out: unique_ptr results).
template <class T>
T take(sa::result<T> r) {
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  return std::move(r).value();
}

} // namespace

// --- reciprocal rank fusion -------------------------------------------------------------------------------

TEST_CASE("RRF: a chunk both lists found outranks chunks only one list found") {
  std::vector<search_hit> bm25{bm25_hit("a", 9), bm25_hit("b", 8), bm25_hit("c", 7)};
  auto va = make_chunk("x"), vb = make_chunk("b"), vc = make_chunk("y");
  std::vector<vector_hit> near{{&va, 0.9}, {&vb, 0.8}, {&vc, 0.7}};
  fusion_options o;
  o.limit = 10;
  auto fused = reciprocal_rank_fusion(bm25, near, o);
  REQUIRE(fused.size() == 5);
  CHECK(fused[0].passage.id == "b"); // rank 2 + rank 2 beats rank 1 alone
  CHECK(fused[0].bm25_rank == 2);
  CHECK(fused[0].vector_rank == 2);
  CHECK(fused[0].fused == Approx(2.0 / 62.0));
  CHECK(fused[0].bm25 == 8);
  CHECK(fused[0].similarity == Approx(0.8));
  // The two rank-1 hits tie on score and best rank; BM25 score breaks the tie, then the id.
  CHECK(fused[1].passage.id == "a");
  CHECK(fused[2].passage.id == "x");
  CHECK(fused[2].bm25 == 0);
  CHECK(fused[2].bm25_rank == 0);
}

TEST_CASE("RRF: scores follow 1 / (k + rank), so a larger k flattens the ranks") {
  std::vector<search_hit> bm25{bm25_hit("a", 5), bm25_hit("b", 4)};
  fusion_options o;
  o.k = 1;
  auto sharp = reciprocal_rank_fusion(bm25, {}, o);
  REQUIRE(sharp.size() == 2);
  CHECK(sharp[0].fused == Approx(1.0 / 2.0));
  CHECK(sharp[1].fused == Approx(1.0 / 3.0));
  o.k = 1000;
  auto flat = reciprocal_rank_fusion(bm25, {}, o);
  CHECK(flat[0].fused / flat[1].fused < sharp[0].fused / sharp[1].fused);
}

TEST_CASE("RRF: source weights scale a kind's fused score, and a weight of zero drops the kind") {
  std::vector<search_hit> bm25{bm25_hit("doc1", 9, source_kind::doc), bm25_hit("faq1", 8, source_kind::faq),
                               bm25_hit("ticket1", 7, source_kind::ticket)};
  fusion_options o;
  o.limit = 10;
  CHECK(ids(reciprocal_rank_fusion(bm25, {}, o)) == std::vector<std::string>{"doc1", "faq1", "ticket1"});
  o.sources = {{source_kind::ticket, 2.0}, {source_kind::doc, 0.0}};
  auto fused = reciprocal_rank_fusion(bm25, {}, o);
  CHECK(ids(fused) == std::vector<std::string>{"ticket1", "faq1"});
  CHECK(fused[0].fused == Approx(2.0 / 63.0));
}

TEST_CASE("RRF: the limit cuts the fused list and empty inputs give nothing") {
  std::vector<search_hit> bm25;
  for (int i = 0; i < 10; ++i)
    bm25.push_back(bm25_hit("c" + std::to_string(i), 10 - i));
  fusion_options o;
  o.limit = 3;
  CHECK(ids(reciprocal_rank_fusion(bm25, {}, o)) == std::vector<std::string>{"c0", "c1", "c2"});
  CHECK(reciprocal_rank_fusion({}, {}, o).empty());
}

// --- vector index -----------------------------------------------------------------------------------------

TEST_CASE("vector index: each chunk's own vector finds it first, in hundreds of random vectors") {
  std::mt19937 rng(7);
  std::vector<chunk> chunks;
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < 500; ++i) {
    chunks.push_back(make_chunk("c" + std::to_string(i)));
    vectors.push_back(random_vector(rng, 32));
  }
  auto built = vector_index::build(chunks, vectors);
  REQUIRE(built.ok());
  auto index = *built;
  CHECK(index->size() == 500);
  CHECK(index->dimensions() == 32);
  int found_first = 0;
  for (int i = 0; i < 500; ++i) {
    auto hits = index->search(vectors[static_cast<std::size_t>(i)], 5);
    REQUIRE(hits.size() == 5);
    if (hits[0].passage->id == "c" + std::to_string(i)) {
      ++found_first;
      CHECK(hits[0].similarity == Approx(1.0).margin(1e-4));
    }
    for (std::size_t k = 1; k < hits.size(); ++k)
      CHECK(hits[k - 1].similarity >= hits[k].similarity);
  }
  CHECK(found_first >= 495); // approximate search: allow a miss or two
}

TEST_CASE("vector index: the nearest neighbour follows the cosine, whatever the vectors' lengths") {
  std::vector<chunk> chunks{make_chunk("east"), make_chunk("north"), make_chunk("up")};
  std::vector<std::vector<float>> vectors{{10, 0, 0}, {0, 0.5f, 0}, {0, 0, 3}};
  auto index = *vector_index::build(chunks, vectors);
  auto hits = index->search({0.9f, 0.1f, 0}, 3);
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].passage->id == "east");
  CHECK(hits[1].passage->id == "north");
  CHECK(hits[2].passage->id == "up");
  CHECK(hits[2].similarity == Approx(0).margin(1e-6));
}

TEST_CASE("vector index: routed sources are the only ones searched") {
  std::vector<chunk> chunks{make_chunk("doc", source_kind::doc), make_chunk("faq", source_kind::faq),
                            make_chunk("ticket", source_kind::ticket)};
  std::vector<std::vector<float>> vectors{axis(4, 0), axis(4, 0, 1, 0.2f), axis(4, 0, 2, 0.4f)};
  auto index = *vector_index::build(chunks, vectors);
  auto all = index->search(axis(4, 0), 3);
  REQUIRE(all.size() == 3);
  CHECK(all[0].passage->id == "doc");
  auto no_tickets = index->search(axis(4, 0), 3, {{source_kind::ticket, 0}});
  REQUIRE(no_tickets.size() == 2);
  for (const auto& h : no_tickets)
    CHECK(h.passage->kind != source_kind::ticket);
  auto tickets_only = index->search(axis(4, 0), 3, {{source_kind::doc, 0}, {source_kind::faq, 0}});
  REQUIRE(tickets_only.size() == 1);
  CHECK(tickets_only[0].passage->id == "ticket");
}

TEST_CASE("vector index: bad input fails naming the chunk, and a query of another length finds nothing") {
  std::vector<chunk> chunks{make_chunk("a"), make_chunk("b")};
  auto mixed = vector_index::build(chunks, {{1, 0}, {1, 0, 0}});
  REQUIRE_FALSE(mixed.ok());
  CHECK_THAT(mixed.error(), Catch::Contains("chunk b") && Catch::Contains("3 dimensions, expected 2"));
  auto zero = vector_index::build(chunks, {{1, 0}, {0, 0}});
  REQUIRE_FALSE(zero.ok());
  CHECK_THAT(zero.error(), Catch::Contains("chunk b") && Catch::Contains("all zeros"));
  CHECK_FALSE(vector_index::build(chunks, {{1, 0}}).ok());
  auto index = *vector_index::build(chunks, {{1, 0}, {0, 1}});
  CHECK(index->search({1, 0, 0}, 2).empty());
  CHECK(index->search({0, 0}, 2).empty());
  CHECK(index->search({1, 0}, 0).empty());
  auto empty = vector_index::build({}, {});
  REQUIRE(empty.ok());
  CHECK((*empty)->search({1, 0}, 3).empty());
}

// --- embedding wire formats -------------------------------------------------------------------------------

TEST_CASE("OpenAI embedding request: /v1/embeddings, bearer key, model and inputs in order") {
  embedding_endpoint ep{"emb", embedding_wire::openai, "http://127.0.0.1:9", "text-embedding-3-small", "sk-test"};
  auto req = embedding_http_request(ep, {"first text", "second"}, embedding_purpose::document,
                                    std::chrono::milliseconds(700), std::chrono::milliseconds(100));
  CHECK(req.method == "POST");
  CHECK(req.url == "http://127.0.0.1:9/v1/embeddings");
  CHECK(req.total_timeout == std::chrono::milliseconds(700));
  CHECK(req.first_byte_timeout == std::chrono::milliseconds(700));
  CHECK(req.connect_timeout == std::chrono::milliseconds(100));
  CHECK(std::find(req.headers.begin(), req.headers.end(), std::make_pair(std::string("Authorization"),
                                                                          std::string("Bearer sk-test")))
        != req.headers.end());
  auto body = nlohmann::json::parse(req.body);
  CHECK(body["model"] == "text-embedding-3-small");
  CHECK(body["input"] == nlohmann::json::array({"first text", "second"}));
}

TEST_CASE("Gemini embedding request: embedContent for one text, batchEmbedContents for several, x-goog-api-key") {
  embedding_endpoint ep{"g", embedding_wire::gemini, "http://h:1", "gemini-embedding-001", "g-key"};
  auto one = embedding_http_request(ep, {"why was I charged twice"}, embedding_purpose::query,
                                    std::chrono::milliseconds(500), std::chrono::milliseconds(500));
  CHECK(one.url == "http://h:1/v1beta/models/gemini-embedding-001:embedContent");
  CHECK(std::find(one.headers.begin(), one.headers.end(),
                  std::make_pair(std::string("x-goog-api-key"), std::string("g-key"))) != one.headers.end());
  auto b1 = nlohmann::json::parse(one.body);
  CHECK(b1["content"]["parts"][0]["text"] == "why was I charged twice");
  CHECK(b1["taskType"] == "RETRIEVAL_QUERY");
  auto many = embedding_http_request(ep, {"a", "b"}, embedding_purpose::document, std::chrono::milliseconds(500),
                                     std::chrono::milliseconds(500));
  CHECK(many.url == "http://h:1/v1beta/models/gemini-embedding-001:batchEmbedContents");
  auto b2 = nlohmann::json::parse(many.body);
  REQUIRE(b2["requests"].size() == 2);
  CHECK(b2["requests"][1]["model"] == "models/gemini-embedding-001");
  CHECK(b2["requests"][1]["content"]["parts"][0]["text"] == "b");
  CHECK(b2["requests"][1]["taskType"] == "RETRIEVAL_DOCUMENT");
}

TEST_CASE("an over-long input is clipped at a character boundary") {
  std::string text(max_embedding_input_bytes - 1, 'a');
  text += "\xC3\xA9\xC3\xA9"; // two-byte characters across the limit
  auto clipped = clip_embedding_input(text);
  CHECK(clipped.size() == max_embedding_input_bytes - 1);
  CHECK(clip_embedding_input("short") == "short");
}

TEST_CASE("OpenAI embedding answers: vectors by index, normalised, a wrong count or a bad vector fails") {
  uint64_t tokens = 0;
  auto parsed = parse_embedding_response(
    embedding_wire::openai,
    R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,2]},)"
    R"({"object":"embedding","index":0,"embedding":[3,4]}],"model":"m","usage":{"prompt_tokens":7,"total_tokens":7}})",
    2, &tokens);
  REQUIRE(parsed.ok());
  CHECK(tokens == 7);  // the usage the answer reports (priced as retrieval_embeddings)
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0][0] == Approx(0.6f));
  CHECK((*parsed)[0][1] == Approx(0.8f));
  CHECK((*parsed)[1][1] == Approx(1.0f));
  auto wrong_count = parse_embedding_response(embedding_wire::openai, R"({"data":[{"index":0,"embedding":[1]}]})", 2);
  REQUIRE_FALSE(wrong_count.ok());
  CHECK_THAT(wrong_count.error(), Catch::Contains("1 vectors for 2 inputs"));
  CHECK_FALSE(parse_embedding_response(embedding_wire::openai, R"({"data":[{"index":0,"embedding":[0,0]}]})", 1).ok());
  CHECK_FALSE(parse_embedding_response(embedding_wire::openai, R"({"data":[{"index":0,"embedding":["x"]}]})", 1).ok());
  CHECK_FALSE(parse_embedding_response(embedding_wire::openai, R"({"data":[{"index":5,"embedding":[1]}]})", 1).ok());
  CHECK_FALSE(parse_embedding_response(embedding_wire::openai,
                                       R"({"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[1,2]}]})", 2)
                .ok());
  CHECK_FALSE(parse_embedding_response(embedding_wire::openai, "not json", 1).ok());
  // Values beyond float's range still normalise to a unit vector (found by fuzz_embedding_response).
  auto huge = parse_embedding_response(embedding_wire::openai, R"({"data":[{"index":0,"embedding":[1e300,-1e300]}]})", 1);
  REQUIRE(huge.ok());
  CHECK((*huge)[0][0] == Approx(std::sqrt(0.5f)));
  CHECK((*huge)[0][1] == Approx(-std::sqrt(0.5f)));
}

TEST_CASE("Gemini embedding answers: one embedding or a batch of embeddings") {
  uint64_t tokens = 99;
  auto one = parse_embedding_response(embedding_wire::gemini, R"({"embedding":{"values":[1,0,0]}})", 1, &tokens);
  REQUIRE(one.ok());
  CHECK(tokens == 0);  // Gemini reports no usage: the retriever estimates
  CHECK((*one)[0].size() == 3);
  auto batch = parse_embedding_response(embedding_wire::gemini,
                                        R"({"embeddings":[{"values":[1,1]},{"values":[0,5]}]})", 2);
  REQUIRE(batch.ok());
  CHECK((*batch)[0][0] == Approx(std::sqrt(0.5f)));
  CHECK((*batch)[1][1] == Approx(1.0f));
  CHECK_FALSE(parse_embedding_response(embedding_wire::gemini, R"({"embeddings":[{"values":[1]}]})", 2).ok());
  CHECK_FALSE(parse_embedding_response(embedding_wire::gemini, R"({"nothing":1})", 1).ok());
}

TEST_CASE("an embedding error answer becomes one line with the status and the provider's message") {
  CHECK(embedding_error_message(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})")
        == "HTTP 429: Rate limit reached");
  CHECK(embedding_error_message(503, R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})")
        == "HTTP 503: overloaded");
  CHECK(embedding_error_message(500, "<html>") == "HTTP 500");
  auto long_message = embedding_error_message(400, R"({"error":{"message":")" + std::string(500, 'x') + R"("}})");
  CHECK(long_message.size() < 230);
}

// --- embedding cache --------------------------------------------------------------------------------------

TEST_CASE("embedding cache: vectors are kept per model and text hash, and survive reopening") {
  temp_dir dir;
  auto file = embedding_cache_file(dir.str(), "acme");
  CHECK(file == (dir.path() / "embeddings" / "acme" / "vectors.sqlite").string());
  auto a = sha256("text a"), b = sha256("text b");
  CHECK(a != b);
  CHECK(sha256("text a") == a);
  {
    auto cache = embedding_cache::open(file);
    REQUIRE(cache.ok());
    REQUIRE((*cache)->store("m1", {a, b}, {{1, 2, 3}, {4, 5, 6}}).ok());
    REQUIRE((*cache)->store("m2", {a}, {{9, 9}}).ok());
    CHECK(*(*cache)->count("m1") == 2);
  }
  auto cache = embedding_cache::open(file);
  REQUIRE(cache.ok());
  auto found = (*cache)->lookup("m1", {b, sha256("unknown"), a});
  REQUIRE(found.ok());
  CHECK((*found)[0] == std::vector<float>{4, 5, 6});
  CHECK((*found)[1].empty());
  CHECK((*found)[2] == std::vector<float>{1, 2, 3});
  CHECK((*(*cache)->lookup("m2", {a}))[0] == std::vector<float>{9, 9});
  CHECK((*(*cache)->lookup("m3", {a}))[0].empty());
  CHECK_FALSE((*cache)->store("m1", {a}, {}).ok());
  CHECK_FALSE((*cache)->store("m1", {a}, {{}}).ok());
  CHECK((*(*cache)->lookup("m1", {a}))[0] == std::vector<float>{1, 2, 3}); // the failed store changed nothing
}

TEST_CASE("embedding cache: a file that is not a database fails naming it") {
  temp_dir dir;
  auto file = dir.write("embeddings/acme/vectors.sqlite", std::string(4096, 'x'));
  auto cache = embedding_cache::open(file);
  REQUIRE_FALSE(cache.ok());
  CHECK_THAT(cache.error(), Catch::Contains(file));
}

// --- embedding jobs ---------------------------------------------------------------------------------------

namespace {

/// A stand-in embedding: one axis per distinct text (so vectors are valid and distinguishable).
std::vector<std::vector<float>> embed(const std::vector<std::string>& texts, std::size_t dims = 8) {
  std::vector<std::vector<float>> out;
  for (const auto& t : texts) {
    std::vector<float> v(dims, 0.1f);
    v[std::hash<std::string>{}(t) % dims] = 1.0f;
    out.push_back(v);
  }
  return out;
}

std::vector<chunk> sample_chunks(int n) {
  std::vector<chunk> out;
  for (int i = 0; i < n; ++i)
    out.push_back(make_chunk("doc.md#" + std::to_string(i), source_kind::doc, "Section text number " + std::to_string(i)));
  return out;
}

/// Runs a job to the end, answering every batch; returns how many texts were sent.
std::size_t run_job(embedding_job& job) {
  std::size_t sent = 0;
  while (auto b = job.next_batch()) {
    sent += b->texts.size();
    REQUIRE(job.complete(b->id, embed(b->texts)).ok());
  }
  return sent;
}

} // namespace

TEST_CASE("embedding job: a second load finds every vector in the cache and embeds nothing") {
  temp_dir dir;
  auto cache = take(embedding_cache::open(embedding_cache_file(dir.str(), "acme")));
  auto first = take(embedding_job::start(sample_chunks(25), "m", {cache.get()}, 10));
  CHECK(first->cached() == 0);
  CHECK(first->to_embed() == 25);
  CHECK(run_job(*first) == 25);
  CHECK(first->done());
  auto built = first->build({});
  REQUIRE(built.ok());
  CHECK((*built)->size() == 25);

  auto second = take(embedding_job::start(sample_chunks(25), "m", {cache.get()}, 10));
  CHECK(second->cached() == 25);
  CHECK(second->to_embed() == 0);
  CHECK(second->done());
  CHECK_FALSE(second->next_batch());
  REQUIRE(second->build({}).ok());

  // A re-ingest that changed one chunk's text embeds only that one; another model embeds all.
  auto changed = sample_chunks(25);
  changed[3].text = "This section was rewritten";
  auto third = take(embedding_job::start(changed, "m", {cache.get()}, 10));
  CHECK(third->to_embed() == 1);
  CHECK(run_job(*third) == 1);
  auto other_model = take(embedding_job::start(sample_chunks(25), "m2", {cache.get()}, 10));
  CHECK(other_model->to_embed() == 25);
}

TEST_CASE("embedding job: identical texts are embedded once, batches respect the batch size") {
  auto chunks = sample_chunks(5);
  chunks.push_back(chunks[0]);
  chunks.back().id = "copy.md#0";
  auto job = take(embedding_job::start(chunks, "m", {}, 2));
  CHECK(job->to_embed() == 5);
  std::size_t batches = 0;
  while (auto b = job->next_batch()) {
    CHECK(b->texts.size() <= 2);
    ++batches;
    REQUIRE(job->complete(b->id, embed(b->texts)).ok());
  }
  CHECK(batches == 3);
  auto index = *job->build({});
  CHECK(index->size() == 6);
}

TEST_CASE("embedding job: a failed batch is requeued, wrong answers are refused") {
  auto job = take(embedding_job::start(sample_chunks(4), "m", {}, 2));
  auto b1 = job->next_batch();
  auto b2 = job->next_batch();
  REQUIRE(b1);
  REQUIRE(b2);
  CHECK_FALSE(job->next_batch());
  CHECK(job->in_flight() == 2);
  CHECK(job->batch_size(b1->id) == 2);
  CHECK_FALSE(job->complete(b1->id, embed({"only one"})).ok());   // wrong count
  CHECK_FALSE(job->complete(999, embed(b1->texts)).ok());         // unknown batch
  job->requeue(b1->id);
  CHECK(job->in_flight() == 1);
  REQUIRE(job->complete(b2->id, embed(b2->texts, 8)).ok());
  auto again = job->next_batch();
  REQUIRE(again);
  CHECK(again->texts == b1->texts);
  CHECK_FALSE(job->complete(again->id, embed(again->texts, 16)).ok()); // other dimension than the job's
  REQUIRE(job->complete(again->id, embed(again->texts, 8)).ok());
  CHECK(job->done());
  CHECK_FALSE(embedding_job::start(sample_chunks(1), "m", {}, 0).ok());
}

TEST_CASE("embedding job: a tenant's cache is completed with what another tenant's cache of the same index holds") {
  temp_dir dir;
  auto acme = take(embedding_cache::open(embedding_cache_file(dir.str(), "acme")));
  auto globex = take(embedding_cache::open(embedding_cache_file(dir.str(), "globex")));
  auto first = take(embedding_job::start(sample_chunks(6), "m", {acme.get()}, 4));
  run_job(*first);
  auto shared = take(embedding_job::start(sample_chunks(6), "m", {acme.get(), globex.get()}, 4));
  CHECK(shared->to_embed() == 0);
  CHECK(*globex->count("m") == 6);
  auto globex_only = take(embedding_job::start(sample_chunks(6), "m", {globex.get()}, 4));
  CHECK(globex_only->to_embed() == 0);
}

TEST_CASE("the embedded text carries the heading path, so sections of one page differ") {
  chunk c = make_chunk("page.md#2", source_kind::doc, "Click Save.");
  c.section = "Billing > Invoices";
  CHECK(embedding_text(c) == "Billing > Invoices\nClick Save.");
  chunk faq = make_chunk("faq:1", source_kind::faq, "How do I pay?\nBy card.");
  faq.title = "How do I pay?";
  CHECK(embedding_text(faq) == "How do I pay?\nBy card."); // already starts with its question
}

// --- ticket evidence --------------------------------------------------------------------------------------

TEST_CASE("a past ticket's passage carries its resolution as evidence and is cited by its id") {
  chunk t = make_chunk("ticket:T-1001", source_kind::ticket,
                       "Charged twice\nHi, we were charged twice.\nI refunded the duplicate.\n"
                       "Resolution: The duplicate payment was refunded and the extra invoice voided.");
  t.title = "Charged twice";
  t.url = "tickets.jsonl";
  auto p = sa::to_passage(t, 3.5);
  CHECK(p.kind == sa::source_kind::ticket);
  CHECK(p.url == "ticket:T-1001");
  CHECK(p.section == "Resolution: The duplicate payment was refunded and the extra invoice voided.");
  CHECK(p.text == t.text);
  CHECK(p.score == 3.5);
  chunk d = make_chunk("docs/a.md#0", source_kind::doc, "Resolution: not a ticket");
  d.section = "A > B";
  d.url = "https://example.com/a";
  auto dp = sa::to_passage(d, 1);
  CHECK(dp.section == "A > B");
  CHECK(dp.url == "https://example.com/a");
  CHECK(sa::ticket_resolution("Subject\nno resolution here") == "");
}
