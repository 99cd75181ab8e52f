// bench_cluster: clustering figures against three real `support-agent serve` nodes on 127.0.0.1, joined
// over CAF's middleman with the default cluster settings (heartbeat 250 ms, connection timeout 1000 ms).
//
//   1. forwarding: the same sessions' turns, owned by node-2, sent alternately through node-2's gateway
//      (direct) and node-1's gateway (forwarded: node-1's cluster router relays the turn to node-2 and the
//      events back), one turn in flight; send -> first delta and send -> final, p50/p99, and the difference.
//   2. failover, three ways, each --rounds times (the node is restarted and rejoins between rounds), with
//      --moved sessions owned by node-3 whose clients are connected to node-1 and node-2:
//        kill       kill -9 node-3, then at once a message on every moved session;
//        in_flight  freeze node-3 (SIGSTOP), send the messages (forwarded to node-3, stuck there), then
//                   kill -9 node-3: the relays retry them on the new owners;
//        hang       freeze node-3 and send: the node's sockets stay open, only the middleman's heartbeats
//                   (connection timeout) notice it is gone.
//      Time from the kill (hang: the freeze) to the first and the last answer of a moved session.
//
//   bench_cluster [--turns N] [--warmup W] [--sessions S] [--rounds R] [--moved M] [--server PATH]
//
// Run from the repository root (the nodes read data/ relative to their working directory). Every wait has
// a deadline; the nodes die with the bench (PR_SET_PDEATHSIG). Output: a table and one JSON line per figure.
#include "actors/cluster/rendezvous.hpp"
#include "bench/child_process.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/questions.hpp"
#include "bench/stats.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

using sa::bench::percentile;

const char* jwt_secret = "bench-cluster-jwt-secret-0123456789abcdef";
const char* cluster_secret = "bench-cluster-secret-0123456789abcdef";

struct options {
  int turns = 1000;
  int warmup = 100;
  int sessions = 4;
  int rounds = 3;
  int moved = 20;
  std::string server;
};

double us_since(clock_type::time_point t0, clock_type::time_point t) {
  return std::chrono::duration<double, std::micro>(t - t0).count();
}

// --- a blocking WebSocket client with a read deadline (SO_RCVTIMEO) ---------------------------------

class ws_client {
public:
  ws_client(int port, const std::string& target) {
    tcp::resolver resolver{ioc_};
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.next_layer().set_option(tcp::no_delay(true));
    timeval tv{30, 0};
    ::setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
    ws_.text(true);
  }

  void send(const json& j) {
    auto s = j.dump();
    ws_.write(asio::buffer(s));
  }

  json read() {
    beast::flat_buffer buf;
    ws_.read(buf);
    return json::parse(beast::buffers_to_string(buf.data()));
  }

  /// Reads until a frame of `type` (throws on a read timeout or a closed connection).
  json read_until(const std::string& type) {
    for (;;) {
      auto f = read();
      if (f.value("type", "") == type)
        return f;
    }
  }

private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
};

struct turn_timing {
  double first_delta_us = -1;
  double final_us = -1;
  clock_type::time_point answered;
  bool ok = false;
};

/// One message, one answer: times from sending to the first delta and to the final of this id.
turn_timing run_turn(ws_client& c, const std::string& id, const std::string& text) {
  turn_timing t;
  auto t0 = clock_type::now();
  c.send({{"type", "message"}, {"id", id}, {"text", text}});
  for (;;) {
    auto f = c.read();
    auto type = f.value("type", "");
    if (f.value("id", "") != id)
      continue;
    if (type == "delta" && t.first_delta_us < 0)
      t.first_delta_us = us_since(t0, clock_type::now());
    if (type == "final") {
      t.answered = clock_type::now();
      t.final_us = us_since(t0, t.answered);
      t.ok = true;
      return t;
    }
    if (type == "error")
      return t;
  }
}

// --- the nodes ------------------------------------------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct node {
  std::string name;
  int cluster_port = 0;
  int gateway_port = 0;
  pid_t pid = -1;
  std::string log;
};

