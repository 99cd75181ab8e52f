// Running the program under test as a child process, for the benches that measure a real binary
// (bench_gateway: `support-agent serve`; bench_provider: `fake-provider`; bench_memory: `redis-server`)
// and for the tests' private redis-server (tests/support/redis_server), and reading its figures and ours
// from /proc. Linux only (/proc, prctl).
//
// The life of a child:
//
//   sa::bench::install_signal_handlers();             // SIGINT/SIGTERM kill the child, then exit
//   pid_t pid = sa::bench::start_child(args, log);    // fork/exec, output to `log`, dies with us
//   sa::bench::g_child_pid = pid;                      // what the signal handler kills
//   int port = sa::bench::wait_for_port(pid, log, "listening on 127.0.0.1:", 20s, 20ms);
//   ...
//   auto how = sa::bench::stop_child(pid, 5s);         // SIGTERM, then SIGKILL after the grace period
//
// Every wait has a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sa::bench {

/// The directory of the running executable (from /proc/self/exe); "." when unreadable. The benches find
/// the binaries they run relative to it (a build tree's bench/ directory).
inline std::string self_dir() {
  char buf[4096];
  auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

/// The path of the executable `name` found on PATH (like a shell); "/usr/bin/<name>" when PATH has none.
inline std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs{path ? path : "/usr/bin"};
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0)
      return dir + "/" + name;
  return "/usr/bin/" + name;
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed; nothing listens
/// on it now, so a connection to it is refused); 0 when no socket could be bound. Another process may
/// take it before the caller does: callers that bind it retry with a new one.
inline uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// --- starting, watching and stopping a child -------------------------------------------------------

/// The child that kill_child_and_exit() kills on SIGINT/SIGTERM; -1 for none. Set it once start_child()
/// returned; stop_child() resets it when it reaps that child.
inline pid_t g_child_pid = -1;

/// A signal handler: SIGKILLs g_child_pid (if any) and exits with 128 + `sig`.
inline void kill_child_and_exit(int sig) {
  if (g_child_pid > 0)
    ::kill(g_child_pid, SIGKILL);
  ::_exit(128 + sig);
}

/// SIGINT and SIGTERM run kill_child_and_exit(); SIGPIPE is ignored (a peer closing a socket is an error
/// return, not the end of the bench).
inline void install_signal_handlers() {
  ::signal(SIGINT, kill_child_and_exit);
  ::signal(SIGTERM, kill_child_and_exit);
  ::signal(SIGPIPE, SIG_IGN);
}

/// Forks and execs `args` (args[0] is the path of the binary; no PATH search) with stdout and stderr to
/// `log_path` (created or truncated, mode 0600). The child dies with us (PR_SET_PDEATHSIG: SIGKILL).
/// Returns the child's pid, or -1 when fork failed; a failed exec shows as the child exiting with 127.
inline pid_t start_child(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0)
    return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)  // the parent died before prctl
    ::_exit(127);
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

/// Waits up to `deadline` for a line of the child's log holding `marker` directly followed by the port
/// number (e.g. marker "listening on 127.0.0.1:" for "listening on 127.0.0.1:PORT"), rereading the log
/// every `poll`. Returns the port; 0 when the deadline passed or the child exited first.
inline int wait_for_port(pid_t pid, const std::string& log_path, const std::string& marker,
                         std::chrono::seconds deadline, std::chrono::milliseconds poll) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in{log_path};
    std::string line;
    while (std::getline(in, line))
      if (auto at = line.find(marker); at != std::string::npos) {
        // Only a whole number ends the port: "...:2026-11-29T..." is another process's log line cut in.
        auto digits = at + marker.size();
        auto end = line.find_first_not_of("0123456789", digits);
        if (end != digits && (end == std::string::npos || line[end] == '/' || line[end] == ' '))
          return std::atoi(line.c_str() + digits);
      }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return 0;
    std::this_thread::sleep_for(poll);
  }
  return 0;
}

/// Stops the child: SIGTERM, up to `grace` for it to exit, then SIGKILL; reaps it and resets
/// g_child_pid if it named this child. Returns how it ended: "exited N", "signal N" or
/// "killed after N s".
inline std::string stop_child(pid_t pid, std::chrono::seconds grace) {
  ::kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (g_child_pid == pid)
        g_child_pid = -1;
      return WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                               : "signal " + std::to_string(WTERMSIG(status));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  if (g_child_pid == pid)
    g_child_pid = -1;
  return "killed after " + std::to_string(grace.count()) + " s";
}

// --- resources ------------------------------------------------------------------------------------

/// Raises our soft RLIMIT_NOFILE to the hard limit (a child started afterwards inherits it) and returns
/// the soft limit now in force (RLIM_INFINITY for unlimited).
inline rlim_t raise_open_files_limit() {
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  return nofile.rlim_cur;
}

/// CPU time (utime + stime, fields 14 and 15 of /proc/<pid>/stat) of a process in seconds; 0 when
/// unreadable.
inline double proc_cpu_s(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos)
    return 0;
  std::istringstream s{all.substr(close + 2)};
  std::string f;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && s >> f; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14)
      ut = std::stoull(f);
    if (i == 15)
      st = std::stoull(f);
  }
  return static_cast<double>(ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Our own CPU time (user + system, getrusage) in seconds.
inline double self_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

} // namespace sa::bench
