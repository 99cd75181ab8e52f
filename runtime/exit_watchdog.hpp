// exit_watchdog: bounds the last step of a process's shutdown, the actor system's destructor, once every
// actor has stopped.
//
// Why: CAF 0.17 can leave the thread of a detached actor waiting forever for the actor to be destroyed
// (actor-framework issue #1196, fixed in 0.18 by #1202: the private thread kept a reference to its own
// actor), so ~actor_system hangs in await_detached_threads. Seen here as a cluster node that stopped its
// actors, drained its stores and then never exited (1 stop in ~40 under load; gdb: the handoff service's
// thread in private_thread::await_self_destroyed, the main thread in await_detached_threads).
// The product spawns no detached actor since (their blocking work runs on runtime/blocking_lane.hpp), which
// removes the cause seen; the bound stays, for whatever else could stall the destructor.
// By then nothing is left to lose: the stores were drained and their records are durable. The watchdog,
// armed after actor_system::await_all_actors_done, ends the process with the intended exit code when the
// destructor does not finish in time, after flushing the logs.
//
// Declare it before the actor_system, so it outlives it: arm() after await_all_actors_done(), and its
// destructor disarms it once the system is gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sa {

class exit_watchdog {
public:
  exit_watchdog() = default;
  exit_watchdog(const exit_watchdog&) = delete;
  exit_watchdog& operator=(const exit_watchdog&) = delete;
  ~exit_watchdog();

  /// From now on, the process ends with `exit_code` unless this object is destroyed within `within`;
  /// `what` names the step for the message on standard error. Arming twice is an error (ignored).
  void arm(std::chrono::milliseconds within, int exit_code, std::string what);

private:
  std::mutex mtx_;
  std::condition_variable done_;
  bool disarmed_ = false;
  std::thread thread_;
};

} // namespace sa
