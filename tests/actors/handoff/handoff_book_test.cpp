// The handoff book: every transition and every refusal of docs/protocol.md "Agent console" (not_found for
// another tenant, already_taken, not_assigned, closed, handed_back), redaction of what enters a record, the
// file store across a restart (and a torn last line), and export-training's CSV accepted by train-intents.
#include "actors/classifier/intent_model.hpp"
#include "actors/handoff/export_training.hpp"
#include "actors/handoff/handoff_book.hpp"
#include "actors/handoff/handoff_record.hpp"
#include "actors/node/node.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/test_node.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <fstream>
#include <mutex>
#include <sstream>

#include <unistd.h>

using namespace sa;
using namespace sa::handoff;

namespace {

std::shared_ptr<const safety::pii_scanner> scanner() {
  static auto s = std::make_shared<const safety::pii_scanner>();
  return s;
}

handoff_book make_book(std::unique_ptr<store> s = make_memory_store()) {
  return handoff_book{std::move(s), scanner(), classifier::intent_model::labels()};
}

/// A book on the file store at `path` (opened, or the test fails).
handoff_book file_book(const std::string& path) {
  auto s = open_file_store(path);
  REQUIRE(s);
  return make_book(std::move(*s));
}

/// Waits until the book's changes so far are durable (the file store writes on its own thread).
void settle(handoff_book& book) {
  std::promise<void> done;
  book.flush([&] { done.set_value(); });
  REQUIRE(done.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
}

std::size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line))
    ++n;
  return n;
}

turn_record turn(turn_number n, std::string user, std::string answer) {
  turn_record t;
  t.number = n;
  t.client_message_id = "m" + std::to_string(n);
  t.user_text = std::move(user);
  t.answer_text = std::move(answer);
  return t;
}

handoff_open escalation(const std::string& tenant = "acme", const std::string& session = "s-1") {
  handoff_open o;
  o.tenant = tenant_id{tenant};
  o.user = user_id{"alice"};
  o.session = session_id{session};
  o.turn = 2;
  o.reason = "user_requested";
  o.detail = "explicit request";
  o.intent = "billing";
  o.turns = {turn(1, "my invoice is wrong, mail me at alice@example.com", "Sorry to hear that."),
             turn(2, "I want a human, my card 4111 1111 1111 1111 was charged twice", "Connecting you.")};
  o.facts = {"invoices"};
  return o;
}

const tenant_id acme{"acme"};
const tenant_id globex{"globex"};

struct temp_dir {
  temp_dir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() / ("sa-handoff-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
  std::filesystem::path path;
};

} // namespace

TEST_CASE("an escalation opens one queued record with a redacted transcript", "[handoff]") {
  auto book = make_book();
  auto o = book.open(escalation(), 1000);
  REQUIRE(o.created);
  auto& r = *o.record;
  CHECK(r.id == handoff_id("acme", "s-1", 2));
  CHECK(r.id.rfind("HO-", 0) == 0);
  CHECK(r.state == handoff_states::queued);
  CHECK(r.reason == "user_requested");
  CHECK(r.intent == "billing");
  CHECK(r.facts == std::vector<std::string>{"invoices"});
  REQUIRE(r.transcript.size() == 4);
  CHECK(r.transcript[0].role == "user");
  CHECK(r.transcript[1].role == "bot");
  auto all = to_json(r, detail::stored).dump();
  CHECK(all.find("alice@example.com") == std::string::npos);
  CHECK(all.find("4111 1111 1111 1111") == std::string::npos);
  CHECK(r.question.find("[redacted") != std::string::npos);
  CHECK(r.summary.find("Customer wrote:") != std::string::npos);
  // A retry of the same escalation is the same record.
  auto again = book.open(escalation(), 2000);
  CHECK_FALSE(again.created);
  CHECK(again.record == o.record);
  CHECK(book.size() == 1);
  // Escalating again while still queued: the new record replaces the old one, closed as superseded.
  auto later = escalation();
  later.turn = 4;
  auto next = book.open(later, 3000);
  REQUIRE(next.created);
  REQUIRE(next.superseded == o.record);
  CHECK(o.record->state == handoff_states::closed);
  CHECK(o.record->resolution == "superseded by " + next.record->id);
  CHECK(book.active_for(acme, session_id{"s-1"}) == next.record);
  CHECK(book.list(acme, false).size() == 1);
}

