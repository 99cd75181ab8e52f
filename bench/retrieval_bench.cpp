// bench_retrieval: the knowledge base at scale. Builds a ~10,000-chunk corpus deterministically from the
// shipped demo knowledge base (data/kb: every page, FAQ and ticket copied into N "editions" with small
// wording changes, so it stays realistic text and no two files are duplicates), then measures
//   - ingest: a cold `support-agent ingest` of the corpus (chunks/s, index size on disk), a re-ingest with
//     nothing changed, and one after 1% of the files changed;
//   - open: reading the index into memory, as a node does at start-up or on a hot reload;
//   - BM25: single-thread query latency p50/p99 (wall clock and thread CPU time) over a few thousand
//     realistic queries (FAQ questions, ticket subjects, page titles and headings, each reworded the way
//     customers ask), and hit@5: how often the page/FAQ/ticket a query was derived from is among the top 5
//     (any edition of it). `bm25` is the product's search (in-memory top-k); `bm25+cover` adds what the
//     retriever actor does next (each passage's coverage of the question, knowledge_index::coverage);
//     `bm25_fts5` ranks the same way through SQLite FTS5's MATCH ... ORDER BY, for comparison.
//
//   bench_retrieval [--chunks N(10000)] [--queries N(3000)] [--kb DIR(data/kb)] [--seed N(42)]
//
// Prints a table and one JSON line. To add a retriever (e.g. hybrid BM25 + embeddings): add an entry to
// `retrievers` in main() (a name and a search function returning chunk ids, best first); it gets the
// same queries, the same latency figures and hit@5, as a row of the table and fields of the JSON line.
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/questions.hpp"
#include "bench/stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
namespace kn = sa::knowledge;

namespace {

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// --- the corpus --------------------------------------------------------------------------------------

/// Wording that differs between editions (each edition swaps a different subset), so the editions are
/// near-duplicates in meaning but not in bytes, like a product's docs for several plans or regions.
const std::vector<std::pair<std::string, std::string>> rewordings = {
  {"documentation", "docs"}, {"project", "workspace"}, {"organization", "team"}, {"user", "member"},
  {"build", "compile"},      {"settings", "preferences"}, {"account", "profile"}, {"dashboard", "console"},
  {"you can", "it is possible to"}, {"click", "select"}, {"version", "release"}, {"page", "article"},
};
const std::vector<std::string> editions = {"Community", "Business", "Enterprise", "Education", "Startup",
                                           "Nonprofit", "EU",        "US",         "APAC",      "Government",
                                           "Partner",   "Trial",     "Legacy",     "Cloud",     "On-premises"};

std::string edition_name(int e) {
  return editions[static_cast<std::size_t>(e) % editions.size()]
         + (e >= static_cast<int>(editions.size()) ? " " + std::to_string(e / static_cast<int>(editions.size()) + 1) : "");
}

std::string reword(std::string text, int edition) {
  if (edition == 0)
    return text;
  for (std::size_t k = 0; k < rewordings.size(); ++k) {
    if (((static_cast<std::size_t>(edition) >> (k % 4)) & 1) == 0)
      continue;
    const auto& [from, to] = rewordings[k];
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  }
  return text;
}

/// Edition `e` of a Markdown page: reworded, with a line naming the edition at the end.
std::string markdown_edition(const std::string& text, int e) {
  return reword(text, e) + "\n\nThis article applies to the " + edition_name(e) + " edition.\n";
}

/// Edition `e` of the FAQ CSV: ids suffixed, answers reworded, the edition appended to each answer.
std::string faq_edition(const std::string& csv, int e) {
  if (e == 0)
    return csv;
  std::string out;
  std::istringstream in(csv);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) { // rows here are one line each; ids are the first field
    if (header || line.empty()) {
      out += line + "\n";
      header = false;
      continue;
    }
    auto comma = line.find(',');
    out += line.substr(0, comma) + "-e" + std::to_string(e) + reword(line.substr(comma), e) + "\n";
  }
  return out;
}

