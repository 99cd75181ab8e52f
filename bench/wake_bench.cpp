// bench_wake: what one thread hand-off costs on this machine, the floor under every figure that crosses
// threads (the provider path's curl loop -> CAF worker hop, the gateway's strand -> actor hop).
//   condition variable: a thread blocked in wait() is notified after it has been idle for --idle-us;
//                       time from notify to its return.
//   sleep_for(N µs):    how long a requested short sleep really takes (an idle CAF 0.17 worker polls
//                       with sleep_for(work-stealing.moderate-sleep-duration), 50 µs by default).
// Prints a table and one JSON line per figure.
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double us(clock_type::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

std::vector<double> condition_variable_wakes(int samples, std::chrono::microseconds idle) {
  std::mutex m;
  std::condition_variable cv;
  bool posted = false;
  clock_type::time_point sent;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(samples));
  std::thread waiter([&] {
    for (int i = 0; i < samples; ++i) {
      std::unique_lock<std::mutex> guard{m};
      cv.wait(guard, [&] { return posted; });
      posted = false;
      out.push_back(us(clock_type::now() - sent));
      cv.notify_one();  // consumed: the poster may go on
    }
  });
  for (int i = 0; i < samples; ++i) {
    std::this_thread::sleep_for(idle);  // the waiter is blocked again by now
    std::unique_lock<std::mutex> guard{m};
    posted = true;
    sent = clock_type::now();
    guard.unlock();
    cv.notify_one();
    guard.lock();
    cv.wait(guard, [&] { return !posted; });
  }
  waiter.join();
  return out;
}

std::vector<double> short_sleeps(int samples, std::chrono::microseconds d) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    auto t0 = clock_type::now();
    std::this_thread::sleep_for(d);
    out.push_back(us(clock_type::now() - t0));
  }
  return out;
}

void report(const char* what, const std::vector<double>& v, int requested_us) {
  auto mean = sa::bench::mean(v), p50 = sa::bench::percentile(v, 0.5), p99 = sa::bench::percentile(v, 0.99);
  std::printf("%-36s %10.1f %10.1f %10.1f\n", what, mean, p50, p99);
  std::printf("{\"bench\":\"wake\",\"what\":\"%s\",\"requested_us\":%d,\"cores\":%u,\"cpu\":\"%s\",\"n\":%zu,"
              "\"mean_us\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
              what, requested_us, sa::bench::cores(), sa::bench::cpu_model().c_str(), v.size(), mean, p50, p99);
}

} // namespace

int main(int argc, char** argv) {
  int samples = 2000, idle_us = 1000, sleep_us = 50;
  try {
    sa::bench::option_parser p;
    p.add("--samples", samples).add("--idle-us", idle_us).add("--sleep-us", sleep_us);
    if (!p.parse(argc, argv)) {
      std::cout << "usage: bench_wake [--samples N(2000)] [--idle-us N(1000)] [--sleep-us N(50)]\n";
      return 0;
    }
    if (samples < 1 || idle_us < 0 || sleep_us < 0)
      throw std::runtime_error("option out of range");
  } catch (const std::exception& e) {
    std::cerr << "bench_wake: " << e.what() << "\n";
    return 2;
  }
  std::printf("%-36s %10s %10s %10s\n", "one hand-off (µs)", "mean", "p50", "p99");
  report("condition variable wake", condition_variable_wakes(samples, std::chrono::microseconds{idle_us}), idle_us);
  auto label = "sleep_for(" + std::to_string(sleep_us) + " us)";
  report(label.c_str(), short_sleeps(samples, std::chrono::microseconds{sleep_us}), sleep_us);
}
