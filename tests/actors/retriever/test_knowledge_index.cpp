// knowledge_index: building, ranking, source weights, query safety, concurrency, files on disk.
#include "actors/retriever/bm25_rank.hpp"
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/text_util.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace sa::knowledge;
using sa::knowledge::test::temp_dir;
namespace fs = std::filesystem;

namespace {

const char* readthedocs_pages = "/work/shared/data/readthedocs-kb/pages";

std::shared_ptr<const knowledge_index> build_ok(const std::vector<std::string>& paths,
                                                const std::string& db = ":memory:") {
  auto r = knowledge_index::build(paths, db);
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  return r.value();
}

std::vector<std::string> ids(const std::vector<search_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits)
    out.push_back(h.passage.id);
  return out;
}

std::size_t rank_of(const std::vector<search_hit>& hits, const std::string& id_prefix) {
  for (std::size_t i = 0; i < hits.size(); ++i)
    if (hits[i].passage.id.rfind(id_prefix, 0) == 0)
      return i;
  return hits.size();
}

const std::string filler = "This page covers general account housekeeping such as profile names, avatars, "
                           "notification settings and language preferences for the dashboard.";

} // namespace

TEST_CASE("A doc with the query terms in its title outranks one that mentions them once in its body") {
  temp_dir dir;
  dir.write("kb/a-general.md", "---\ntitle: Account basics\n---\n# Account basics\n\n" + filler
                                  + " You can also look at invoice history elsewhere.\n");
  dir.write("kb/b-invoices.md", "---\ntitle: Invoice history\n---\n# Invoice history\n\n"
                                   "Every invoice is listed with its date and amount, newest first, and "
                                   "invoice history can be exported.\n");
  auto index = build_ok({(dir.path() / "kb").string()});
  CHECK(index->chunk_count() == 2);
  auto hits = index->search("invoice history", {});
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].passage.id == "b-invoices.md#0");
  CHECK(hits[0].passage.title == "Invoice history");
  CHECK(hits[0].score > hits[1].score);
  CHECK(hits[1].score > 0);
}

TEST_CASE("Rarer query terms weigh more than common ones") {
  temp_dir dir;
  // "account" is on every page; "chargeback" on one page only.
  for (int i = 0; i < 6; ++i)
    dir.write("kb/common" + std::to_string(i) + ".md",
              "# Page " + std::to_string(i) + "\n\nYour account settings and account profile live here, "
                                              "account owners can change them.\n");
  dir.write("kb/rare.md", "# Disputes\n\nA chargeback is opened by the bank when a customer disputes a payment.\n");
  auto index = build_ok({dir.str()});
  auto hits = index->search("account chargeback", {});
  REQUIRE(hits.size() == 5);
  CHECK(hits[0].passage.id == "kb/rare.md#0"); // one mention of the rare term beats three of the common one
}

