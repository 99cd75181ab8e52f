// bench_gateway: load generator for the WebSocket gateway (docs/protocol.md). It starts
// `support-agent serve` as a child process (so the server's RSS can be read from /proc/<pid>/status),
// mints two tokens with `support-agent token` and the same HS256 secret, then:
//
//   1. idle connections: opens N authenticated WebSockets from ONE io_context thread (async Beast client,
//      no thread per connection), waits for every `ready`, and reports the server's VmRSS before/after
//      and the RSS per idle connection;
//   2. turns: over M of those connections sends `message` frames in a closed loop (at most one turn in
//      flight per connection) paced by a token bucket at --rate turns/s for --seconds, measuring per
//      turn the time from send to the first `delta` and to the `final`.
//
//   bench_gateway [--connections N] [--active M] [--rate R] [--seconds D] [--warmup W]
//                 [--connect-concurrency K] [--server PATH] [--log-level LEVEL] [--server-set KEY=VALUE]...
//
// Run from the repository root (the server reads data/ relative to its working directory). Traffic goes
// only to 127.0.0.1. Every wait has a deadline; the server is stopped (SIGTERM, then SIGKILL) on exit.
// Output: a table and one JSON line per phase, like bench_pipeline.
#include "bench/child_process.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/questions.hpp"
#include "bench/stats.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

using sa::bench::percentile;
using sa::bench::proc_cpu_s;
using sa::bench::question_count;
using sa::bench::questions;
using sa::bench::self_cpu_s;

// --- command line ---------------------------------------------------------------------------------

struct options {
  int connections = 10000;
  int active = 200;
  double rate = 1000;
  double seconds = 10;
  double warmup = 1;
  int connect_concurrency = 256;
  std::string server;
  std::string log_level = "warn";
  std::vector<std::string> server_sets;
  int connect_deadline_s = 180;   // the whole idle phase
  int turn_deadline_s = 20;       // one turn (the server's own turn timeout is 15 s)
};

bool parse_options(int argc, char** argv, options& o) {
  sa::bench::option_parser p;
  p.add("--connections", o.connections).add("--active", o.active).add("--rate", o.rate)
    .add("--seconds", o.seconds).add("--warmup", o.warmup).add("--connect-concurrency", o.connect_concurrency)
    .add("--server", o.server).add("--log-level", o.log_level).add("--server-set", o.server_sets)
    .add("--connect-deadline", o.connect_deadline_s).add("--turn-deadline", o.turn_deadline_s);
  if (!p.parse(argc, argv))
    return false;
  if (o.connections < 1 || o.active < 0 || o.rate <= 0 || o.seconds <= 0 || o.warmup < 0 ||
      o.connect_concurrency < 1)
    throw std::runtime_error("option out of range");
  o.active = std::min(o.active, o.connections);
  return true;
}

constexpr const char* usage =
  "usage: bench_gateway [--connections N(10000)] [--active M(200)] [--rate TURNS_PER_S(1000)]\n"
  "                     [--seconds D(10)] [--warmup W(1)] [--connect-concurrency K(256)]\n"
  "                     [--server PATH(<bench dir>/../actors/support-agent)] [--log-level warn]\n"
  "                     [--server-set KEY=VALUE]... [--connect-deadline S(180)] [--turn-deadline S(20)]\n"
  "Run from the repository root.\n";

// --- the server: secret, tokens, figures from /proc (running it: bench/child_process.hpp) ------------

std::string random_secret() {
  unsigned char bytes[32];
  std::ifstream in{"/dev/urandom", std::ios::binary};
  in.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

/// Runs `server token --tenant T --user U --ttl S` and returns its first line (the token).
std::string mint_token(const std::string& server, const std::string& tenant, const std::string& user) {
  std::string cmd = "'" + server + "' token --tenant " + tenant + " --user " + user + " --ttl 7200 --set node.log_level=error";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return {};
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p))
    out += buf;
  int rc = ::pclose(p);
  if (rc != 0)
    return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out.substr(0, out.find('\n'));
}

