// knowledge::ingest: the per-tenant on-disk index, incremental re-ingest, duplicates, bad input, empty
// knowledge bases, interruption, locking and tenant isolation. Real files in a temporary directory.
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace sa::knowledge;
using sa::knowledge::test::temp_dir;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

/// A small knowledge base with one file of every kind.
void write_kb(const temp_dir& dir) {
  dir.write("kb/docs/passwords.md", "---\ntitle: Passwords\nurl: https://help.test/passwords\n---\n# Reset\n\n"
                                    "Use the reset link we email you to choose a new password.\n");
  dir.write("kb/docs/domains.html", "<html><head><title>Custom domains</title></head><body><h1>Custom domains</h1>"
                                    "<p>Point a CNAME record at your project to serve docs on your own domain.</p>"
                                    "</body></html>\n");
  dir.write("kb/docs/notes.txt", "Builds time out after fifteen minutes on the free plan.\n");
  dir.write("kb/faq.csv", "id,question,answer\nf1,Can I change my email?,Yes: Settings then Email.\n");
  dir.write("kb/faq.json", R"([{"id": "j1", "question": "Do you offer invoices?", "answer": "Yes, monthly invoices are emailed."}])");
  dir.write("kb/tickets.jsonl", R"({"id": "T-1", "subject": "Webhook failing", "conversation": [{"role": "customer", "text": "Our webhook returns 500"}], "resolution": "Rotated the webhook secret."})"
                                "\n");
}

ingest_report ingest_ok(const std::string& root, const std::string& tenant, const std::vector<std::string>& paths,
                        const ingest_options& opts = {}) {
  auto r = ingest(root, tenant, paths, opts);
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  return r.value();
}

std::string ingest_error(const std::string& root, const std::string& tenant, const std::vector<std::string>& paths,
                         const ingest_options& opts = {}) {
  auto r = ingest(root, tenant, paths, opts);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::shared_ptr<const knowledge_index> open_ok(const std::string& file) {
  auto r = knowledge_index::open(file);
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  return r.value();
}

bool finds(const knowledge_index& index, const std::string& query, const std::string& id_prefix) {
  search_options opts;
  opts.limit = 50;
  for (const auto& h : index.search(query, opts))
    if (h.passage.id.rfind(id_prefix, 0) == 0)
      return true;
  return false;
}

std::size_t hits(const knowledge_index& index, const std::string& query) {
  search_options opts;
  opts.limit = 50;
  return index.search(query, opts).size();
}

/// Rows of the manifest (sa_sources), read straight from the file.
std::size_t manifest_rows(const std::string& file, const std::string& where = "1") {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT count(*) FROM sa_sources WHERE " + where;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  auto n = static_cast<std::size_t>(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

file_stamp stamp_of(const std::string& file) {
  file_stamp s;
  REQUIRE(stat_file(file, s));
  return s;
}

/// Sets a file's mtime one minute into the past, so a rewrite within the same clock tick still differs.
void age(const std::string& file) {
  auto t = fs::last_write_time(file);
  fs::last_write_time(file, t - std::chrono::minutes(1));
}

} // namespace

TEST_CASE("An ingest writes the tenant's index with its manifest, and the index answers queries") {
  temp_dir dir;
  write_kb(dir);
  const auto root = (dir.path() / "state" / "knowledge").string();
  std::vector<ingest_progress> seen;
  ingest_options opts;
  opts.progress = [&](const ingest_progress& p) { seen.push_back(p); };
  auto rep = ingest_ok(root, "acme", {(dir.path() / "kb").string()}, opts);
  CHECK(rep.written);
  CHECK(rep.generation == 1);
  CHECK(rep.files == 6);
  CHECK(rep.added == 6);
  CHECK(rep.updated + rep.removed + rep.unchanged == 0);
  CHECK(rep.chunks == 6);
  CHECK(rep.chunks_added == 6);
  CHECK(rep.index_file == tenant_index_file(root, "acme"));
  CHECK(rep.index_bytes == fs::file_size(rep.index_file));
  CHECK(rep.duplicates.empty());
  CHECK_FALSE(fs::exists(rep.index_file + ".tmp"));
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back().files_done == 6);
  CHECK(seen.back().files_total == 6);

  auto index = open_ok(rep.index_file);
  CHECK(index->chunk_count() == 6);
  CHECK(index->generation() == 1);
  CHECK(finds(*index, "reset password", "docs/passwords.md#"));
  CHECK(finds(*index, "CNAME domain", "docs/domains.html#"));
  CHECK(finds(*index, "builds time out", "docs/notes.txt#"));
  CHECK(finds(*index, "change email", "faq:f1"));
  CHECK(finds(*index, "invoices", "faq:j1"));
  CHECK(finds(*index, "webhook secret", "ticket:T-1"));
  search_options one;
  one.limit = 1;
  auto top = index->search("reset password", one);
  REQUIRE(top.size() == 1);
  CHECK(top[0].passage.title == "Passwords"); // citations keep title, url and section
  CHECK(top[0].passage.url == "https://help.test/passwords");
  CHECK(top[0].passage.section == "Reset");
  CHECK(manifest_rows(rep.index_file) == 6);
  CHECK(manifest_rows(rep.index_file, "length(sha256) = 64 AND size > 0 AND mtime_ns > 0") == 6);
}

