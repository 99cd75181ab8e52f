// redis_server: see the header.
#include "redis_server.hpp"

#include "bench/child_process.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace sa::test {

namespace fs = std::filesystem;

namespace {

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; out.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = redis_reply::kind::nil;
  }
  return out;
}

/// One command on a fresh connection; false (with `why`) when the server cannot be reached.
bool run_command(uint16_t port, const std::string& password, int db, const std::vector<std::string>& args,
                 redis_reply& out, std::string* why) {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!c || c->err) {
    if (why)
      *why = c ? c->errstr : "out of memory";
    if (c)
      redisFree(c);
    return false;
  }
  redisSetTimeout(c, timeval{5, 0});
  auto run = [&](const std::vector<std::string>& a, redis_reply& into) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& s : a) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r) {
      if (why)
        *why = c->errstr;
      return false;
    }
    into = convert(r);
    freeReplyObject(r);
    return true;
  };
  redis_reply scratch;
  bool ok = (password.empty() || run({"AUTH", password}, scratch))
            && (db == 0 || run({"SELECT", std::to_string(db)}, scratch)) && run(args, out);
  redisFree(c);
  return ok;
}

} // namespace

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  auto tmpl = (fs::temp_directory_path() / "sa-redis-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("redis_server: cannot create a temporary directory");
  dir_ = tmpl;
  std::string why;
  for (int attempt = 0; attempt < 8; ++attempt) {
    port_ = sa::bench::free_loopback_port();
    if (launch(&why) && wait_ready(std::chrono::seconds(20), &why))
      return;
    kill();  // most likely the port was taken meanwhile: try another one
  }
  std::error_code ec;
  auto tail = log_tail();
  fs::remove_all(dir_, ec);
  throw std::runtime_error("redis_server: cannot start redis-server: " + why + "\n" + tail);
}

redis_server::~redis_server() {
  kill();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool redis_server::launch(std::string* why) {
  std::vector<std::string> args{sa::bench::find_in_path("redis-server"),
                                "--port", std::to_string(port_),
                                "--bind", "127.0.0.1",
                                "--dir", dir_,
                                "--logfile", dir_ + "/redis.log",
                                "--daemonize", "no",
                                "--save", "",
                                "--databases", "16"};
  if (options_.aof_always) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  if (!options_.password.empty())
    args.insert(args.end(), {"--requirepass", options_.password});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_t pid = sa::bench::start_child(args, dir_ + "/stdout.log");  // dies with the test (PR_SET_PDEATHSIG)
  if (pid < 0) {
    *why = "fork failed";
    return false;
  }
  pid_ = pid;
  return true;
}

bool redis_server::wait_ready(std::chrono::milliseconds within, std::string* why) {
  auto until = std::chrono::steady_clock::now() + within;
  auto pause = std::chrono::milliseconds(2);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *why = "redis-server exited during start-up";
      return false;
    }
    redis_reply r;
    if (run_command(port_, options_.password, 0, {"INFO", "server"}, r, why) && r.type == redis_reply::kind::string) {
      // Ours, and done loading (INFO answers while loading; PING would say LOADING).
      if (r.str.find("process_id:" + std::to_string(pid_) + "\r\n") == std::string::npos) {
        *why = "another server answers on port " + std::to_string(port_);
        return false;
      }
      redis_reply ping;
      if (run_command(port_, options_.password, 0, {"PING"}, ping, why) && ping.type == redis_reply::kind::status)
        return true;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  *why = "redis-server did not answer within " + std::to_string(within.count()) + " ms";
  return false;
}

void redis_server::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void redis_server::start() {
  kill();
  std::string why;
  // The same port: the old listener is gone with the process (redis binds with SO_REUSEADDR).
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (launch(&why) && wait_ready(std::chrono::seconds(30), &why))
      return;
    kill();
  }
  throw std::runtime_error("redis_server: cannot restart redis-server on port " + std::to_string(port_) + ": " + why
                           + "\n" + log_tail());
}

void redis_server::pause() {
  if (pid_ > 0)
    ::kill(pid_, SIGSTOP);
}

void redis_server::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

redis_reply redis_server::command(const std::vector<std::string>& args, int db) const {
  redis_reply r;
  std::string why;
  if (!run_command(port_, options_.password, db, args, r, &why))
    throw std::runtime_error("redis_server: command failed: " + why);
  return r;
}

std::string redis_server::log_tail() const {
  std::string out;
  for (auto name : {"/redis.log", "/stdout.log"}) {
    std::ifstream in{dir_ + name};
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
      lines.push_back(line);
    for (size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i)
      out += lines[i] + "\n";
  }
  return out;
}

} // namespace sa::test
