// The exit watchdog in a child process: armed and never disarmed (a destructor that hangs), the process ends
// with the armed exit code soon after the bound, saying why; disarmed in time, it does nothing.
#include "runtime/exit_watchdog.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

struct child_outcome {
  int status = -1;
  std::chrono::steady_clock::duration took{};
};

/// Runs `body` in a forked child (which ends with _exit(7) if body returns) and waits for it.
template <class Body>
child_outcome in_child(Body body) {
  auto started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    ::_exit(7);
  }
  child_outcome out;
  REQUIRE(::waitpid(pid, &out.status, 0) == pid);
  out.took = std::chrono::steady_clock::now() - started;
  return out;
}

} // namespace

TEST_CASE("an armed exit watchdog ends a process whose shutdown hangs, with the armed exit code") {
  auto out = in_child([] {
    sa::exit_watchdog w;
    w.arm(100ms, 42, "the test's shutdown");
    std::this_thread::sleep_for(30s);  // a destructor that never returns
  });
  REQUIRE(WIFEXITED(out.status));
  CHECK(WEXITSTATUS(out.status) == 42);
  CHECK(out.took >= 100ms);
  CHECK(out.took < 20s);
}

TEST_CASE("an exit watchdog destroyed within its bound does nothing") {
  auto out = in_child([] {
    {
      sa::exit_watchdog w;
      w.arm(10s, 42, "the test's shutdown");
    }  // disarmed at once
    std::this_thread::sleep_for(200ms);
  });
  REQUIRE(WIFEXITED(out.status));
  CHECK(WEXITSTATUS(out.status) == 7);
  CHECK(out.took < 5s);
}