TEST_CASE("Source weights reorder hits and a weight of zero excludes a source") {
  temp_dir dir;
  dir.write("docs/shipping.md", "# Shipping times\n\nStandard shipping takes five days; express shipping takes two.\n");
  dir.write("faq.csv", "id,question,answer\nship,How long does shipping take?,Standard shipping takes five days.\n");
  dir.write("tickets.jsonl",
            R"({"id":"9","subject":"Late shipping","conversation":[{"role":"customer","text":"My shipping is late."}],"resolution":"Carrier delay, shipping refunded."})"
            "\n");
  auto index = build_ok({dir.str()});
  CHECK(index->chunk_count() == 3);

  auto all = index->search("shipping", {});
  REQUIRE(all.size() == 3);

  search_options faq_first;
  faq_first.sources = {{source_kind::doc, 1.0}, {source_kind::faq, 100.0}, {source_kind::ticket, 1.0}};
  auto boosted = index->search("shipping", faq_first);
  REQUIRE(boosted.size() == 3);
  CHECK(boosted[0].passage.id == "faq:ship");
  CHECK(boosted[0].passage.kind == source_kind::faq);

  search_options ticket_first;
  ticket_first.sources = {{source_kind::doc, 1.0}, {source_kind::faq, 1.0}, {source_kind::ticket, 100.0}};
  CHECK(index->search("shipping", ticket_first).at(0).passage.id == "ticket:9");

  // the score is the unweighted score times the weight
  auto plain_faq = std::find_if(all.begin(), all.end(), [](auto& h) { return h.passage.id == "faq:ship"; });
  REQUIRE(plain_faq != all.end());
  CHECK(boosted[0].score == Approx(plain_faq->score * 100.0));

  search_options no_tickets;
  no_tickets.sources = {{source_kind::doc, 1.0}, {source_kind::faq, 1.0}, {source_kind::ticket, 0.0}};
  auto without = index->search("shipping", no_tickets);
  CHECK(without.size() == 2);
  for (const auto& h : without)
    CHECK(h.passage.kind != source_kind::ticket);

  search_options faq_only; // kinds not listed keep weight 1
  faq_only.sources = {{source_kind::doc, 0.0}, {source_kind::ticket, 0.0}};
  CHECK(ids(index->search("shipping", faq_only)) == std::vector<std::string>{"faq:ship"});

  search_options docs_only;
  docs_only.sources = {{source_kind::faq, 0.0}, {source_kind::ticket, 0.0}, {source_kind::doc, 2.0}};
  auto docs = index->search("shipping", docs_only);
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].passage.id == "docs/shipping.md#0");
  CHECK(docs[0].passage.section == "Shipping times");

  search_options none;
  none.sources = {{source_kind::doc, 0.0}, {source_kind::faq, -1.0}, {source_kind::ticket, 0.0}};
  CHECK(index->search("shipping", none).empty());

  search_options one;
  one.sources = faq_first.sources;
  one.limit = 1; // the limit applies after weighting
  CHECK(ids(index->search("shipping", one)) == std::vector<std::string>{"faq:ship"});
}

TEST_CASE("Queries with FTS5 syntax characters never error") {
  temp_dir dir;
  dir.write("kb/near.md", "# Near and far\n\nThe NEAR operator and quotes \"like this\" are just words here.\n");
  auto index = build_ok({dir.str()});
  const char* nasty[] = {
    "\"",       "\"\"\"",        "*",          "-",        "-near",      "NEAR(a b, 3)",  "near/2",
    "(",        ")",             "((()",       "AND",      "OR",         "NOT",           "a AND OR b",
    "title:x",  "{title}: near", "^near",      "near*",    "'; DROP TABLE chunks; --",    "\\",
    "\x01\x02", "\xFF\xFE",      "near + far", "near:far", "\"near\" AND \"far\"",         "col:* OR ()",
  };
  for (const char* q : nasty) {
    INFO(q);
    CHECK_NOTHROW(index->search(q, {}));
  }
  CHECK(index->search("NEAR(far", {}).size() == 1);
  CHECK(index->search("\"like this\"", {}).size() == 1);
  CHECK(index->search("far*", {}).size() == 1);
  CHECK(index->chunk_count() == 1); // the injection attempt changed nothing
}

TEST_CASE("Empty and stop-word-only queries return nothing") {
  temp_dir dir;
  dir.write("kb/a.md", "# The\n\nThe and of to in is it this that: all stop words, plus the word refund.\n");
  auto index = build_ok({dir.str()});
  CHECK(index->search("", {}).empty());
  CHECK(index->search("   \t\n", {}).empty());
  CHECK(index->search("the and of to", {}).empty());
  CHECK(index->search("?!.,;", {}).empty());
  CHECK(index->search("nothingmatchesthis", {}).empty());
  search_options zero;
  zero.limit = 0;
  CHECK(index->search("refund", zero).empty());
  CHECK(index->search("refund", {}).size() == 1);
}

