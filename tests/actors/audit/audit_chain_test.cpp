// The file store and the verifier: a chain appended and verified, resumed after a restart, shared with a
// second writer, and tampered with (a field edited, a record removed, two swapped, a hash forged, the tail
// cut off), each caught with the right kind, line and message; a corrupt tail stops the store opening.
#include "tests/actors/audit/audit_test_util.hpp"

#include "actors/audit/audit_file_store.hpp"
#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_verify.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <thread>

using namespace sa;
using namespace sa::audit;
using sa::test::append_now;
using sa::test::make_entry;
using sa::test::read_lines;
using sa::test::write_lines;
using Catch::Matchers::Contains;

namespace {

file_store_options options_for(const std::string& path, fsync_policy p = fsync_policy::every_record) {
  file_store_options o;
  o.path = path;
  o.node = "node-1";
  o.fsync = p;
  o.fsync_interval = std::chrono::milliseconds(5);
  o.lock_timeout = std::chrono::milliseconds(5000);
  return o;
}

/// A chain of `n` records in a fresh file (its head sidecar written).
void make_chain(const std::string& path, int n) {
  auto s = file_store::open(options_for(path));
  REQUIRE(s);
  for (int i = 1; i <= n; ++i) {
    auto r = append_now(**s, make_entry(i % 2 ? "acme" : "globex", "create_ticket",
                                        R"({"ticket":"TCK-)" + std::to_string(i) + R"("})", "ok", "s-" + std::to_string(i)));
    REQUIRE(r.ok);
    REQUIRE(r.seq == static_cast<uint64_t>(i));
  }
  (*s)->stop();
}

record parsed(const std::string& line) {
  record r;
  REQUIRE(parse_json_line(line, r, nullptr));
  return r;
}

} // namespace

TEST_CASE("appended records form a chain the verifier accepts, with receipts matching the file") {
  test::scratch_dir dir;
  auto path = dir.file("audit/node-1.jsonl");  // the directory is created
  auto s = file_store::open(options_for(path));
  REQUIRE(s);
  std::vector<stored> receipts;
  for (int i = 0; i < 5; ++i)
    receipts.push_back(append_now(**s, make_entry("acme", "escalate", R"({"turn":1})", "user_requested", "s-1")));
  (*s)->stop();
  auto lines = read_lines(path);
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto r = parsed(lines[i]);
    CHECK(r.seq == i + 1);
    CHECK(r.hash == receipts[i].hash);
    CHECK(r.node == "node-1");
    CHECK(r.prev == (i == 0 ? genesis_hash : parsed(lines[i - 1]).hash));
  }
  auto report = verify_file(path, "acme");
  CHECK(report.ok());
  CHECK(report.records == 5);
  CHECK(report.tenant_records == 5);
  CHECK(report.head_checked);
  CHECK(report.last_seq == 5);
  CHECK_THAT(render(report, path), Contains("chain intact: 5 records checked, seq 1..5"));
}

TEST_CASE("a restarted store resumes the chain from the file's last record") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 3);
  auto again = file_store::open(options_for(path, fsync_policy::batched));
  REQUIRE(again);
  CHECK((*again)->stats().last_seq == 3);
  CHECK(append_now(**again, make_entry("acme", "ingest")).seq == 4);
  CHECK(append_now(**again, make_entry("acme", "ingest")).seq == 5);
  (*again)->stop();
  auto report = verify_file(path);
  CHECK(report.ok());
  CHECK(report.records == 5);
}

TEST_CASE("two writers of one file (a node and an admin command) interleave without forking the chain") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  auto node = file_store::open(options_for(path));
  auto admin = file_store::open(options_for(path));
  REQUIRE(node);
  REQUIRE(admin);
  std::thread t1([&] {
    for (int i = 0; i < 40; ++i)
      REQUIRE(append_now(**node, make_entry("acme", "escalate")).ok);
  });
  std::thread t2([&] {
    for (int i = 0; i < 40; ++i)
      REQUIRE(append_now(**admin, make_entry("", "ingest")).ok);
  });
  t1.join();
  t2.join();
  (*node)->stop();
  (*admin)->stop();
  auto report = verify_file(path);
  INFO(render(report, path));
  CHECK(report.ok());
  CHECK(report.records == 80);
}

TEST_CASE("tampering is caught: an edited field names the line and seq as edited content") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  auto pos = lines[4].find("\"result\":\"ok\"");
  REQUIRE(pos != std::string::npos);
  lines[4].replace(pos, 13, "\"result\":\"no\"");
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::edited);
  CHECK(r.broken->position == 5);
  CHECK(r.broken->seq == 5);
  CHECK(r.records == 4);
  CHECK_THAT(render(r, path), Contains("first broken link: line 5, seq 5, edited content: the record's fields do "
                                       "not match its hash"));
}

TEST_CASE("tampering is caught: a deleted record is reported missing where the gap is") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  lines.erase(lines.begin() + 4);  // seq 5
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::missing);
  CHECK(r.broken->position == 5);
  CHECK(r.broken->seq == 6);
  CHECK_THAT(r.broken->message, Contains("seq 5 was expected after seq 4 (line 4), found seq 6: seq 5 is absent"));
  CHECK_THAT(render(r, path), Contains("missing record"));
}

TEST_CASE("tampering is caught: two swapped records are reported reordered, naming where the other one is") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  std::swap(lines[4], lines[5]);
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::reordered);
  CHECK(r.broken->position == 5);
  CHECK(r.broken->seq == 6);
  CHECK_THAT(r.broken->message, Contains("seq 6 comes where seq 5 was expected; seq 5 is later, at line 6"));
}