TEST_CASE("Re-ingest skips unchanged files, re-chunks a changed one and removes a deleted one") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  ingest_ok(root, "acme", kb);

  dir.write("kb/docs/passwords.md", "# Reset\n\nPasswords are reset from the sign-in page with a magic link.\n");
  age(dir.str() + "/kb/docs/passwords.md");
  fs::remove(dir.path() / "kb" / "docs" / "notes.txt");
  std::size_t read_progress = 0;
  ingest_options opts;
  opts.progress = [&](const ingest_progress& p) { read_progress += p.stage == ingest_progress::phase::reading; };
  auto rep = ingest_ok(root, "acme", kb, opts);
  CHECK(rep.written);
  CHECK(rep.generation == 2);
  CHECK(rep.files == 5);
  CHECK(rep.added == 0);
  CHECK(rep.updated == 1);
  CHECK(rep.removed == 1);
  CHECK(rep.unchanged == 4);
  CHECK(rep.chunks_added == 1);
  CHECK(rep.chunks_removed == 2);
  CHECK(rep.chunks == 5);
  CHECK(read_progress == 5);

  auto index = open_ok(rep.index_file);
  CHECK(index->chunk_count() == 5);
  CHECK(index->generation() == 2);
  CHECK(finds(*index, "magic link", "docs/passwords.md#"));
  CHECK_FALSE(finds(*index, "email you to choose", "docs/passwords.md#")); // the old version is gone
  CHECK(hits(*index, "fifteen minutes") == 0);                              // the deleted file is gone
  CHECK(finds(*index, "webhook secret", "ticket:T-1"));                     // unchanged files stay
  CHECK(manifest_rows(rep.index_file) == 5);

  SECTION("nothing changed: nothing is written") {
    auto before = stamp_of(rep.index_file);
    auto again = ingest_ok(root, "acme", kb);
    CHECK_FALSE(again.written);
    CHECK(again.generation == 2);
    CHECK(again.unchanged == 5);
    CHECK(again.chunks == 5);
    CHECK(stamp_of(rep.index_file) == before);
  }
  SECTION("a file rewritten with the same content is recognised by its hash and not chunked again") {
    const auto faq = dir.str() + "/kb/faq.csv";
    std::ifstream in(faq);
    std::string same((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    dir.write("kb/faq.csv", same);
    age(faq);
    auto touched = ingest_ok(root, "acme", kb);
    CHECK(touched.unchanged == 5);
    CHECK(touched.added + touched.updated + touched.removed == 0);
    CHECK(touched.chunks_added == 0);
    CHECK(touched.chunks == 5);
    auto fast = ingest_ok(root, "acme", kb); // the new mtime is in the manifest now
    CHECK_FALSE(fast.written);
  }
}

TEST_CASE("Duplicate documents are reported and indexed once, and the copy takes over when the original goes") {
  temp_dir dir;
  const std::string text = "# Refunds\n\nRefunds for annual plans are prorated to the day.\n";
  dir.write("kb/a/refunds.md", text);
  dir.write("kb/b/refunds-copy.md", text);
  dir.write("kb/other.md", "# Other\n\nSomething else entirely about webhooks.\n");
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  auto rep = ingest_ok(root, "acme", kb);
  CHECK(rep.files == 3);
  REQUIRE(rep.duplicates.size() == 1);
  CHECK_THAT(rep.duplicates[0].first, Contains("b/refunds-copy.md"));
  CHECK_THAT(rep.duplicates[0].second, Contains("a/refunds.md"));
  CHECK(rep.chunks == 2);
  auto index = open_ok(rep.index_file);
  CHECK(hits(*index, "prorated refunds") == 1);
  CHECK(finds(*index, "prorated refunds", "a/refunds.md#"));

  // The same file named twice is one source, not a duplicate.
  auto twice = ingest_ok(root, "acme", {kb[0], (dir.path() / "kb" / "other.md").string()});
  CHECK(twice.files == 3);
  CHECK(twice.duplicates.size() == 1);

  fs::remove(dir.path() / "kb" / "a" / "refunds.md");
  auto after = ingest_ok(root, "acme", kb);
  CHECK(after.removed == 1);
  CHECK(after.updated == 1); // the copy is indexed now
  CHECK(after.duplicates.empty());
  auto reopened = open_ok(after.index_file);
  CHECK(hits(*reopened, "prorated refunds") == 1);
  CHECK(finds(*reopened, "prorated refunds", "b/refunds-copy.md#"));
}

TEST_CASE("Bad sources fail the ingest naming file and line, every one of them, and nothing is written") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  auto first = ingest_ok(root, "acme", kb);
  const auto before = stamp_of(first.index_file);
  ingest_options opts;
  opts.chunking.max_file_bytes = 4096;

  auto fails_with = [&](const std::string& relative, const std::string& content, const std::string& needle) {
    dir.write(relative, content);
    auto error = ingest_error(root, "acme", kb, opts);
    INFO(error);
    CHECK_THAT(error, Contains(needle));
    CHECK_THAT(error, Contains("nothing was ingested; the previous index is unchanged"));
    CHECK(stamp_of(first.index_file) == before);
    CHECK_FALSE(fs::exists(first.index_file + ".tmp"));
    fs::remove(dir.path() / relative);
  };
  fails_with("kb/bin.md", std::string("# x\n\x00\x01\x02", 7), "kb/bin.md: binary file (NUL byte at offset 4)");
  fails_with("kb/utf.md", "# ok\n\nline two\nbad \xC3\x28 byte\n", "kb/utf.md:4: invalid UTF-8");
  fails_with("kb/huge.md", std::string(5000, 'a'), "kb/huge.md: too large (0.0 MB, over the limit of 0.0 MB, "
                                                   "retriever.max_file_bytes = 4096)");
  fails_with("kb/page.html", "<html>\n<body>\n<p>Hello <a href=\"x\n</body>\n", "kb/page.html:3: tag '<a' is never closed");
  fails_with("kb/page.html", "<html>\n<!-- a comment\n<p>text</p>\n", "kb/page.html:2: comment '<!--' is never closed");
  fails_with("kb/page.html", "<p>x</p>\n<script>\nvar a = 1;\n", "kb/page.html:2: <script> element is never closed");
  fails_with("kb/more.csv", "id,question\n1,What?\n", "kb/more.csv:1: missing required column 'answer'");
  fails_with("kb/more.jsonl", "{\"id\":1,\"subject\":\"s\",\"conversation\":[],\"resolution\":\"r\"}\n{oops}\n",
             "kb/more.jsonl:2: invalid JSON");
  fails_with("kb/more.json", "[\n  {\"question\": \"Q?\", \"answer\": \"A\"},\n  {\"question\": \"Q2?\"}\n]\n",
             "kb/more.json:3: FAQ entry 2: missing required field 'answer'");
  fails_with("kb/more.json", "[\n  {\"question\": \"Q?\",\n   \"answer\": }\n]\n", "kb/more.json:3: invalid JSON");

  // A symlink to nothing is unreadable.
  fs::create_symlink(dir.path() / "nowhere.md", dir.path() / "kb" / "dangling.md");
  auto dangling = ingest_error(root, "acme", kb);
  CHECK_THAT(dangling, Contains("kb/dangling.md: cannot read"));
  fs::remove(dir.path() / "kb" / "dangling.md");
  if (::geteuid() != 0) { // root reads anything: the mode check only means something for other users
    auto locked = dir.write("kb/locked.md", "# Locked\n\ntext\n");
    ::chmod(locked.c_str(), 0);
    CHECK_THAT(ingest_error(root, "acme", kb), Contains("kb/locked.md: cannot read"));
    fs::remove(locked);
  }

  // Several bad files: all are listed, each with its own problem.
  dir.write("kb/x/bin.md", std::string("\x00", 1));
  dir.write("kb/x/faq.csv", "question\nQ\n");
  auto both = ingest_error(root, "acme", kb);
  CHECK_THAT(both, Contains("2 bad sources"));
  CHECK_THAT(both, Contains("kb/x/bin.md: binary file"));
  CHECK_THAT(both, Contains("kb/x/faq.csv:1: missing required column 'answer'"));
  CHECK(stamp_of(first.index_file) == before);
  CHECK(open_ok(first.index_file)->chunk_count() == 6);

  // A path that does not exist fails before anything else (its sources would otherwise count as removed).
  CHECK_THAT(ingest_error(root, "acme", {(dir.path() / "missing").string()}), Contains("missing: no such file"));
  CHECK(stamp_of(first.index_file) == before);
}