TEST_CASE("take, reply, hand back: the holder acts, everyone else is refused with a defined code", "[handoff]") {
  auto book = make_book();
  auto id = book.open(escalation(), 1000).record->id;
  SECTION("another tenant's id looks like an unknown one") {
    CHECK(book.take(globex, id, "gina", "Gina", 1).code == handoff_codes::not_found);
    CHECK(book.history(globex, id).code == handoff_codes::not_found);
    CHECK(book.tag(globex, id, "billing", true).code == handoff_codes::not_found);
    CHECK(book.reply(globex, id, "gina", "hi", 1).code == handoff_codes::not_found);
    CHECK(book.take(acme, "HO-nope", "bob", "Bob", 1).code == handoff_codes::not_found);
    CHECK(book.history(globex, id).record == nullptr);
  }
  SECTION("nobody holds a queued record: reply and hand back are refused") {
    CHECK(book.reply(acme, id, "bob", "hi", 1).code == handoff_codes::not_assigned);
    CHECK(book.hand_back(acme, id, "bob", 6000).code == handoff_codes::not_assigned);
  }
  SECTION("the first taker holds it; a second is refused; taking it again is a no-op") {
    auto t = book.take(acme, id, "bob", "Bob", 5000);
    REQUIRE(t.code.empty());
    CHECK(t.record->state == handoff_states::assigned);
    CHECK(t.record->agent == "bob");
    CHECK(t.record->taken_unix_ms == 5000);
    CHECK(book.take(acme, id, "carol", "Carol", 5001).code == handoff_codes::already_taken);
    CHECK(book.take(acme, id, "bob", "Bob", 5002).code.empty());
    CHECK(book.reply(acme, id, "carol", "hi", 1).code == handoff_codes::not_assigned);
    CHECK(book.hand_back(acme, id, "carol", 6000).code == handoff_codes::not_assigned);
    CHECK(book.close(acme, id, "carol", "done", 1).code == handoff_codes::not_assigned);
    auto r1 = book.reply(acme, id, "bob", "Hello, I'm Bob. Your email bob@example.org is noted.", 6000);
    REQUIRE(r1.code.empty());
    CHECK(r1.seq == 1);
    CHECK(book.reply(acme, id, "bob", "Second", 6001).seq == 2);
    CHECK(r1.record->transcript.back().role == "agent");
    CHECK(r1.record->transcript[4].text.find("bob@example.org") == std::string::npos);  // redacted copy
    REQUIRE(book.hand_back(acme, id, "bob", 6000).code.empty());
    CHECK(book.history(acme, id).record->state == handoff_states::returned);
    // Returned to the bot: a new escalation makes a new record; this one takes no more actions but tags.
    CHECK(book.take(acme, id, "carol", "Carol", 1).code == handoff_codes::handed_back);
    CHECK(book.reply(acme, id, "bob", "hi", 1).code == handoff_codes::handed_back);
    CHECK(book.hand_back(acme, id, "bob", 6000).code == handoff_codes::handed_back);
    CHECK(book.close(acme, id, "bob", "x", 1).code == handoff_codes::handed_back);
    CHECK(book.tag(acme, id, "billing", false).code.empty());
    CHECK(book.active_for(acme, session_id{"s-1"}) == nullptr);
    CHECK(book.latest_for(acme, session_id{"s-1"})->id == id);
  }
}

