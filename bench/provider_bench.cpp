// bench_provider: what the provider path (strategy actor -> provider actor -> shared http_client) adds to
// a streamed LLM request, against the same request sent straight to the same http_client type, both to the
// real `fake-provider` binary run as a child process; and the time to first token when a hedge's primary
// stalls. Run it after building fake-provider (bench/CMakeLists.txt makes it a dependency).
//
//   bench_provider [--streams N(1000)] [--rounds N(5)] [--ttft-ms N(1000)] [--tokens-per-s N(0)]
//                  [--arrival burst|paced|both] [--spread-ms N(=ttft)] [--short-ttft-ms N(20)] [--serial N(100)]
//                  [--hedge-delay-ms N(100)] [--hedge-calls N(200)] [--hedge-concurrency N(50)]
//                  [--stall-ms N(60000)] [--fake PATH] [--json FILE] [--caf KEY=VALUE]...
//
// 1. Provider path vs direct, N concurrent streams, in rounds that alternate the two modes on one process
//    (one warm-up round per mode, discarded; the first mode alternates by round):
//    - direct: N streamed OpenAI requests (body from openai_protocol::build_request with the inputs the
//      provider actor uses) submitted straight to one http_client; a plain http_listener records, on the
//      client's loop thread, the first body chunk (TTFB: the role frame the fake sends with its headers),
//      the first chunk holding an answer token (TTFT) and on_complete (total).
//    - path: a driver actor (playing the generator) sends N completion_calls with itself as sink to a
//      fallback strategy holding one provider actor (kind openai, its own http_client); it records the
//      first completion_delta (TTFT) and the completion reply (total).
//    Two arrival patterns: burst (all N sent at once) and paced (N spread evenly over --spread-ms, by
//    default one TTFT, so about N streams are in flight when the last one starts). The fake's TTFT for
//    these rounds is --ttft-ms (1 s: at 20 ms, 1,000 streams per TTFT are 50,000 streams/s, which a
//    2-core machine running the fake as well cannot serve, and the figure becomes CPU queueing).
//    Then a serial phase (one request at a time, fake TTFT --short-ttft-ms): the path's own cost.
// 2. Hedge: spawn_hedge(openai provider, anthropic provider) on the same fake, --hedge-delay-ms; calls in a
//    closed loop of --hedge-concurrency (fake TTFT --short-ttft-ms), once healthy and once with the fake's
//    openai route stalled before its headers (admin API: PUT /admin/faults).
//
// Recording is cheap: steady_clock, preallocated vectors indexed by request number. bench_probe_* are
// no-op functions at the recorded moments, for a per-hop trace with uprobes (docs/benchmarks.md).
// Traffic goes only to 127.0.0.1. The fake dies with us (PR_SET_PDEATHSIG) and is stopped with SIGTERM.
// Output: a table and one JSON line per figure set (also appended to --json FILE).
#include "actors/generator/prompt.hpp"
#include "actors/node/node.hpp"
#include "actors/providers/openai/openai_protocol.hpp"
#include "actors/providers/provider_actor.hpp"
#include "actors/providers/strategies/strategies.hpp"
#include "bench/child_process.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"
#include "config/load.hpp"
#include "messages/completion.hpp"
#include "messages/registry.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
using sa::bench::proc_cpu_s;
using sa::bench::self_cpu_s;

// Attach points for a per-hop trace (uprobes: perf or tracefs) of the moments the bench records; no-ops.
extern "C" __attribute__((noinline, used)) void bench_probe_send(uint64_t call) { asm volatile("" ::"r"(call)); }
extern "C" __attribute__((noinline, used)) void bench_probe_first_delta(uint64_t call) { asm volatile("" ::"r"(call)); }
extern "C" __attribute__((noinline, used)) void bench_probe_first_token(uint64_t id) { asm volatile("" ::"r"(id)); }

namespace {

int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

// --- command line ---------------------------------------------------------------------------------

struct options {
  int streams = 1000;
  int rounds = 5;
  int ttft_ms = 1000;
  int short_ttft_ms = 20;  // serial and hedge phases (a "timing" rule on the fake)
  double tokens_per_s = 0;
  int spread_ms = -1;  // -1: = ttft_ms
  std::string arrival = "both";  // burst, paced or both
  int serial = 100;
  int hedge_delay_ms = 100;
  int hedge_calls = 200;
  int hedge_concurrency = 50;
  int stall_ms = 60000;
  std::string fake;
  std::string json_file;
  std::vector<std::string> caf;  // KEY=VALUE for CAF's own options (scheduler experiments)
  std::string scheduler_idle = sa::config::defaults().node.scheduler_idle;
};

constexpr const char* usage =
  "usage: bench_provider [--streams N(1000)] [--rounds N(5)] [--ttft-ms N(1000)] [--tokens-per-s N(0)]\n"
  "                      [--arrival burst|paced|both] [--spread-ms N(=ttft)] [--short-ttft-ms N(20)] [--serial N(100)]\n"
  "                      [--hedge-delay-ms N(100)] [--hedge-calls N(200)] [--hedge-concurrency N(50)]\n"
  "                      [--stall-ms N(60000)] [--fake PATH(<bench dir>/../actors/providers/fake/fake-provider)]\n"
  "                      [--json FILE] [--scheduler-idle poll|block (node.scheduler_idle)] [--caf KEY=VALUE]...\n"
  "  --ttft-ms          the fake's time to first token for the path-vs-direct rounds\n"
  "  --arrival          burst: all streams sent at once; paced: spread over --spread-ms (default both)\n"
  "  --spread-ms        paced rounds release the streams evenly over this time\n"
  "  --short-ttft-ms    time to first token in the serial and hedge phases (a fake 'timing' rule)\n"
  "  --caf KEY=VALUE    a CAF option, e.g. work-stealing.moderate-sleep-duration=10us (experiments)\n";

bool parse_options(int argc, char** argv, options& o) {
  sa::bench::option_parser p;
  p.add("--streams", o.streams).add("--rounds", o.rounds).add("--ttft-ms", o.ttft_ms)
    .add("--tokens-per-s", o.tokens_per_s).add("--arrival", o.arrival).add("--short-ttft-ms", o.short_ttft_ms)
    .add("--caf", o.caf).add("--spread-ms", o.spread_ms).add("--serial", o.serial)
    .add("--hedge-delay-ms", o.hedge_delay_ms).add("--hedge-calls", o.hedge_calls)
    .add("--hedge-concurrency", o.hedge_concurrency).add("--stall-ms", o.stall_ms).add("--fake", o.fake)
    .add("--json", o.json_file).add("--scheduler-idle", o.scheduler_idle);
  if (!p.parse(argc, argv))
    return false;
  if (o.streams < 1 || o.rounds < 1 || o.ttft_ms < 0 || o.short_ttft_ms < 0 || o.tokens_per_s < 0 || o.serial < 0 ||
      o.hedge_delay_ms < 0 || o.hedge_calls < 0 || o.hedge_concurrency < 1 || o.stall_ms < 1)
    throw std::runtime_error("option out of range");
  if (o.arrival != "burst" && o.arrival != "paced" && o.arrival != "both")
    throw std::runtime_error("--arrival takes burst, paced or both");
  if (o.spread_ms < 0)
    o.spread_ms = o.ttft_ms;
  return true;
}

// --- the machine and the fake's connections, from /proc (running the fake: bench/child_process.hpp)---

/// The first three fields of /proc/loadavg: other work on the machine skews every figure here.
std::string loadavg() {
  std::ifstream in{"/proc/loadavg"};
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

/// Local ports of the ESTABLISHED TCP connections to 127.0.0.1:`port` (our clients' side; the fake's
/// side has `port` as its local port). A connection kept alive across rounds keeps its local port.
std::set<unsigned> client_ports(int port) {
  std::set<unsigned> out;
  std::ifstream in{"/proc/net/tcp"};
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream s{line};
    std::string sl, local, remote, st;
    if (!(s >> sl >> local >> remote >> st))
      continue;
    if (st != "01")
      continue;
    auto rport = std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16);
    if (static_cast<int>(rport) != port)
      continue;
    out.insert(static_cast<unsigned>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16)));
  }
  return out;
}