TEST_CASE("Concurrent searches from 8 threads give the same results as sequential ones") {
  temp_dir dir;
  const char* topics[] = {"billing", "refund", "password", "shipping", "invoice", "account", "login", "export"};
  for (int i = 0; i < 120; ++i) {
    std::string body;
    for (int k = 0; k < 3; ++k)
      body += std::string("This note mentions ") + topics[(i * (k + 1)) % 8] + " and " + topics[(i + k) % 8]
              + " in passing. ";
    dir.write("kb/note" + std::to_string(1000 + i) + ".md", "# Note " + std::to_string(i) + "\n\n" + body + "\n");
  }
  const std::vector<std::string> queries = {"billing refund", "password login", "shipping", "invoice export",
                                            "account billing password", "refund shipping login"};
  for (const std::string& db : {std::string(":memory:"), (dir.path() / "index.db").string()}) {
    auto index = build_ok({(dir.path() / "kb").string()}, db);
    search_options opts;
    opts.limit = 10;
    std::vector<std::vector<std::string>> expected;
    for (const auto& q : queries)
      expected.push_back(ids(index->search(q, opts)));
    std::atomic<int> mismatches{0}, empty{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int round = 0; round < 50; ++round) {
          std::size_t q = static_cast<std::size_t>(t + round) % queries.size();
          auto got = ids(index->search(queries[q], opts));
          if (got.empty())
            ++empty;
          if (got != expected[q])
            ++mismatches;
        }
      });
    for (auto& th : threads)
      th.join();
    INFO(db);
    CHECK(mismatches == 0);
    CHECK(empty == 0);
  }
}

TEST_CASE("The readthedocs pages answer real questions in the top 3") {
  if (!fs::is_directory(readthedocs_pages)) {
    WARN("skipped: " << readthedocs_pages << " not found");
    return;
  }
  temp_dir dir;
  fs::copy(readthedocs_pages, dir.path() / "pages", fs::copy_options::recursive);
  auto index = build_ok({(dir.path() / "pages").string()});
  CHECK(index->chunk_count() > 149);
  search_options top3;
  top3.limit = 3;
  auto ssl = index->search("custom domain SSL certificate", top3);
  INFO("ssl: " << Catch::StringMaker<std::vector<std::string>>::convert(ids(ssl)));
  CHECK(rank_of(ssl, "custom-domains.md#") < 3);
  auto tfa = index->search("two factor authentication", top3);
  INFO("2fa: " << Catch::StringMaker<std::vector<std::string>>::convert(ids(tfa)));
  CHECK(rank_of(tfa, "guides/management/2fa.md#") < 3);
  REQUIRE_FALSE(tfa.empty());
  CHECK(tfa[0].passage.url.rfind("https://", 0) == 0); // front matter url
  CHECK_FALSE(tfa[0].passage.title.empty());
}

TEST_CASE("A file index is built atomically and reopens with the same results") {
  temp_dir dir;
  dir.write("kb/pw.md", "---\ntitle: Passwords\nurl: https://x.test/pw\n---\n# Reset\n\nUse the reset link we email you.\n");
  dir.write("kb/faq.csv", "id,question,answer\n1,Can I change my email?,Yes: Settings > Email.\n");
  const std::string db = (dir.path() / "out" / "index.db").string();
  fs::create_directories(dir.path() / "out");
  auto built = build_ok({(dir.path() / "kb").string()}, db);
  CHECK(fs::is_regular_file(db));
  CHECK_FALSE(fs::exists(db + ".tmp"));
  auto before = built->search("reset email password", {});
  REQUIRE(before.size() == 2);

  auto reopened = knowledge_index::open(db);
  REQUIRE(reopened.ok());
  CHECK(reopened.value()->chunk_count() == 2);
  auto after = reopened.value()->search("reset email password", {});
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].passage.id == before[i].passage.id);
    CHECK(after[i].passage.text == before[i].passage.text);
    CHECK(after[i].passage.url == before[i].passage.url);
    CHECK(after[i].score == Approx(before[i].score));
  }
  CHECK(after[0].passage.url == "https://x.test/pw");

  // rebuilding over an existing index (and a stale .tmp) replaces it; open handles keep working
  dir.write("out/index.db.tmp", "stale");
  dir.write("kb/more.md", "# Email\n\nChanging email needs the password again.\n");
  auto rebuilt = build_ok({(dir.path() / "kb").string()}, db);
  CHECK(rebuilt->chunk_count() == 3);
  CHECK(reopened.value()->search("email", {}).size() == 2); // still the old snapshot
  auto fresh = knowledge_index::open(db);
  REQUIRE(fresh.ok());
  CHECK(fresh.value()->chunk_count() == 3);
  CHECK(fresh.value()->search("email", {}).size() == 3);
}

