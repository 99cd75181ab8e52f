// bench_pipeline: drives N concurrent sessions through the full in-process pipeline (classify, retrieve,
// account context, local generation, escalation, memory) and prints turns/s and p50/p99 turn latency.
//
//   bench_pipeline [--sessions N] [--turns T] [--articles A] [--threads K] [--scheduler-idle poll|block]
//
// Each session keeps exactly one turn in flight: when its answer completes, it asks the next question.
// Latency is measured at the client, from sending user_turn to receiving turn_completed.
#include "actors/node/node.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/questions.hpp"
#include "bench/stats.hpp"
#include "config/load.hpp"
#include "messages/session.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

using sa::bench::percentile;
using sa::bench::question_count;
using sa::bench::questions;

} // namespace

int main(int argc, char** argv) {
  auto cfg = sa::config::defaults();
  int sessions = 16, turns = 60000, articles = 50, threads = 0;
  int max_throughput = cfg.node.scheduler_max_throughput;
  std::string scheduler_idle = cfg.node.scheduler_idle;
  try {
    sa::bench::option_parser p;
    p.add("--sessions", sessions).add("--turns", turns).add("--articles", articles).add("--threads", threads)
      .add("--max-throughput", max_throughput).add("--scheduler-idle", scheduler_idle);
    if (!p.parse(argc, argv)) {
      std::cout << "usage: bench_pipeline [--sessions N(16)] [--turns N(60000)] [--articles N(50)]\n"
                   "                      [--threads N(0: CAF's default)] [--max-throughput N]\n"
                   "                      [--scheduler-idle poll|block (node.scheduler_idle)]\n"
                   "Run from the repository root (reads data/kb).\n";
      return 0;
    }
    if (scheduler_idle != "poll" && scheduler_idle != "block")
      throw std::runtime_error("--scheduler-idle must be poll or block, not \"" + scheduler_idle + "\"");
    if (sessions < 1 || turns < 1 || articles < 1 || threads < 0 || max_throughput < 1)
      throw std::runtime_error("option out of range");
  } catch (const std::exception& e) {
    std::cerr << "bench_pipeline: " << e.what() << "\n";
    return 2;
  }
  sa::log::init("error", "");

  // A knowledge base of the first `articles` pages of the shipped docs (plus FAQs and tickets).
  auto kb = fs::temp_directory_path() / ("sa-bench-kb-" + std::to_string(::getpid()));
  fs::create_directories(kb / "docs");
  std::vector<fs::path> pages;
  for (auto& e : fs::recursive_directory_iterator("data/kb/docs"))
    if (e.path().extension() == ".md")
      pages.push_back(e.path());
  std::sort(pages.begin(), pages.end());
  for (int i = 0; i < articles && i < static_cast<int>(pages.size()); ++i)
    fs::copy_file(pages[i], kb / "docs" / (std::to_string(i) + "-" + pages[i].filename().string()));
  fs::copy_file("data/kb/faq.csv", kb / "faq.csv");
  fs::copy_file("data/kb/tickets.jsonl", kb / "tickets.jsonl");

  cfg.retriever.knowledge_paths = std::vector<std::string>{kb.string()};
  cfg.node.scheduler_threads = threads;
  cfg.node.scheduler_max_throughput = max_throughput;
  cfg.node.scheduler_idle = scheduler_idle;
  auto svc = sa::build_node_services(cfg, [](const std::string& line) { std::cerr << line << "\n"; });
  fs::remove_all(kb);
  if (!svc) {
    std::cerr << "bench_pipeline: " << svc.error() << "\n";
    return 1;
  }
  caf::actor_system_config sys_cfg;
  sa::configure_actor_system(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  auto node = sa::start_node(sys, *svc);
  // The client is an actor too, so the measurement is not dominated by waking a blocked thread for
  // every streamed delta (in production the gateway's connection actors play this part).
  struct driver_state {
    std::unordered_map<std::string, clock_type::time_point> sent;  // client message id -> sent at
    std::vector<double> latencies_us;
    int issued = 0, completed = 0, failed = 0, escalated = 0;
    caf::response_promise done;
  };
  using driver_ptr = caf::stateful_actor<driver_state>*;
  auto router = node.router;
  auto driver = sys.spawn([=](driver_ptr self, int /* argument: see session_router.cpp */) -> caf::behavior {
    auto send_next = [self, router, turns](int s) {
      auto& st = self->state;
      if (st.issued >= turns)
        return;
      auto cmid = "b" + std::to_string(st.issued);
      bool acme = s % 2 == 0;
      st.sent[cmid] = clock_type::now();
      self->send(router, sa::user_turn{sa::tenant_id{acme ? "acme" : "globex"},
                                       sa::user_id{acme ? "alice" : "carol"},
                                       sa::session_id{"bench-" + std::to_string(s)}, cmid,
                                       questions[st.issued % question_count],
                                       caf::actor_cast<sa::session_listener_actor>(self)});
      ++st.issued;
    };
    auto on_done = [self, send_next, turns](const std::string& cmid, const sa::session_id& sid) {
      auto& st = self->state;
      if (auto i = st.sent.find(cmid); i != st.sent.end()) {
        st.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(clock_type::now() - i->second).count());
        st.sent.erase(i);
      }
      if (st.completed + st.failed >= turns)
        st.done.deliver(true);
      else
        send_next(std::stoi(sid.value.substr(6)));
    };
    self->state.latencies_us.reserve(static_cast<size_t>(turns));
    return {
      [=](caf::ok_atom) {
        self->state.done = self->make_response_promise();
        for (int s = 0; s < sessions; ++s)
          send_next(s);
        return self->state.done;  // delivered with `true` when the last turn is back
      },
      [](sa::turn_delta&) {},
      [](sa::turn_reset&) {},
      [=](sa::turn_completed& c) {
        ++self->state.completed;
        self->state.escalated += c.escalation.escalate ? 1 : 0;
        on_done(c.client_message_id, c.session);
      },
      [=](sa::turn_failed& f) {
        ++self->state.failed;
        on_done(f.client_message_id, f.session);
      },
      [=](caf::get_atom) {
        auto& st = self->state;
        return caf::make_message(st.latencies_us, st.completed, st.failed, st.escalated);
      },
    };
  }, 0);
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  bool stalled = false;
  self->request(driver, std::chrono::seconds(600), caf::ok_atom::value)
    .receive([](bool) {}, [&](caf::error&) { stalled = true; });
  auto finished = clock_type::now();
  std::vector<double> latencies_us;
  int completed = 0, failed = 0, escalated = 0;
  self->request(driver, std::chrono::seconds(10), caf::get_atom::value)
    .receive(
      [&](std::vector<double>& l, int c, int f, int e) {
        latencies_us = std::move(l);
        completed = c;
        failed = f;
        escalated = e;
      },
      [&](caf::error&) { stalled = true; });
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  double secs = std::chrono::duration<double>(finished - start).count();
  double rate = (completed + failed) / secs;
  double p50 = percentile(latencies_us, 0.50), p99 = percentile(latencies_us, 0.99);
  double mean = sa::bench::mean(latencies_us);

  std::printf("%-28s %s\n", "machine", (std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model()).c_str());
  std::printf("%-28s %d sessions, %d turns, %d-article KB\n", "load", sessions, turns, articles);
  std::printf("%-28s %10.0f  (target >= 5000)\n", "turns/s", rate);
  std::printf("%-28s %10.3f\n", "turn latency p50 (ms)", p50 / 1000);
  std::printf("%-28s %10.3f  (target < 5)\n", "turn latency p99 (ms)", p99 / 1000);
  std::printf("%-28s %10.3f\n", "turn latency mean (ms)", mean / 1000);
  std::printf("%-28s %10d / %d\n", "failed / escalated", failed, escalated);
  std::printf("{\"bench\":\"pipeline\",\"cores\":%u,\"cpu\":\"%s\",\"sessions\":%d,\"turns\":%d,\"articles\":%d,"
              "\"turns_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"failed\":%d,"
              "\"escalated\":%d,\"stalled\":%s}\n",
              sa::bench::cores(), sa::bench::cpu_model().c_str(), sessions, turns, articles, rate, p50 / 1000,
              p99 / 1000, mean / 1000, failed, escalated, stalled ? "true" : "false");
  sa::stop_node(node);
  return stalled || failed > 0 ? 1 : 0;
}