/// True when `server config --describe` lists `key` (limits added later than the bench still get lifted).
bool server_has_key(const std::string& server, const std::string& key) {
  FILE* p = ::popen(("'" + server + "' config --describe").c_str(), "r");
  if (!p)
    return false;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p))
    out += buf;
  ::pclose(p);
  return out.find(key) != std::string::npos;
}

/// A "Vm..." field of /proc/<pid>/status in kB; -1 when unreadable.
long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

/// The soft "Max open files" of a process; -1 when unreadable, LONG_MAX for unlimited.
long open_files_limit(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/limits"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream s{line.substr(14)};
      std::string soft;
      s >> soft;
      return soft == "unlimited" ? LONG_MAX : std::atol(soft.c_str());
    }
  return -1;
}

std::string json_counts(const std::map<std::string, int>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : m)
    j[k] = v;
  return j.dump();
}

std::string counts_text(const std::map<std::string, int>& m) {
  if (m.empty())
    return "none";
  std::string s;
  for (auto& [k, v] : m)
    s += (s.empty() ? "" : ", ") + k + "=" + std::to_string(v);
  return s;
}

// --- the client: one io_context thread, one object per connection ---------------------------------

struct client;

struct conn {
  enum class state { pending, connecting, handshaking, authenticating, ready, closed };

  conn(client& c, asio::io_context& ioc, int index) : owner(c), ws(ioc), index(index) {}

  client& owner;
  websocket::stream<beast::tcp_stream> ws;
  websocket::response_type upgrade_response;
  beast::flat_buffer buf;
  int index;
  state st = state::pending;
  bool writing = false;
  bool closing = false;
  std::string out;
  // the turn in flight (at most one)
  bool busy = false;
  bool measured = false;
  bool got_delta = false;
  std::string cur_id;
  clock_type::time_point sent_at;
  int turns = 0;
};

struct client {
  asio::io_context& ioc;
  tcp::endpoint server;
  std::string host;
  std::string token_acme, token_globex;
  std::vector<std::unique_ptr<conn>> conns;

  // phase 1
  int next_to_open = 0;
  int in_handshake = 0;
  int max_in_handshake = 256;
  int ready = 0;
  int open_failed = 0;
  std::map<std::string, int> open_errors;  // why a connection never became ready
  std::map<std::string, int> closes;       // closes/errors of ready connections, by reason
  std::map<std::string, int> error_frames; // error frames by code
  clock_type::time_point handshake_deadline_len{};

  // phase 2
  bool turns_running = false;
  std::deque<conn*> idle;  // active connections with no turn in flight
  std::vector<double> first_delta_us, turn_us;
  int sent = 0, sent_measured = 0, completed = 0, completed_in_window = 0, failed = 0, timed_out = 0, late = 0;
  int delta_frames = 0, other_frames = 0;
  clock_type::time_point window_start, window_end;
  uint64_t next_message = 0;

  client(asio::io_context& io, tcp::endpoint ep) : ioc(io), server(ep) {
    host = "127.0.0.1:" + std::to_string(ep.port());
  }

  void open_more() {
    while (in_handshake < max_in_handshake && next_to_open < static_cast<int>(conns.size()))
      open(*conns[static_cast<size_t>(next_to_open++)]);
  }

