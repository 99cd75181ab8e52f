// bench_memory: memory appends and loads per second against a local redis-server, side by side with
// redis-benchmark running the equivalent commands over one connection with the same pipelining.
//
//   bench_memory [--pipeline P] [--concurrency C] [--appends N] [--loads N] [--sessions S] [--rounds R]
//                [--port PORT] [--threads K] [--tls 0|1]
//
// It starts its own redis-server (a free port, a temporary directory, no persistence) unless --port names
// one. With --tls 1 that server also listens on a TLS port (a throwaway CA, bench/tls_pki.hpp) and all
// three paths below talk TLS to it (the client verifying the server), so the figures compare with the
// plaintext run. Three paths, each over one connection with at most P commands written and unanswered (the
// pipeline depth on the wire, redis_client max_in_flight = P, default 16):
//   memory actor  memory_append / memory_load requests to the redis memory actor from C sessions at once
//                 (default 256; one operation per session at a time, as sessions do), through the shared
//                 redis_client: C operations wait or travel, P of them on the wire;
//   client        the same EVALSHA commands straight through a redis_client (no actor, no working copy),
//                 C outstanding, P on the wire;
//   redis-benchmark -c 1 -P P -n N -r S: EVALSHA of the same append/load scripts, behind a two-line prefix
//                 that derives the three keys from one (redis-benchmark cannot repeat one random number in
//                 three keys) and sets the turn number to last + 1 (so every append commits, as ours do).
//                 The prefix costs redis-benchmark one HGET per append more than us; arguments have the
//                 sizes of ours (turn JSON, a full running summary).
// The figure: ratio = actor rate / redis-benchmark rate (target >= 0.5). Median of R rounds. K is the
// number of CAF scheduler threads (default 2).
#include "actors/memory/redis_layout.hpp"
#include "actors/memory/redis_memory.hpp"
#include "bench/child_process.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"
#include "bench/tls_pki.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"

#include "caf/all.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <stdexcept>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

namespace rl = sa::redis_layout;

const sa::tenant_id tenant{"bench"};
const sa::user_id owner{"user"};

/// One command on a fresh blocking connection; the reply as text ("" on failure).
std::string sync_command(int port, const std::vector<std::string>& args) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{1, 0});
  if (!c || c->err) {
    if (c)
      redisFree(c);
    return {};
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  std::string out;
  if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
    out.assign(r->str, r->len);
  if (r)
    freeReplyObject(r);
  redisFree(c);
  return out;
}

/// Session ids as redis-benchmark spells __rand_int__: 12 digits, zero-padded.
std::string session_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%012d", i);
  return buf;
}

sa::turn_record make_turn(sa::turn_number n, int session) {
  sa::turn_record t;
  t.number = n;
  t.client_message_id = "c" + std::to_string(session) + "-" + std::to_string(n);
  t.user_text = "Why was I charged twice this month? I only have one workspace and the invoice shows two "
                "renewals on the same day.";
  t.answer_text = std::string(
    "For your account you are on the business plan at $250.00 per month, renewing on 2026-12-01, paid by Visa "
    "ending 4242. Recent invoices: INV-2026-0142 and INV-2026-0143. A second charge on the same day usually means "
    "a plan change was billed separately; the difference is credited on the next invoice. If the two invoices "
    "cover the same period, ask us to refund one of them and we will do it within five business days.");
  t.intent = sa::intent::billing;
  t.at_unix_ms = 1700000000000 + n;
  return t;
}

// --- the memory actor path -----------------------------------------------------------------------