TEST_CASE("open() fails clearly on a missing file or a file that is not an index") {
  temp_dir dir;
  auto missing = knowledge_index::open((dir.path() / "nope.db").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("nope.db") != std::string::npos);

  auto text = dir.write("notes.db", "this is not a database, just text that is long enough to fill a header....");
  auto not_db = knowledge_index::open(text);
  REQUIRE_FALSE(not_db.ok());
  CHECK(not_db.error().find("not a knowledge index") != std::string::npos);

  auto empty = dir.write("empty.db", "");
  auto not_index = knowledge_index::open(empty);
  REQUIRE_FALSE(not_index.ok());
  CHECK(not_index.error().find("not a knowledge index") != std::string::npos);

  CHECK_FALSE(knowledge_index::open(dir.str()).ok()); // a directory
}

TEST_CASE("build() fails naming the file for missing, binary, invalid UTF-8 or malformed input") {
  temp_dir dir;
  auto fails_with = [&](const std::vector<std::string>& paths, const std::string& needle) {
    auto r = knowledge_index::build(paths, ":memory:");
    REQUIRE_FALSE(r.ok());
    INFO(r.error());
    CHECK(r.error().find(needle) != std::string::npos);
  };
  fails_with({(dir.path() / "missing").string()}, "missing: no such file");

  temp_dir bin;
  bin.write("a.md", "# ok\n\nfine\n");
  bin.write("b.md", std::string("# bad\n\x00\x01", 8));
  fails_with({bin.str()}, "b.md: binary file");

  temp_dir utf;
  utf.write("sub/c.md", "# ok\n\nline two\nbad \xC3\x28 byte\n");
  fails_with({utf.str()}, "sub/c.md:4: invalid UTF-8");

  temp_dir csv;
  csv.write("faq.csv", "question,answer\nQ?,A\nQ2?,A2,extra\n");
  fails_with({csv.str()}, "faq.csv:3:");

  temp_dir tickets;
  tickets.write("t.jsonl", "{\"id\":1,\"subject\":\"s\",\"conversation\":[],\"resolution\":\"r\"}\n{oops}\n");
  fails_with({(tickets.path() / "t.jsonl").string()}, "t.jsonl:2: invalid JSON");

  auto odd = dir.write("image.png", "not really");
  fails_with({odd}, "unsupported file type");

  // unsupported files inside a directory, and hidden folders, are skipped
  temp_dir mixed;
  mixed.write("logo.png", std::string("\x89PNG\x00", 5));
  mixed.write(".git/HEAD.md", std::string("\x00", 1));
  mixed.write("ok.md", "# Fine\n\nA fine page.\n");
  auto r = knowledge_index::build({mixed.str()}, ":memory:");
  REQUIRE(r.ok());
  CHECK(r.value()->chunk_count() == 1);
}

TEST_CASE("Chunk ids are relative to the given path and stable across builds") {
  temp_dir dir;
  dir.write("root/z.md", "# Z\n\nzebra crossing\n");
  dir.write("root/sub/a.md", "# A\n\nzebra stripes\n");
  auto single = dir.write("single.md", "# S\n\nzebra single\n");
  auto index = build_ok({(dir.path() / "root").string(), single});
  search_options opts;
  opts.limit = 10;
  auto hits = ids(index->search("zebra", opts));
  std::sort(hits.begin(), hits.end());
  CHECK(hits == std::vector<std::string>{"single.md#0", "sub/a.md#0", "z.md#0"});
  auto again = build_ok({(dir.path() / "root").string(), single});
  CHECK(ids(again->search("zebra", opts)) == ids(index->search("zebra", opts)));
}