size_t count_new(const std::set<unsigned>& before, const std::set<unsigned>& after) {
  size_t n = 0;
  for (auto p : after)
    n += before.count(p) == 0 ? 1 : 0;
  return n;
}

// --- a blocking admin request (separate http_client) ----------------------------------------------

struct sync_response {
  int status = 0;
  std::string body;
  std::string error;
};

class sync_listener final : public sa::http_listener {
public:
  void on_headers(uint64_t, int status, const sa::http_headers&) noexcept override { out_.status = status; }
  void on_chunk(uint64_t, std::string chunk) noexcept override { out_.body += chunk; }
  void on_complete(uint64_t) noexcept override { done_.set_value(); }
  void on_error(uint64_t, const sa::http_error& e) noexcept override {
    out_.error = sa::to_string(e.kind) + ": " + e.message;
    done_.set_value();
  }
  std::future<void> done() { return done_.get_future(); }
  sync_response result() const { return out_; }

private:
  sync_response out_;
  std::promise<void> done_;
};

sync_response http_sync(sa::http_client& client, const std::string& method, const std::string& url,
                        const std::string& body = {}) {
  sa::http_request req;
  req.method = method;
  req.url = url;
  req.body = body;
  if (!body.empty())
    req.headers.emplace_back("Content-Type", "application/json");
  req.total_timeout = 10s;
  auto listener = std::make_shared<sync_listener>();
  auto done = listener->done();
  client.submit(std::move(req), listener);
  if (done.wait_for(15s) != std::future_status::ready)
    return {0, {}, "no answer within 15 s"};
  return listener->result();
}

// --- direct mode: a plain listener on the client's loop thread ------------------------------------

/// Per request (by the client's id: 1, 2, 3, ... as this bench is the client's only user) the time of
/// the first body chunk, of the first chunk with an answer token, and of the end. Written on the loop
/// thread only; read by main after `finished` says the request ended (release/acquire).
class direct_listener final : public sa::http_listener {
public:
  explicit direct_listener(size_t capacity)
      : first_chunk(capacity, 0), first_token(capacity, 0), done(capacity, 0), status(capacity, 0),
        failed(capacity, 0) {}

  void on_headers(uint64_t id, int st, const sa::http_headers&) noexcept override {
    if (id < status.size())
      status[id] = st;
  }
  void on_chunk(uint64_t id, std::string chunk) noexcept override {
    if (id >= done.size())
      return;
    auto t = now_ns();
    if (first_chunk[id] == 0)
      first_chunk[id] = t;
    // The OpenAI role frame carries "delta":{"role":"assistant","content":""}; a token frame starts its
    // delta with "content": the chunk the provider actor turns into its first completion_delta.
    if (first_token[id] == 0 && chunk.find(R"("delta":{"content":")") != std::string::npos) {
      first_token[id] = t;
      bench_probe_first_token(id);
    }
    if (id == capture_id.load(std::memory_order_relaxed))
      captured.push_back(std::move(chunk));
  }
  void on_complete(uint64_t id) noexcept override {
    if (id < done.size())
      done[id] = now_ns();
    finished.fetch_add(1, std::memory_order_release);
  }
  void on_error(uint64_t id, const sa::http_error& e) noexcept override {
    if (id < done.size()) {
      done[id] = now_ns();
      failed[id] = 1;
    }
    if (first_error.empty())
      first_error = sa::to_string(e.kind) + ": " + e.message;
    finished.fetch_add(1, std::memory_order_release);
  }

  std::vector<int64_t> first_chunk, first_token, done;
  std::vector<int> status;
  std::vector<uint8_t> failed;
  std::atomic<uint64_t> finished{0};
  std::string first_error;
  std::atomic<uint64_t> capture_id{0};  ///< the chunks of this request are kept (decoder micro-bench)
  std::vector<std::string> captured;
};

// --- path mode: the driver actor ------------------------------------------------------------------

/// What the driver records, by slot (request number over the whole run). Written by the driver only;
/// main reads a run's slots after the driver answered that run (message passing orders the accesses).
struct path_record {
  explicit path_record(size_t capacity)
      : send(capacity, 0), first(capacity, 0), done(capacity, 0), failed(capacity, 0), backup(capacity, 0) {}
  std::vector<int64_t> send, first, done;
  std::vector<uint8_t> failed, backup;
  uint64_t resets = 0;
  std::string first_error;
};

struct run_spec {
  sa::completion_actor root;
  uint32_t base = 0;         ///< first slot
  uint32_t n = 0;            ///< calls
  uint32_t concurrency = 0;  ///< calls in flight at most (closed loop); n = all at once
  uint32_t spread_ms = 0;    ///< > 0: release the calls evenly over this many ms (1 ms ticks)
  std::string backup_name;   ///< completion.provider naming the hedge's backup
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_spec& x) {
  return f(caf::meta::type_name("bench_run_spec"), x.root, x.base, x.n, x.concurrency, x.spread_ms, x.backup_name);
}

using run_atom = caf::atom_constant<caf::atom("run")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

struct driver_state {
  std::shared_ptr<path_record> rec;
  sa::completion_call templ;  ///< copied per call (fresh id, deadline)
  run_spec run;
  uint32_t issued = 0, ended = 0;
  int64_t started_ns = 0;
  std::unordered_map<uint64_t, uint32_t> slot_of;  ///< call id -> slot
  caf::response_promise done;
  static inline const char* name = "bench_driver";
};

