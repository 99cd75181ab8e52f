// Strategy actors (fallback, hedge, self_consistency, route) and the local provider, driven by scripted
// members on a real actor system. Nothing sleeps: every wait is a receive with a generous deadline, and
// hedge delays are either short with a member that never answers or far longer than the test, so the
// order of events never depends on timing.
#include "tests/actors/providers/strategies/scripted_member.hpp"

#include "actors/generator/generator_actor.hpp"
#include "actors/providers/strategies/strategies.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "tests/support/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

using namespace sa;
using namespace sa::providers;
using namespace sa::test;
using mode = member_script::mode;
using namespace std::chrono_literals;

namespace {

constexpr auto patience = std::chrono::seconds(10);

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> sink_ptr;
  std::unique_ptr<caf::scoped_actor> obs_ptr;
  std::vector<std::pair<std::string, uint64_t>> seen_calls;    // (member, call id), as observed
  std::vector<std::pair<std::string, uint64_t>> seen_cancels;
  std::vector<caf::actor> owned;

  fixture() {
    log::init("warn", "");
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sink_ptr = std::make_unique<caf::scoped_actor>(*sys);
    obs_ptr = std::make_unique<caf::scoped_actor>(*sys);
  }
  /// Kills every actor the test spawned: hanging members hold promises (and so their strategy) alive,
  /// and the system waits for every actor before it shuts down.
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    owned.clear();
    obs_ptr.reset();
    sink_ptr.reset();
    sys.reset();
  }

  caf::scoped_actor& sink() { return *sink_ptr; }

  completion_actor own(completion_actor a) {
    owned.push_back(caf::actor_cast<caf::actor>(a));
    return a;
  }

  struct scripted {
    member m;
    std::shared_ptr<member_record> record;
    caf::actor raw() const { return caf::actor_cast<caf::actor>(m.actor); }
  };

  scripted spawn_member(member_script s) {
    auto record = std::make_shared<member_record>();
    auto name = s.name;
    auto script = std::make_shared<const member_script>(std::move(s));
    auto handle = sys->spawn(scripted_member, script, record, caf::actor_cast<caf::actor>(*obs_ptr));
    return {member{name, own(caf::actor_cast<completion_actor>(handle))}, record};
  }

  completion_call make_call(bool with_sink = true, std::chrono::milliseconds budget = patience) {
    completion_call c;
    c.id = next_completion_id();
    c.task = llm_task::generate;
    c.request.messages.push_back({chat_role::user, "How do I reset my password?"});
    c.deadline = deadline_in(budget);
    if (with_sink)
      c.sink = caf::actor_cast<completion_sink_actor>(sink());
    return c;
  }

  /// Waits until the observer heard `what` (got_call or got_cancel) from `name`; false after 10 s.
  bool wait_for(bool cancel, const std::string& name) {
    auto& seen = cancel ? seen_cancels : seen_calls;
    auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
      for (auto& e : seen)
        if (e.first == name)
          return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      bool timed_out = false;
      (*obs_ptr)->receive([&](got_call_atom, const std::string& who, uint64_t id) { seen_calls.emplace_back(who, id); },
                          [&](got_cancel_atom, const std::string& who, uint64_t id) {
                            seen_cancels.emplace_back(who, id);
                          },
                          caf::after(left) >> [&] { timed_out = true; });
      if (timed_out)
        return false;
    }
  }
};

/// What the sink saw for one call, in order.
struct stream_events {
  std::vector<std::string> log;  ///< "d<seq>" per delta, "reset" per reset
  std::vector<completion_delta> deltas;
  std::vector<completion_reset> resets;
  std::vector<completion_delta> after_last_reset;

  std::string text_after_last_reset() const {
    std::string out;
    for (auto& d : after_last_reset)
      out += d.text;
    return out;
  }
  bool numbered_from_zero() const {
    for (std::size_t k = 0; k < after_last_reset.size(); ++k)
      if (after_last_reset[k].seq != k)
        return false;
    return true;
  }
};