TEST_CASE("With skip_bad_files bad sources are skipped, keeping their previous version, and the rest is committed") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  ingest_ok(root, "acme", kb);
  dir.write("kb/docs/passwords.md", std::string("binary now\x00", 11)); // was good, now bad
  dir.write("kb/new-bad.csv", "question\nQ\n");                          // never good
  dir.write("kb/new-good.md", "# Billing cycles\n\nInvoices are issued on the first day of each cycle.\n");
  ingest_options opts;
  opts.skip_bad_files = true;
  auto rep = ingest_ok(root, "acme", kb, opts);
  CHECK(rep.written);
  REQUIRE(rep.skipped.size() == 2);
  CHECK_THAT(rep.skipped[0], Contains("kb/docs/passwords.md: binary file"));
  CHECK_THAT(rep.skipped[0], Contains("kept its previously ingested version"));
  CHECK_THAT(rep.skipped[1], Contains("kb/new-bad.csv:1: missing required column 'answer'"));
  CHECK(rep.added == 1);
  CHECK(rep.removed == 0);
  auto index = open_ok(rep.index_file);
  CHECK(finds(*index, "reset password", "docs/passwords.md#")); // nothing lost
  CHECK(finds(*index, "billing cycle invoices", "new-good.md#"));
  CHECK(index->chunk_count() == 7);
}