struct cluster {
  options opt;
  std::string dir;
  std::vector<node> nodes;

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& n : nodes)
      out.push_back(n.name);
    return out;
  }

  bool start(size_t i) {
    auto& n = nodes[i];
    json seeds = json::array();
    for (auto& other : nodes)
      if (other.name != n.name)
        seeds.push_back("127.0.0.1:" + std::to_string(other.cluster_port));
    std::vector<std::string> args{opt.server, "serve"};
    for (std::string s : {"node.name=" + n.name, std::string{"gateway.port=0"},
                          "cluster.port=" + std::to_string(n.cluster_port), "cluster.seeds=" + seeds.dump(),
                          "classifier.model_path=" + dir + "/intents.bin", std::string{"node.scheduler_threads=2"},
                          std::string{"gateway.messages_per_second=10000"}, std::string{"gateway.message_burst=10000"},
                          std::string{"gateway.tenant_messages_per_second=1000000"},
                          std::string{"gateway.tenant_message_burst=1000000"},
                          std::string{"gateway.max_connections_per_user=0"}}) {  // one user holds --moved sessions
      args.push_back("--set");
      args.push_back(s);
    }
    n.pid = sa::bench::start_child(args, n.log);
    n.gateway_port = sa::bench::wait_for_port(n.pid, n.log, "serving on http://127.0.0.1:", 120s, 20ms);
    return n.gateway_port > 0;
  }

  /// The member count a node's log shows last (1 when it has not logged a change yet).
  static int members(const node& n) {
    auto text = slurp(n.log);
    static const std::regex re{"event=cluster_members count=(\\d+)"};
    int count = 1;
    for (std::sregex_iterator i{text.begin(), text.end(), re}, end; i != end; ++i)
      count = std::stoi((*i)[1].str());
    return count;
  }

  bool wait_members(const std::vector<size_t>& which, int count, std::chrono::seconds deadline = 60s) {
    auto until = clock_type::now() + deadline;
    while (clock_type::now() < until) {
      bool all = true;
      for (auto i : which)
        all = all && members(nodes[i]) == count;
      if (all)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  void stop_all() {
    for (auto& n : nodes)
      if (n.pid > 0) {
        sa::bench::stop_child(n.pid, 10s);
        n.pid = -1;
      }
  }
};

/// `count` session ids owned by `owner` among `members` (rendezvous hashing, as every node computes it).
std::vector<std::string> sessions_owned_by(const std::string& owner, const std::vector<std::string>& members,
                                           const std::string& prefix, int count) {
  std::vector<std::string> out;
  for (int i = 0; static_cast<int>(out.size()) < count; ++i) {
    auto id = prefix + std::to_string(i);
    if (*sa::cluster::rendezvous_owner(id, members) == owner)
      out.push_back(id);
  }
  return out;
}

std::string target(const std::string& token, const std::string& session) {
  return "/ws?token=" + token + "&session=" + session;
}

/// Opens a connection resuming `session` (a new id is bound on first use) and waits for ready + session.
std::unique_ptr<ws_client> open_session(int port, const std::string& token, const std::string& session) {
  auto c = std::make_unique<ws_client>(port, target(token, session));
  c->read_until("ready");
  c->read_until("session");
  return c;
}

std::string mint_token(const std::string& server) {
  std::string cmd = "'" + server + "' token --tenant acme --user alice --ttl 7200 --set node.log_level=error";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return {};
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof buf, p))
    out += buf;
  if (::pclose(p) != 0)
    return {};
  return out.substr(0, out.find('\n'));
}

void print_row(const char* name, const std::string& value) {
  std::printf("%-44s %s\n", name, value.c_str());
}

std::string ms(double us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", us / 1000.0);
  return buf;
}

// --- 1. forwarding overhead -----------------------------------------------------------------------

