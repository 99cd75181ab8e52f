// The blocking lane: jobs run one at a time in the order posted, on one thread that is not the poster's and
// carries the lane's name; an exception ends only its job; destroying the lane runs what was queued first.
#include "runtime/blocking_lane.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pthread.h>

using namespace std::chrono_literals;

namespace {

void wait_all(sa::blocking_lane& lane) {
  std::promise<void> done;
  lane.post([&] { done.set_value(); });
  REQUIRE(done.get_future().wait_for(30s) == std::future_status::ready);
}

} // namespace

TEST_CASE("a lane runs its jobs in order, one at a time, on its own named thread", "[runtime][lane]") {
  sa::blocking_lane lane{"sa-test-lane"};
  std::vector<int> order;  // written by the lane's thread only
  std::atomic<int> running{0};
  std::atomic<int> overlap{0};
  std::set<std::thread::id> threads;
  std::string name;
  for (int i = 0; i < 1000; ++i)
    lane.post([&, i] {
      if (running.fetch_add(1) != 0)
        ++overlap;
      order.push_back(i);
      threads.insert(std::this_thread::get_id());
      if (i == 0) {
        char buf[32] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        name = buf;
      }
      running.fetch_sub(1);
    });
  wait_all(lane);
  REQUIRE(order.size() == 1000);
  for (int i = 0; i < 1000; ++i)
    REQUIRE(order[static_cast<std::size_t>(i)] == i);
  CHECK(overlap == 0);
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  CHECK(name == "sa-test-lane");
}

TEST_CASE("a job that throws ends only itself", "[runtime][lane]") {
  sa::blocking_lane lane{"sa-test-lane"};
  std::atomic<int> after{0};
  lane.post([] { throw std::runtime_error("disk full"); });
  lane.post([] { throw 42; });
  lane.post([&] { ++after; });
  wait_all(lane);
  CHECK(after == 1);
}

TEST_CASE("destroying a lane runs every job posted before", "[runtime][lane]") {
  std::atomic<int> ran{0};
  {
    sa::blocking_lane lane{"sa-test-lane"};
    std::promise<void> release;
    auto gate = release.get_future().share();
    lane.post([gate] { gate.wait(); });  // the rest queue up behind this one
    for (int i = 0; i < 100; ++i)
      lane.post([&] {
        std::this_thread::sleep_for(100us);
        ++ran;
      });
    CHECK(ran == 0);
    release.set_value();
  }  // the destructor waits for all 100
  CHECK(ran == 100);
}

TEST_CASE("a lane joined takes no more jobs", "[runtime][lane]") {
  std::atomic<int> ran{0};
  sa::blocking_lane lane{"sa-test-lane"};
  lane.post([&] { ++ran; });
  lane.join();
  CHECK(ran == 1);
  lane.post([&] { ++ran; });
  lane.join();
  CHECK(ran == 1);
}