/// Edition `e` of the tickets: ids and subjects suffixed so each ticket is its own record.
std::string tickets_edition(const std::string& jsonl, int e) {
  if (e == 0)
    return jsonl;
  std::string out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto id = line.find("\"id\": \"");
    if (id != std::string::npos) {
      auto end = line.find('"', id + 7);
      line.insert(end, "-e" + std::to_string(e));
    }
    out += reword(line, e) + "\n";
  }
  return out;
}

/// Writes editions 0..n-1 of the knowledge base under `out/eNN/`.
std::size_t write_corpus(const fs::path& kb, const fs::path& out, int n) {
  std::vector<fs::path> pages;
  for (auto& entry : fs::recursive_directory_iterator(kb / "docs"))
    if (entry.is_regular_file() && entry.path().extension() == ".md")
      pages.push_back(entry.path());
  std::sort(pages.begin(), pages.end());
  const auto faq = read_file(kb / "faq.csv");
  const auto tickets = read_file(kb / "tickets.jsonl");
  std::size_t files = 0;
  for (int e = 0; e < n; ++e) {
    char dir[16];
    std::snprintf(dir, sizeof dir, "e%02d", e);
    for (const auto& p : pages) {
      write_file(out / dir / "docs" / p.lexically_relative(kb / "docs"), markdown_edition(read_file(p), e));
      ++files;
    }
    write_file(out / dir / "faq.csv", faq_edition(faq, e));
    write_file(out / dir / "tickets.jsonl", tickets_edition(tickets, e));
    files += 2;
  }
  return files;
}

/// A chunk id without its edition: "e03/docs/guides/x.md#2" -> "docs/guides/x.md", "faq:faq-001-e3" -> "faq:faq-001".
std::string canonical(const std::string& id) {
  if (id.rfind("faq:", 0) == 0 || id.rfind("ticket:", 0) == 0) {
    auto e = id.rfind("-e");
    return e != std::string::npos && e + 2 < id.size() && std::isdigit(static_cast<unsigned char>(id[e + 2]))
             ? id.substr(0, e)
             : id;
  }
  auto slash = id.find('/');
  auto hash = id.rfind('#');
  return id.substr(slash == std::string::npos ? 0 : slash + 1, hash == std::string::npos ? std::string::npos : hash - slash - 1);
}

// --- the queries -------------------------------------------------------------------------------------

struct query {
  std::string text;
  std::string expected; ///< canonical id of the source it was derived from
};

/// Customers' phrasings of a topic: templates over a title, question or subject.
std::string phrase(const std::string& topic, std::mt19937_64& rng) {
  std::string t = topic;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!t.empty() && (t.back() == '?' || t.back() == '.'))
    t.pop_back();
  static const char* templates[] = {"%s", "%s?", "how do i %s", "question about %s", "%s not working",
                                    "help with %s please", "where can i find %s", "i need help: %s",
                                    "can you explain %s", "%s - what are the options?"};
  // Sometimes a word is left out, as people do.
  std::istringstream words(t);
  std::vector<std::string> w;
  for (std::string x; words >> x;)
    w.push_back(x);
  if (w.size() > 4 && rng() % 3 == 0)
    w.erase(w.begin() + static_cast<long>(rng() % w.size()));
  std::string joined;
  for (auto& x : w)
    joined += (joined.empty() ? "" : " ") + x;
  char buf[512];
  std::snprintf(buf, sizeof buf, templates[rng() % (sizeof templates / sizeof *templates)], joined.c_str());
  return buf;
}