using driver_ptr = caf::stateful_actor<driver_state>*;

void call_ended(driver_ptr self, uint64_t id);

void issue_one(driver_ptr self) {
  auto& st = self->state;
  uint32_t slot = st.run.base + st.issued++;
  sa::completion_call call = st.templ;
  call.id = sa::next_completion_id();
  call.deadline = sa::deadline_in(30s);
  call.sink = caf::actor_cast<sa::completion_sink_actor>(self);
  st.slot_of.emplace(call.id, slot);
  auto rec = st.rec;
  auto id = call.id;
  rec->send[slot] = now_ns();
  bench_probe_send(id);
  self->request(st.run.root, caf::infinite, std::move(call))
    .then(
      [self, rec, slot, id](sa::completion& c) {
        rec->done[slot] = now_ns();
        rec->backup[slot] = c.provider == self->state.run.backup_name ? 1 : 0;
        rec->resets += c.resets;
        call_ended(self, id);
      },
      [self, rec, slot, id](caf::error& e) {
        rec->done[slot] = now_ns();
        rec->failed[slot] = 1;
        if (rec->first_error.empty())
          rec->first_error = self->system().render(e);
        call_ended(self, id);
      });
}

/// A call answered or failed: in closed-loop runs the next one starts; the run ends with its last call.
void call_ended(driver_ptr self, uint64_t id) {
  auto& st = self->state;
  st.slot_of.erase(id);
  ++st.ended;
  if (st.issued < st.run.n && st.run.spread_ms == 0)
    issue_one(self);
  if (st.ended == st.run.n)
    st.done.deliver(true);
}

/// Paced release: by tick k (1 ms apart, measured from the start) n * (k + 1) / spread calls are out.
void release_due(driver_ptr self) {
  auto& st = self->state;
  auto elapsed_ms = static_cast<uint64_t>((now_ns() - st.started_ns) / 1'000'000);
  uint64_t due = std::min<uint64_t>(st.run.n, uint64_t{st.run.n} * (elapsed_ms + 1) / st.run.spread_ms);
  while (st.issued < due)
    issue_one(self);
  if (st.issued < st.run.n)
    self->delayed_send(self, 1ms, tick_atom::value);
}

caf::behavior driver(driver_ptr self, std::shared_ptr<path_record> rec, sa::completion_call templ) {
  self->state.rec = std::move(rec);
  self->state.templ = std::move(templ);
  return {
    [self](run_atom, run_spec& spec) {
      auto& st = self->state;
      st.run = std::move(spec);
      st.issued = st.ended = 0;
      st.slot_of.clear();
      st.slot_of.reserve(st.run.n * 2);
      st.done = self->make_response_promise();
      st.started_ns = now_ns();
      if (st.run.n == 0) {
        st.done.deliver(true);
        return st.done;
      }
      if (st.run.spread_ms > 0) {
        release_due(self);
      } else {
        auto first = std::min(st.run.n, std::max<uint32_t>(1, st.run.concurrency));
        for (uint32_t i = 0; i < first; ++i)
          issue_one(self);
      }
      return st.done;
    },
    [self](tick_atom) { release_due(self); },
    [self](sa::completion_delta& d) {
      auto& st = self->state;
      auto i = st.slot_of.find(d.call);
      if (i != st.slot_of.end() && st.rec->first[i->second] == 0) {
        st.rec->first[i->second] = now_ns();
        bench_probe_first_delta(d.call);
      }
    },
    [self](sa::completion_reset&) {},
  };
}

// --- statistics -----------------------------------------------------------------------------------

struct stats {
  size_t n = 0;
  double mean = 0, p50 = 0, p99 = 0, max = 0;  // µs
};

stats summarize(std::vector<double> v) {
  stats s;
  s.n = v.size();
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  s.mean = sa::bench::mean(v);
  s.p50 = sa::bench::percentile_sorted(v, 0.50);
  s.p99 = sa::bench::percentile_sorted(v, 0.99);
  s.max = v.back();
  return s;
}

/// The samples of one mode over the measured rounds, plus per-round figures.
struct mode_samples {
  std::vector<double> ttfb_us, ttft_us, total_us;
  size_t failed = 0, missing_first = 0;
  double wall_s = 0;    // sum over measured rounds: first send to last end
  size_t streams = 0;   // completed in measured rounds
};

std::string json_stats(const stats& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"n\":%zu,\"mean_us\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}", s.n,
                s.mean, s.p50, s.p99, s.max);
  return buf;
}

void emit_json(const std::string& line, const std::string& file) {
  std::printf("%s\n", line.c_str());
  if (!file.empty()) {
    std::ofstream out{file, std::ios::app};
    out << line << "\n";
  }
}

// --- the bench ------------------------------------------------------------------------------------

struct bench {
  options opt;
  int port = 0;
  std::string base_url;
  caf::actor_system& sys;
  std::shared_ptr<sa::http_client> direct_http;
  std::shared_ptr<direct_listener> listener;
  std::vector<int64_t> direct_submit;  // by client id
  uint64_t next_direct_id = 1;
  sa::http_request direct_template;
  std::shared_ptr<path_record> rec;
  uint32_t next_slot = 0;
  caf::actor drv;

  bench(options o, caf::actor_system& s) : opt(std::move(o)), sys(s) {}

  /// Direct: submits `n` requests (spread over spread_ms when > 0) and waits for their end. Returns the
  /// first id used.
  uint64_t run_direct(uint32_t n, uint32_t spread_ms, uint32_t concurrency) {
    uint64_t first = next_direct_id;
    auto base_finished = listener->finished.load(std::memory_order_acquire);
    auto submit_one = [&] {
      auto req = direct_template;
      auto expected = next_direct_id++;
      if (expected >= direct_submit.size()) {
        std::fprintf(stderr, "bench_provider: more direct requests than planned\n");
        std::exit(1);
      }
      direct_submit[expected] = now_ns();
      auto id = direct_http->submit(std::move(req), listener);
      if (id != expected) {
        std::fprintf(stderr, "bench_provider: http_client id %llu, expected %llu\n",
                     static_cast<unsigned long long>(id), static_cast<unsigned long long>(expected));
        std::exit(1);
      }
    };
    auto ended = [&] { return listener->finished.load(std::memory_order_acquire) - base_finished; };
    auto deadline = clock_type::now() + 60s;
    if (concurrency == 1) {
      for (uint32_t i = 0; i < n; ++i) {
        submit_one();
        while (ended() < i + 1 && clock_type::now() < deadline)
          std::this_thread::sleep_for(100us);
      }
    } else if (spread_ms > 0) {
      auto start = now_ns();
      uint32_t issued = 0;
      while (issued < n) {
        auto elapsed_ms = static_cast<uint64_t>((now_ns() - start) / 1'000'000);
        uint64_t due = std::min<uint64_t>(n, uint64_t{n} * (elapsed_ms + 1) / spread_ms);
        while (issued < due) {
          submit_one();
          ++issued;
        }
        if (issued < n)
          std::this_thread::sleep_until(clock_type::time_point(std::chrono::nanoseconds(start)) +
                                        std::chrono::milliseconds(elapsed_ms + 1));
      }
    } else {
      for (uint32_t i = 0; i < n; ++i)
        submit_one();
    }
    while (ended() < n && clock_type::now() < deadline)
      std::this_thread::sleep_for(200us);
    if (ended() < n)
      std::fprintf(stderr, "bench_provider: direct: %llu of %u requests still running after 60 s\n",
                   static_cast<unsigned long long>(n - ended()), n);
    return first;
  }

