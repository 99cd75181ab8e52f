// bench_retrieval_quality: retrieval quality and query latency of BM25 alone and of hybrid retrieval (BM25 +
// HNSW vectors fused by reciprocal rank), through the product's retriever actors, on the demo knowledge base.
//
//   - recall@5 on the labeled question set data/eval/retrieval.jsonl (see data/eval/README.md), per split:
//     `tuning` (the part retrieval may be tuned on) and `heldout` (never used for tuning). A question counts
//     as recalled when one of its expected sources (a document path, "faq:<id>" or "ticket:<id>") is among
//     the top 5 passages; `coverage@5` is the stricter mean share of its expected sources found. Each
//     question is routed by its labeled intent (the default retriever.routes weights).
//   - latency p50/p99 of one retrieval, request to reply, one at a time, over --rounds passes of the set:
//     BM25 (bm25_retriever) and hybrid (hybrid_retriever: BM25, the question's embedding over loopback HTTP,
//     HNSW search, fusion).
//   - indexing: the time to embed every chunk (cold, empty cache) and to load the vectors again from the
//     embedding cache (a restart).
//
// Embeddings come from the real `fake-provider` binary run as a child process on loopback (deterministic
// hashed bag-of-words + character trigrams, --dim dimensions): the figures measure the plumbing and the
// fusion, not the semantic quality of a real embedding model.
//
// With --editions N > 1 the knowledge base is N copies of --kb (every page heading naming its edition, so no
// two chunks embed alike; FAQs and tickets copied as they are), ~10,000 chunks at N = 10, for latency at
// scale; a question is recalled when its source is found in any edition (copies crowd the top 5, so recall
// there says little).
//
//   bench_retrieval_quality [--kb DIR(data/kb)] [--eval FILE(data/eval/retrieval.jsonl)] [--rounds N(10)]
//                           [--dim N(256)] [--rrf-k N(60)] [--candidates N(20)] [--timeout-ms N(1500)]
//                           [--editions N(1)] [--fake PATH(<bench dir>/../actors/providers/fake/fake-provider)]
//
// Prints a table and one JSON line.
#include "actors/retriever/embedding_indexer.hpp"
#include "actors/retriever/hybrid_retriever.hpp"
#include "actors/retriever/knowledge_catalog.hpp"
#include "bench/child_process.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"
#include "config/load.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* usage =
  "usage: bench_retrieval_quality [--kb DIR(data/kb)] [--eval FILE(data/eval/retrieval.jsonl)] [--rounds N(10)]\n"
  "                               [--dim N(256)] [--rrf-k N(60)] [--candidates N(20)] [--timeout-ms N(1500)]\n"
  "                               [--editions N(1)] [--fake PATH(<bench dir>/../actors/providers/fake/fake-provider)]\n";

struct options {
  std::string kb = "data/kb";
  std::string eval = "data/eval/retrieval.jsonl";
  int rounds = 10;
  int dim = 256;
  int rrf_k = 60;
  int candidates = 20;
  int timeout_ms = 1500;
  int editions = 1;
  std::string fake;
};

struct question {
  std::string id, split, text;
  sa::intent in = sa::intent::general;
  std::vector<std::string> expected;
};

std::vector<question> read_questions(const std::string& file) {
  std::ifstream in(file);
  if (!in)
    throw std::runtime_error(file + ": cannot read");
  std::vector<question> out;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty())
      continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::runtime_error(file + ":" + std::to_string(line_no) + ": not a JSON object");
    question q;
    q.id = j.value("id", "");
    q.split = j.value("split", "");
    q.text = j.value("question", "");
    if (!sa::from_string(j.value("intent", "general"), q.in))
      throw std::runtime_error(file + ":" + std::to_string(line_no) + ": unknown intent");
    for (const auto& e : j.value("expected", nlohmann::json::array()))
      q.expected.push_back(e.get<std::string>());
    if (q.text.empty() || q.expected.empty() || (q.split != "tuning" && q.split != "heldout"))
      throw std::runtime_error(file + ":" + std::to_string(line_no) +
                               ": needs question, expected and split (tuning or heldout)");
    out.push_back(std::move(q));
  }
  return out;
}

bool matches(std::string passage_id, const std::string& expected) {
  if (passage_id.rfind("edition", 0) == 0 && passage_id.find('/') != std::string::npos)
    passage_id = passage_id.substr(passage_id.find('/') + 1); // any edition of the source counts
  return passage_id == expected || passage_id.rfind(expected + "#", 0) == 0;
}