struct outcome {
  std::optional<completion> done;
  caf::error err;
  stream_events stream;

  std::optional<provider_errc> code() const { return provider_code(err); }
};

/// Everything already in the sink's mailbox (deltas are sent before the reply, so after the reply they
/// are all there).
stream_events drain(caf::scoped_actor& sink) {
  stream_events ev;
  bool more = true;
  while (more)
    sink->receive(
      [&](completion_delta& d) {
        ev.log.push_back("d" + std::to_string(d.seq));
        ev.after_last_reset.push_back(d);
        ev.deltas.push_back(std::move(d));
      },
      [&](completion_reset& r) {
        ev.log.push_back("reset");
        ev.after_last_reset.clear();
        ev.resets.push_back(std::move(r));
      },
      caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
  return ev;
}

template <class Handle>
outcome await(fixture& fx, Handle& handle) {
  outcome out;
  handle.receive([&](completion& c) { out.done = std::move(c); }, [&](caf::error& e) { out.err = std::move(e); });
  out.stream = drain(fx.sink());
  return out;
}

outcome run(fixture& fx, const completion_actor& target, completion_call call) {
  caf::scoped_actor caller{*fx.sys};
  auto handle = caller->request(target, patience, std::move(call));
  return await(fx, handle);
}

member_script streams(std::string name, std::vector<std::string> deltas) {
  member_script s;
  s.name = std::move(name);
  s.how = mode::stream_then_reply;
  s.deltas = std::move(deltas);
  return s;
}

member_script fails(std::string name, provider_errc e) {
  member_script s;
  s.name = std::move(name);
  s.how = mode::fail_now;
  s.error = e;
  return s;
}

member_script breaks(std::string name, std::vector<std::string> deltas, provider_errc e) {
  member_script s;
  s.name = std::move(name);
  s.how = mode::stream_then_fail;
  s.deltas = std::move(deltas);
  s.error = e;
  return s;
}

member_script hangs(std::string name) {
  member_script s;
  s.name = std::move(name);
  s.how = mode::hang;
  return s;
}

member_script answers(std::string name, std::vector<std::string> texts) {
  member_script s;
  s.name = std::move(name);
  s.how = mode::answers;
  s.texts = std::move(texts);
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

// --- fallback -----------------------------------------------------------------------------------------

TEST_CASE("fallback: a member failing before it streamed moves on to the next without a reset", "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(fails("a", provider_errc::connection));
  auto b = fx.spawn_member(streams("b", {"Open ", "Settings ", "and reset."}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  auto call = fx.make_call();
  auto upstream_id = call.id;
  auto r = run(fx, fb, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "b");
  CHECK(r.done->text == "Open Settings and reset.");
  CHECK(r.done->resets == 0);
  CHECK(r.done->attempts == 2);            // a's failed request + b's
  CHECK(r.done->cost_usd == Approx(0.01)); // only b reported its spend
  CHECK(r.stream.resets.empty());
  CHECK(r.stream.log == std::vector<std::string>{"d0", "d1", "d2"});
  for (auto& d : r.stream.deltas)
    CHECK(d.call == upstream_id);
  CHECK(r.stream.text_after_last_reset() == r.done->text);
  // Each member call had its own id, the fallback as its sink, and the upstream deadline.
  auto ca = a.record->all_calls();
  auto cb = b.record->all_calls();
  REQUIRE(ca.size() == 1);
  REQUIRE(cb.size() == 1);
  CHECK(ca[0].id != upstream_id);
  CHECK(cb[0].id != upstream_id);
  CHECK(ca[0].id != cb[0].id);
  CHECK(cb[0].sink == caf::actor_cast<completion_sink_actor>(fb));
  CHECK(cb[0].deadline == call.deadline);
}

TEST_CASE("fallback: each move to the next member counts in sa_provider_fallbacks_total by from and to",
          "[fallback][metrics]") {
  fixture fx;
  auto m = std::make_shared<sa::metrics>();
  auto a = fx.spawn_member(fails("a", provider_errc::connection));
  auto b = fx.spawn_member(fails("b", provider_errc::timeout));
  auto c = fx.spawn_member(streams("c", {"answered"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m, c.m}, m));
  REQUIRE(run(fx, fb, fx.make_call()).done);
  sa::test::prom_exposition x;
  std::string error;
  REQUIRE(sa::test::parse_prometheus_text(m->render(), x, error));
  CHECK(x.sum("sa_provider_fallbacks_total", {{"strategy", "chain"}, {"from", "a"}, {"to", "b"}}) == 1);
  CHECK(x.sum("sa_provider_fallbacks_total", {{"strategy", "chain"}, {"from", "b"}, {"to", "c"}}) == 1);
  CHECK(x.sum("sa_provider_fallbacks_total") == 2);
}

TEST_CASE("fallback: a member failing mid-stream resets the stream and the next answer starts at seq 0",
          "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(breaks("a", {"The first ", "answer "}, provider_errc::connection));
  auto b = fx.spawn_member(streams("b", {"The second ", "answer ", "wins."}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  auto call = fx.make_call();
  auto r = run(fx, fb, call);
  REQUIRE(r.done);
  CHECK(r.stream.log == std::vector<std::string>{"d0", "d1", "reset", "d0", "d1", "d2"});
  REQUIRE(r.stream.resets.size() == 1);
  CHECK(r.stream.resets[0].call == call.id);
  CHECK(r.stream.resets[0].failed_provider == "a");
  CHECK(r.stream.resets[0].reason == "connection");
  CHECK(r.done->resets == 1);
  CHECK(r.done->text == "The second answer wins.");
  CHECK(r.stream.text_after_last_reset() == r.done->text);
  CHECK(r.stream.numbered_from_zero());
}

TEST_CASE("fallback: when every member fails the error is exhausted and names each member's error",
          "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(fails("a", provider_errc::timeout));
  auto b = fx.spawn_member(fails("b", provider_errc::circuit_open));
  auto c = fx.spawn_member(fails("c", provider_errc::server));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m, c.m}));
  auto r = run(fx, fb, fx.make_call());
  REQUIRE_FALSE(r.done);
  REQUIRE(r.code() == provider_errc::exhausted);
  auto msg = provider_message(r.err);
  CHECK(contains(msg, "a: timeout"));
  CHECK(contains(msg, "b: circuit_open"));
  CHECK(contains(msg, "c: server"));
  CHECK(r.stream.log.empty());
}

TEST_CASE("fallback: a member that dies mid-call counts as failed and the next member answers", "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto b = fx.spawn_member(streams("b", {"still ", "answered"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  caf::scoped_actor caller{*fx.sys};
  auto handle = caller->request(fb, patience, fx.make_call());
  REQUIRE(fx.wait_for(false, "a"));
  caf::anon_send_exit(a.raw(), caf::exit_reason::kill);
  auto r = await(fx, handle);
  REQUIRE(r.done);
  CHECK(r.done->provider == "b");
  CHECK(r.done->text == "still answered");
  // The fallback itself lives on: a dead first member fails at once on the next call.
  auto again = run(fx, fb, fx.make_call());
  REQUIRE(again.done);
  CHECK(again.done->provider == "b");
}

TEST_CASE("fallback: a deadline that already passed fails with deadline and calls no member", "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(streams("a", {"x"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m}));
  auto r = run(fx, fb, fx.make_call(true, -1ms));
  REQUIRE(r.code() == provider_errc::deadline);
  CHECK(a.record->call_count() == 0);
}

TEST_CASE("fallback: cancelling the upstream call cancels the running member and answers cancelled",
          "[fallback][cancel]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto b = fx.spawn_member(streams("b", {"never"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  auto call = fx.make_call();
  caf::scoped_actor caller{*fx.sys};
  auto handle = caller->request(fb, patience, call);
  REQUIRE(fx.wait_for(false, "a"));
  caller->send(fb, completion_cancel{call.id});
  auto r = await(fx, handle);
  CHECK(r.code() == provider_errc::cancelled);
  REQUIRE(fx.wait_for(true, "a"));
  auto cancels = a.record->all_cancels();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0] == a.record->all_calls().at(0).id);
  CHECK(b.record->call_count() == 0);
}

TEST_CASE("fallback: without a sink members get no sink and the answer comes only in the reply", "[fallback]") {
  fixture fx;
  auto a = fx.spawn_member(breaks("a", {"part"}, provider_errc::overloaded));
  auto b = fx.spawn_member(streams("b", {"whole ", "answer"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  auto r = run(fx, fb, fx.make_call(false));
  REQUIRE(r.done);
  CHECK(r.done->text == "whole answer");
  CHECK(r.done->resets == 0);
  CHECK(r.stream.log.empty());
  CHECK_FALSE(b.record->all_calls().at(0).sink);
}

// --- hedge --------------------------------------------------------------------------------------------

TEST_CASE("hedge: a silent primary is hedged after the delay, the backup wins and the primary is cancelled",
          "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto b = fx.spawn_member(streams("b", {"fast ", "backup"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 50ms));
  auto call = fx.make_call();
  auto r = run(fx, h, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "b");
  CHECK(r.done->text == "fast backup");
  CHECK(r.stream.log == std::vector<std::string>{"d0", "d1"});
  CHECK(r.stream.text_after_last_reset() == r.done->text);
  CHECK(r.done->attempts == 2); // the cancelled primary's request + the backup's
  REQUIRE(fx.wait_for(true, "a"));
  CHECK(a.record->all_cancels().at(0) == a.record->all_calls().at(0).id);
}

TEST_CASE("hedge: a primary that streams before the delay wins and the backup never starts", "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(streams("a", {"quick ", "primary"}));
  auto b = fx.spawn_member(streams("b", {"unused"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 60s));
  auto r = run(fx, h, fx.make_call());
  REQUIRE(r.done);
  CHECK(r.done->provider == "a");
  CHECK(r.done->text == "quick primary");
  CHECK(r.done->attempts == 1);
  CHECK(b.record->call_count() == 0);
}

TEST_CASE("hedge: a primary failing before any delta starts the backup at once", "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(fails("a", provider_errc::rate_limited));
  auto b = fx.spawn_member(streams("b", {"backup"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 60s)); // far beyond the test's patience
  auto r = run(fx, h, fx.make_call());
  REQUIRE(r.done);
  CHECK(r.done->provider == "b");
  CHECK(r.stream.resets.empty());
}

TEST_CASE("hedge: a winner failing mid-stream resets and falls back to the next member not started", "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(breaks("a", {"broken ", "stream "}, provider_errc::truncated));
  auto b = fx.spawn_member(streams("b", {"replacement ", "answer"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 60s));
  auto call = fx.make_call();
  auto r = run(fx, h, call);
  REQUIRE(r.done);
  CHECK(r.stream.log == std::vector<std::string>{"d0", "d1", "reset", "d0", "d1"});
  REQUIRE(r.stream.resets.size() == 1);
  CHECK(r.stream.resets[0].call == call.id);
  CHECK(r.stream.resets[0].failed_provider == "a");
  CHECK(r.stream.resets[0].reason == "truncated");
  CHECK(r.done->provider == "b");
  CHECK(r.done->resets == 1);
  CHECK(r.stream.text_after_last_reset() == r.done->text);
}

TEST_CASE("hedge: a winner failing with no member left is exhausted", "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(breaks("a", {"half"}, provider_errc::connection));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m}, 60s));
  auto r = run(fx, h, fx.make_call());
  CHECK(r.code() == provider_errc::exhausted);
  CHECK(contains(provider_message(r.err), "a: connection"));
  CHECK(r.stream.log == std::vector<std::string>{"d0", "reset"});
}

TEST_CASE("hedge: without a sink the first successful reply wins", "[hedge]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto b = fx.spawn_member(streams("b", {"reply"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 50ms));
  auto r = run(fx, h, fx.make_call(false));
  REQUIRE(r.done);
  CHECK(r.done->provider == "b");
  CHECK(r.stream.log.empty());
  REQUIRE(fx.wait_for(true, "a"));
}

TEST_CASE("hedge: cancelling the upstream call cancels every started member", "[hedge][cancel]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto b = fx.spawn_member(hangs("b"));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m, b.m}, 50ms));
  auto call = fx.make_call();
  caf::scoped_actor caller{*fx.sys};
  auto handle = caller->request(h, patience, call);
  REQUIRE(fx.wait_for(false, "a"));
  REQUIRE(fx.wait_for(false, "b")); // hedged after 50 ms of silence
  caller->send(h, completion_cancel{call.id});
  auto r = await(fx, handle);
  CHECK(r.code() == provider_errc::cancelled);
  CHECK(fx.wait_for(true, "a"));
  CHECK(fx.wait_for(true, "b"));
}

// --- self-consistency ---------------------------------------------------------------------------------

TEST_CASE("self-consistency: the medoid of three samples is one of the two that agree", "[self_consistency]") {
  fixture fx;
  const std::string agree_1 = "The refund takes five business days to process.";
  const std::string agree_2 = "The refund takes five business days to be processed!";
  const std::string odd = "Please restart your router and try again later tonight.";
  auto s = fx.spawn_member(answers("sampler", {agree_1, odd, agree_2}));
  auto sc = fx.own(spawn_self_consistency(*fx.sys, "vote", s.m, 3));
  auto call = fx.make_call();
  auto r = run(fx, sc, call);
  REQUIRE(r.done);
  CHECK((r.done->text == agree_1 || r.done->text == agree_2));
  CHECK(r.done->agreement == Approx(2.0 / 3.0));
  CHECK(r.done->attempts == 3);
  CHECK(r.done->cost_usd == Approx(0.03));
  CHECK(r.done->spent_prompt_tokens == 30);
  CHECK(r.done->tokens.prompt_tokens == 10); // the chosen sample's own
  // Streamed upstream under the upstream id, in pieces, once chosen.
  CHECK(r.stream.text_after_last_reset() == r.done->text);
  CHECK(r.stream.deltas.size() >= 2);
  CHECK(r.stream.numbered_from_zero());
  for (auto& d : r.stream.deltas)
    CHECK(d.call == call.id);
  // Samples: in parallel, without a sink, at temperature 0.7.
  auto calls = s.record->all_calls();
  REQUIRE(calls.size() == 3);
  for (auto& c : calls) {
    CHECK_FALSE(c.sink);
    REQUIRE(c.request.temperature);
    CHECK(*c.request.temperature == Approx(0.7));
    CHECK(c.id != call.id);
  }
}

TEST_CASE("self-consistency: a temperature set by the caller is kept", "[self_consistency]") {
  fixture fx;
  auto s = fx.spawn_member(answers("sampler", {"same answer"}));
  auto sc = fx.own(spawn_self_consistency(*fx.sys, "vote", s.m, 2));
  auto call = fx.make_call(false);
  call.request.temperature = 0.2;
  auto r = run(fx, sc, call);
  REQUIRE(r.done);
  CHECK(r.done->agreement == Approx(1.0));
  for (auto& c : s.record->all_calls())
    CHECK(*c.request.temperature == Approx(0.2));
}

TEST_CASE("self-consistency: when every sample fails the error is exhausted", "[self_consistency]") {
  fixture fx;
  auto s = fx.spawn_member(fails("sampler", provider_errc::overloaded));
  auto sc = fx.own(spawn_self_consistency(*fx.sys, "vote", s.m, 3));
  auto r = run(fx, sc, fx.make_call());
  CHECK(r.code() == provider_errc::exhausted);
  CHECK(contains(provider_message(r.err), "sampler: overloaded"));
  CHECK(r.stream.log.empty());
}

// --- route --------------------------------------------------------------------------------------------

TEST_CASE("route by task: each task goes to its member, passing id and sink through", "[route]") {
  fixture fx;
  auto gen = fx.spawn_member(streams("gen", {"generated"}));
  auto cls = fx.spawn_member(streams("cls", {"{\"intent\":\"billing\"}"}));
  auto rt = fx.own(spawn_route(*fx.sys, "by-task", route_key::task, {{"generate", gen.m}, {"classify", cls.m}}));
  auto call = fx.make_call();
  call.task = llm_task::classify;
  auto r = run(fx, rt, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "cls");
  REQUIRE(cls.record->call_count() == 1);
  CHECK(cls.record->all_calls()[0].id == call.id);
  CHECK(r.stream.deltas.at(0).call == call.id);
  CHECK(gen.record->call_count() == 0);

  auto g = run(fx, rt, fx.make_call());
  REQUIRE(g.done);
  CHECK(g.done->provider == "gen");

  auto judge = fx.make_call();
  judge.task = llm_task::judge;
  auto u = run(fx, rt, judge);
  CHECK(u.code() == provider_errc::unsupported);
  CHECK(contains(provider_message(u.err), "judge"));
}

TEST_CASE("route by intent: the intent's member, else default, else unsupported", "[route]") {
  fixture fx;
  auto billing = fx.spawn_member(streams("billing-chain", {"billing"}));
  auto other = fx.spawn_member(streams("default-chain", {"other"}));
  auto rt = fx.own(spawn_route(*fx.sys, "by-intent", route_key::intent, {{"billing", billing.m}, {"default", other.m}}));
  auto call = fx.make_call();
  call.intent = "billing";
  auto r = run(fx, rt, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "billing-chain");
  call = fx.make_call();
  call.intent = "technical";
  r = run(fx, rt, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "default-chain");

  auto strict = fx.own(spawn_route(*fx.sys, "strict", route_key::intent, {{"billing", billing.m}}));
  call = fx.make_call();
  call.intent = "technical";
  r = run(fx, strict, call);
  CHECK(r.code() == provider_errc::unsupported);
  CHECK(contains(provider_message(r.err), "technical"));
}

TEST_CASE("route: a reset from a fallback below reaches the caller unchanged", "[route]") {
  fixture fx;
  auto a = fx.spawn_member(breaks("a", {"first"}, provider_errc::server));
  auto b = fx.spawn_member(streams("b", {"second"}));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {a.m, b.m}));
  auto rt = fx.own(spawn_route(*fx.sys, "by-task", route_key::task, {{"default", member{"chain", fb}}}));
  auto call = fx.make_call();
  auto r = run(fx, rt, call);
  REQUIRE(r.done);
  CHECK(r.stream.log == std::vector<std::string>{"d0", "reset", "d0"});
  CHECK(r.stream.resets.at(0).call == call.id);
  CHECK(r.done->resets == 1);
  CHECK(r.done->text == "second");
}

TEST_CASE("route: cancel is forwarded to the member and answers cancelled", "[route][cancel]") {
  fixture fx;
  auto a = fx.spawn_member(hangs("a"));
  auto rt = fx.own(spawn_route(*fx.sys, "by-task", route_key::task, {{"generate", a.m}}));
  auto call = fx.make_call();
  caf::scoped_actor caller{*fx.sys};
  auto handle = caller->request(rt, patience, call);
  REQUIRE(fx.wait_for(false, "a"));
  caller->send(rt, completion_cancel{call.id});
  auto r = await(fx, handle);
  CHECK(r.code() == provider_errc::cancelled);
  REQUIRE(fx.wait_for(true, "a"));
  CHECK(a.record->all_cancels().at(0) == call.id);
}

TEST_CASE("route: a deadline that already passed fails with deadline", "[route]") {
  fixture fx;
  auto a = fx.spawn_member(streams("a", {"x"}));
  auto rt = fx.own(spawn_route(*fx.sys, "by-task", route_key::task, {{"generate", a.m}}));
  auto r = run(fx, rt, fx.make_call(true, -1ms));
  CHECK(r.code() == provider_errc::deadline);
  CHECK(a.record->call_count() == 0);
}

TEST_CASE("hedge and self-consistency: a deadline that already passed fails with deadline", "[hedge][self_consistency]") {
  fixture fx;
  auto a = fx.spawn_member(streams("a", {"x"}));
  auto h = fx.own(spawn_hedge(*fx.sys, "hedged", {a.m}, 50ms));
  CHECK(run(fx, h, fx.make_call(true, -1ms)).code() == provider_errc::deadline);
  auto sc = fx.own(spawn_self_consistency(*fx.sys, "vote", a.m, 3));
  CHECK(run(fx, sc, fx.make_call(true, -1ms)).code() == provider_errc::deadline);
  CHECK(a.record->call_count() == 0);
}

// --- local provider -----------------------------------------------------------------------------------

namespace {

std::shared_ptr<const generator_deps> local_deps() {
  auto deps = std::make_shared<generator_deps>();
  deps->composer = std::make_shared<const local_composer>(composer_options{});
  deps->stream_chunk_chars = 32;
  return deps;
}

passage domains_passage() {
  passage p;
  p.source_id = "technical/domains.md#1";
  p.title = "Custom domains";
  p.url = "https://docs.example/domains";
  p.text = "Custom domains let your site use your own name. To add a custom domain, open Settings and choose "
           "Domains. DNS changes can take up to 24 hours to propagate.";
  p.score = 12;
  return p;
}

} // namespace

TEST_CASE("local provider: composes from the grounding, streams it and replies as local/extractive",
          "[local]") {
  fixture fx;
  auto local = fx.own(spawn_local_provider(*fx.sys, local_deps()));
  auto call = fx.make_call();
  call.grounding.tenant = tenant_id{"acme"};
  call.grounding.question = "How do I add a custom domain?";
  call.grounding.intent.intent = intent::technical;
  call.grounding.intent.confidence = 0.9;
  call.grounding.passages = {domains_passage()};
  auto r = run(fx, local, call);
  REQUIRE(r.done);
  CHECK(r.done->provider == "local");
  CHECK(r.done->model == "extractive");
  CHECK(r.done->finish_reason == "stop");
  CHECK_FALSE(r.done->tokens.reported);
  CHECK(r.done->cost_usd == 0);
  CHECK(r.done->attempts == 1);
  CHECK(contains(r.done->text, "Settings"));
  CHECK(r.stream.text_after_last_reset() == r.done->text);
  CHECK(r.stream.numbered_from_zero());
  for (auto& d : r.stream.deltas)
    CHECK(d.call == call.id);
}

TEST_CASE("local provider: without a grounding question it answers the last user message", "[local]") {
  fixture fx;
  auto local = fx.own(spawn_local_provider(*fx.sys, local_deps()));
  auto r = run(fx, local, fx.make_call(false));
  REQUIRE(r.done);
  CHECK_FALSE(r.done->text.empty());
  CHECK(r.stream.log.empty());
}

TEST_CASE("local provider: refuses to classify with unsupported", "[local]") {
  fixture fx;
  auto local = fx.own(spawn_local_provider(*fx.sys, local_deps()));
  auto call = fx.make_call();
  call.task = llm_task::classify;
  auto r = run(fx, local, call);
  CHECK(r.code() == provider_errc::unsupported);
}

TEST_CASE("local provider: a fallback whose remote members are down ends on the local answer", "[local][fallback]") {
  fixture fx;
  auto remote = fx.spawn_member(fails("openai", provider_errc::circuit_open));
  auto local = fx.own(spawn_local_provider(*fx.sys, local_deps()));
  auto fb = fx.own(spawn_fallback(*fx.sys, "chain", {remote.m, member{"local", local}}));
  auto r = run(fx, fb, fx.make_call());
  REQUIRE(r.done);
  CHECK(r.done->provider == "local");
  CHECK(r.done->attempts == 1); // the open breaker made no request
  CHECK(r.stream.text_after_last_reset() == r.done->text);
}