TEST_CASE("An ingest that would leave the knowledge base empty is refused and keeps the previous index") {
  temp_dir dir;
  const auto root = dir.str() + "/knowledge";
  dir.write("empty/blank.md", "\n\n   \n");
  dir.write("empty/logo.png", "not a source");
  auto none = ingest_error(root, "acme", {(dir.path() / "empty").string()});
  CHECK_THAT(none, Contains("the knowledge base of tenant 'acme' would be empty: 1 source files found, none with any text"));
  CHECK_FALSE(fs::exists(tenant_index_file(root, "acme")));
  dir.write("nothing/.hidden.md", "# hidden\n\ntext\n");
  CHECK_THAT(ingest_error(root, "acme", {(dir.path() / "nothing").string()}), Contains("would be empty: 0 source files"));

  write_kb(dir);
  auto good = ingest_ok(root, "acme", {(dir.path() / "kb").string()});
  auto before = stamp_of(good.index_file);
  auto emptied = ingest_error(root, "acme", {(dir.path() / "empty").string()});
  CHECK_THAT(emptied, Contains("would be empty"));
  CHECK_THAT(emptied, Contains("the previous index is unchanged"));
  CHECK(stamp_of(good.index_file) == before);
}

TEST_CASE("An interrupted ingest writes nothing and the previous index keeps working") {
  temp_dir dir;
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  dir.write("kb/base.md", "# Base\n\nThe original answer about quotas.\n");
  auto first = ingest_ok(root, "acme", kb);
  const auto before = stamp_of(first.index_file);
  // Enough new chunks for several progress reports while writing.
  for (int i = 0; i < 40; ++i) {
    std::string page = "# Page " + std::to_string(i) + "\n\n";
    for (int k = 0; k < 30; ++k)
      page += "## Part " + std::to_string(k) + "\n\nSection " + std::to_string(k) + " of page " + std::to_string(i)
              + " explains rate limits, quotas and retries in enough words to be its own chunk here.\n\n";
    dir.write("kb/bulk/page" + std::to_string(i) + ".md", page);
  }
  dir.write("kb/base.md", "# Base\n\nThe replacement answer about quotas.\n");
  age(dir.str() + "/kb/base.md");

  std::atomic<bool> cancel{false};
  ingest_options opts;
  opts.cancel = &cancel;
  SECTION("while writing") {
    std::size_t written_at_cancel = 0;
    opts.progress = [&](const ingest_progress& p) {
      if (p.stage == ingest_progress::phase::writing && p.chunks >= 256 && !cancel) {
        written_at_cancel = p.chunks;
        cancel = true;
      }
    };
    auto error = ingest_error(root, "acme", kb, opts);
    CHECK_THAT(error, Contains("interrupted while writing"));
    CHECK(written_at_cancel >= 256);
  }
  SECTION("while reading") {
    opts.progress = [&](const ingest_progress& p) {
      if (p.files_done == 10)
        cancel = true;
    };
    CHECK_THAT(ingest_error(root, "acme", kb, opts), Contains("interrupted: nothing was written"));
  }
  CHECK(stamp_of(first.index_file) == before);
  CHECK_FALSE(fs::exists(first.index_file + ".tmp"));
  auto index = open_ok(first.index_file);
  CHECK(index->chunk_count() == 1);
  CHECK(finds(*index, "original answer quotas", "base.md#"));

  // A leftover temporary file (an ingest killed with SIGKILL) is ignored and replaced by the next ingest.
  dir.write("knowledge/acme/index.sqlite.tmp", "half-written");
  auto next = ingest_ok(root, "acme", kb);
  CHECK(next.generation == 2);
  CHECK(next.added == 40);
  CHECK(next.updated == 1);
  CHECK_FALSE(fs::exists(first.index_file + ".tmp"));
  CHECK(finds(*open_ok(first.index_file), "replacement answer quotas", "base.md#"));
}