/// `editions` copies of `kb` under `to`: every heading of a page names its edition (so each chunk's text
/// differs from its copies'), other files are copied as they are.
void make_editions(const fs::path& kb, const fs::path& to, int editions) {
  for (int e = 0; e < editions; ++e) {
    const auto root = to / ("edition" + std::to_string(e));
    for (const auto& entry : fs::recursive_directory_iterator(kb)) {
      if (!entry.is_regular_file())
        continue;
      const auto target = root / fs::relative(entry.path(), kb);
      fs::create_directories(target.parent_path());
      if (entry.path().extension() != ".md") {
        fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
        continue;
      }
      std::ifstream in(entry.path());
      std::ofstream out(target);
      std::string line;
      while (std::getline(in, line))
        out << line << (line.rfind('#', 0) == 0 ? " (edition " + std::to_string(e) + ")" : std::string()) << '\n';
    }
  }
}

struct split_score {
  int questions = 0;
  int recalled = 0;       ///< at least one expected source in the top 5
  double coverage = 0;    ///< sum over questions of the share of expected sources in the top 5
  double recall() const { return questions ? static_cast<double>(recalled) / questions : 0; }
  double mean_coverage() const { return questions ? coverage / questions : 0; }
};

struct mode_result {
  std::map<std::string, split_score> by_split; ///< tuning, heldout, all
  std::vector<double> latency_us;
  int hybrid = 0, degraded = 0;
};

sa::retrieval ask(caf::scoped_actor& self, const sa::retriever_actor& r, const question& q) {
  sa::retrieval out;
  self->request(r, std::chrono::seconds(30), sa::retrieve_request{sa::tenant_id{"acme"}, q.text, q.in, 5})
    .receive([&](sa::retrieval& got) { out = std::move(got); },
             [&](caf::error& err) { throw std::runtime_error("retrieval failed: " + to_string(err)); });
  return out;
}

mode_result run_mode(caf::scoped_actor& self, const sa::retriever_actor& r, const std::vector<question>& qs, int rounds) {
  mode_result m;
  for (const auto& q : qs) {
    auto got = ask(self, r, q);
    m.hybrid += got.hybrid;
    m.degraded += got.degraded;
    std::size_t found = 0;
    for (const auto& e : q.expected)
      for (const auto& p : got.passages)
        if (matches(p.source_id, e)) {
          ++found;
          break;
        }
    for (const auto& split : {q.split, std::string("all")}) {
      auto& s = m.by_split[split];
      ++s.questions;
      s.recalled += found > 0;
      s.coverage += static_cast<double>(found) / static_cast<double>(q.expected.size());
    }
  }
  for (int round = 0; round < rounds; ++round)
    for (const auto& q : qs) {
      auto t0 = clock_type::now();
      auto got = ask(self, r, q);
      m.latency_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
      (void)got;
    }
  return m;
}

