#include "runtime/blocking_lane.hpp"

#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include <boost/asio/post.hpp>

#include <pthread.h>

#include <utility>

namespace sa {

blocking_lane::blocking_lane(std::string name) : name_(std::move(name)) {
  boost::asio::post(pool_, [n = name_.substr(0, 15)] { pthread_setname_np(pthread_self(), n.c_str()); });
}

blocking_lane::~blocking_lane() {
  join();
}

void blocking_lane::post(std::function<void()> job) {
  if (joined_)
    return;
  boost::asio::post(pool_, [job = std::move(job), name = name_] {
    try {
      job();
    } catch (...) {  // the type only: a message could quote customer text
      log::get("runtime")->error("event=lane_job_failed lane={} exception_type={}", name,
                                 exception_type(std::current_exception()));
    }
  });
}

void blocking_lane::join() {
  if (joined_.exchange(true))
    return;
  pool_.join();
}

} // namespace sa
