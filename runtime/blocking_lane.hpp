// blocking_lane: one thread of its own for the blocking work of an actor (file writes and fsyncs, reading
// index files, building an index), so that work never runs on a CAF scheduler thread.
//
// Why not a detached actor: CAF 0.17 can leave a detached actor's thread waiting forever for the actor to
// be destroyed (actor-framework #1196, fixed in 0.18), which hangs ~actor_system. Instead the actor stays an
// ordinary scheduled actor and posts its blocking steps here; a step that has a result sends it back to the
// actor as a message (caf::anon_send to a handle it captured). Jobs run one at a time, in the order posted.
//
// A Boost.Asio thread pool of one thread does the queueing. The destructor runs every job already posted
// (nothing queued is lost), then joins the thread: owners destroy a lane on the main thread after the actors
// are done (a job may still send to them; a stopped actor drops the message). A job must not own its lane,
// not even through an actor handle: a job holding a handle to an actor whose state holds the lane always
// sends that actor a message (its answer, even after an exception), so the job's reference is never the
// actor's last while the actor runs.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <functional>
#include <string>

namespace sa {

class blocking_lane {
public:
  /// Starts the thread, named `name` (at most 15 characters are kept).
  explicit blocking_lane(std::string name);
  ~blocking_lane();
  blocking_lane(const blocking_lane&) = delete;
  blocking_lane& operator=(const blocking_lane&) = delete;

  /// Queues `job`; it runs after the jobs posted before it. An exception leaving a job is logged (its type)
  /// and swallowed (the lane keeps running the next ones): a job that must answer catches its own.
  void post(std::function<void()> job);

  /// Runs every job posted so far and waits for them. Called by the destructor; later posts are dropped.
  void join();

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
  std::string name_;
  boost::asio::thread_pool pool_{1};
  std::atomic<bool> joined_{false};
};

} // namespace sa