/// Waits until the tenant's vectors are published; false after `deadline`.
bool wait_for_vectors(const sa::knowledge_catalog_slot& catalog, const sa::vector_catalog_slot& vectors,
                      std::chrono::seconds deadline) {
  auto until = clock_type::now() + deadline;
  while (clock_type::now() < until) {
    if (sa::vectors_for(*vectors.load(), "acme", catalog.load()->find("acme")))
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    sa::bench::option_parser p;
    p.add("--kb", opt.kb).add("--eval", opt.eval).add("--rounds", opt.rounds).add("--dim", opt.dim);
    p.add("--rrf-k", opt.rrf_k).add("--candidates", opt.candidates).add("--timeout-ms", opt.timeout_ms);
    p.add("--fake", opt.fake).add("--editions", opt.editions);
    if (!p.parse(argc, argv)) {
      std::cout << usage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_retrieval_quality: " << e.what() << "\n" << usage;
    return 2;
  }
  if (opt.rounds < 0 || opt.dim < 1 || opt.rrf_k < 1 || opt.candidates < 5 || opt.timeout_ms < 10 || opt.editions < 1) {
    std::cerr << "bench_retrieval_quality: --rounds >= 0, --dim >= 1, --rrf-k >= 1, --candidates >= 5, "
                 "--timeout-ms >= 10, --editions >= 1\n";
    return 2;
  }
  if (opt.fake.empty())
    opt.fake = sa::bench::self_dir() + "/../actors/providers/fake/fake-provider";
  if (::access(opt.fake.c_str(), X_OK) != 0) {
    std::cerr << "bench_retrieval_quality: no fake provider at " << opt.fake << " (build fake-provider, or --fake PATH)\n";
    return 2;
  }
  std::vector<question> questions;
  try {
    questions = read_questions(opt.eval);
  } catch (const std::exception& e) {
    std::cerr << "bench_retrieval_quality: " << e.what() << "\n";
    return 2;
  }
  sa::bench::install_signal_handlers();
  sa::log::init("error", "");

  // --- the fake embedding endpoint, a child process on loopback ---
  auto log_path = "/tmp/bench_retrieval_quality-fake-" + std::to_string(::getpid()) + ".log";
  pid_t fake_pid = sa::bench::start_child({opt.fake, "--port", "0", "--embedding-dim", std::to_string(opt.dim)}, log_path);
  if (fake_pid < 0) {
    std::cerr << "bench_retrieval_quality: fork failed\n";
    return 1;
  }
  sa::bench::g_child_pid = fake_pid;
  int port = sa::bench::wait_for_port(fake_pid, log_path, "listening on 127.0.0.1:", 20s, 20ms);
  if (port <= 0) {
    std::cerr << "bench_retrieval_quality: the fake did not start within 20 s; its log: " << log_path << "\n";
    sa::bench::stop_child(fake_pid, 2s);
    return 1;
  }

  // --- the knowledge base, as a node builds it at start-up ---
  auto scratch = fs::temp_directory_path() / ("bench_retrieval_quality-" + std::to_string(::getpid()));
  std::string kb = opt.kb;
  if (opt.editions > 1) {
    make_editions(opt.kb, scratch / "kb", opt.editions);
    kb = (scratch / "kb").string();
  }
  auto t_index = clock_type::now();
  auto catalog = std::make_shared<sa::knowledge_catalog_slot>(sa::knowledge_catalog::build({{"acme", {kb}, {}}}));
  if (!catalog->load()->find("acme")) {
    std::cerr << "bench_retrieval_quality: " << opt.kb << ": " << catalog->load()->problems().begin()->second << "\n";
    sa::bench::stop_child(fake_pid, 2s);
    return 1;
  }
  const double bm25_index_s = std::chrono::duration<double>(clock_type::now() - t_index).count();
  const auto chunks = catalog->load()->find("acme")->chunk_count();

  auto product = sa::config::defaults();
  caf::actor_system_config cfg;
  sa::register_message_types(cfg);
  cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(1u, sa::bench::cores())));
  int rc = 0;
  {
    caf::actor_system sys{cfg};
    auto http = std::make_shared<sa::http_client>();
    auto stats = std::make_shared<sa::hybrid_stats>();
    sa::embedding_settings emb;
    emb.endpoint = {"fake", sa::knowledge::embedding_wire::openai, "http://127.0.0.1:" + std::to_string(port),
                    "fake-embedding", ""};
    emb.batch_size = static_cast<std::size_t>(product.retriever.embedding.batch_size);
    emb.query_timeout = std::chrono::milliseconds(opt.timeout_ms);
    emb.batch_timeout = std::chrono::milliseconds(product.retriever.embedding.batch_timeout_ms);
    auto state_dir = scratch / "state";
    auto bm25 = std::make_shared<sa::retriever_deps>();
    bm25->catalog = catalog;
    bm25->routes = product.retriever.routes;

    auto index_once = [&](std::shared_ptr<sa::vector_catalog_slot> vectors) {
      sa::embedding_indexer_settings s;
      s.tenants = {"acme"};
      s.catalog = catalog;
      s.vectors = vectors;
      s.http = http;
      s.embedding = emb;
      s.state_dir = state_dir.string();
      s.index.ef_search = static_cast<std::size_t>(product.retriever.hybrid.ef_search);
      s.check_interval = 10ms;
      s.stats = stats;
      auto t0 = clock_type::now();
      auto indexer = sa::spawn_embedding_indexer(sys, std::move(s));
      bool ready = wait_for_vectors(*catalog, *vectors, 600s);
      double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
      caf::anon_send_exit(indexer, caf::exit_reason::user_shutdown);
      return ready ? seconds : -1.0;
    };
    const double cold_s = index_once(std::make_shared<sa::vector_catalog_slot>());
    const uint64_t requests_cold = stats->index_requests.load();
    auto vectors = std::make_shared<sa::vector_catalog_slot>();
    const double warm_s = index_once(vectors);
    const uint64_t requests_warm = stats->index_requests.load() - requests_cold;
    if (cold_s < 0 || warm_s < 0) {
      std::cerr << "bench_retrieval_quality: the vectors were not ready within 600 s\n";
      rc = 1;
    } else {
      auto hdeps = std::make_shared<sa::hybrid_retriever_deps>();
      hdeps->base = bm25;
      hdeps->vectors = vectors;
      hdeps->http = http;
      hdeps->embedding = emb;
      hdeps->rrf_k = opt.rrf_k;
      hdeps->candidates = static_cast<std::size_t>(opt.candidates);
      hdeps->stats = stats;
      auto bm25_actor = sys.spawn(sa::bm25_retriever, std::shared_ptr<const sa::retriever_deps>(bm25));
      auto hybrid_actor = sa::spawn_hybrid_retriever(sys, hdeps);
      caf::scoped_actor self{sys};
      auto b = run_mode(self, bm25_actor, questions, opt.rounds);
      auto h = run_mode(self, hybrid_actor, questions, opt.rounds);
      caf::anon_send_exit(bm25_actor, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(hybrid_actor, caf::exit_reason::user_shutdown);

      std::printf("bench_retrieval_quality: %zu chunks (%s, %d edition%s), %zu labeled questions, %d rounds, fake "
                  "embeddings %d dims, rrf_k %d, %d candidates per list\n",
                  chunks, opt.kb.c_str(), opt.editions, opt.editions == 1 ? "" : "s", questions.size(), opt.rounds,
                  opt.dim, opt.rrf_k, opt.candidates);
      std::printf("indexing: BM25 %.2f s; embeddings cold %.2f s (%llu requests), from the cache %.2f s (%llu requests)\n",
                  bm25_index_s, cold_s, static_cast<unsigned long long>(requests_cold), warm_s,
                  static_cast<unsigned long long>(requests_warm));
      std::printf("%-8s %10s %10s %10s %12s %12s %10s %10s\n", "mode", "r@5 tune", "r@5 held", "r@5 all",
                  "cov@5 held", "cov@5 all", "p50 us", "p99 us");
      nlohmann::json line{{"bench", "retrieval_quality"}, {"chunks", chunks}, {"editions", opt.editions},
                          {"questions", questions.size()},
                          {"rounds", opt.rounds}, {"dim", opt.dim}, {"rrf_k", opt.rrf_k}, {"candidates", opt.candidates},
                          {"embed_cold_s", cold_s}, {"embed_requests_cold", requests_cold}, {"embed_cached_s", warm_s},
                          {"embed_requests_cached", requests_warm}, {"cores", sa::bench::cores()},
                          {"cpu", sa::bench::cpu_model()}};
      for (auto* mode : {&b, &h}) {
        const char* name = mode == &b ? "bm25" : "hybrid";
        std::sort(mode->latency_us.begin(), mode->latency_us.end());
        double p50 = sa::bench::percentile_sorted(mode->latency_us, 0.50);
        double p99 = sa::bench::percentile_sorted(mode->latency_us, 0.99);
        auto& s = mode->by_split;
        std::printf("%-8s %10.3f %10.3f %10.3f %12.3f %12.3f %10.0f %10.0f\n", name, s["tuning"].recall(),
                    s["heldout"].recall(), s["all"].recall(), s["heldout"].mean_coverage(), s["all"].mean_coverage(),
                    p50, p99);
        std::string k = name;
        line[k + "_recall5_tuning"] = s["tuning"].recall();
        line[k + "_recall5_heldout"] = s["heldout"].recall();
        line[k + "_recall5_all"] = s["all"].recall();
        line[k + "_coverage5_heldout"] = s["heldout"].mean_coverage();
        line[k + "_p50_us"] = p50;
        line[k + "_p99_us"] = p99;
        line[k + "_degraded"] = mode->degraded;
      }
      std::printf("hybrid answers fused: %d of %zu scored questions (degraded to BM25: %d)\n", h.hybrid,
                  questions.size(), h.degraded);
      std::cout << line.dump() << std::endl;
    }
    http->stop();
  }
  std::error_code ec;
  fs::remove_all(scratch, ec);
  sa::bench::stop_child(fake_pid, 5s);
  return rc;
}
