// bench_audit: audit appends per second to the file store, with fsync per record and batched, and through
// the audit actor (redaction, the actor hop, the store, the receipt back).
//
//   bench_audit [--records N] [--window W] [--interval-ms I] [--dir PATH] [--rounds R]
//
// Each run appends N records to a fresh file in PATH (default var/bench-audit under the working directory:
// a real disk, not tmpfs, or fdatasync costs nothing) with at most W records submitted and not yet
// acknowledged (W = 1: one caller waiting for each receipt; W = 256: many callers at once, so records share an
// fdatasync). Policies: every_record (fdatasync before each acknowledgement, group commit) and batched
// (fdatasync every I ms, default 50). The same through the actor: C = W sessions each sending one request at a
// time. Median of R rounds (default 3). Prints a table and one JSON line per run.
#include "actors/audit/audit_actor.hpp"
#include "actors/audit/audit_file_store.hpp"
#include "actors/audit/audit_verify.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"
#include "messages/registry.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>

namespace {

using namespace sa;
using clock_type = std::chrono::steady_clock;

struct options {
  int records = 2000;
  int window = 1;
  int interval_ms = 50;
  int rounds = 3;
  std::string dir = "var/bench-audit";
};

audit::entry sample() {
  audit::entry e;
  e.tenant = "acme";
  e.actor = "bot";
  e.action = "create_ticket";
  e.args = R"({"intent":"billing","subject":"refund request","ticket":"TCK-5012","turn":3})";
  e.result = "ok";
  e.session = "s-0123456789abcdef";
  return e;
}

std::shared_ptr<audit::file_store> open(const std::string& path, audit::fsync_policy p, int interval_ms) {
  std::filesystem::remove(path);
  std::filesystem::remove(audit::head_path(path));
  audit::file_store_options o;
  o.path = path;
  o.node = "bench";
  o.fsync = p;
  o.fsync_interval = std::chrono::milliseconds{interval_ms};
  o.max_queued = 1'000'000;
  auto s = audit::file_store::open(o);
  if (!s)
    throw std::runtime_error(s.error());
  return *s;
}

/// Appends straight to the store with at most `window` unacknowledged; records/s.
double run_store(const options& o, audit::fsync_policy p, const std::string& path) {
  auto store = open(path, p, o.interval_ms);
  std::mutex m;
  std::condition_variable cv;
  int outstanding = 0, done = 0;
  auto start = clock_type::now();
  for (int i = 0; i < o.records; ++i) {
    {
      std::unique_lock<std::mutex> lock{m};
      cv.wait(lock, [&] { return outstanding < o.window; });
      ++outstanding;
    }
    if (!store->submit(sample(), [&](const audit::stored& s) {
          if (!s.ok)
            std::abort();
          std::lock_guard<std::mutex> guard{m};
          --outstanding;
          ++done;
          cv.notify_all();
        }))
      throw std::runtime_error("refused");
  }
  {
    std::unique_lock<std::mutex> lock{m};
    cv.wait(lock, [&] { return done == o.records; });
  }
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  store->stop();
  if (!audit::verify_file(path).ok())
    throw std::runtime_error("the bench's chain does not verify");
  return o.records / secs;
}

/// The same through the audit actor: `window` sender actors, each with one request in flight.
double run_actor(const options& o, audit::fsync_policy p, const std::string& path) {
  auto store = open(path, p, o.interval_ms);
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("scheduler.max-threads", size_t{2});
  double rate = 0;
  {
    caf::actor_system sys{cfg};
    auto deps = std::make_shared<audit_deps>();
    deps->store = store;
    deps->redactor = std::make_shared<const audit::redactor>();
    auto actor = spawn_audit(sys, deps);
    int per_sender = std::max(1, o.records / o.window);
    auto start = clock_type::now();
    std::vector<caf::actor> senders;
    for (int c = 0; c < o.window; ++c)
      senders.push_back(sys.spawn([=](caf::event_based_actor* self, int) -> caf::behavior {
        auto left = std::make_shared<int>(per_sender);
        auto next = std::make_shared<std::function<void()>>();
        *next = [=] {
          if ((*left)-- == 0)
            return;
          audit_event e{tenant_id{"acme"}, audit_actors::bot, "create_ticket",
                        R"({"intent":"billing","subject":"refund request","ticket":"TCK-5012","turn":3})", "ok",
                        session_id{"s-0123456789abcdef"}};
          self->request(actor, std::chrono::seconds(60), std::move(e))
            .then([=](const audit_receipt&) { (*next)(); }, [](caf::error&) { std::abort(); });
        };
        (*next)();
        return {};
      }, c));
    caf::scoped_actor self{sys};
    for (auto& s : senders)
      self->wait_for(s);
    auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
    rate = per_sender * o.window / secs;
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }
  store->stop();
  return rate;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  sa::bench::option_parser parser;
  parser.add("--records", o.records).add("--window", o.window).add("--interval-ms", o.interval_ms)
    .add("--dir", o.dir).add("--rounds", o.rounds);
  try {
    if (!parser.parse(argc, argv)) {
      std::cout << "usage: bench_audit [--records N] [--window W] [--interval-ms I] [--dir PATH] [--rounds R]\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_audit: " << e.what() << "\n";
    return 2;
  }
  if (o.records < 1 || o.window < 1 || o.interval_ms < 1 || o.rounds < 1) {
    std::cerr << "bench_audit: --records, --window, --interval-ms and --rounds must be at least 1\n";
    return 2;
  }
  sa::log::init("warn", "");
  std::filesystem::create_directories(o.dir);
  auto path = (std::filesystem::path(o.dir) / "bench.jsonl").string();
  struct row {
    const char* path;
    const char* policy;
    double rate;
  };
  std::vector<row> rows;
  for (auto [name, p] : {std::pair{"every_record", sa::audit::fsync_policy::every_record},
                         std::pair{"batched", sa::audit::fsync_policy::batched}}) {
    std::vector<double> store_rates, actor_rates;
    for (int r = 0; r < o.rounds; ++r) {
      store_rates.push_back(run_store(o, p, path));
      actor_rates.push_back(run_actor(o, p, path));
    }
    rows.push_back({"store", name, sa::bench::median(store_rates)});
    rows.push_back({"actor", name, sa::bench::median(actor_rates)});
  }
  std::filesystem::remove(path);
  std::filesystem::remove(sa::audit::head_path(path));
  std::printf("audit appends, %d records, window %d, batched interval %d ms, median of %d (%u cores, %s)\n",
              o.records, o.window, o.interval_ms, o.rounds, sa::bench::cores(), sa::bench::cpu_model().c_str());
  std::printf("%-6s %-13s %12s\n", "path", "fsync", "records/s");
  for (auto& r : rows)
    std::printf("%-6s %-13s %12.0f\n", r.path, r.policy, r.rate);
  for (auto& r : rows)
    std::printf("{\"bench\":\"audit\",\"path\":\"%s\",\"fsync\":\"%s\",\"records\":%d,\"window\":%d,"
                "\"interval_ms\":%d,\"records_per_s\":%.0f,\"cores\":%u}\n",
                r.path, r.policy, o.records, o.window, o.interval_ms, r.rate, sa::bench::cores());
  return 0;
}