TEST_CASE("The in-memory BM25 ranking scores exactly like SQLite's bm25()") {
  temp_dir dir;
  for (int i = 0; i < 30; ++i) {
    std::string body;
    for (int k = 0; k <= i % 7; ++k)
      body += "Paragraph about refunds, invoices and plan " + std::to_string(k) + " for customers. ";
    dir.write("kb/p" + std::to_string(i) + ".md", "# Page " + std::to_string(i) + (i % 3 ? " refunds" : "")
                                                    + "\n\n" + body + "\n");
  }
  dir.write("kb/faq.csv", "question,answer\nHow do refunds work?,Refunds go back to the card.\n");
  dir.write("kb/t.jsonl", R"({"id":1,"subject":"Invoice copy","conversation":[{"role":"c","text":"Need my invoice"}],"resolution":"Sent"})"
                          "\n");
  const std::string db_path = (dir.path() / "index.db").string();
  build_ok({(dir.path() / "kb").string()}, db_path);

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  detail::rank_stats stats;
  REQUIRE(detail::load_rank_stats(db, "chunks", stats).ok());
  CHECK(stats.rows == 32);
  REQUIRE(detail::register_bm25(db, &stats).ok());
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT sa_bm25(chunks, 4.0, 2.0, 1.0), -bm25(chunks, 4.0, 2.0, 1.0) FROM chunks"
                                 " WHERE chunks MATCH ?1", -1, &st, nullptr) == SQLITE_OK);
  int rows = 0;
  for (const char* q : {"refunds invoices", "page", "customers plan 3", "invoice copy card"}) {
    auto match = detail::fts_query(q);
    sqlite3_bind_text(st, 1, match.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      ++rows;
      CHECK(sqlite3_column_double(st, 0) == Approx(sqlite3_column_double(st, 1)).epsilon(1e-9));
    }
    sqlite3_reset(st);
  }
  CHECK(rows > 60);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("The in-memory top-k gives exactly FTS5's ranking: the same chunks, order and scores") {
  // The shipped knowledge base and realistic questions: FAQ questions, ticket subjects, and a few odd ones.
  const std::string kb = std::string(SA_SOURCE_DIR) + "/data/kb";
  auto index = build_ok({kb});
  std::vector<std::string> queries = {"How do I add a custom domain?", "Why was I charged twice this month?",
                                      "two factor authentication", "build out of memory", "yearly invoice receipt",
                                      "sso login for my org", "delete my project", "webhook", "a", "zzzz unknown",
                                      "pull request previews", "redirects", "search not working"};
  auto faq = parse_faq_csv("faq.csv", [&] {
    std::ifstream in(kb + "/faq.csv");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }());
  REQUIRE(faq.ok());
  for (const auto& c : faq.value())
    queries.push_back(c.title);
  std::vector<search_options> variants(4);
  variants[1].limit = 20;
  variants[2].sources = {{source_kind::doc, 1.2}, {source_kind::faq, 0.0}, {source_kind::ticket, 0.5}};
  variants[3].sources = {{source_kind::doc, 0.0}, {source_kind::faq, 1.3}, {source_kind::ticket, 0.0}};
  variants[3].limit = 1000;
  std::size_t compared = 0;
  for (const auto& q : queries)
    for (const auto& opts : variants) {
      auto fast = index->search(q, opts);
      auto reference = index->search_fts(q, opts);
      INFO("query '" << q << "', limit " << opts.limit);
      REQUIRE(fast.size() == reference.size());
      for (std::size_t i = 0; i < fast.size(); ++i) {
        CHECK(fast[i].passage.id == reference[i].passage.id);
        CHECK(fast[i].score == reference[i].score); // bit for bit: the same operands in the same order
      }
      compared += fast.size();
    }
  CHECK(compared > 1000);
  // A phrase FTS5 splits into two tokens (a symbol the query parser keeps inside a word) takes the FTS5 path.
  auto odd = index->search("domain\xE2\xBA\x80name", {});
  CHECK(ids(odd) == ids(index->search_fts("domain\xE2\xBA\x80name", {})));
}

namespace {

/// A chunk that is no row of any index: coverage() tokenizes its text.
chunk loose(std::string text) {
  chunk c;
  c.id = "loose#0";
  c.text = std::move(text);
  return c;
}

std::vector<double> shares(const knowledge_index& index, std::string_view question, const std::vector<chunk>& chunks) {
  std::vector<const chunk*> ptrs;
  for (const auto& c : chunks)
    ptrs.push_back(&c);
  return index.coverage(question, ptrs).share;
}

} // namespace

