#include "tests/support/test_node.hpp"

#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace sa::test {

namespace fs = std::filesystem;

namespace {

/// This test process's scratch directory (the intent model trained for it, ~20 MB), removed when the
/// process exits: every test case runs in a process of its own, so leaving it behind filled /tmp.
const fs::path& scratch_dir() {
  struct owned_dir {
    fs::path path;
    ~owned_dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const owned_dir dir{[] {
    auto p = fs::temp_directory_path() / ("sa-test-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }()};
  return dir.path;
}

} // namespace

config::config test_config() {
  auto cfg = config::defaults();
  std::string root = SA_SOURCE_DIR;
  cfg.classifier.model_path = (scratch_dir() / "intents.bin").string();
  cfg.classifier.training_data = root + "/data/intents/intents.csv";
  cfg.tenants.accounts_file = root + "/data/tenants/accounts.json";
  cfg.retriever.knowledge_paths = {root + "/data/kb"};
  cfg.node.state_dir = scratch_dir().string(); // never a developer's var/ (ingested indexes live there)
  cfg.node.log_level = "warn";
  return cfg;
}

std::shared_ptr<const node_services> shared_services() {
  static std::mutex m;
  static std::shared_ptr<const node_services> svc;
  std::lock_guard<std::mutex> guard{m};
  if (!svc) {
    log::init("warn", "");
    auto built = build_node_services(test_config(), [](const std::string&) {});
    if (!built)
      throw std::runtime_error("test node services: " + built.error());
    svc = *built;
  }
  return svc;
}

std::shared_ptr<node_services> services_with_own_metrics(void (*tune)(config::config&)) {
  auto svc = std::make_shared<node_services>(*shared_services());
  svc->metrics = std::make_shared<metrics>();
  if (tune)
    tune(svc->cfg);
  return svc;
}

std::shared_ptr<const node_services> services_with_knowledge(const std::string& knowledge_dir) {
  auto cfg = shared_services()->cfg;
  cfg.retriever.knowledge_paths = std::vector<std::string>{knowledge_dir};
  auto svc = build_node_services(cfg, [](const std::string&) {});
  if (!svc)
    throw std::runtime_error("test node services: " + svc.error());
  return *svc;
}

conversation_memory stored_memory(caf::scoped_actor& self, const test_node& node, const std::string& tenant,
                                  const std::string& session) {
  conversation_memory out;
  self->request(node.handles.memory, std::chrono::seconds(10), memory_load{tenant_id{tenant}, session_id{session}})
    .receive([&](conversation_memory& m) { out = std::move(m); }, [&](caf::error& e) { FAIL(to_string(e)); });
  return out;
}

test_node::test_node(session_children children, std::shared_ptr<const node_services> svc)
  : services(svc ? std::move(svc) : shared_services()) {
  configure_actor_system(cfg, services->cfg);
  sys = std::make_unique<caf::actor_system>(cfg);
  handles = start_node(*sys, services, std::move(children));
}

test_node::~test_node() {
  stop_node(handles);
  sys->await_all_actors_done();  // as ~actor_system would, so that ...
  handles = node_handles{};      // ... the services' blocking lanes finish their queued writes on this thread
  sys.reset();
}

std::vector<turn_delta> turn_result::final_deltas() const {
  auto first = reset_at.empty() ? 0 : reset_at.back();
  return {deltas.begin() + static_cast<std::ptrdiff_t>(first), deltas.end()};
}

std::string turn_result::streamed() const {
  std::string out;
  for (auto& d : final_deltas())
    out += d.text;
  return out;
}

turn_result run_turn(caf::scoped_actor& self, const session_actor& router, const std::string& tenant,
                     const std::string& user, const std::string& session, const std::string& text,
                     const std::string& client_message_id, std::chrono::milliseconds deadline) {
  static std::atomic<unsigned> counter{0};
  auto cmid = client_message_id.empty() ? "t" + std::to_string(++counter) : client_message_id;
  self->send(router, user_turn{tenant_id{tenant}, user_id{user}, session_id{session}, cmid, text,
                               caf::actor_cast<session_listener_actor>(self)});
  turn_result r;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!r.completed && !r.failed && !r.timed_out) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    self->receive(
      [&](turn_delta& d) {
        if (d.client_message_id == cmid)
          r.deltas.push_back(std::move(d));
      },
      [&](turn_reset& x) {
        if (x.client_message_id != cmid)
          return;
        r.reset_at.push_back(r.deltas.size());
        r.resets.push_back(std::move(x));
      },
      [&](turn_completed& c) {
        if (c.client_message_id == cmid)
          r.completed = std::move(c);
      },
      [&](turn_failed& f) {
        if (f.client_message_id == cmid)
          r.failed = std::move(f);
      },
      caf::after(left) >> [&] { r.timed_out = true; });
  }
  return r;
}

} // namespace sa::test