  /// Path: the driver runs `n` calls to `root`; returns the first slot.
  uint32_t run_path(const sa::completion_actor& root, uint32_t n, uint32_t concurrency, uint32_t spread_ms,
                    const std::string& backup_name = {}) {
    uint32_t base = next_slot;
    next_slot += n;
    if (next_slot > rec->send.size()) {
      std::fprintf(stderr, "bench_provider: more path calls than planned\n");
      std::exit(1);
    }
    run_spec spec{root, base, n, concurrency, spread_ms, backup_name};
    caf::scoped_actor self{sys};
    bool ok = false;
    self->request(drv, std::chrono::seconds(120), run_atom::value, std::move(spec))
      .receive([&](bool) { ok = true; },
               [&](caf::error& e) { std::fprintf(stderr, "bench_provider: driver: %s\n", sys.render(e).c_str()); });
    if (!ok)
      std::exit(1);
    return base;
  }

  void add_direct(mode_samples& m, uint64_t first, uint32_t n) {
    int64_t t0 = INT64_MAX, t1 = 0;
    for (uint64_t id = first; id < first + n; ++id) {
      t0 = std::min(t0, direct_submit[id]);
      t1 = std::max(t1, listener->done[id]);
      if (listener->failed[id] || listener->status[id] != 200) {
        ++m.failed;
        continue;
      }
      if (listener->first_token[id] == 0) {
        ++m.missing_first;
        continue;
      }
      m.ttfb_us.push_back(static_cast<double>(listener->first_chunk[id] - direct_submit[id]) / 1000);
      m.ttft_us.push_back(static_cast<double>(listener->first_token[id] - direct_submit[id]) / 1000);
      m.total_us.push_back(static_cast<double>(listener->done[id] - direct_submit[id]) / 1000);
      ++m.streams;
    }
    m.wall_s += static_cast<double>(t1 - t0) / 1e9;
  }