/// Runs `total` operations with `lanes` in flight; lane i owns sessions i, i + lanes, ... and has one
/// request in flight at a time. Returns operations per second.
double actor_run(caf::actor_system& sys, const sa::memory_actor& memory, int lanes, int sessions, int total,
                 bool appends, std::vector<sa::turn_number>& next_turn) {
  struct ctx {
    int remaining = 0;
    int outstanding = 0;
    int failures = 0;
    std::vector<int> cursor;  // per lane: index into its sessions
    std::promise<void> done;
  };
  auto c = std::make_shared<ctx>();
  c->remaining = total;
  c->cursor.assign(static_cast<size_t>(lanes), 0);
  auto finished = c->done.get_future();
  auto start = clock_type::now();
  sys.spawn([=, &next_turn](caf::event_based_actor* self, int) {  // an argument: CAF 0.17 needs one
    auto issue = std::make_shared<std::function<void(int)>>();
    *issue = [=, &next_turn](int lane) {
      if (c->remaining == 0) {
        if (c->outstanding == 0) {
          c->done.set_value();
          self->quit();
        }
        return;
      }
      --c->remaining;
      ++c->outstanding;
      auto per_lane = std::max(1, sessions / lanes);
      int s = lane + lanes * (c->cursor[static_cast<size_t>(lane)]++ % per_lane);
      auto on_error = [=](caf::error&) {
        ++c->failures;
        --c->outstanding;
        (*issue)(lane);
      };
      if (appends) {
        auto n = next_turn[static_cast<size_t>(s)]++;
        self->request(memory, 30s, sa::memory_append{tenant, sa::session_id{session_name(s)}, owner, make_turn(n, s)})
          .then([=](const sa::memory_ack&) { --c->outstanding; (*issue)(lane); }, on_error);
      } else {
        self->request(memory, 30s, sa::memory_load{tenant, sa::session_id{session_name(s)}})
          .then([=](const sa::conversation_memory&) { --c->outstanding; (*issue)(lane); }, on_error);
      }
    };
    for (int lane = 0; lane < lanes; ++lane)
      (*issue)(lane);
  }, 0);
  finished.wait();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (c->failures > 0)
    std::cerr << "bench_memory: " << c->failures << " failed operations\n";
  return total / secs;
}

// --- the raw client path -------------------------------------------------------------------------

/// Keeps `window` commands in flight; every reply submits the next one (on the client's loop thread).
class window_listener : public sa::redis_listener, public std::enable_shared_from_this<window_listener> {
public:
  using make_fn = std::function<std::vector<std::string>(int64_t seq)>;
  window_listener(sa::redis_client& client, int total, make_fn make)
    : client_(client), remaining_(total), make_(std::move(make)) {}

  void start(int window) {
    for (int i = 0; i < window; ++i)
      next();
  }
  void on_reply(uint64_t, sa::redis_reply reply) noexcept override {
    if (reply.is_error())
      ++errors_;
    finish_one();
  }
  void on_error(uint64_t, const sa::redis_error&) noexcept override {
    ++errors_;
    finish_one();
  }
  void wait() {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return done_; });
  }
  int errors() const { return errors_; }

private:
  void next() {
    int64_t seq;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (remaining_ == 0)
        return;
      --remaining_;
      ++outstanding_;
      seq = seq_++;
    }
    sa::redis_command c;
    c.args = make_(seq);
    c.wait_for_connection = true;
    (void)client_.submit(std::move(c), shared_from_this());
  }
  void finish_one() {
    bool last = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      --outstanding_;
      last = remaining_ == 0 && outstanding_ == 0;
      if (last)
        done_ = true;
    }
    if (last)
      cv_.notify_all();
    else
      next();
  }

  sa::redis_client& client_;
  std::mutex mtx_;
  std::condition_variable cv_;
  int remaining_;
  int outstanding_ = 0;
  int64_t seq_ = 0;
  bool done_ = false;
  std::atomic<int> errors_{0};
  make_fn make_;
};

double client_run(sa::redis_client& client, int window, int total, window_listener::make_fn make) {
  auto l = std::make_shared<window_listener>(client, total, std::move(make));
  auto start = clock_type::now();
  l->start(window);
  l->wait();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (l->errors() > 0)
    std::cerr << "bench_memory: " << l->errors() << " failed commands on the client path\n";
  return total / secs;
}

// --- redis-benchmark -----------------------------------------------------------------------------