TEST_CASE("an escalation while an agent holds the conversation joins the held record", "[handoff]") {
  // Turn 3 began while the record was queued (the bot answers then); an agent took it before turn 3
  // escalated too. A new queued record would become the session's latest and hand the customer back to
  // the bot, away from the agent.
  auto book = make_book();
  auto id = book.open(escalation(), 1000).record->id;
  REQUIRE(book.take(acme, id, "bob", "Bob", 2000).code.empty());
  REQUIRE(book.reply(acme, id, "bob", "Hi, Bob here.", 2100).code.empty());
  auto again = escalation();
  again.turn = 3;
  again.reason = "low_confidence";
  again.turns.push_back(turn(3, "and call me on +1 415 555 0134 about it", "I am not sure."));
  auto joined = book.open(again, 2200);
  CHECK_FALSE(joined.created);
  CHECK(joined.superseded == nullptr);
  REQUIRE(joined.record);
  CHECK(joined.record->id == id);
  CHECK(book.size() == 1);
  auto* held = book.active_for(acme, session_id{"s-1"});
  REQUIRE(held);
  CHECK(held->id == id);
  CHECK(held->state == handoff_states::assigned);
  CHECK(held->agent == "bob");
  REQUIRE(joined.joined.size() == 1);
  const auto& asked = held->transcript.at(joined.joined[0]);
  CHECK(asked.role == "user");
  CHECK(asked.turn == 3);
  CHECK(asked.text.find("555") == std::string::npos);  // redacted like every line
  CHECK(held->transcript.back().role == "bot");
  CHECK(held->transcript.back().text == "I am not sure.");
  // A retry of the same escalation adds nothing.
  auto lines = held->transcript.size();
  auto retry = book.open(again, 2300);
  CHECK_FALSE(retry.created);
  CHECK(retry.joined.empty());
  CHECK(held->transcript.size() == lines);
  // Once the agent hands back, the next escalation opens a new queued record as before.
  REQUIRE(book.hand_back(acme, id, "bob", 6000).code.empty());
  auto later = escalation();
  later.turn = 5;
  later.turns.push_back(turn(5, "still wrong", "Connecting you."));
  auto fresh = book.open(later, 3000);
  CHECK(fresh.created);
  CHECK(fresh.record->id != id);
  CHECK(fresh.record->state == handoff_states::queued);
}

TEST_CASE("close: from the queue by anyone, when assigned by the holder only, closed is final", "[handoff]") {
  auto book = make_book();
  auto id = book.open(escalation(), 1000).record->id;
  SECTION("closed straight from the queue") {
    auto c = book.close(acme, id, "carol", "spam", 2000);
    REQUIRE(c.code.empty());
    CHECK(c.record->agent == "carol");
  }
  SECTION("closed by its holder, with a redacted resolution") {
    REQUIRE(book.take(acme, id, "bob", "Bob", 1500).code.empty());
    auto c = book.close(acme, id, "bob", "refunded, told alice@example.com", 2000);
    REQUIRE(c.code.empty());
    CHECK(c.record->resolution.find("alice@example.com") == std::string::npos);
  }
  auto& r = *book.history(acme, id).record;
  CHECK(r.state == handoff_states::closed);
  CHECK(r.closed_unix_ms == 2000);
  CHECK(book.take(acme, id, "bob", "Bob", 1).code == handoff_codes::closed);
  CHECK(book.reply(acme, id, "bob", "hi", 1).code == handoff_codes::closed);
  CHECK(book.hand_back(acme, id, "bob", 6000).code == handoff_codes::closed);
  CHECK(book.close(acme, id, "bob", "", 1).code == handoff_codes::closed);
  CHECK(book.history(acme, id).code.empty());
  CHECK(book.tag(acme, id, "account", true).code.empty());
  CHECK(book.list(acme, false).empty());
  CHECK(book.list(acme, true).size() == 1);
}

TEST_CASE("customer messages stop growing a held record's transcript at its limit, agent lines never do",
          "[handoff]") {
  auto book = make_book();
  auto id = book.open(escalation(), 1000).record->id;
  REQUIRE(book.take(acme, id, "bob", "Bob", 2000).code.empty());
  auto* r = book.history(acme, id).record;
  REQUIRE(r);
  const std::string line(8000, 'x');
  std::size_t kept = 0;
  for (int i = 0; i < 100; ++i)
    kept += book.customer_line(*r, line, static_cast<turn_number>(3 + i), 3000 + i) ? 1 : 0;
  auto text_bytes = [&] {
    std::size_t n = 0;
    for (const auto& l : r->transcript)
      n += l.text.size();
    return n;
  };
  CHECK(kept > 20);
  CHECK(kept < 100);
  CHECK(text_bytes() <= handoff_book::max_transcript_bytes);
  CHECK_FALSE(book.customer_line(*r, line, 200, 9000));
  auto reply = book.reply(acme, id, "bob", "Still here.", 9100);
  REQUIRE(reply.code.empty());
  CHECK(r->transcript.back().text == "Still here.");  // past the limit: an agent's message is still stored
}

