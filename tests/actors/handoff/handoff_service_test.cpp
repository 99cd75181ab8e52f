// The handoff service acknowledges a change only once its store says it is durable: with a store whose
// flushes are held back, an opened handoff and an agent's action get no answer until they are released;
// history, which changes nothing, is answered at once.
#include "actors/classifier/intent_model.hpp"
#include "actors/handoff/handoff_actor.hpp"

#include <catch2/catch.hpp>

#include "caf/all.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

using namespace sa;
using namespace sa::handoff;
using namespace std::chrono_literals;

namespace {

/// A store that keeps what it is given and runs flush callbacks only when the test releases them.
struct gated_store final : store {
  struct shared {
    std::mutex m;
    std::vector<handoff_view> saved;
    std::vector<std::function<void()>> waiting;
  };
  explicit gated_store(std::shared_ptr<shared> s) : s_(std::move(s)) {}
  std::vector<handoff_view> load(std::size_t) override { return {}; }
  void save(const handoff_view& v) override {
    std::lock_guard<std::mutex> g(s_->m);
    s_->saved.push_back(v);
  }
  void flush(std::function<void()> done) override {
    std::lock_guard<std::mutex> g(s_->m);
    s_->waiting.push_back(std::move(done));
  }
  uint64_t syncs() const override { return 0; }
  std::shared_ptr<shared> s_;
};

void release(gated_store::shared& s) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> g(s.m);
    ready.swap(s.waiting);
  }
  for (auto& f : ready)
    f();
}

handoff_open escalation() {
  handoff_open o;
  o.tenant = tenant_id{"acme"};
  o.user = user_id{"alice"};
  o.session = session_id{"s-gated"};
  o.turn = 2;
  o.reason = "user_requested";
  return o;
}

agent_action action(const char* op, const std::string& id) {
  agent_action a;
  a.tenant = tenant_id{"acme"};
  a.agent = "bob";
  a.name = "Bob";
  a.op = op;
  a.handoff = id;
  return a;
}

} // namespace

TEST_CASE("the handoff service answers a change only once the store has it durably", "[handoff][actor]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto gate = std::make_shared<gated_store::shared>();
  auto deps = std::make_shared<handoff_deps>();
  deps->state = std::make_shared<hub>(handoff_book{std::make_unique<gated_store>(gate),
                                                   std::make_shared<const safety::pii_scanner>(),
                                                   classifier::intent_model::labels()});
  caf::scoped_actor self{sys};
  auto service = spawn_handoff(self.ptr(), deps);

  // Opened: the record is saved, the answer waits for the flush.
  bool answered = false;
  std::string id;
  auto opened = [&](handoff_opened& o) {
    answered = true;
    id = o.id;
  };
  auto no_answer = [&](caf::error& e) { CHECK(e == caf::sec::request_timeout); };
  self->request(service, 300ms, escalation()).receive(opened, no_answer);
  CHECK_FALSE(answered);
  {
    std::lock_guard<std::mutex> g(gate->m);
    REQUIRE(gate->saved.size() == 1);
    CHECK(gate->saved.back().state == handoff_states::queued);
  }
  // Asked again (idempotent): answered as soon as its flush is released while it waits.
  auto pending = self->request(service, 10s, escalation());
  std::thread releaser([&] {
    for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
      {
        std::lock_guard<std::mutex> g(gate->m);
        if (gate->waiting.size() >= 2)  // the first request's flush and this one's
          break;
      }
      std::this_thread::yield();
    }
    release(*gate);
  });
  pending.receive(opened, [](caf::error& e) { FAIL(to_string(e)); });
  releaser.join();
  REQUIRE(answered);
  REQUIRE_FALSE(id.empty());

  // An agent's take: saved as assigned, answered after the flush only.
  agent_outcome taken;
  taken.code = "no_answer";
  self->request(service, 300ms, action(handoff_ops::take, id))
    .receive([&](agent_outcome& o) { taken = std::move(o); }, no_answer);
  CHECK(taken.code == "no_answer");
  {
    std::lock_guard<std::mutex> g(gate->m);
    CHECK(gate->saved.back().state == handoff_states::assigned);
  }
  release(*gate);

  // History changes nothing: answered at once, no flush asked.
  agent_outcome history;
  history.code = "no_answer";
  self->request(service, 10s, action(handoff_ops::history, id))
    .receive([&](agent_outcome& o) { history = std::move(o); }, [](caf::error& e) { FAIL(to_string(e)); });
  CHECK(history.code.empty());
  CHECK(history.view.state == handoff_states::assigned);
  {
    std::lock_guard<std::mutex> g(gate->m);
    CHECK(gate->waiting.empty());
  }
  self->send_exit(service, caf::exit_reason::user_shutdown);
}