/// `tls_ca`: non-empty = over TLS, verifying the server with this CA file.
double redis_benchmark_run(int port, int pipeline, int total, int sessions, const std::vector<std::string>& command,
                           const std::string& dir, const std::string& tls_ca) {
  std::vector<std::string> args{sa::bench::find_in_path("redis-benchmark"), "-h", "127.0.0.1", "-p", std::to_string(port),
                                "-c", "1", "-P", std::to_string(pipeline), "-n", std::to_string(total),
                                "-r", std::to_string(sessions), "--csv"};
  if (!tls_ca.empty())
    args.insert(args.end(), {"--tls", "--cacert", tls_ca});
  args.insert(args.end(), command.begin(), command.end());
  auto out = dir + "/redis-benchmark.out";
  auto pid = sa::bench::start_child(args, out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in{out};
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty())
      last = line;
  // "EVALSHA ...","123456.78",...
  auto q = last.find("\",\"");
  if (q == std::string::npos)
    return 0;
  return std::atof(last.c_str() + q + 3);
}

} // namespace

int main(int argc, char** argv) {
  int pipeline = 16, appends = 100000, loads = 100000, sessions = 1000, rounds = 3, port = 0, threads = 2,
      concurrency = 256, tls = 0;
  try {
    sa::bench::option_parser p;
    p.add("--pipeline", pipeline).add("--appends", appends).add("--loads", loads).add("--sessions", sessions)
      .add("--rounds", rounds).add("--port", port).add("--threads", threads).add("--concurrency", concurrency)
      .add("--tls", tls);
    if (!p.parse(argc, argv)) {
      std::cout << "usage: bench_memory [--pipeline N(16)] [--appends N(100000)] [--loads N(100000)]\n"
                   "                    [--sessions N(1000)] [--rounds N(3)] [--port REDIS_PORT(0: start one)]\n"
                   "                    [--threads N(2)] [--concurrency N(256)] [--tls 0|1(0)]\n"
                   "  --tls 1: the actor, the client and redis-benchmark talk TLS 1.3 to the bench's own\n"
                   "           redis-server (a throwaway CA; the client verifies the server)\n";
      return 0;
    }
    if (pipeline < 1 || appends < 1 || loads < 1 || sessions < 1 || rounds < 1 || port < 0 || port > 65535 ||
        threads < 1 || (tls != 0 && tls != 1))
      throw std::runtime_error("option out of range");
    if (tls == 1 && port != 0)
      throw std::runtime_error("--tls 1 needs the bench's own redis-server (no --port)");
  } catch (const std::exception& e) {
    std::cerr << "bench_memory: " << e.what() << "\n";
    return 2;
  }
  concurrency = std::max(concurrency, 1);
  sessions = std::max(sessions, concurrency);
  sa::log::init("error", "");
  sa::bench::install_signal_handlers();

  auto dir = fs::temp_directory_path() / ("sa-bench-redis-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  pid_t server = -1;
  int data_port = 0;  // where the measured paths connect: the TLS port with --tls 1, else `port`
  sa::bench::tls_pki pki;
  if (port == 0) {
    port = sa::bench::free_loopback_port();
    std::vector<std::string> args{sa::bench::find_in_path("redis-server"), "--port", std::to_string(port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.string()};
    if (tls) {  // set-up (FLUSHALL, SCRIPT LOAD) stays on the plaintext port
      try {
        pki = sa::bench::make_tls_pki(dir.string());
      } catch (const std::exception& e) {
        std::cerr << "bench_memory: " << e.what() << "\n";
        return 1;
      }
      do
        data_port = sa::bench::free_loopback_port();
      while (data_port == port);
      args.insert(args.end(), {"--tls-port", std::to_string(data_port), "--tls-cert-file", pki.server_cert,
                               "--tls-key-file", pki.server_key, "--tls-ca-cert-file", pki.ca_cert,
                               "--tls-auth-clients", "no"});
    }
    server = sa::bench::start_child(args, (dir / "redis.log").string());
    sa::bench::g_child_pid = server;
    auto until = clock_type::now() + 20s;
    while (sync_command(port, {"PING"}) != "PONG") {
      if (clock_type::now() > until) {
        std::cerr << "bench_memory: redis-server did not start (see " << (dir / "redis.log") << ")\n";
        return 1;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  if (data_port == 0)
    data_port = port;
  sync_command(port, {"FLUSHALL"});

  caf::actor_system_config cfg;
  sa::register_message_types(cfg);
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  caf::actor_system sys{cfg};
  sa::redis_client_options copts;
  copts.port = data_port;
  if (tls) {
    sa::redis_tls_options t;
    t.ca_file = pki.ca_cert;
    auto ctx = sa::redis_tls_context::load(t);
    if (!ctx) {
      std::cerr << "bench_memory: " << ctx.error() << "\n";
      return 1;
    }
    copts.tls = *ctx;
  }
  copts.max_in_flight = static_cast<size_t>(pipeline);
  copts.max_pending = 1000000;
  auto client = std::make_shared<sa::redis_client>(copts);
  sa::redis_memory_options mopts;
  mopts.limits.max_turns = 10;
  mopts.limits.max_sessions = static_cast<size_t>(sessions) * 2;
  auto memory = sa::spawn_redis_memory(sys, client, mopts);

  // Steady-state arguments (a full window, so every append carries the running summary) for the other paths.
  std::vector<sa::turn_number> next_turn(static_cast<size_t>(sessions), 1);
  actor_run(sys, memory, concurrency, sessions, sessions * 12, true, next_turn);  // warm-up: fills every window
  sa::memory_store sample{mopts.limits};
  for (sa::turn_number n = 1; n <= 12; ++n)
    sample.append(tenant, sa::session_id{"x"}, owner, make_turn(n, 0), sa::memory_store::clock::now(), nullptr);
  auto steady = *sample.find(tenant, sa::session_id{"x"}, sa::memory_store::clock::now());
  auto summary = sa::memory_store::summary_after_append(steady, 10, mopts.limits.summary_max_chars);
  auto turn_json = rl::encode_turn(make_turn(13, 0));
  auto ttl_ms = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(mopts.limits.ttl).count());

  // redis-benchmark's scripts: one key in, the product's script body after a two-line prefix.
  const std::string prefix_keys = "local base = KEYS[1]\nKEYS[1] = base .. ':turns'\nKEYS[2] = base .. ':ids'\n"
                                  "KEYS[3] = base .. ':meta'\n";
  auto bench_append = prefix_keys + "ARGV[1] = tostring((tonumber(redis.call('HGET', KEYS[3], 'last')) or 0) + 1)\n"
                                    "ARGV[2] = ARGV[2] .. ':' .. ARGV[1]\n" + rl::append_script();
  auto bench_load = prefix_keys + rl::load_script();
  auto append_sha = sync_command(port, {"SCRIPT", "LOAD", bench_append});
  auto load_sha = sync_command(port, {"SCRIPT", "LOAD", bench_load});
  if (append_sha.size() != 40 || load_sha.size() != 40) {
    std::cerr << "bench_memory: SCRIPT LOAD failed\n";
    return 1;
  }
  // Appends go to sessions of their own (the actor's and the client's turn numbers continue on ours).
  std::vector<std::string> rb_append{"EVALSHA", append_sha, "1", "sa:bench-rb:{__rand_int__}", "0", "r__rand_int__",
                                     owner.value, turn_json, "10", ttl_ms, "1", summary};
  std::vector<std::string> rb_load{"EVALSHA", load_sha, "1", "sa:bench:{__rand_int__}"};

  // The client path's commands: the product's append (real compare-and-set, numbers continue) and load.
  std::vector<sa::turn_number> client_next(static_cast<size_t>(sessions), 0);
  std::mutex client_mtx;
  auto client_append = [&](int64_t seq) {
    int s = static_cast<int>(seq % sessions);
    sa::turn_number n;
    {
      std::lock_guard<std::mutex> guard{client_mtx};
      n = next_turn[static_cast<size_t>(s)]++;
    }
    rl::append_args a;
    a.turn = make_turn(n, s);
    a.turn_json = rl::encode_turn(a.turn);
    a.owner = owner;
    a.max_turns = 10;
    a.ttl = std::chrono::milliseconds(std::stoll(ttl_ms));
    a.replace_summary = true;
    a.summary = summary;
    return rl::append_command(rl::keys_for("sa", tenant, sa::session_id{session_name(s)}), a, true);
  };
  auto client_load = [&](int64_t seq) {
    int s = static_cast<int>(seq % sessions);
    return rl::load_command(rl::keys_for("sa", tenant, sa::session_id{session_name(s)}), true);
  };

  std::vector<double> actor_appends, actor_loads, client_appends, client_loads, rb_appends, rb_loads;
  for (int r = 0; r < rounds; ++r) {
    actor_appends.push_back(actor_run(sys, memory, concurrency, sessions, appends, true, next_turn));
    client_appends.push_back(client_run(*client, concurrency, appends, client_append));
    // the actor's working copy is now behind the client path's writes: a load refreshes it from Redis
    actor_loads.push_back(actor_run(sys, memory, concurrency, sessions, loads, false, next_turn));
    client_loads.push_back(client_run(*client, concurrency, loads, client_load));
    rb_appends.push_back(redis_benchmark_run(data_port, pipeline, appends, sessions, rb_append, dir.string(), pki.ca_cert));
    rb_loads.push_back(redis_benchmark_run(data_port, pipeline, loads, sessions, rb_load, dir.string(), pki.ca_cert));
  }
  auto stats = client->stats();
  double aa = sa::bench::median(actor_appends), al = sa::bench::median(actor_loads), ca = sa::bench::median(client_appends), cl = sa::bench::median(client_loads);
  double ra = sa::bench::median(rb_appends), rload = sa::bench::median(rb_loads);

  std::printf("%-34s %s\n", "machine", (std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model()).c_str());
  std::printf("%-34s pipeline %d on the wire, %d sessions in flight of %d, window 10 turns, median of %d rounds, %s\n",
              "load", pipeline, concurrency, sessions, rounds, tls ? "TLS" : "plaintext");
  std::printf("%-34s %12s %12s\n", "", "appends/s", "loads/s");
  std::printf("%-34s %12.0f %12.0f\n", "memory actor (redis backend)", aa, al);
  std::printf("%-34s %12.0f %12.0f\n", "redis_client, same commands", ca, cl);
  std::printf("%-34s %12.0f %12.0f\n", "redis-benchmark -c 1 -P (same)", ra, rload);
  std::printf("%-34s %12.2f %12.2f  (target >= 0.5)\n", "ratio actor / redis-benchmark", ra > 0 ? aa / ra : 0,
              rload > 0 ? al / rload : 0);
  for (auto [op, actor, direct, rb] : {std::tuple{"append", aa, ca, ra}, std::tuple{"load", al, cl, rload}})
    std::printf("{\"bench\":\"memory\",\"op\":\"%s\",\"tls\":%s,\"cores\":%u,\"cpu\":\"%s\",\"pipeline\":%d,\"sessions\":%d,"
                "\"concurrency\":%d,\"rounds\":%d,\"actor_ops_per_s\":%.0f,\"client_ops_per_s\":%.0f,\"redis_benchmark_ops_per_s\":%.0f,"
                "\"ratio\":%.3f,\"client_errors\":%llu}\n",
                op, tls ? "true" : "false", sa::bench::cores(), sa::bench::cpu_model().c_str(), pipeline, sessions, concurrency, rounds, actor,
                direct, rb,
                rb > 0 ? actor / rb : 0.0, static_cast<unsigned long long>(stats.error_replies + stats.failed));

  caf::anon_send_exit(memory, caf::exit_reason::user_shutdown);
  client->stop();
  if (server > 0)
    sa::bench::stop_child(server, 5s);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