TEST_CASE("tags name an intent label", "[handoff]") {
  auto book = make_book();
  auto id = book.open(escalation(), 1000).record->id;
  CHECK(book.tag(acme, id, "refunds", true).code == handoff_codes::bad_request);
  CHECK(book.tag(acme, id, "", true).code == handoff_codes::bad_request);
  REQUIRE(book.tag(acme, id, "out_of_scope", true).code.empty());
  CHECK(book.history(acme, id).record->tagged);
  CHECK(book.history(acme, id).record->tag_intent == "out_of_scope");
}

TEST_CASE("the file store keeps every record across a restart and skips a torn last line", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  std::string id;
  {
    auto s = open_file_store(path);
    REQUIRE(s);
    auto book = make_book(std::move(*s));
    id = book.open(escalation(), 1000).record->id;
    book.open(escalation("globex", "s-9"), 1100);
    REQUIRE(book.take(acme, id, "bob", "Bob", 2000).code.empty());
    REQUIRE(book.reply(acme, id, "bob", "On it.", 2100).code.empty());
    REQUIRE(book.tag(acme, id, "billing", false).code.empty());
  }
  std::ofstream(path, std::ios::app) << "{\"id\":\"HO-torn\",\"tena";  // a crash mid-write
  auto s = open_file_store(path);
  REQUIRE(s);
  auto book = make_book(std::move(*s));
  CHECK(book.size() == 2);
  auto* r = book.history(acme, id).record;
  REQUIRE(r);
  CHECK(r->state == handoff_states::assigned);
  CHECK(r->agent == "bob");
  CHECK(r->agent_messages == 1);
  CHECK(r->tagged);
  CHECK(r->transcript.back().text == "On it.");
  CHECK(book.take(acme, id, "carol", "Carol", 1).code == handoff_codes::already_taken);
  CHECK(book.history(globex, id).code == handoff_codes::not_found);
  // Many changes later the log is compacted on open: one line per record.
  for (int i = 0; i < 40; ++i)
    REQUIRE(book.tag(acme, id, i % 2 ? "billing" : "account", true).code.empty());
  settle(book);
  auto again = open_file_store(path);
  REQUIRE(again);
  CHECK(make_book(std::move(*again)).size() == 2);
  CHECK(lines_in(path) == 2);
}