std::vector<query> make_queries(const fs::path& edition0, std::size_t count, std::uint64_t seed) {
  // Topics: every FAQ question, ticket subject, page title and heading of edition 0, with their source.
  std::vector<query> topics;
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& text, const std::string& id) {
    if (!text.empty() && seen.emplace(text, canonical(id)).second)
      topics.push_back({text, canonical(id)});
  };
  for (auto& entry : fs::recursive_directory_iterator(edition0)) {
    if (!entry.is_regular_file())
      continue;
    auto rel = entry.path().lexically_relative(edition0).generic_string();
    auto text = read_file(entry.path());
    std::vector<kn::chunk> chunks;
    if (entry.path().extension() == ".md") {
      chunks = kn::chunk_markdown(rel, text, {});
    } else if (entry.path().extension() == ".csv") {
      if (auto r = kn::parse_faq_csv(rel, text); r)
        chunks = *r;
    } else if (entry.path().extension() == ".jsonl") {
      if (auto r = kn::parse_tickets_jsonl(rel, text); r)
        chunks = *r;
    }
    for (const auto& c : chunks) {
      const auto id = c.kind == kn::source_kind::doc ? "e00/" + c.id : c.id; // as the ingested corpus names it
      add(c.title, id);
      if (!c.section.empty())
        add(c.section.substr(c.section.rfind(" > ") == std::string::npos ? 0 : c.section.rfind(" > ") + 3), id);
    }
  }
  for (std::size_t i = 0; i < sa::bench::question_count; ++i)
    topics.push_back({sa::bench::questions[i], ""}); // the benches' own questions: latency only
  std::sort(topics.begin(), topics.end(), [](const query& a, const query& b) { return a.text < b.text; });
  std::mt19937_64 rng(seed);
  std::vector<query> out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& t = topics[i < topics.size() ? i : rng() % topics.size()];
    out.push_back({i < topics.size() ? t.text : phrase(t.text, rng), t.expected});
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// --- measuring -----------------------------------------------------------------------------------------

/// A retriever under test: chunk ids for a query, best first.
struct retriever_under_test {
  std::string name;
  std::function<std::vector<std::string>(const std::string& query)> search;
};

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct retrieval_figures {
  std::string name;
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0, mean_us = 0, qps = 0;
  double cpu_p50_us = 0, cpu_p99_us = 0; ///< the same, in thread CPU time (what a busy machine cannot inflate)
  double hit5 = 0; ///< share of labelled queries whose source (any edition) is in the top 5
  std::size_t labelled = 0;
};

retrieval_figures measure(const retriever_under_test& r, const std::vector<query>& queries) {
  for (const auto& q : queries) // warm-up: connection pool, page cache, branch predictors
    r.search(q.text);
  std::vector<double> us, cpu;
  us.reserve(queries.size());
  cpu.reserve(queries.size());
  std::size_t labelled = 0, found = 0;
  const auto start = clock_type::now();
  for (const auto& q : queries) {
    const double c0 = thread_cpu_us();
    const auto t0 = clock_type::now();
    auto ids = r.search(q.text);
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    cpu.push_back(thread_cpu_us() - c0);
    if (q.expected.empty())
      continue;
    ++labelled;
    for (std::size_t k = 0; k < ids.size() && k < 5; ++k)
      if (canonical(ids[k]) == q.expected) {
        ++found;
        break;
      }
  }
  const double total = seconds_since(start);
  std::sort(us.begin(), us.end());
  retrieval_figures f;
  f.name = r.name;
  f.p50_us = sa::bench::percentile_sorted(us, 0.50);
  f.p90_us = sa::bench::percentile_sorted(us, 0.90);
  f.p99_us = sa::bench::percentile_sorted(us, 0.99);
  f.max_us = us.empty() ? 0 : us.back();
  f.mean_us = sa::bench::mean(us);
  std::sort(cpu.begin(), cpu.end());
  f.cpu_p50_us = sa::bench::percentile_sorted(cpu, 0.50);
  f.cpu_p99_us = sa::bench::percentile_sorted(cpu, 0.99);
  f.qps = total > 0 ? static_cast<double>(queries.size()) / total : 0;
  f.labelled = labelled;
  f.hit5 = labelled ? static_cast<double>(found) / static_cast<double>(labelled) : 0;
  return f;
}

kn::ingest_report ingest_or_throw(const std::string& root, const fs::path& corpus) {
  auto r = kn::ingest(root, "bench", {corpus.string()});
  if (!r)
    throw std::runtime_error("ingest: " + r.error());
  return *r;
}

} // namespace