TEST_CASE("coverage weighs a question's terms by their IDF in the index, and a word the index lacks most") {
  temp_dir dir;
  // "build" is on every page: it tells the pages (and a question's subject) apart the least.
  dir.write("kb/webhooks.md", "# Webhook signatures\n\nEvery webhook build event carries an HMAC signature header; "
                              "verify it with your signing secret.\n");
  dir.write("kb/install.md", "# Installing dependencies\n\nThe build installs the packages of your requirements "
                             "file before it runs, in a clean environment for the whole world to reproduce.\n");
  dir.write("kb/billing.md", "# Annual plans\n\nAn annual plan is billed once a year; the build minutes reset "
                             "monthly.\n");
  dir.write("kb/logs.md", "# Build logs\n\nEvery build keeps its log for thirty days.\n");
  auto index = build_ok({(dir.path() / "kb").string()});
  const auto webhooks = loose("Every webhook build event carries an HMAC signature header; verify it with your "
                              "signing secret.");
  const auto install = loose("Installing dependencies. The build installs the packages of your requirements "
                             "file before it runs, in a clean environment for the whole world to reproduce.");
  const auto annual = loose("Annual plans. An annual plan is billed once a year.");

  SECTION("the whole question in the text: all of it, whatever the inflection or case") {
    auto c = index->coverage("How do I verify the webhook signature?", {&webhooks});
    CHECK(c.terms == 3);
    CHECK(c.share.at(0) == Approx(1.0));
    CHECK(shares(*index, "VERIFYING WEBHOOK SIGNATURES", {webhooks}).at(0) == Approx(1.0));
  }
  SECTION("whole words only, and the word the index never uses outweighs the common ones") {
    // "tallest" is in no page ("install" does not hold it); "building" and "world" are, "building" on all.
    auto c = index->coverage("what is the tallest building in the world", {&install});
    CHECK(c.terms == 3);
    CHECK(c.share.at(0) > 0.2);
    CHECK(c.share.at(0) < 0.5);
  }
  SECTION("a term everywhere counts little, a rare one much") {
    auto s = shares(*index, "build webhook", {loose("our build failed"), webhooks});
    CHECK(s.at(0) < 0.1);
    CHECK(s.at(1) == Approx(1.0));
  }
  SECTION("the documentation's word for a term covers it") {
    auto s = shares(*index, "yearly plan", {annual, loose("a plan for a team")});
    CHECK(s.at(0) == Approx(1.0));
    CHECK(s.at(1) < 0.6);
  }
  SECTION("no search terms: nothing to cover") {
    auto c = index->coverage("is it the same as before?", {&webhooks, &install});
    CHECK(c.terms == 0);
    CHECK(c.share == std::vector<double>{0.0, 0.0});
    CHECK(index->coverage("webhook", {}).share.empty());
  }
}

TEST_CASE("coverage of a searched chunk, read from the postings, equals its text's") {
  temp_dir dir;
  dir.write("kb/webhooks.md", "---\ntitle: Webhook signatures\n---\n# Verifying\n\nEvery webhook carries an HMAC "
                              "signature header; verify it with your signing secret.\n\n# Retries\n\nFailed "
                              "deliveries are retried five times with exponential backoff.\n");
  dir.write("kb/billing.md", "# Annual plans\n\nAn annual plan is billed once a year; invoices list each seat.\n");
  dir.write("kb/faq.csv", "question,answer\nHow do I get a yearly invoice?,Annual invoices are on the billing page.\n");
  dir.write("kb/tickets.jsonl", "{\"id\":\"T-1\",\"subject\":\"Webhook retries stopped\",\"conversation\":"
                                "[{\"role\":\"customer\",\"text\":\"our webhook retries stopped\"}],"
                                "\"resolution\":\"The signing secret was rotated; retries resumed.\",\"tags\":[]}\n");
  auto index = build_ok({(dir.path() / "kb").string()});
  for (const std::string question : {"how are webhook retries verified", "yearly invoice per seat",
                                     "signing secret rotated", "webhook football"}) {
    INFO(question);
    search_options o;
    o.limit = 10;
    auto hits = index->search(question, o);
    REQUIRE_FALSE(hits.empty());
    std::vector<chunk> rows, texts;
    for (const auto& h : hits) {
      CHECK(h.passage.rowid != 0);
      rows.push_back(h.passage);
      texts.push_back(h.passage);
      texts.back().rowid = 0;
    }
    auto by_row = shares(*index, question, rows);
    auto by_text = shares(*index, question, texts);
    REQUIRE(by_row.size() == by_text.size());
    for (std::size_t i = 0; i < by_row.size(); ++i)
      CHECK(by_row[i] == Approx(by_text[i]).margin(1e-12));
  }
  // A rowid this index does not have is read as text, never as another row.
  auto stray = loose("webhook retries");
  stray.rowid = 987654321;
  CHECK(shares(*index, "webhook retries", {stray}).at(0) == Approx(1.0));
}