TEST_CASE("a change written after a torn last line survives the next restart", "[handoff]") {
  // The log is not compacted on this open (too few lines), so the new line is appended to the file as it
  // was: behind the fragment it would have been glued to it, and both skipped on the next replay.
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  std::string first;
  {
    auto book = file_book(path);
    first = book.open(escalation(), 1000).record->id;
    settle(book);
  }
  std::ofstream(path, std::ios::app) << "{\"id\":\"HO-torn\",\"tena";  // a crash mid-write
  std::string second;
  {
    auto book = file_book(path);
    REQUIRE(book.size() == 1);
    second = book.open(escalation("acme", "s-2"), 2000).record->id;
    REQUIRE(book.take(acme, first, "bob", "Bob", 2100).code.empty());
    settle(book);
  }
  {
    auto book = file_book(path);
    CHECK(book.size() == 2);
    REQUIRE(book.history(acme, second).record);
    REQUIRE(book.history(acme, first).record);
    CHECK(book.history(acme, first).record->agent == "bob");
  }
  // A whole record that lost only its newline is kept, and the next line still starts a line of its own.
  {
    std::ifstream in(path, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(!all.empty());
    all.pop_back();  // the last '\n'
    std::ofstream(path, std::ios::binary | std::ios::trunc) << all;
  }
  {
    auto book = file_book(path);
    CHECK(book.size() == 2);
    REQUIRE(book.close(acme, first, "bob", "refunded", 3000).code.empty());
    settle(book);
  }
  auto book = file_book(path);
  CHECK(book.size() == 2);
  REQUIRE(book.history(acme, first).record);
  CHECK(book.history(acme, first).record->state == handoff_states::closed);
  CHECK(book.history(acme, second).record);
}

TEST_CASE("two tenants' escalations of the same session id stay two records across a restart", "[handoff]") {
  // Clients choose session ids: acme's "s-1" and globex's "s-1" are different conversations.
  CHECK(handoff_id("acme", "s-1", 2) != handoff_id("globex", "s-1", 2));
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  std::string acme_id, globex_id;
  {
    auto book = file_book(path);
    acme_id = book.open(escalation("acme", "s-1"), 1000).record->id;
    globex_id = book.open(escalation("globex", "s-1"), 1100).record->id;
    REQUIRE(book.take(acme, acme_id, "bob", "Bob", 2000).code.empty());
  }
  auto book = file_book(path);
  CHECK(book.size() == 2);
  REQUIRE(book.history(acme, acme_id).record);
  CHECK(book.history(acme, acme_id).record->state == handoff_states::assigned);
  REQUIRE(book.history(globex, globex_id).record);
  CHECK(book.history(globex, globex_id).record->state == handoff_states::queued);

  // A log written before ids held the tenant: the same id in two tenants is still two records.
  auto old_path = dir.file("old/handoffs.jsonl");
  {
    auto old = file_book(old_path);
    auto a = old.open(escalation("acme", "s-7"), 1000).record;
    auto g = old.open(escalation("globex", "s-8"), 1000).record;
    REQUIRE(a);
    REQUIRE(g);
  }
  {
    // Rewrite the second record with the first one's id, as the old scheme would have named it.
    std::ifstream in(old_path);
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    auto a = nlohmann::json::parse(first);
    auto g = nlohmann::json::parse(second);
    g["id"] = a["id"];
    std::ofstream(old_path, std::ios::trunc) << a.dump() << "\n" << g.dump() << "\n";
  }
  auto records = read_file_records(old_path);
  REQUIRE(records);
  REQUIRE(records->size() == 2);
  CHECK((*records)[0].tenant.value == "acme");
  CHECK((*records)[1].tenant.value == "globex");
  auto reopened = file_book(old_path);
  CHECK(reopened.size() == 2);
}

TEST_CASE("the file store says a change is durable only once it is in the file, in order", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  auto book = file_book(path);
  // Each flush is answered after the changes before it, and only those, reached the file.
  std::vector<std::size_t> seen;
  std::mutex m;
  std::promise<void> last;
  for (int i = 0; i < 50; ++i) {
    book.open(escalation("acme", "s-" + std::to_string(i)), 1000 + i);
    const bool final = i == 49;
    book.flush([&, i, final] {
      {
        std::lock_guard<std::mutex> g(m);
        seen.push_back(lines_in(path) - static_cast<std::size_t>(i) - 1);  // lines beyond those flushed so far
      }
      if (final)
        last.set_value();
    });
  }
  REQUIRE(last.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  std::lock_guard<std::mutex> g(m);
  REQUIRE(seen.size() == 50);
  // Never fewer lines than flushed (a negative count wraps to a huge number).
  for (auto extra : seen)
    CHECK(extra <= 49);
  CHECK(lines_in(path) == 50);
}

TEST_CASE("changes flushed while the store is busy share one fdatasync", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  auto s = open_file_store(path);
  REQUIRE(s);
  const store* raw = s->get();
  auto book = make_book(std::move(*s));
  // The first flush's callback holds the store's thread while 49 more changes, each with its flush, queue up.
  std::promise<void> release, entered, last;
  book.open(escalation("acme", "s-0"), 1000);
  book.flush([&] {
    entered.set_value();
    release.get_future().wait();
  });
  entered.get_future().wait();
  std::atomic<int> answered{0};
  for (int i = 1; i < 50; ++i) {
    book.open(escalation("acme", "s-" + std::to_string(i)), 1000 + i);
    book.flush([&, i] {
      ++answered;
      if (i == 49)
        last.set_value();
    });
  }
  CHECK(answered == 0);
  release.set_value();
  REQUIRE(last.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(answered == 49);
  CHECK(raw->syncs() == 2);  // the first change, then the 49 together
  CHECK(lines_in(path) == 50);
}

TEST_CASE("destroying the file store writes what was queued", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  {
    auto book = file_book(path);
    for (int i = 0; i < 200; ++i)
      book.open(escalation("acme", "s-" + std::to_string(i)), 1000 + i);
  }
  auto all = read_file_records(path);
  REQUIRE(all);
  CHECK(all->size() == 200);
}

TEST_CASE("memory keeps every open record and only the most recently finished ones", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  auto s = open_file_store(path);
  REQUIRE(s);
  handoff_book book{std::move(*s), scanner(), classifier::intent_model::labels(), 3};
  auto open_one = [&](int i) {
    auto o = escalation("acme", "s-" + std::to_string(i));
    return book.open(o, 1000 + i).record->id;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(open_one(i));
  REQUIRE(book.size() == 10);
  // Finish eight of them: closed from the queue, or taken and handed back.
  for (int i = 0; i < 8; ++i) {
    if (i % 2) {
      REQUIRE(book.close(acme, ids[i], "bob", "answered", 5000 + i).code.empty());
    } else {
      REQUIRE(book.take(acme, ids[i], "bob", "Bob", 5000 + i).code.empty());
      REQUIRE(book.hand_back(acme, ids[i], "bob", 5000 + i).code.empty());
    }
  }
  CHECK(book.size() == 2 + 3);
  CHECK(book.list(acme, false).size() == 2);
  CHECK(book.list(acme, true).size() == 5);
  CHECK(book.history(acme, ids[4]).code == handoff_codes::not_found);  // finished fifth: forgotten
  CHECK(book.latest_for(acme, session_id{"s-4"}) == nullptr);
  CHECK(book.history(acme, ids[5]).record->state == handoff_states::closed);  // among the last three
  CHECK(book.active_for(acme, session_id{"s-9"}) != nullptr);
  // A superseded record counts as finished too.
  auto again = escalation("acme", "s-9");
  again.turn = 3;
  auto opened = book.open(again, 9000);
  REQUIRE(opened.superseded);
  CHECK(opened.superseded->state == handoff_states::closed);
  CHECK(book.size() == 2 + 3);
  CHECK(book.history(acme, ids[5]).code == handoff_codes::not_found);
  // The store still has every record, and a book opened on it keeps the same bound.
  settle(book);
  auto all = read_file_records(path);
  REQUIRE(all);
  CHECK(all->size() == 11);
  auto reopened = open_file_store(path);
  REQUIRE(reopened);
  handoff_book second{std::move(*reopened), scanner(), classifier::intent_model::labels(), 3};
  CHECK(second.size() == 2 + 3);
  CHECK(second.list(acme, false).size() == 2);
}

TEST_CASE("a restart keeps the records that finished last, and reads back only those", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  auto open_book = [&] {
    auto s = open_file_store(path);
    REQUIRE(s);
    return handoff_book{std::move(*s), scanner(), classifier::intent_model::labels(), 2};
  };
  // A is created first and held longest: it finishes last, after B, C and D were closed.
  std::vector<std::string> ids;
  {
    auto book = open_book();
    for (const char* s : {"s-a", "s-b", "s-c", "s-d", "s-e"})
      ids.push_back(book.open(escalation("acme", s), 1000).record->id);
    REQUIRE(book.take(acme, ids[0], "bob", "Bob", 1500).code.empty());
    for (int i = 1; i <= 3; ++i)
      REQUIRE(book.close(acme, ids[i], "bob", "answered", 2000 + i).code.empty());
    // C's latest line comes after D's, but D finished later.
    REQUIRE(book.tag(acme, ids[2], "billing", true).code.empty());
    REQUIRE(book.hand_back(acme, ids[0], "bob", 3000).code.empty());
    CHECK(book.history(acme, ids[0]).code.empty());
    CHECK(book.history(acme, ids[3]).code.empty());
    CHECK(book.history(acme, ids[2]).code == handoff_codes::not_found);
    settle(book);
  }
  auto kept = [&](handoff_book& book) {
    CHECK(book.size() == 3);  // E is open, A and D finished last
    CHECK(book.history(acme, ids[0]).record);
    CHECK(book.history(acme, ids[3]).record);
    CHECK(book.active_for(acme, session_id{"s-e"}));
    CHECK(book.history(acme, ids[1]).code == handoff_codes::not_found);
    CHECK(book.history(acme, ids[2]).code == handoff_codes::not_found);
  };
  {
    // The store reads back the open record and the two finished last, not the whole log.
    auto s = open_file_store(path);
    REQUIRE(s);
    auto loaded = (*s)->load(2);
    REQUIRE(loaded.size() == 3);
    CHECK(loaded[0].id == ids[0]);  // in creation order
    CHECK(loaded[1].id == ids[3]);
    CHECK(loaded[2].id == ids[4]);
  }
  {
    auto book = open_book();
    kept(book);
    // Enough changes to compact the log on the next open.
    for (int i = 0; i < 30; ++i)
      REQUIRE(book.tag(acme, ids[0], i % 2 ? "billing" : "account", i % 2).code.empty());
    settle(book);
  }
  CHECK(lines_in(path) > 30);
  {
    auto book = open_book();
    CHECK(lines_in(path) == 5);  // compacted: one line per record, every record still there
    kept(book);
    CHECK(book.history(acme, ids[0]).record->tag_intent == "billing");  // the latest version (i = 29)
    // The book forgets in the order records finished: closing E forgets D, not A (loaded before D).
    REQUIRE(book.close(acme, ids[4], "bob", "answered", 4000).code.empty());
    CHECK(book.history(acme, ids[0]).record);
    CHECK(book.history(acme, ids[3]).code == handoff_codes::not_found);
    settle(book);
  }
  auto all = read_file_records(path);
  REQUIRE(all);
  REQUIRE(all->size() == 5);
  CHECK((*all)[2].tag_intent == "billing");
  auto tagged = read_file_records(path, [](const handoff_view& v) { return v.tagged; });
  REQUIRE(tagged);
  CHECK(tagged->size() == 2);
}

TEST_CASE("a hand-back stored before hand-backs kept their time ranks by when it was taken", "[handoff]") {
  temp_dir dir;
  auto path = dir.file("handoff/handoffs.jsonl");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream log(path);
    log << R"({"id":"HO-1","tenant":"acme","user":"u","session":"s1","state":"returned_to_bot","taken_unix_ms":9000})" "\n"
        << R"({"id":"HO-2","tenant":"acme","user":"u","session":"s2","state":"closed","closed_unix_ms":5000})" "\n"
        << R"({"id":"HO-3","tenant":"acme","user":"u","session":"s3","state":"returned_to_bot","taken_unix_ms":1000})" "\n";
  }
  auto s = open_file_store(path);
  REQUIRE(s);
  auto loaded = (*s)->load(2);
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0].id == "HO-1");
  CHECK(loaded[1].id == "HO-2");
}

TEST_CASE("export-training writes the tagged handoffs as a CSV train-intents accepts", "[handoff]") {
  auto book = make_book();
  auto a = book.open(escalation(), 1000).record->id;
  auto b = book.open(escalation("acme", "s-2"), 1000).record->id;
  book.open(escalation("acme", "s-3"), 1000);                      // untagged: not exported
  auto g = book.open(escalation("globex", "s-4"), 1000).record->id;  // another tenant
  REQUIRE(book.tag(acme, a, "billing", false).code.empty());
  REQUIRE(book.tag(acme, b, "account", true).code.empty());
  REQUIRE(book.tag(globex, g, "technical", true).code.empty());
  std::vector<handoff_view> records;
  for (auto* r : book.list(acme, true))
    records.push_back(*r);
  for (auto* r : book.list(globex, true))
    records.push_back(*r);
  std::ostringstream csv;
  CHECK(export_training(records, "acme", csv) == 2);
  auto text = csv.str();
  CHECK(text.rfind("text,intent,bot_could_answer,handoff\n", 0) == 0);
  CHECK(text.find("4111") == std::string::npos);  // the card number stayed redacted
  CHECK(text.find(g) == std::string::npos);
  test::temp_file exported(text, ".csv");
  auto parsed = classifier::read_labeled_csv(exported.path());
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 2);
  CHECK(parsed->at(0).label == "billing");
  CHECK(parsed->at(1).label == "account");
  // train-intents on the shipped examples plus the exported rows (their extra columns are ignored).
  std::ifstream base(std::string(SA_SOURCE_DIR) + "/data/intents/intents.csv");
  std::stringstream combined;
  combined << base.rdbuf();
  std::string merged = combined.str();
  if (!merged.empty() && merged.back() != '\n')
    merged += '\n';
  merged += text.substr(text.find('\n') + 1);
  test::temp_file training(merged, ".csv");
  temp_dir out;
  auto trained = train_intents(test::test_config(), training.path(), out.file("model.bin"), [](const std::string&) {});
  CHECK(trained);
}