int main(int argc, char** argv) {
  int target_chunks = 10000, query_count = 3000, seed = 42;
  std::string kb = "data/kb";
  try {
    sa::bench::option_parser p;
    p.add("--chunks", target_chunks).add("--queries", query_count).add("--kb", kb).add("--seed", seed);
    if (!p.parse(argc, argv)) {
      std::cout << "usage: bench_retrieval [--chunks N(10000)] [--queries N(3000)] [--kb DIR(data/kb)] [--seed N(42)]\n"
                   "Run from the repository root (reads data/kb).\n";
      return 0;
    }
    if (target_chunks < 100 || query_count < 1 || seed < 0)
      throw std::runtime_error("option out of range (--chunks >= 100, --queries >= 1, --seed >= 0)");
    if (!fs::is_directory(fs::path(kb) / "docs"))
      throw std::runtime_error(kb + ": no docs/ folder (run from the repository root or pass --kb)");
  } catch (const std::exception& e) {
    std::cerr << "bench_retrieval: " << e.what() << "\n";
    return 2;
  }

  const auto work = fs::temp_directory_path() / ("sa-bench-retrieval-" + std::to_string(::getpid()));
  const auto corpus = work / "corpus";
  const auto root = (work / "knowledge").string();
  int rc = 0;
  try {
    // How many editions make the target: edition 0 alone, chunked as the ingest will.
    write_corpus(kb, work / "probe", 1);
    auto probe = kn::knowledge_index::build({(work / "probe").string()}, ":memory:");
    if (!probe)
      throw std::runtime_error(probe.error());
    const auto per_edition = std::max<std::size_t>(1, (*probe)->chunk_count());
    const int n = static_cast<int>((static_cast<std::size_t>(target_chunks) + per_edition - 1) / per_edition);
    const auto files = write_corpus(kb, corpus, n);
    std::cerr << "bench_retrieval: " << files << " files in " << n << " editions of " << kb << " ("
              << per_edition << " chunks each)\n";

    // Ingest: cold, unchanged, 1% changed.
    auto cold = ingest_or_throw(root, corpus);
    auto unchanged = ingest_or_throw(root, corpus);
    std::vector<fs::path> docs;
    for (auto& entry : fs::recursive_directory_iterator(corpus))
      if (entry.is_regular_file() && entry.path().extension() == ".md")
        docs.push_back(entry.path());
    std::sort(docs.begin(), docs.end());
    const std::size_t changed = std::max<std::size_t>(1, files / 100);
    for (std::size_t i = 0; i < changed; ++i) {
      auto& p = docs[(i * 97) % docs.size()];
      write_file(p, read_file(p) + "\nRevised: this article was updated.\n");
    }
    auto incremental = ingest_or_throw(root, corpus);

    // Open (read into memory), then query.
    const auto t_open = clock_type::now();
    auto opened = kn::knowledge_index::open(cold.index_file);
    const double open_ms = seconds_since(t_open) * 1000;
    if (!opened)
      throw std::runtime_error(opened.error());
    auto index = *opened;
    auto queries = make_queries(corpus / "e00", static_cast<std::size_t>(query_count), static_cast<std::uint64_t>(seed));

    std::vector<retriever_under_test> retrievers;
    retrievers.push_back({"bm25", [index](const std::string& q) {
                            kn::search_options o; // all sources, weight 1, top 5: what a turn asks for
                            o.limit = 5;
                            std::vector<std::string> ids;
                            for (auto& h : index->search(q, o))
                              ids.push_back(std::move(h.passage.id));
                            return ids;
                          }});
    // What the retriever actor does per turn: the search, then how much of the question each passage covers
    // (knowledge_index::coverage, which the off-topic gate reads).
    retrievers.push_back({"bm25+cover", [index](const std::string& q) {
                            kn::search_options o;
                            o.limit = 5;
                            auto hits = index->search(q, o);
                            std::vector<const kn::chunk*> chunks;
                            for (const auto& h : hits)
                              chunks.push_back(&h.passage);
                            auto cover = index->coverage(q, chunks);
                            std::vector<std::string> ids;
                            for (std::size_t i = 0; i < hits.size() && cover.share.size() == hits.size(); ++i)
                              ids.push_back(std::move(hits[i].passage.id));
                            return ids;
                          }});
    // The same ranking through FTS5's MATCH ... ORDER BY (the reference the in-memory top-k is tested against).
    retrievers.push_back({"bm25_fts5", [index](const std::string& q) {
                            kn::search_options o;
                            o.limit = 5;
                            std::vector<std::string> ids;
                            for (auto& h : index->search_fts(q, o))
                              ids.push_back(std::move(h.passage.id));
                            return ids;
                          }});
    std::vector<retrieval_figures> figures;
    for (const auto& r : retrievers)
      figures.push_back(measure(r, queries));

    const double rate = cold.seconds > 0 ? static_cast<double>(cold.chunks) / cold.seconds : 0;
    std::printf("%-34s %s\n", "machine", (std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model()).c_str());
    std::printf("%-34s %zu files, %zu chunks (%d editions of %s)\n", "corpus", cold.files, cold.chunks, n, kb.c_str());
    std::printf("%-34s %10.2f s  %10.0f chunks/s\n", "ingest, cold", cold.seconds, rate);
    std::printf("%-34s %10.2f s  (%zu files unchanged)\n", "re-ingest, nothing changed", unchanged.seconds, unchanged.unchanged);
    std::printf("%-34s %10.2f s  (%zu files updated, +%zu -%zu chunks)\n", "re-ingest, 1% of files changed",
                incremental.seconds, incremental.updated, incremental.chunks_added, incremental.chunks_removed);
    std::printf("%-34s %10.1f MB (%llu bytes)\n", "index on disk", static_cast<double>(cold.index_bytes) / 1e6,
                static_cast<unsigned long long>(cold.index_bytes));
    std::printf("%-34s %10.1f ms (%.1f MB in memory)\n", "open (read into memory)", open_ms,
                static_cast<double>(index->image_bytes()) / 1e6);
    std::printf("%-34s %zu (%zu labelled with their source)\n", "queries", queries.size(), figures.front().labelled);
    std::printf("%-12s %9s %9s %9s %9s %9s %10s %10s %10s %7s\n", "retriever", "p50 us", "p90 us", "p99 us", "max us",
                "mean us", "queries/s", "cpu p50", "cpu p99", "hit@5");
    for (const auto& f : figures)
      std::printf("%-12s %9.1f %9.1f %9.1f %9.1f %9.1f %10.0f %10.1f %10.1f %7.3f%s\n", f.name.c_str(), f.p50_us,
                  f.p90_us, f.p99_us, f.max_us, f.mean_us, f.qps, f.cpu_p50_us, f.cpu_p99_us, f.hit5,
                  f.name == "bm25" ? "   (target: p99 < 1000 us)" : "");
    std::printf("{\"bench\":\"retrieval\",\"cores\":%u,\"cpu\":\"%s\",\"files\":%zu,\"chunks\":%zu,\"editions\":%d,"
                "\"ingest_s\":%.3f,\"ingest_chunks_per_s\":%.0f,\"reingest_unchanged_s\":%.3f,"
                "\"reingest_1pct_s\":%.3f,\"index_bytes\":%llu,\"open_ms\":%.1f,\"image_bytes\":%zu,\"queries\":%zu",
                sa::bench::cores(), sa::bench::cpu_model().c_str(), cold.files, cold.chunks, n, cold.seconds, rate,
                unchanged.seconds, incremental.seconds, static_cast<unsigned long long>(cold.index_bytes), open_ms,
                index->image_bytes(), queries.size());
    for (const auto& f : figures)
      std::printf(",\"%s_p50_us\":%.1f,\"%s_p90_us\":%.1f,\"%s_p99_us\":%.1f,\"%s_max_us\":%.1f,\"%s_mean_us\":%.1f,"
                  "\"%s_qps\":%.0f,\"%s_cpu_p50_us\":%.1f,\"%s_cpu_p99_us\":%.1f,\"%s_hit_at_5\":%.3f",
                  f.name.c_str(), f.p50_us, f.name.c_str(), f.p90_us, f.name.c_str(), f.p99_us, f.name.c_str(), f.max_us,
                  f.name.c_str(), f.mean_us, f.name.c_str(), f.qps, f.name.c_str(), f.cpu_p50_us, f.name.c_str(),
                  f.cpu_p99_us, f.name.c_str(), f.hit5);
    std::printf("}\n");
  } catch (const std::exception& e) {
    std::cerr << "bench_retrieval: " << e.what() << "\n";
    rc = 1;
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  return rc;
}