TEST_CASE("Tenants are isolated: names cannot escape the root and one tenant's ingest never touches another's") {
  temp_dir dir;
  write_kb(dir);
  dir.write("kb-b/b.md", "# Globex\n\nGlobex only knows about lasers.\n");
  const auto root = dir.str() + "/knowledge";
  for (const std::string& bad : std::vector<std::string>{"", "..", ".", "../globex", "a/b", "x y", "-dash", std::string(65, 'a'), "tab\t"}) {
    INFO("tenant '" << bad << "'");
    CHECK_THAT(ingest_error(root, bad, {(dir.path() / "kb").string()}), Contains("invalid tenant name"));
  }
  CHECK_FALSE(fs::exists(root)); // refused before anything was created
  CHECK(valid_tenant_name("acme"));
  CHECK(valid_tenant_name("tenant_01.eu-west"));

  auto a = ingest_ok(root, "acme", {(dir.path() / "kb").string()});
  auto b = ingest_ok(root, "globex", {(dir.path() / "kb-b").string()});
  const auto b_before = stamp_of(b.index_file);
  dir.write("kb/docs/new.md", "# New\n\nA new acme page about lasers.\n");
  auto a2 = ingest_ok(root, "acme", {(dir.path() / "kb").string()});
  CHECK(a2.added == 1);
  CHECK(stamp_of(b.index_file) == b_before);
  auto globex = open_ok(b.index_file);
  CHECK(globex->chunk_count() == 1);
  CHECK(hits(*globex, "lasers") == 1);
  CHECK(hits(*open_ok(a.index_file), "reset password") >= 1);
  CHECK(hits(*globex, "reset password") == 0);
}

TEST_CASE("Only one ingest per tenant runs at a time, other tenants are not blocked") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  std::string nested_same, nested_other;
  bool ran = false;
  ingest_options opts;
  opts.progress = [&](const ingest_progress&) {
    if (ran)
      return;
    ran = true; // an ingest is running (and holds its lock) right now
    auto same = ingest(root, "acme", kb);
    nested_same = same.ok() ? "ok" : same.error();
    auto other = ingest(root, "globex", kb);
    nested_other = other.ok() ? "ok" : other.error();
  };
  ingest_ok(root, "acme", kb, opts);
  CHECK_THAT(nested_same, Contains("another ingest of tenant 'acme' is running"));
  CHECK(nested_other == "ok");
  CHECK(ingest(root, "acme", kb).ok()); // the lock went with the first ingest
}

TEST_CASE("Changed chunking settings re-chunk every source") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  const std::vector<std::string> kb{(dir.path() / "kb").string()};
  ingest_ok(root, "acme", kb);
  ingest_options opts;
  opts.chunking.max_chars = 600;
  auto rep = ingest_ok(root, "acme", kb, opts);
  CHECK(rep.written);
  CHECK(rep.updated == 6);
  REQUIRE(rep.notes.size() == 1);
  CHECK_THAT(rep.notes[0], Contains("chunking settings changed"));
  CHECK(open_ok(rep.index_file)->chunk_count() == 6);
}

TEST_CASE("An index that is not a usable ingested index is rebuilt from every source") {
  temp_dir dir;
  write_kb(dir);
  const auto root = dir.str() + "/knowledge";
  dir.write("knowledge/acme/index.sqlite", "garbage that is not a database at all, long enough for a header....");
  auto rep = ingest_ok(root, "acme", {(dir.path() / "kb").string()});
  CHECK(rep.added == 6);
  REQUIRE(rep.notes.size() == 1);
  CHECK_THAT(rep.notes[0], Contains("cannot be used"));
  CHECK(open_ok(rep.index_file)->chunk_count() == 6);
}
