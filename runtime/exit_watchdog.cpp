#include "runtime/exit_watchdog.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace sa {

void exit_watchdog::arm(std::chrono::milliseconds within, int exit_code, std::string what) {
  if (thread_.joinable())
    return;
  thread_ = std::thread([this, within, exit_code, what = std::move(what)] {
    std::unique_lock<std::mutex> lock{mtx_};
    if (done_.wait_for(lock, within, [this] { return disarmed_; }))
      return;
    std::fprintf(stderr,
                 "support-agent: %s did not finish within %lld ms after every actor stopped; exiting with "
                 "code %d\n",
                 what.c_str(), static_cast<long long>(within.count()), exit_code);
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::fflush(nullptr);
    std::_Exit(exit_code);
  });
}

exit_watchdog::~exit_watchdog() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    disarmed_ = true;
  }
  done_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

} // namespace sa