  void open(conn& c) {
    ++in_handshake;
    c.st = conn::state::connecting;
    beast::get_lowest_layer(c.ws).expires_after(15s);
    beast::get_lowest_layer(c.ws).async_connect(server, [this, &c](beast::error_code ec) {
      if (ec)
        return open_failure(c, "connect: " + ec.message());
      beast::get_lowest_layer(c.ws).expires_never();
      auto t = websocket::stream_base::timeout::suggested(beast::role_type::client);
      t.handshake_timeout = 15s;
      c.ws.set_option(t);
      c.ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "bench_gateway"); }));
      c.st = conn::state::handshaking;
      auto target = "/ws?token=" + (c.index % 2 == 0 ? token_acme : token_globex);
      c.ws.async_handshake(c.upgrade_response, host, target, [this, &c](beast::error_code ec) {
        if (ec) {
          auto status = c.upgrade_response.result_int();
          return open_failure(c, status != 0 && status != 101 ? "http " + std::to_string(status)
                                                                : "handshake: " + ec.message());
        }
        c.st = conn::state::authenticating;
        read(c);
      });
    });
  }

  void open_failure(conn& c, const std::string& why) {
    c.st = conn::state::closed;
    beast::error_code ignored;
    beast::get_lowest_layer(c.ws).socket().close(ignored);
    ++open_errors[why];
    ++open_failed;
    --in_handshake;
    open_more();
  }

  void read(conn& c) {
    c.ws.async_read(c.buf, [this, &c](beast::error_code ec, std::size_t) { on_read(c, ec); });
  }

  void on_read(conn& c, beast::error_code ec) {
    if (ec) {
      std::string why = ec == websocket::error::closed ? "close " + std::to_string(c.ws.reason().code)
                                                       : ec.message();
      if (c.st == conn::state::authenticating)
        open_failure(c, "before ready: " + why);
      else if (c.st == conn::state::ready) {
        c.st = conn::state::closed;
        if (!c.closing)
          ++closes[why];
        if (c.busy) {
          c.busy = false;
          ++failed;
        }
      }
      return;
    }
    auto text = beast::buffers_to_string(c.buf.data());
    c.buf.consume(c.buf.size());
    handle(c, text);
    if (c.st != conn::state::closed)
      read(c);
  }

  void handle(conn& c, const std::string& text) {
    auto now = clock_type::now();
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      ++error_frames["<not a JSON frame>"];
      return;
    }
    const auto& type = j["type"].get_ref<const std::string&>();
    auto id_is_current = [&] {
      auto i = j.find("id");
      return c.busy && i != j.end() && i->is_string() && i->get_ref<const std::string&>() == c.cur_id;
    };
    if (type == "delta") {
      ++delta_frames;
      if (!id_is_current()) {
        ++late;
        return;
      }
      if (!c.got_delta) {
        c.got_delta = true;
        if (c.measured)
          first_delta_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent_at).count());
      }
    } else if (type == "final") {
      ++other_frames;
      if (!id_is_current()) {
        ++late;
        return;
      }
      if (c.measured)
        turn_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent_at).count());
      ++completed;
      if (now >= window_start && now < window_end)
        ++completed_in_window;
      finish_turn(c);
    } else if (type == "error") {
      ++other_frames;
      auto code = j.value("code", std::string{"<no code>"});
      ++error_frames[code];
      // An error with our id ends the turn; one without an id (e.g. rate_limited) drops the frame we sent.
      if (c.busy && (id_is_current() || !j.contains("id"))) {
        ++failed;
        finish_turn(c);
      }
    } else if (type == "ready") {
      ++other_frames;
      if (c.st == conn::state::authenticating) {
        c.st = conn::state::ready;
        ++ready;
        --in_handshake;
        open_more();
      }
    } else {
      ++other_frames;  // session, escalated, pong, ...
    }
  }

  void finish_turn(conn& c) {
    c.busy = false;
    if (turns_running)
      idle.push_back(&c);
  }

  /// Sends the next question on `c` (which has no turn in flight).
  void send_turn(conn& c, bool measured) {
    c.cur_id = "c" + std::to_string(c.index) + "-t" + std::to_string(c.turns++);
    nlohmann::json m{{"type", "message"}, {"id", c.cur_id}, {"text", questions[next_message++ % question_count]}};
    c.out = m.dump();
    c.busy = true;
    c.got_delta = false;
    c.measured = measured;
    c.writing = true;
    ++sent;
    sent_measured += measured ? 1 : 0;
    c.sent_at = clock_type::now();
    c.ws.text(true);
    c.ws.async_write(asio::buffer(c.out), [this, &c](beast::error_code ec, std::size_t) {
      c.writing = false;
      if (ec && c.busy && c.st == conn::state::ready) {
        ++closes["write: " + ec.message()];
        c.busy = false;
        ++failed;
      }
    });
  }

  /// Gives up on turns older than `deadline` (their late frames are then ignored by id).
  void sweep(clock_type::time_point now, std::chrono::seconds deadline) {
    for (auto& p : conns) {
      auto& c = *p;
      if (c.busy && c.st == conn::state::ready && now - c.sent_at > deadline) {
        ++timed_out;
        finish_turn(c);
      }
    }
  }

  /// Starts a graceful close on every open connection.
  int close_all() {
    int closing = 0;
    for (auto& p : conns) {
      auto& c = *p;
      if (c.st != conn::state::ready || c.writing) {
        beast::error_code ignored;
        beast::get_lowest_layer(c.ws).socket().close(ignored);
        continue;
      }
      c.closing = true;
      ++closing;
      c.ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
    }
    return closing;
  }
};