  void add_path(mode_samples& m, uint32_t base, uint32_t n) {
    int64_t t0 = INT64_MAX, t1 = 0;
    for (uint32_t s = base; s < base + n; ++s) {
      t0 = std::min(t0, rec->send[s]);
      t1 = std::max(t1, rec->done[s]);
      if (rec->failed[s]) {
        ++m.failed;
        continue;
      }
      if (rec->first[s] == 0) {
        ++m.missing_first;
        continue;
      }
      m.ttft_us.push_back(static_cast<double>(rec->first[s] - rec->send[s]) / 1000);
      m.total_us.push_back(static_cast<double>(rec->done[s] - rec->send[s]) / 1000);
      ++m.streams;
    }
    m.wall_s += static_cast<double>(t1 - t0) / 1e9;
  }
};

} // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    if (!parse_options(argc, argv, opt)) {
      std::cout << usage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_provider: " << e.what() << "\n" << usage;
    return 2;
  }
  if (opt.scheduler_idle != "poll" && opt.scheduler_idle != "block") {
    std::cerr << "bench_provider: --scheduler-idle must be poll or block, not \"" << opt.scheduler_idle << "\"\n"
              << usage;
    return 2;
  }
  if (opt.fake.empty())
    opt.fake = sa::bench::self_dir() + "/../actors/providers/fake/fake-provider";
  if (::access(opt.fake.c_str(), X_OK) != 0) {
    std::cerr << "bench_provider: no fake provider at " << opt.fake << " (build fake-provider, or --fake PATH)\n";
    return 2;
  }
  sa::bench::install_signal_handlers();
  sa::log::init("error", "");

  // File descriptors: each mode keeps `streams` connections open (two clients: 2x), and the fake holds
  // the other ends; raise our soft limit to the hard limit, the fake inherits it.
  const rlim_t nofile = sa::bench::raise_open_files_limit();
  const long needed = 2L * opt.streams + opt.hedge_concurrency * 2 + 64;
  if (nofile != RLIM_INFINITY && static_cast<long>(nofile) < needed)
    std::cerr << "bench_provider: warning: open files limit " << nofile << " < " << needed
              << " needed; raise the hard limit (ulimit -Hn)\n";

  // --- the fake ---
  auto log_path = "/tmp/bench_provider-fake-" + std::to_string(::getpid()) + ".log";
  char tps[32];
  std::snprintf(tps, sizeof tps, "%g", opt.tokens_per_s);
  std::vector<std::string> fake_args{opt.fake, "--port", "0", "--ttft-ms", std::to_string(opt.ttft_ms),
                                     "--tokens-per-s", tps};
  pid_t fake_pid = sa::bench::start_child(fake_args, log_path);
  if (fake_pid < 0) {
    std::cerr << "bench_provider: fork failed\n";
    return 1;
  }
  sa::bench::g_child_pid = fake_pid;
  int port = sa::bench::wait_for_port(fake_pid, log_path, "listening on 127.0.0.1:", 20s, 20ms);
  if (port <= 0) {
    std::cerr << "bench_provider: the fake did not start within 20 s; its log: " << log_path << "\n";
    sa::bench::stop_child(fake_pid, 2s);
    return 1;
  }
  std::string base_url = "http://127.0.0.1:" + std::to_string(port);

  // --- the actor system, as the product configures it (message types, scheduler knobs) ---
  auto product = sa::config::defaults();
  product.node.scheduler_idle = opt.scheduler_idle;
  caf::actor_system_config cfg;
  sa::configure_actor_system(cfg, product);
  auto threads = product.node.scheduler_threads > 0 ? product.node.scheduler_threads
                                                    : static_cast<int>(std::thread::hardware_concurrency());
  if (!opt.caf.empty()) {
    caf::actor_system_config::string_list args;
    for (auto& kv : opt.caf)
      args.push_back("--" + kv);
    std::istringstream no_ini;
    if (auto err = cfg.parse(std::move(args), no_ini)) {
      std::cerr << "bench_provider: --caf: " << cfg.render(err) << "\n";
      return 2;
    }
  }
  caf::actor_system sys{cfg};

  // --- the request: the product's answer prompt for a billing question with three passages ---
  sa::generate_request g;
  g.tenant = sa::tenant_id{"acme"};
  g.session = sa::session_id{"bench"};
  g.question = "I was charged twice for my Pro subscription this month. Can you refund the duplicate charge?";
  const char* texts[] = {
    "Subscriptions renew on the same day each month. If a payment fails, we retry it up to three times over "
    "seven days; each retry can show as a pending authorisation on your card that disappears within a few "
    "days. Only one of them is captured. Duplicate captures are refunded automatically within 5 business days.",
    "Refunds go back to the original payment method. Card refunds take 5-10 business days to appear, "
    "depending on your bank. Invoices paid by bank transfer are refunded by transfer after we confirm your "
    "account details. Admins can see every charge and refund under Billing > History.",
    "To change plan, open Billing > Plan. Upgrades take effect at once and are prorated; downgrades apply at "
    "the next renewal. Annual plans can be cancelled within 14 days for a full refund."};
  const char* titles[] = {"Subscription renewals", "Refunds", "Changing plan"};
  for (int i = 0; i < 3; ++i) {
    sa::passage p;
    p.source_id = "billing/doc-" + std::to_string(i) + ".md#1";
    p.title = titles[i];
    p.text = texts[i];
    p.score = 10.0 - i;
    g.passages.push_back(std::move(p));
  }
  auto prompt = sa::answer_prompt(g, sa::prompt_options{});
  prompt.thinking_budget = 0;

  // Endpoint settings of the path's provider; the direct request is built from the same inputs, as
  // provider_actor's with_endpoint_defaults + send_attempt do (model, max_tokens, stream, key header).
  sa::providers::endpoint_settings es;
  es.name = "openai-bench";
  es.kind = sa::providers::wire_kind::openai;
  es.base_url = base_url;
  es.model = "gpt-4o-mini";
  es.api_key = "sk-bench-not-a-real-key";
  es.seed = 1;
  auto direct_req = prompt;
  direct_req.model = es.model;
  direct_req.stream = true;
  if (direct_req.max_tokens == 0)
    direct_req.max_tokens = es.max_tokens;
  auto built = sa::providers::openai_protocol{}.build_request(direct_req);
  if (!built.ok()) {
    std::cerr << "bench_provider: build_request: " << built.error() << "\n";
    return 1;
  }
  sa::http_request direct_template;
  direct_template.method = built.value().method;
  direct_template.url = base_url + built.value().path;
  direct_template.headers = built.value().headers;
  direct_template.headers.emplace_back(built.value().api_key_header, built.value().api_key_prefix + es.api_key);
  direct_template.body = built.value().body;
  direct_template.connect_timeout = es.connect_timeout;
  direct_template.first_byte_timeout = es.first_byte_timeout;
  direct_template.idle_timeout = es.idle_timeout;
  direct_template.total_timeout = 30s;

  // --- http clients: one for direct, one shared by the providers (as a node shares one) ---
  sa::http_client_options hopt;
  hopt.max_host_connections = std::max<long>(1024, opt.streams + 64);
  hopt.max_cached_connections = hopt.max_host_connections;
  hopt.thread_name = "sa-http-direct";
  auto direct_http = std::make_shared<sa::http_client>(hopt);
  hopt.thread_name = "sa-http-path";
  auto path_http = std::make_shared<sa::http_client>(hopt);
  sa::http_client_options aopt;
  aopt.thread_name = "sa-http-admin";
  sa::http_client admin{aopt};

  const uint32_t n = static_cast<uint32_t>(opt.streams);
  const int phases = 2;  // burst, paced
  size_t capacity = static_cast<size_t>(phases) * (opt.rounds + 1) * n + opt.serial + 16;
  bench b{opt, sys};
  b.port = port;
  b.base_url = base_url;
  b.direct_http = direct_http;
  b.listener = std::make_shared<direct_listener>(capacity + 1);
  b.direct_submit.assign(capacity + 1, 0);
  b.direct_template = direct_template;
  b.rec = std::make_shared<path_record>(capacity + opt.hedge_calls * 2 + 16);

  sa::completion_call templ;
  templ.task = sa::llm_task::generate;
  templ.intent = "billing";
  templ.request = prompt;  // model empty: the provider's configured model, as the generator sends it
  templ.grounding = g;
  b.drv = sys.spawn(driver, b.rec, templ);

  auto provider = sa::providers::spawn_provider(sys, es, path_http);
  auto root = sa::providers::spawn_fallback(sys, "bench-chain", {{es.name, provider}});

  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i ? " " : "") + std::string(argv[i]);
  auto machine = std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model();
  std::printf("%-30s %s\n", "machine", machine.c_str());
  std::printf("%-30s %s\n", "command", command.c_str());
  auto load_start = loadavg();
  std::printf("%-30s %s (1, 5, 15 min; the bench and the fake share the machine with whatever else runs)\n",
              "load average at start", load_start.c_str());
  std::printf("%-30s pid %d, port %d, --ttft-ms %d --tokens-per-s %s (%s)\n", "fake provider", fake_pid, port,
              opt.ttft_ms, tps, opt.tokens_per_s == 0 ? "every token right after the first" : "paced tokens");
  std::printf("%-30s POST /v1/chat/completions, stream, %zu-byte body (answer_prompt, 3 passages)\n", "request",
              direct_template.body.size());
  std::printf("%-30s max_host_connections %ld, max_cached_connections %ld, one client per mode\n",
              "http clients", hopt.max_host_connections, hopt.max_cached_connections);
  std::string caf_extra;
  for (auto& kv : opt.caf)
    caf_extra += " " + kv;
  std::printf("%-30s %d worker threads, max-throughput %d, idle %s%s; open files limit %ld\n", "CAF scheduler",
              std::max(1, threads), product.node.scheduler_max_throughput, product.node.scheduler_idle.c_str(),
              caf_extra.c_str(), static_cast<long>(nofile));
  std::fflush(stdout);

  int exit_code = 0;

  // --- part 1: path vs direct, burst and paced ---
  struct phase_def {
    const char* name;
    uint32_t spread;
  };
  std::vector<phase_def> phase_defs;
  if (opt.arrival != "paced")
    phase_defs.push_back({"burst", 0});
  if (opt.arrival != "burst")
    phase_defs.push_back({"paced", static_cast<uint32_t>(opt.spread_ms)});
  std::vector<std::string> jsons;
  struct phase_result {
    std::string name;
    mode_samples direct, path;
    size_t direct_new_after_warmup = 0, path_new_after_warmup = 0;
    double direct_cpu = 0, path_cpu = 0, direct_fake_cpu = 0, path_fake_cpu = 0;  // cores busy, mean of rounds
  };
  std::vector<phase_result> results;
  for (const auto& ph : phase_defs) {
    phase_result pr;
    pr.name = ph.name;
    std::printf("\n-- provider path vs direct: %u concurrent streams, %s%s, %d rounds per mode + 1 warm-up --\n", n,
                ph.name,
                ph.spread > 0 ? (" over " + std::to_string(ph.spread) + " ms").c_str() : " (all sent at once)",
                opt.rounds);
    std::printf("  %-5s %-6s %10s %10s %10s %10s %10s %9s %10s %9s %6s %11s\n", "round", "mode", "TTFT mean",
                "TTFT p50", "TTFT p99", "total mean", "total p99", "wall ms", "streams/s", "new/idle", "failed",
                "CPU bench/");
    std::printf("  %-5s %-6s %10s %10s %10s %10s %10s %9s %10s %9s %6s %11s\n", "", "", "(ms)", "(ms)", "(ms)", "(ms)",
                "(ms)", "", "", "conns", "", "fake cores");
    for (int r = 0; r <= opt.rounds; ++r) {
      // Alternate which mode goes first, so neither always follows the other.
      for (int k = 0; k < 2; ++k) {
        bool direct = (r % 2 == 0) == (k == 0);
        mode_samples one;
        auto before = client_ports(port);
        double cpu0 = self_cpu_s(), fake0 = proc_cpu_s(fake_pid);
        auto w0 = clock_type::now();
        if (direct) {
          auto first = b.run_direct(n, ph.spread, n);
          b.add_direct(one, first, n);
        } else {
          auto base = b.run_path(root, n, n, ph.spread);
          b.add_path(one, base, n);
        }
        double wall = std::chrono::duration<double>(clock_type::now() - w0).count();
        double cpu_bench = (self_cpu_s() - cpu0) / wall, cpu_fake = (proc_cpu_s(fake_pid) - fake0) / wall;
        auto after = client_ports(port);
        auto fresh = count_new(before, after);
        auto t = summarize(one.ttft_us), tot = summarize(one.total_us);
        std::printf("  %-5s %-6s %10.3f %10.3f %10.3f %10.3f %10.3f %9.1f %10.0f %4zu/%-4zu %6zu %5.2f/%-5.2f\n",
                    r == 0 ? "warm" : std::to_string(r).c_str(), direct ? "direct" : "path", t.mean / 1000,
                    t.p50 / 1000, t.p99 / 1000, tot.mean / 1000, tot.p99 / 1000, one.wall_s * 1000,
                    one.streams / std::max(one.wall_s, 1e-9), fresh, after.size(), one.failed + one.missing_first,
                    cpu_bench, cpu_fake);
        std::fflush(stdout);
        if (one.failed + one.missing_first > 0) {
          exit_code = 1;
          std::fprintf(stderr, "bench_provider: %s: %zu failed, %zu without a first token; first error: %s\n",
                       direct ? "direct" : "path", one.failed, one.missing_first,
                       direct ? b.listener->first_error.c_str() : b.rec->first_error.c_str());
        }
        if (r == 0)
          continue;  // warm-up: connections, allocator, caches
        auto& m = direct ? pr.direct : pr.path;
        m.ttfb_us.insert(m.ttfb_us.end(), one.ttfb_us.begin(), one.ttfb_us.end());
        m.ttft_us.insert(m.ttft_us.end(), one.ttft_us.begin(), one.ttft_us.end());
        m.total_us.insert(m.total_us.end(), one.total_us.begin(), one.total_us.end());
        m.failed += one.failed;
        m.missing_first += one.missing_first;
        m.wall_s += one.wall_s;
        m.streams += one.streams;
        (direct ? pr.direct_new_after_warmup : pr.path_new_after_warmup) += fresh;
        (direct ? pr.direct_cpu : pr.path_cpu) += cpu_bench / opt.rounds;
        (direct ? pr.direct_fake_cpu : pr.path_fake_cpu) += cpu_fake / opt.rounds;
      }
    }
    auto dt = summarize(pr.direct.ttft_us), pt = summarize(pr.path.ttft_us);
    auto dtot = summarize(pr.direct.total_us), ptot = summarize(pr.path.total_us);
    auto dtfb = summarize(pr.direct.ttfb_us);
    double d_rate = pr.direct.streams / std::max(pr.direct.wall_s, 1e-9);
    double p_rate = pr.path.streams / std::max(pr.path.wall_s, 1e-9);
    double added_mean = pt.mean - dt.mean, added_p99 = pt.p99 - dt.p99;
    std::printf("\n  %-22s %12s %12s %17s\n", "measured rounds", "direct", "path", "added (path-direct)");
    std::printf("  %-22s %12zu %12zu\n", "streams", pr.direct.streams, pr.path.streams);
    std::printf("  %-22s %12.3f %12s\n", "TTFB mean (ms)", dtfb.mean / 1000, "-");
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT mean (ms)", dt.mean / 1000, pt.mean / 1000, added_mean);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT p50 (ms)", dt.p50 / 1000, pt.p50 / 1000, pt.p50 - dt.p50);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT p99 (ms)", dt.p99 / 1000, pt.p99 / 1000, added_p99);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "total mean (ms)", dtot.mean / 1000, ptot.mean / 1000,
                ptot.mean - dtot.mean);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "total p50 (ms)", dtot.p50 / 1000, ptot.p50 / 1000,
                ptot.p50 - dtot.p50);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "total p99 (ms)", dtot.p99 / 1000, ptot.p99 / 1000,
                ptot.p99 - dtot.p99);
    std::printf("  %-22s %12.0f %12.0f\n", "streams/s (round wall)", d_rate, p_rate);
    std::printf("  %-22s %5.2f / %-5.2f %5.2f / %-5.2f (cores busy: bench / fake, of %u)\n", "CPU during rounds",
                pr.direct_cpu, pr.direct_fake_cpu, pr.path_cpu, pr.path_fake_cpu, sa::bench::cores());
    std::printf("  %-22s %12zu %12zu   (new TCP connections over the measured rounds)\n", "new connections",
                pr.direct_new_after_warmup, pr.path_new_after_warmup);
    std::printf("  connections reused across rounds (keep-alive): %s\n",
                pr.direct_new_after_warmup + pr.path_new_after_warmup == 0
                  ? "yes, every connection of the warm-up round served all measured rounds"
                  : "NO, connections were reopened (see the new/idle column)");
    std::printf("  target: mean added TTFT < 25 µs: %s (%+.1f µs); p99 added < 1 ms: %s (%+.1f µs)\n",
                added_mean < 25 ? "met" : "MISSED", added_mean, added_p99 < 1000 ? "met" : "MISSED", added_p99);
    std::printf("  (the p99 difference is between the two distributions, not per request)\n");
    std::fflush(stdout);
    char buf[2048];
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"provider_path\",\"cores\":%u,\"cpu\":\"%s\",\"arrival\":\"%s\",\"spread_ms\":%u,"
                  "\"streams\":%u,\"rounds\":%d,\"ttft_ms\":%d,\"tokens_per_s\":%g,"
                  "\"direct\":{\"ttfb\":%s,\"ttft\":%s,\"total\":%s,\"streams_per_s\":%.0f,\"failed\":%zu,"
                  "\"new_connections\":%zu,\"cpu_cores\":%.2f,\"fake_cpu_cores\":%.2f},"
                  "\"path\":{\"ttft\":%s,\"total\":%s,\"streams_per_s\":%.0f,\"failed\":%zu,\"new_connections\":%zu,"
                  "\"cpu_cores\":%.2f,\"fake_cpu_cores\":%.2f},"
                  "\"added_ttft_mean_us\":%.1f,\"added_ttft_p99_us\":%.1f,\"added_total_mean_us\":%.1f,"
                  "\"target_mean_met\":%s,\"target_p99_met\":%s}",
                  sa::bench::cores(), sa::bench::cpu_model().c_str(), ph.name, ph.spread, n, opt.rounds, opt.ttft_ms,
                  opt.tokens_per_s, json_stats(dtfb).c_str(), json_stats(dt).c_str(), json_stats(dtot).c_str(), d_rate,
                  pr.direct.failed + pr.direct.missing_first, pr.direct_new_after_warmup, pr.direct_cpu,
                  pr.direct_fake_cpu, json_stats(pt).c_str(), json_stats(ptot).c_str(), p_rate,
                  pr.path.failed + pr.path.missing_first, pr.path_new_after_warmup, pr.path_cpu, pr.path_fake_cpu,
                  added_mean, added_p99, ptot.mean - dtot.mean, added_mean < 25 ? "true" : "false",
                  added_p99 < 1000 ? "true" : "false");
    jsons.push_back(buf);
    results.push_back(std::move(pr));
  }

  // --- serial: one request at a time, the path's own cost without queueing ---
  const std::string timing_rule =
    R"({"provider":"*","fault":"timing","ttft_ms":)" + std::to_string(opt.short_ttft_ms) + "}";
  auto set_faults = [&](const std::string& rules) {
    auto put = http_sync(admin, "PUT", base_url + "/admin/faults", rules);
    if (put.status != 200) {
      std::fprintf(stderr, "bench_provider: PUT /admin/faults %s: %d %s %s\n", rules.c_str(), put.status,
                   put.body.c_str(), put.error.c_str());
      return false;
    }
    return true;
  };
  if (opt.serial > 0 && set_faults("[" + timing_rule + "]")) {
    mode_samples sd, sp;
    const uint32_t block = 25;
    uint32_t left = static_cast<uint32_t>(opt.serial);
    bool captured = false;
    while (left > 0) {
      uint32_t k = std::min(block, left);
      left -= k;
      if (!captured) {
        b.listener->capture_id.store(b.next_direct_id, std::memory_order_relaxed);
        captured = true;
      }
      auto first = b.run_direct(k, 0, 1);
      b.add_direct(sd, first, k);
      auto base = b.run_path(root, k, 1, 0);
      b.add_path(sp, base, k);
    }
    auto dt = summarize(sd.ttft_us), pt = summarize(sp.ttft_us);
    auto dtot = summarize(sd.total_us), ptot = summarize(sp.total_us);
    http_sync(admin, "DELETE", base_url + "/admin/faults");
    std::printf("\n-- serial: one request at a time, %d per mode (alternating blocks of %u), fake TTFT %d ms --\n",
                opt.serial, block, opt.short_ttft_ms);
    std::printf("  %-22s %12s %12s %17s\n", "", "direct", "path", "added (path-direct)");
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT mean (ms)", dt.mean / 1000, pt.mean / 1000, pt.mean - dt.mean);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT p50 (ms)", dt.p50 / 1000, pt.p50 / 1000, pt.p50 - dt.p50);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "TTFT p99 (ms)", dt.p99 / 1000, pt.p99 / 1000, pt.p99 - dt.p99);
    std::printf("  %-22s %12.3f %12.3f %+14.1f µs\n", "total mean (ms)", dtot.mean / 1000, ptot.mean / 1000,
                ptot.mean - dtot.mean);
    std::fflush(stdout);
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"provider_path_serial\",\"cores\":%u,\"cpu\":\"%s\",\"requests\":%d,\"ttft_ms\":%d,"
                  "\"direct\":{\"ttft\":%s,\"total\":%s},\"path\":{\"ttft\":%s,\"total\":%s},"
                  "\"added_ttft_mean_us\":%.1f,\"added_ttft_p50_us\":%.1f,\"added_total_mean_us\":%.1f}",
                  sa::bench::cores(), sa::bench::cpu_model().c_str(), opt.serial, opt.short_ttft_ms, json_stats(dt).c_str(),
                  json_stats(dtot).c_str(), json_stats(pt).c_str(), json_stats(ptot).c_str(), pt.mean - dt.mean,
                  pt.p50 - dt.p50, ptot.mean - dtot.mean);
    jsons.push_back(buf);

    // CPU the path spends per request outside the network, measured in isolation.
    {
      const int iters = 20000;
      auto t0 = now_ns();
      size_t sink = 0;
      sa::providers::openai_protocol proto;
      for (int i = 0; i < iters; ++i) {
        auto r = proto.build_request(direct_req);
        sink += r.value().body.size();
      }
      double build_us = static_cast<double>(now_ns() - t0) / iters / 1000;
      double decode_us = 0, first_us = 0;
      size_t chunks = b.listener->captured.size(), bytes = 0, deltas = 0;
      for (auto& c : b.listener->captured)
        bytes += c.size();
      if (!b.listener->captured.empty()) {
        t0 = now_ns();
        for (int i = 0; i < iters / 10; ++i) {
          auto dec = proto.make_decoder();
          size_t d = 0;
          for (auto& c : b.listener->captured)
            dec->feed(c, [&](const sa::providers::stream_event& ev) {
              d += std::holds_alternative<sa::providers::stream_delta>(ev) ? 1 : 0;
            });
          deltas = d;
        }
        decode_us = static_cast<double>(now_ns() - t0) / (iters / 10) / 1000;
        // The chunk with the first token only (what stands between its arrival and the first delta).
        size_t first_token_chunk = 0;
        for (size_t i = 0; i < b.listener->captured.size(); ++i)
          if (b.listener->captured[i].find(R"("delta":{"content":")") != std::string::npos) {
            first_token_chunk = i;
            break;
          }
        t0 = now_ns();
        for (int i = 0; i < iters / 10; ++i) {
          auto dec = proto.make_decoder();
          for (size_t j = 0; j <= first_token_chunk; ++j)
            dec->feed(b.listener->captured[j], [&](const sa::providers::stream_event&) { ++sink; });
        }
        first_us = static_cast<double>(now_ns() - t0) / (iters / 10) / 1000;
      }
      std::printf("  %-22s build_request %.2f µs; decode whole stream %.2f µs (%zu chunks, %zu bytes, %zu deltas);\n"
                  "  %-22s decode up to the first token %.2f µs%s\n",
                  "CPU per request", build_us, decode_us, chunks, bytes, deltas, "", first_us,
                  sink == 0 ? " " : "");
      char mb[512];
      std::snprintf(mb, sizeof mb,
                    "{\"bench\":\"provider_path_cpu\",\"cores\":%u,\"cpu\":\"%s\",\"build_request_us\":%.2f,"
                    "\"decode_stream_us\":%.2f,\"decode_to_first_token_us\":%.2f,\"chunks\":%zu,\"bytes\":%zu,"
                    "\"deltas\":%zu}",
                    sa::bench::cores(), sa::bench::cpu_model().c_str(), build_us, decode_us, first_us, chunks, bytes,
                    deltas);
      jsons.push_back(mb);
    }
  }

  // --- part 2: hedge over a stalled primary ---
  if (opt.hedge_calls > 0) {
    auto primary_s = es;
    primary_s.name = "openai-primary";
    auto backup_s = es;
    backup_s.name = "anthropic-backup";
    backup_s.kind = sa::providers::wire_kind::anthropic;
    backup_s.model = "claude-3-5-haiku-latest";
    auto primary = sa::providers::spawn_provider(sys, primary_s, path_http);
    auto backup = sa::providers::spawn_provider(sys, backup_s, path_http);
    auto hedge = sa::providers::spawn_hedge(sys, "bench-hedge", {{primary_s.name, primary}, {backup_s.name, backup}},
                                            std::chrono::milliseconds(opt.hedge_delay_ms));
    auto hc = static_cast<uint32_t>(opt.hedge_calls);
    auto conc = static_cast<uint32_t>(std::min(opt.hedge_concurrency, opt.hedge_calls));
    std::printf("\n-- hedge(openai-primary, anthropic-backup), delay %d ms: %u calls, %u in flight, fake TTFT %d ms --\n",
                opt.hedge_delay_ms, hc, conc, opt.short_ttft_ms);
    std::printf("  %-30s %10s %10s %10s %10s %12s %7s %6s  %s\n", "case", "TTFT mean", "TTFT p50", "TTFT p99",
                "total p50", "backup won", "failed", "resets", "fake requests (openai/anthropic)");
    for (int stalled = 0; stalled < 2; ++stalled) {
      std::string fault_json;
      if (stalled)
        fault_json = R"({"provider":"openai","fault":"stall_before_headers","stall_ms":)" +
                     std::to_string(opt.stall_ms) + "}";
      // Rules match in order: the stall (openai only), then the short time to first token for the rest.
      if (!set_faults("[" + (stalled ? fault_json + "," : std::string()) + timing_rule + "]")) {
        exit_code = 1;
        break;
      }
      http_sync(admin, "DELETE", base_url + "/admin/stats");
      auto resets_before = b.rec->resets;
      auto base = b.run_path(hedge, hc, conc, 0, backup_s.name);
      auto stats_body = http_sync(admin, "GET", base_url + "/admin/stats").body;
      http_sync(admin, "DELETE", base_url + "/admin/faults");
      uint64_t req_openai = 0, req_anthropic = 0;
      try {
        auto j = nlohmann::json::parse(stats_body);
        req_openai = j["requests"].value("openai", uint64_t{0});
        req_anthropic = j["requests"].value("anthropic", uint64_t{0});
      } catch (const std::exception&) {
      }
      mode_samples m;
      b.add_path(m, base, hc);
      size_t backup_won = 0;
      for (uint32_t s = base; s < base + hc; ++s)
        backup_won += b.rec->failed[s] ? 0 : b.rec->backup[s];
      auto t = summarize(m.ttft_us), tot = summarize(m.total_us);
      auto resets = b.rec->resets - resets_before;
      const char* label = stalled ? "primary stalls before headers" : "healthy (primary wins)";
      std::printf("  %-30s %10.3f %10.3f %10.3f %10.3f %8zu/%-3zu %7zu %6llu  %llu/%llu\n", label, t.mean / 1000,
                  t.p50 / 1000, t.p99 / 1000, tot.p50 / 1000, backup_won, m.streams, m.failed + m.missing_first,
                  static_cast<unsigned long long>(resets), static_cast<unsigned long long>(req_openai),
                  static_cast<unsigned long long>(req_anthropic));
      if (m.failed + m.missing_first > 0) {
        exit_code = 1;
        std::fprintf(stderr, "bench_provider: hedge: first error: %s\n", b.rec->first_error.c_str());
      }
      std::fflush(stdout);
      char buf[1024];
      std::snprintf(buf, sizeof buf,
                    "{\"bench\":\"provider_hedge\",\"cores\":%u,\"cpu\":\"%s\",\"case\":\"%s\",\"fault\":%s,"
                    "\"hedge_delay_ms\":%d,\"calls\":%u,\"concurrency\":%u,\"ttft_ms\":%d,\"ttft\":%s,\"total\":%s,"
                    "\"backup_won\":%zu,\"failed\":%zu,\"resets\":%llu,\"fake_requests_openai\":%llu,"
                    "\"fake_requests_anthropic\":%llu}",
                    sa::bench::cores(), sa::bench::cpu_model().c_str(), stalled ? "primary_stalled" : "healthy",
                    stalled ? fault_json.c_str() : "null", opt.hedge_delay_ms, hc, conc, opt.short_ttft_ms,
                    json_stats(t).c_str(), json_stats(tot).c_str(), backup_won, m.failed + m.missing_first,
                    static_cast<unsigned long long>(resets), static_cast<unsigned long long>(req_openai),
                    static_cast<unsigned long long>(req_anthropic));
      jsons.push_back(buf);
    }
    caf::anon_send_exit(hedge, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(backup, caf::exit_reason::user_shutdown);
  }

  auto load_end = loadavg();
  std::printf("\n%-30s %s\n\n", "load average at end", load_end.c_str());
  for (auto& j : jsons) {
    j.insert(j.size() - 1, ",\"loadavg_start\":\"" + load_start + "\",\"loadavg_end\":\"" + load_end + "\"");
    emit_json(j, opt.json_file);
  }
  std::fflush(stdout);

  double fake_cpu = proc_cpu_s(fake_pid);
  caf::anon_send_exit(b.drv, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(provider, caf::exit_reason::user_shutdown);
  direct_http->stop();
  path_http->stop();
  admin.stop();
  auto how = sa::bench::stop_child(fake_pid, 5s);
  std::fprintf(stderr, "bench_provider: fake provider used %.1f s CPU; %s\n", fake_cpu, how.c_str());
  if (exit_code == 0)
    std::remove(log_path.c_str());
  else
    std::fprintf(stderr, "bench_provider: fake log kept at %s\n", log_path.c_str());
  return exit_code;
}