void bench_forwarding(cluster& cl, const std::string& token, const std::string& machine) {
  auto& o = cl.opt;
  auto ids = sessions_owned_by(cl.nodes[1].name, cl.names(), "bench-fwd-" + std::to_string(::getpid()) + "-",
                               o.sessions);
  std::vector<std::unique_ptr<ws_client>> direct, forwarded;
  for (auto& id : ids) {
    direct.push_back(open_session(cl.nodes[1].gateway_port, token, id));
    forwarded.push_back(open_session(cl.nodes[0].gateway_port, token, id));
  }
  std::vector<double> d_first, d_final, f_first, f_final;
  int failures = 0;
  for (int i = 0; i < o.warmup + o.turns; ++i) {
    auto s = static_cast<size_t>(i) % ids.size();
    auto text = sa::bench::questions[static_cast<size_t>(i) % sa::bench::question_count];
    for (int k = 0; k < 2; ++k) {
      bool fwd = (k == 0) == (i % 2 == 0);  // alternate which mode goes first
      auto& c = fwd ? *forwarded[s] : *direct[s];
      auto t = run_turn(c, (fwd ? "f" : "d") + std::to_string(i), text);
      if (!t.ok) {
        ++failures;
        continue;
      }
      if (i < o.warmup)
        continue;
      (fwd ? f_first : d_first).push_back(t.first_delta_us);
      (fwd ? f_final : d_final).push_back(t.final_us);
    }
  }
  auto p = [](const std::vector<double>& v, double q) { return percentile(v, q); };
  std::printf("\nforwarding: %d turns per mode over %d sessions owned by %s, one in flight; client on %s (direct) "
              "or %s (forwarded)\n",
              o.turns, o.sessions, cl.nodes[1].name.c_str(), cl.nodes[1].name.c_str(), cl.nodes[0].name.c_str());
  std::printf("%-24s %12s %12s %12s %12s\n", "ms", "first p50", "first p99", "final p50", "final p99");
  std::printf("%-24s %12s %12s %12s %12s\n", "direct (owner's gateway)", ms(p(d_first, .5)).c_str(),
              ms(p(d_first, .99)).c_str(), ms(p(d_final, .5)).c_str(), ms(p(d_final, .99)).c_str());
  std::printf("%-24s %12s %12s %12s %12s\n", "forwarded (other node)", ms(p(f_first, .5)).c_str(),
              ms(p(f_first, .99)).c_str(), ms(p(f_final, .5)).c_str(), ms(p(f_final, .99)).c_str());
  std::printf("%-24s %12s %12s %12s %12s\n", "overhead", ms(p(f_first, .5) - p(d_first, .5)).c_str(),
              ms(p(f_first, .99) - p(d_first, .99)).c_str(), ms(p(f_final, .5) - p(d_final, .5)).c_str(),
              ms(p(f_final, .99) - p(d_final, .99)).c_str());
  json j{{"bench", "cluster_forwarding"}, {"machine", machine}, {"turns", o.turns}, {"sessions", o.sessions},
         {"failures", failures},
         {"direct_first_delta_us", {{"p50", p(d_first, .5)}, {"p99", p(d_first, .99)}}},
         {"direct_final_us", {{"p50", p(d_final, .5)}, {"p99", p(d_final, .99)}}},
         {"forwarded_first_delta_us", {{"p50", p(f_first, .5)}, {"p99", p(f_first, .99)}}},
         {"forwarded_final_us", {{"p50", p(f_final, .5)}, {"p99", p(f_final, .99)}}},
         {"overhead_final_us", {{"p50", p(f_final, .5) - p(d_final, .5)}, {"p99", p(f_final, .99) - p(d_final, .99)}}}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// --- 2. failover ----------------------------------------------------------------------------------

struct round_result {
  double first_us = -1, p50_us = -1, last_us = -1;
  int answered = 0, failed = 0;
};

round_result failover_round(cluster& cl, const std::string& token, const std::string& mode, int round) {
  auto& o = cl.opt;
  auto& victim = cl.nodes[2];
  auto ids = sessions_owned_by(victim.name, cl.names(),
                               "bench-" + mode + "-" + std::to_string(::getpid()) + "-" + std::to_string(round) + "-",
                               o.moved);
  std::vector<std::unique_ptr<ws_client>> clients;
  for (size_t k = 0; k < ids.size(); ++k) {
    clients.push_back(open_session(cl.nodes[k % 2].gateway_port, token, ids[k]));
    run_turn(*clients.back(), "warm", sa::bench::questions[k % sa::bench::question_count]);  // active on node-3
  }
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  clock_type::time_point t0;
  std::vector<turn_timing> timings(ids.size());
  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (size_t k = 0; k < ids.size(); ++k)
    threads.emplace_back([&, k] {
      {
        std::unique_lock<std::mutex> lock{m};
        cv.wait(lock, [&] { return go; });
      }
      try {
        auto& c = *clients[k];
        std::string id = "after-" + std::to_string(k);
        c.send({{"type", "message"}, {"id", id}, {"text", sa::bench::questions[(k + 3) % sa::bench::question_count]}});
        ++sent;
        for (;;) {
          auto f = c.read();
          if (f.value("id", "") != id)
            continue;
          if (f.value("type", "") == "final") {
            timings[k].answered = clock_type::now();
            timings[k].ok = true;
            break;
          }
          if (f.value("type", "") == "error")
            break;
        }
      } catch (const std::exception&) {
        // a read timeout or a closed connection: counted as failed
      }
    });
  auto release = [&] {
    std::lock_guard<std::mutex> lock{m};
    go = true;
    cv.notify_all();
  };
  if (mode == "kill") {
    t0 = clock_type::now();
    ::kill(victim.pid, SIGKILL);
    release();
  } else if (mode == "in_flight") {
    ::kill(victim.pid, SIGSTOP);
    release();
    auto until = clock_type::now() + 5s;
    while (sent.load() < static_cast<int>(ids.size()) && clock_type::now() < until)
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);  // let the forwarded turns reach node-3's socket
    t0 = clock_type::now();
    ::kill(victim.pid, SIGKILL);
  } else {  // hang
    t0 = clock_type::now();
    ::kill(victim.pid, SIGSTOP);
    release();
  }
  for (auto& t : threads)
    t.join();
  if (mode == "hang")
    ::kill(victim.pid, SIGKILL);
  int status = 0;
  ::waitpid(victim.pid, &status, 0);
  victim.pid = -1;
  round_result r;
  std::vector<double> us;
  for (auto& t : timings) {
    if (t.ok)
      us.push_back(us_since(t0, t.answered));
    else
      ++r.failed;
  }
  r.answered = static_cast<int>(us.size());
  if (!us.empty()) {
    std::sort(us.begin(), us.end());
    r.first_us = us.front();
    r.p50_us = percentile(us, .5);
    r.last_us = us.back();
  }
  return r;
}

void bench_failover(cluster& cl, const std::string& token, const std::string& machine) {
  auto& o = cl.opt;
  std::printf("\nfailover: %d sessions owned by %s, clients on %s and %s; %d rounds per mode; times from the "
              "kill (hang: the freeze) in ms\n",
              o.moved, cl.nodes[2].name.c_str(), cl.nodes[0].name.c_str(), cl.nodes[1].name.c_str(), o.rounds);
  std::printf("%-10s %6s %12s %12s %12s %10s %8s\n", "mode", "round", "first", "p50", "last", "answered", "failed");
  for (std::string mode : {"kill", "in_flight", "hang"}) {
    std::vector<double> firsts;
    for (int r = 0; r < o.rounds; ++r) {
      auto res = failover_round(cl, token, mode, r);
      std::printf("%-10s %6d %12s %12s %12s %10d %8d\n", mode.c_str(), r + 1, ms(res.first_us).c_str(),
                  ms(res.p50_us).c_str(), ms(res.last_us).c_str(), res.answered, res.failed);
      json j{{"bench", "cluster_failover"}, {"machine", machine}, {"mode", mode}, {"round", r + 1},
             {"moved_sessions", o.moved}, {"first_answer_us", res.first_us}, {"p50_answer_us", res.p50_us},
             {"last_answer_us", res.last_us}, {"answered", res.answered}, {"failed", res.failed}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
      firsts.push_back(res.first_us);
      // The node comes back under its name and port and rejoins before the next round.
      if (!cl.start(2) || !cl.wait_members({0, 1, 2}, 3)) {
        std::fprintf(stderr, "bench_cluster: %s did not rejoin; its log: %s\n", cl.nodes[2].name.c_str(),
                     cl.nodes[2].log.c_str());
        return;
      }
    }
    std::sort(firsts.begin(), firsts.end());
    std::printf("%-10s %6s %12s (median of the rounds' first answers)\n", mode.c_str(), "all",
                ms(firsts[firsts.size() / 2]).c_str());
  }
}

bool parse(int argc, char** argv, options& o) {
  sa::bench::option_parser p;
  p.add("--turns", o.turns).add("--warmup", o.warmup).add("--sessions", o.sessions).add("--rounds", o.rounds)
    .add("--moved", o.moved).add("--server", o.server);
  if (!p.parse(argc, argv))
    return false;
  return o.turns > 0 && o.warmup >= 0 && o.sessions > 0 && o.rounds > 0 && o.moved > 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  o.server = sa::bench::self_dir() + "/../actors/support-agent";
  try {
    if (!parse(argc, argv, o)) {
      std::cerr << "usage: bench_cluster [--turns N] [--warmup W] [--sessions S] [--rounds R] [--moved M] "
                   "[--server PATH]\n";
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_cluster: " << e.what() << "\n";
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  ::setenv("SA_JWT_SECRET", jwt_secret, 1);
  ::setenv("SA_CLUSTER_SECRET", cluster_secret, 1);
  cluster cl;
  cl.opt = o;
  cl.dir = std::filesystem::temp_directory_path() / ("bench_cluster-" + std::to_string(::getpid()));
  std::filesystem::create_directories(cl.dir);
  auto train = sa::bench::start_child({o.server, "train-intents", "data/intents/intents.csv", "--out",
                                       cl.dir + "/intents.bin"},
                                      cl.dir + "/train.log");
  int status = 0;
  ::waitpid(train, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "bench_cluster: training the intent model failed; see " << cl.dir << "/train.log\n";
    return 1;
  }
  for (int i = 0; i < 3; ++i) {
    node n;
    n.name = "node-" + std::to_string(i + 1);
    n.cluster_port = sa::bench::free_loopback_port();
    n.log = cl.dir + "/" + n.name + ".log";
    cl.nodes.push_back(n);
  }
  for (size_t i = 0; i < cl.nodes.size(); ++i)
    if (!cl.start(i)) {
      std::cerr << "bench_cluster: " << cl.nodes[i].name << " did not start; its log: " << cl.nodes[i].log << "\n";
      cl.stop_all();
      return 1;
    }
  if (!cl.wait_members({0, 1, 2}, 3)) {
    std::cerr << "bench_cluster: the cluster did not form within 60 s; logs in " << cl.dir << "\n";
    cl.stop_all();
    return 1;
  }
  auto token = mint_token(o.server);
  if (token.empty()) {
    std::cerr << "bench_cluster: '" << o.server << " token' failed\n";
    cl.stop_all();
    return 1;
  }
  auto machine = std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model();
  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i ? " " : "") + std::string(argv[i]);
  print_row("machine", machine);
  print_row("command", command);
  print_row("nodes", "3 x support-agent serve on 127.0.0.1, logs in " + cl.dir);
  int rc = 0;
  try {
    bench_forwarding(cl, token, machine);
    bench_failover(cl, token, machine);
  } catch (const std::exception& e) {
    std::cerr << "bench_cluster: " << e.what() << "; logs in " << cl.dir << "\n";
    rc = 1;
  }
  cl.stop_all();
  return rc;
}