TEST_CASE("tampering is caught: a record rewritten with a recomputed hash breaks the next record's prev link") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  auto rec = parsed(lines[4]);
  rec.result = "refused";
  rec.hash = compute_hash(rec);
  lines[4] = to_json_line(rec);
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::broken_prev);
  CHECK(r.broken->position == 6);
  CHECK(r.broken->seq == 6);
  CHECK_THAT(r.broken->message, Contains("prev is not the hash of seq 5 (line 5)"));
}

TEST_CASE("tampering is caught: the last record forged with a recomputed hash disagrees with the head") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  auto rec = parsed(lines[9]);
  rec.action = "nothing_happened";
  rec.hash = compute_hash(rec);
  lines[9] = to_json_line(rec);
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::head_mismatch);
  CHECK(r.broken->seq == 10);
  CHECK_THAT(render(r, path), Contains("end of chain, seq 10, head mismatch"));
}

TEST_CASE("tampering is caught: records cut off the end are reported as truncation against the head") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 10);
  auto lines = read_lines(path);
  lines.resize(8);
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::truncated);
  CHECK(r.records == 8);
  CHECK_THAT(r.broken->message, Contains("the head says the chain reaches seq 10 but the last record is seq 8 (line 8)"));
  // Without the head, the shortened chain is consistent: the report says what it could not check.
  std::filesystem::remove(head_path(path));
  auto without = verify_file(path);
  CHECK(without.ok());
  CHECK_FALSE(without.head_checked);
  CHECK_THAT(render(without, path), Contains("head: none kept"));
}

TEST_CASE("a removed first record and a partial last line are caught too") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 4);
  auto lines = read_lines(path);
  lines.erase(lines.begin());
  write_lines(path, lines);
  auto r = verify_file(path);
  REQUIRE(r.broken);
  CHECK(r.broken->kind == break_kind::missing);
  CHECK_THAT(r.broken->message, Contains("the chain starts at seq 2: seq 1 is absent"));

  make_chain(dir.file("b.jsonl"), 3);
  test::write_text(dir.file("b.jsonl"), test::read_text(dir.file("b.jsonl")) + R"({"seq":4,"ti)");
  auto p = verify_file(dir.file("b.jsonl"));
  REQUIRE(p.broken);
  CHECK(p.broken->kind == break_kind::malformed);
  CHECK(p.broken->position == 4);
  CHECK_THAT(p.broken->message, Contains("not terminated by a newline"));
}

TEST_CASE("the store refuses to open a file whose tail is corrupt, naming the file and line") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  make_chain(path, 3);
  auto good = test::read_text(path);

  test::write_text(path, good + R"({"seq":4,"ti)");
  auto partial = file_store::open(options_for(path));
  REQUIRE_FALSE(partial);
  CHECK_THAT(partial.error(), Contains(path + ":4: the last line is not terminated by a newline"));

  test::write_text(path, good + "garbage\n");
  auto malformed = file_store::open(options_for(path));
  REQUIRE_FALSE(malformed);
  CHECK_THAT(malformed.error(), Contains(path + ":4: the last record is malformed (not valid JSON)"));

  auto lines = read_lines(path);
  lines.pop_back();
  auto rec = parsed(lines[2]);
  rec.result = "edited";
  lines[2] = to_json_line(rec);
  write_lines(path, lines);
  auto edited = file_store::open(options_for(path));
  REQUIRE_FALSE(edited);
  CHECK_THAT(edited.error(), Contains(path + ":3: the last record (seq 3) does not match its hash"));

  lines.pop_back();  // the head still says 3
  write_lines(path, lines);
  auto cut = file_store::open(options_for(path));
  REQUIRE_FALSE(cut);
  CHECK_THAT(cut.error(), Contains("says the chain reaches seq 3 but the file ends at seq 2"));
}

TEST_CASE("a store never appends to a file that lost records while it was open") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  auto s = file_store::open(options_for(path));
  REQUIRE(s);
  for (int i = 0; i < 3; ++i)
    REQUIRE(append_now(**s, make_entry("acme", "escalate")).ok);
  auto lines = read_lines(path);
  lines.pop_back();
  write_lines(path, lines);
  // The record is not acknowledged (the store retries with backoff and logs), and the file keeps 2 lines.
  auto p = std::make_shared<std::promise<stored>>();
  auto f = p->get_future();
  REQUIRE((*s)->submit(make_entry("acme", "escalate"), [p](const stored& r) { p->set_value(r); }));
  CHECK(f.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  CHECK(read_lines(path).size() == 2);
  CHECK((*s)->stats().store_errors >= 1);
  (*s)->stop();  // gives up: the record fails, shutting down
  REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto r = f.get();
  CHECK_FALSE(r.ok);
  CHECK(r.shutting_down);
}

TEST_CASE("batched fsync acknowledges records after the interval's fdatasync, in one chain") {
  test::scratch_dir dir;
  auto path = dir.file("a.jsonl");
  auto s = file_store::open(options_for(path, fsync_policy::batched));
  REQUIRE(s);
  std::vector<std::future<stored>> outcomes;
  for (int i = 0; i < 100; ++i) {
    auto p = std::make_shared<std::promise<stored>>();
    outcomes.push_back(p->get_future());
    REQUIRE((*s)->submit(make_entry("acme", "escalate"), [p](const stored& r) { p->set_value(r); }));
  }
  std::set<uint64_t> seqs;
  for (auto& f : outcomes) {
    REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok);
    seqs.insert(r.seq);
  }
  CHECK(seqs.size() == 100);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == 100);
  CHECK((*s)->stats().durable == 100);
  (*s)->stop();
  CHECK(verify_file(path).ok());
}