/// Runs the io_context until `done()` or the deadline; true when done.
template <class Done>
bool run_until(asio::io_context& ioc, Done done, clock_type::time_point deadline) {
  while (!done()) {
    if (clock_type::now() >= deadline)
      return false;
    ioc.run_for(5ms);
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    if (!parse_options(argc, argv, opt)) {
      std::cout << usage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_gateway: " << e.what() << "\n" << usage;
    return 2;
  }
  if (opt.server.empty())
    opt.server = sa::bench::self_dir() + "/../actors/support-agent";
  if (::access(opt.server.c_str(), X_OK) != 0) {
    std::cerr << "bench_gateway: no server binary at " << opt.server << " (build support-agent, or --server PATH)\n";
    return 2;
  }
  if (::access("data/kb", R_OK) != 0)
    std::cerr << "bench_gateway: warning: no data/kb here; run from the repository root\n";
  sa::bench::install_signal_handlers();

  // File descriptors: raise our soft limit to the hard limit; the server inherits it.
  const rlim_t nofile = sa::bench::raise_open_files_limit();
  const long needed = opt.connections + 64;
  if (nofile != RLIM_INFINITY && static_cast<long>(nofile) < needed)
    std::cerr << "bench_gateway: warning: open files limit " << nofile << " < " << needed
              << " needed for " << opt.connections << " connections; raise the hard limit (ulimit -Hn)\n";

  // The server: a fresh HS256 secret shared with the token command through the environment.
  auto secret = random_secret();
  ::setenv("SA_JWT_SECRET", secret.c_str(), 1);
  auto token_acme = mint_token(opt.server, "acme", "alice");
  auto token_globex = mint_token(opt.server, "globex", "carol");
  if (token_acme.empty() || token_globex.empty()) {
    std::cerr << "bench_gateway: '" << opt.server << " token' failed\n";
    return 1;
  }
  auto log_path = "/tmp/bench_gateway-server-" + std::to_string(::getpid()) + ".log";
  std::vector<std::string> server_args{
    opt.server, "serve",
    "--set", "gateway.listen_address=127.0.0.1",
    "--set", "gateway.port=0",
    "--set", "gateway.max_connections=" + std::to_string(std::max(20000, opt.connections + 100)),
    "--set", "gateway.max_connections_per_user=0",  // two users hold every connection
    "--set", "gateway.messages_per_second=1000",
    "--set", "gateway.message_burst=1000",
    "--set", "gateway.shutdown_grace_ms=3000",
    "--set", "node.log_level=" + opt.log_level};
  // The bench loads two tenants at up to --rate turns/s: lift the per-tenant limit where the server has one.
  if (server_has_key(opt.server, "gateway.tenant_messages_per_second")) {
    auto limit = std::to_string(static_cast<long>(std::max(1000.0, opt.rate * 10)));
    server_args.insert(server_args.end(), {"--set", "gateway.tenant_messages_per_second=" + limit, "--set",
                                           "gateway.tenant_message_burst=" + limit});
  }
  for (auto& s : opt.server_sets) {
    server_args.push_back("--set");
    server_args.push_back(s);
  }
  pid_t server_pid = sa::bench::start_child(server_args, log_path);
  if (server_pid < 0) {
    std::cerr << "bench_gateway: fork failed\n";
    return 1;
  }
  sa::bench::g_child_pid = server_pid;
  int port = sa::bench::wait_for_port(server_pid, log_path, "serving on http://127.0.0.1:", 120s, 50ms);
  if (port <= 0) {
    std::cerr << "bench_gateway: the server did not start within 120 s; its log: " << log_path << "\n";
    sa::bench::stop_child(server_pid, 5s);
    return 1;
  }
  long server_nofile = open_files_limit(server_pid);
  if (server_nofile >= 0 && server_nofile < needed)
    std::cerr << "bench_gateway: warning: the server's open files limit is " << server_nofile << " < " << needed
              << "; it will refuse connections beyond that\n";

  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i ? " " : "") + std::string(argv[i]);
  auto machine = std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model();
  std::printf("%-34s %s\n", "machine", machine.c_str());
  std::printf("%-34s %s\n", "command", command.c_str());
  std::printf("%-34s pid %d, port %d, log level %s, open files limit %ld (bench %ld)\n", "server", server_pid, port,
              opt.log_level.c_str(), server_nofile, static_cast<long>(nofile));
  std::fflush(stdout);

  asio::io_context ioc{1};
  auto guard = asio::make_work_guard(ioc);
  client cl{ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}};
  cl.token_acme = token_acme;
  cl.token_globex = token_globex;
  cl.max_in_handshake = opt.connect_concurrency;
  cl.conns.reserve(static_cast<size_t>(opt.connections));
  for (int i = 0; i < opt.connections; ++i)
    cl.conns.push_back(std::make_unique<conn>(cl, ioc, i));
  int exit_code = 0;

  // --- phase 1: idle connections ---
  std::this_thread::sleep_for(500ms);  // let the server settle after start-up before the baseline
  long rss_before = proc_status_kb(server_pid, "VmRSS");
  long client_rss_before = proc_status_kb(::getpid(), "VmRSS");
  auto open_start = clock_type::now();
  cl.open_more();
  bool all_ready = run_until(ioc, [&] { return cl.ready + cl.open_failed >= opt.connections; },
                             open_start + std::chrono::seconds(opt.connect_deadline_s));
  auto open_secs = std::chrono::duration<double>(clock_type::now() - open_start).count();
  // Let the server finish what follows `ready` (actor spawns, allocator settling) while still serving.
  run_until(ioc, [] { return false; }, clock_type::now() + 2s);
  int held = 0;
  for (auto& c : cl.conns)
    held += c->st == conn::state::ready ? 1 : 0;
  long rss_after = proc_status_kb(server_pid, "VmRSS");
  long client_rss_after = proc_status_kb(::getpid(), "VmRSS");
  double kb_per_conn = held > 0 ? static_cast<double>(rss_after - rss_before) / held : 0;
  int not_ready = opt.connections - cl.ready - cl.open_failed;  // still handshaking at the deadline
  if (held < opt.connections)
    exit_code = 1;

  std::printf("\n-- phase 1: idle connections --\n");
  std::printf("%-34s %d of %d (%s, %.1f s, %.0f/s, %d at a time)\n", "connections held", held, opt.connections,
              all_ready ? "all answered" : "deadline passed", open_secs, cl.ready / std::max(open_secs, 1e-9),
              opt.connect_concurrency);
  std::printf("%-34s %d failed, %d pending: %s\n", "connection failures", cl.open_failed, not_ready,
              counts_text(cl.open_errors).c_str());
  std::printf("%-34s %ld -> %ld (+%ld)\n", "server VmRSS kB", rss_before, rss_after, rss_after - rss_before);
  std::printf("%-34s %10.1f  (target < 30)\n", "server RSS per idle connection kB", kb_per_conn);
  std::printf("%-34s %ld -> %ld\n", "bench (client) VmRSS kB", client_rss_before, client_rss_after);
  std::printf("{\"bench\":\"gateway_idle\",\"cores\":%u,\"cpu\":\"%s\",\"connections\":%d,\"requested\":%d,"
              "\"open_failed\":%d,\"open_errors\":%s,\"open_s\":%.2f,\"server_rss_before_kb\":%ld,"
              "\"server_rss_after_kb\":%ld,\"server_rss_kb_per_conn\":%.2f,\"client_rss_kb\":%ld}\n",
              sa::bench::cores(), sa::bench::cpu_model().c_str(), held, opt.connections, cl.open_failed,
              json_counts(cl.open_errors).c_str(), open_secs, rss_before, rss_after, kb_per_conn, client_rss_after);
  std::fflush(stdout);

  // --- phase 2: turns over `active` of the held connections ---
  std::vector<conn*> active;
  for (auto& c : cl.conns)
    if (c->st == conn::state::ready && static_cast<int>(active.size()) < opt.active)
      active.push_back(c.get());
  if (!active.empty()) {
    cl.turns_running = true;
    for (auto* c : active)
      cl.idle.push_back(c);
    auto start = clock_type::now();
    cl.window_start = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.warmup));
    cl.window_end = cl.window_start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.seconds));
    double server_cpu0 = 0, client_cpu0 = 0;
    bool cpu_marked = false;
    // Token bucket on a 1 ms steady timer; at most 5 ms of traffic banked, the rest counted as missed.
    const double burst = std::max(1.0, opt.rate * 0.005);
    double tokens = 0, missed = 0;
    auto last = start;
    auto last_sweep = start;
    asio::steady_timer tick{ioc};
    auto next_tick = start;
    std::function<void(beast::error_code)> on_tick = [&](beast::error_code ec) {
      if (ec)
        return;
      auto now = clock_type::now();
      if (!cpu_marked && now >= cl.window_start) {
        cpu_marked = true;
        server_cpu0 = proc_cpu_s(server_pid);
        client_cpu0 = self_cpu_s();
      }
      if (now >= cl.window_end)
        return;  // stop issuing; in-flight turns drain
      tokens += opt.rate * std::chrono::duration<double>(now - last).count();
      last = now;
      while (tokens >= 1 && !cl.idle.empty()) {
        auto* c = cl.idle.front();
        cl.idle.pop_front();
        if (c->st != conn::state::ready)
          continue;
        cl.send_turn(*c, now >= cl.window_start);
        tokens -= 1;
      }
      if (tokens > burst) {
        if (now >= cl.window_start)
          missed += tokens - burst;
        tokens = burst;
      }
      if (now - last_sweep > 100ms) {
        cl.sweep(now, std::chrono::seconds(opt.turn_deadline_s));
        last_sweep = now;
      }
      next_tick += 1ms;
      if (next_tick < now)
        next_tick = now;  // fell behind: do not burst to catch up beyond the bucket
      tick.expires_at(next_tick);
      tick.async_wait(on_tick);
    };
    tick.expires_at(next_tick);
    tick.async_wait(on_tick);
    run_until(ioc, [] { return false; }, cl.window_end);
    double server_cpu1 = proc_cpu_s(server_pid), client_cpu1 = self_cpu_s();
    // Drain: wait for the turns still in flight (each has its own deadline through the sweep).
    auto in_flight = [&] {
      int n = 0;
      for (auto* c : active)
        n += c->busy && c->st == conn::state::ready ? 1 : 0;
      return n;
    };
    auto drain_deadline = clock_type::now() + std::chrono::seconds(opt.turn_deadline_s);
    bool drained = run_until(ioc, [&] { return in_flight() == 0; }, drain_deadline);
    if (!drained) {
      cl.sweep(clock_type::now() + std::chrono::seconds(opt.turn_deadline_s + 1),
               std::chrono::seconds(opt.turn_deadline_s));
    }
    cl.turns_running = false;
    tick.cancel();

    double window = opt.seconds;
    double rate = cl.completed_in_window / window;
    double fd50 = percentile(cl.first_delta_us, 0.50) / 1000, fd99 = percentile(cl.first_delta_us, 0.99) / 1000;
    double t50 = percentile(cl.turn_us, 0.50) / 1000, t99 = percentile(cl.turn_us, 0.99) / 1000;
    double fdmax = cl.first_delta_us.empty() ? 0 : *std::max_element(cl.first_delta_us.begin(), cl.first_delta_us.end()) / 1000;
    double tmax = cl.turn_us.empty() ? 0 : *std::max_element(cl.turn_us.begin(), cl.turn_us.end()) / 1000;
    double server_cpu = (server_cpu1 - server_cpu0) / window, client_cpu = (client_cpu1 - client_cpu0) / window;
    long rss_end = proc_status_kb(server_pid, "VmRSS");
    double deltas_per_turn = cl.completed > 0 ? static_cast<double>(cl.delta_frames) / cl.completed : 0;
    if (cl.failed > 0 || cl.timed_out > 0 || !cl.closes.empty())
      exit_code = 1;

    std::printf("\n-- phase 2: turns --\n");
    std::printf("%-34s %zu connections, target %.0f turns/s, %.1f s warm-up + %.1f s measured\n", "load",
                active.size(), opt.rate, opt.warmup, opt.seconds);
    std::printf("%-34s %10.1f  (target %.0f; %.0f missed: every active connection busy)\n", "turns/s achieved",
                rate, opt.rate, missed);
    std::printf("%-34s %10.3f\n", "first delta p50 (ms)", fd50);
    std::printf("%-34s %10.3f  (target < 10)\n", "first delta p99 (ms)", fd99);
    std::printf("%-34s %10.3f\n", "first delta max (ms)", fdmax);
    std::printf("%-34s %10.3f\n", "full turn p50 (ms)", t50);
    std::printf("%-34s %10.3f\n", "full turn p99 (ms)", t99);
    std::printf("%-34s %10.3f\n", "full turn max (ms)", tmax);
    std::printf("%-34s %d sent (%d measured), %d final, %d failed, %d timed out, %d late frames\n", "turns",
                cl.sent, cl.sent_measured, cl.completed, cl.failed, cl.timed_out, cl.late);
    std::printf("%-34s %.1f delta frames per turn\n", "streaming", deltas_per_turn);
    std::printf("%-34s %s\n", "error frames", counts_text(cl.error_frames).c_str());
    std::printf("%-34s %s\n", "unexpected closes", counts_text(cl.closes).c_str());
    std::printf("%-34s server %.2f, bench %.2f (of %u)\n", "CPU cores busy (measured window)", server_cpu,
                client_cpu, sa::bench::cores());
    std::printf("%-34s %ld\n", "server VmRSS kB after turns", rss_end);
    std::printf("{\"bench\":\"gateway_turns\",\"cores\":%u,\"cpu\":\"%s\",\"connections\":%d,\"active\":%zu,"
                "\"target_turns_per_s\":%.0f,\"seconds\":%.1f,\"turns_per_s\":%.1f,\"first_delta_p50_ms\":%.3f,"
                "\"first_delta_p99_ms\":%.3f,\"first_delta_max_ms\":%.3f,\"turn_p50_ms\":%.3f,\"turn_p99_ms\":%.3f,"
                "\"turn_max_ms\":%.3f,\"sent\":%d,\"completed\":%d,\"failed\":%d,\"timed_out\":%d,\"missed\":%.0f,"
                "\"error_frames\":%s,\"closes\":%s,\"server_cpu_cores\":%.2f,\"client_cpu_cores\":%.2f,"
                "\"server_rss_kb\":%ld}\n",
                sa::bench::cores(), sa::bench::cpu_model().c_str(), held, active.size(), opt.rate, opt.seconds, rate,
                fd50, fd99, fdmax, t50, t99, tmax, cl.sent, cl.completed, cl.failed, cl.timed_out, missed,
                json_counts(cl.error_frames).c_str(), json_counts(cl.closes).c_str(), server_cpu, client_cpu, rss_end);
    std::fflush(stdout);
  }

  // --- shutdown: close every connection (deadline), then stop the server ---
  int closing = cl.close_all();
  auto close_deadline = clock_type::now() + 10s;
  run_until(ioc, [&] {
    for (auto& c : cl.conns)
      if (c->closing && c->st == conn::state::ready)
        return false;
    return true;
  }, close_deadline);
  int unclosed = 0;
  for (auto& c : cl.conns)
    if (c->closing && c->st == conn::state::ready)
      ++unclosed;
  guard.reset();
  ioc.stop();
  cl.conns.clear();
  auto how = sa::bench::stop_child(server_pid, 10s);
  std::fprintf(stderr, "bench_gateway: closed %d connections (%d not acknowledged within 10 s); server %s\n",
               closing, unclosed, how.c_str());
  if (exit_code == 0)
    std::remove(log_path.c_str());
  else
    std::fprintf(stderr, "bench_gateway: server log kept at %s\n", log_path.c_str());
  return exit_code;
}
