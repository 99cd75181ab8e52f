// File store: the writer thread, the file's tail check and the head sidecar. The thread owns the file
// descriptors and the chain's position (last seq and hash, expected file size); other threads only push
// records into `inbox` under the mutex. The flock is taken per batch (write, then head update), never held
// while waiting, so an admin command can append between two batches and the node picks up after it.
#include "actors/audit/audit_file_store.hpp"

#include "actors/audit/audit_record.hpp"
#include "actors/audit/audit_verify.hpp"
#include "runtime/log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace sa::audit {

namespace fs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;

std::string sys_error() {
  return std::strerror(errno);
}

/// Number of lines (newline characters) in the file, for error messages.
uint64_t count_lines(int fd, uint64_t size) {
  std::vector<char> buf(1 << 20);
  uint64_t lines = 0;
  for (uint64_t off = 0; off < size;) {
    auto n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), size - off), static_cast<off_t>(off));
    if (n <= 0)
      break;
    lines += static_cast<uint64_t>(std::count(buf.data(), buf.data() + n, '\n'));
    off += static_cast<uint64_t>(n);
  }
  return lines;
}

/// The last line of the file (without its newline), which must end in one. Reads backwards from the end.
result<std::string> last_line(int fd, uint64_t size, const std::string& path) {
  char last = 0;
  if (::pread(fd, &last, 1, static_cast<off_t>(size - 1)) != 1)
    return failure{path + ": cannot read: " + sys_error()};
  if (last != '\n')
    return failure{path + ":" + std::to_string(count_lines(fd, size) + 1)
                   + ": the last line is not terminated by a newline (a write that did not finish): the audit "
                     "tail is corrupt; run `support-agent audit verify --file " + path
                   + "` and move the file aside after checking it"};
  std::string tail;
  uint64_t end = size - 1;  // the newline
  uint64_t pos = end;
  constexpr uint64_t chunk = 4096;
  while (pos > 0) {
    auto from = pos > chunk ? pos - chunk : 0;
    std::string block(pos - from, '\0');
    if (::pread(fd, block.data(), block.size(), static_cast<off_t>(from)) != static_cast<ssize_t>(block.size()))
      return failure{path + ": cannot read: " + sys_error()};
    auto nl = block.rfind('\n');
    if (nl != std::string::npos) {
      tail = block.substr(nl + 1) + tail;
      return tail;
    }
    tail = block + tail;
    pos = from;
  }
  return tail;
}

/// The file's last record, checked: it parses and its hash matches its fields.
result<tail_info> tail_of(int fd, const std::string& path) {
  struct stat st{};
  if (::fstat(fd, &st) != 0)
    return failure{path + ": cannot stat: " + sys_error()};
  tail_info t;
  t.size = static_cast<uint64_t>(st.st_size);
  t.hash = genesis_hash;
  if (t.size == 0)
    return t;
  auto line = last_line(fd, t.size, path);
  if (!line)
    return failure{line.error()};
  record rec;
  std::string why;
  auto where = [&] { return path + ":" + std::to_string(count_lines(fd, t.size)); };
  if (!parse_json_line(*line, rec, &why))
    return failure{where() + ": the last record is malformed (" + why + "): the audit tail is corrupt; run "
                   "`support-agent audit verify --file " + path + "`"};
  if (compute_hash(rec) != rec.hash)
    return failure{where() + ": the last record (seq " + std::to_string(rec.seq) + ") does not match its hash: "
                   "the audit tail is corrupt; run `support-agent audit verify --file " + path + "`"};
  t.seq = rec.seq;
  t.hash = rec.hash;
  return t;
}

/// Reads the head sidecar through `fd` (none when empty).
result<std::optional<chain_head>> read_head(int fd, const std::string& path) {
  char buf[head_bytes * 2];
  auto n = ::pread(fd, buf, sizeof buf, 0);
  if (n < 0)
    return failure{path + ": cannot read: " + sys_error()};
  if (n == 0)
    return std::optional<chain_head>{};
  chain_head h;
  std::string why;
  if (!parse_head(std::string_view(buf, static_cast<std::size_t>(n)), h, &why))
    return failure{path + ": not an audit head file (" + why + ")"};
  return std::optional<chain_head>{h};
}

/// The tail must agree with the head sidecar: the head is written after the records it names are fsynced,
/// so it is never beyond the file's last record unless records were removed.
status check_head(const tail_info& t, const std::optional<chain_head>& h, const std::string& path,
                  const std::string& hpath) {
  if (!h)
    return {};
  if (h->seq > t.seq)
    return failure{path + ": the head file " + hpath + " says the chain reaches seq " + std::to_string(h->seq)
                   + " but the file ends at seq " + std::to_string(t.seq) + ": records were removed from the end; "
                   "run `support-agent audit verify --file " + path + "`"};
  if (h->seq == t.seq && h->hash != t.hash)
    return failure{path + ": the head file " + hpath + " names seq " + std::to_string(h->seq)
                   + " with another hash than the file's last record: the end of the chain was rewritten; run "
                     "`support-agent audit verify --file " + path + "`"};
  return {};
}

bool lock_within(int fd, std::chrono::milliseconds within) {
  auto until = steady::now() + within;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return true;
    if (errno != EWOULDBLOCK && errno != EINTR)
      return false;
    if (steady::now() >= until)
      return false;
    std::this_thread::sleep_for(pause);  // start-up or a command line tool: never an actor's thread
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

struct unlock_on_exit {
  int fd;
  ~unlock_on_exit() { ::flock(fd, LOCK_UN); }
};

} // namespace

struct file_store::impl {
  struct pending {
    entry e;
    stored_fn done;
    uint64_t seq = 0;
    std::string hash;
  };

  file_store_options o;
  std::string head_file;
  int fd = -1;
  int head_fd = -1;
  std::shared_ptr<spdlog::logger> log = log::get("audit");

  std::mutex mtx;
  std::condition_variable wake;
  std::condition_variable drained;
  std::deque<pending> inbox;   // guarded by mtx
  std::size_t outstanding = 0; // guarded: submitted, not yet reported
  bool stopping = false;       // guarded
  std::thread thread;

  // Writer thread only.
  uint64_t expected_size = 0;
  uint64_t last_seq = 0;
  std::string last_hash;
  std::deque<pending> waiting;   // taken from the inbox, not yet written
  std::vector<pending> unsynced; // written, not yet fdatasync'ed
  steady::time_point first_unsynced{};
  steady::time_point retry_at{};
  int failures = 0;

  std::atomic<uint64_t> stat_last_seq{0};
  std::atomic<uint64_t> stat_durable{0};
  std::atomic<uint64_t> stat_errors{0};
  std::atomic<uint64_t> stat_failed{0};

  ~impl() {
    if (fd >= 0)
      ::close(fd);
    if (head_fd >= 0)
      ::close(head_fd);
  }

  std::chrono::milliseconds backoff() const {
    auto ms = std::min<long long>(5000, 100LL << std::min(failures - 1, 6));
    return std::chrono::milliseconds{ms};
  }

  /// Writes `waiting` under the flock, chained after whatever the file ends with now. False on failure
  /// (nothing of the batch stays in the file; the records are chained again on the next attempt).
  bool write_waiting() {
    if (::flock(fd, LOCK_EX) != 0) {
      log->error("event=audit_write_failed file={} error=\"flock: {}\"", o.path, sys_error());
      return false;
    }
    unlock_on_exit unlock{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
      log->error("event=audit_write_failed file={} error=\"fstat: {}\"", o.path, sys_error());
      return false;
    }
    if (st.st_nlink == 0) {
      log->error("event=audit_write_failed file={} error=\"the audit file was deleted or replaced while open\"",
                 o.path);
      return false;
    }
    if (static_cast<uint64_t>(st.st_size) < expected_size) {
      // Never chain onto a file that lost records: that would hide their removal. Loud, and nothing more is
      // acknowledged until an operator looks (audit verify) and restarts the node.
      log->error("event=audit_write_failed file={} error=\"the file shrank from {} to {} bytes: records were "
                 "removed; refusing to append\"", o.path, expected_size, st.st_size);
      return false;
    }
    if (static_cast<uint64_t>(st.st_size) != expected_size) {
      // Another writer (an admin command) appended: continue its chain.
      auto t = tail_of(fd, o.path);
      if (!t) {
        log->error("event=audit_write_failed file={} error=\"{}\"", o.path, t.error());
        return false;
      }
      if (t->seq <= last_seq) {
        log->error("event=audit_write_failed file={} error=\"the file now ends at seq {}, not after seq {}: it "
                   "was rewritten; refusing to append\"", o.path, t->seq, last_seq);
        return false;
      }
      log->debug("event=audit_chain_resumed file={} seq={} by=another_writer", o.path, t->seq);
      last_seq = t->seq;
      last_hash = t->hash;
      expected_size = t->size;
    }
    std::string buf;
    auto seq = last_seq;
    auto prev = last_hash;
    for (auto& p : waiting) {
      record r;
      r.seq = ++seq;
      r.time = rfc3339_utc_ms(p.e.at);
      r.node = o.node;
      r.tenant = p.e.tenant;
      r.actor = p.e.actor;
      r.action = p.e.action;
      r.args = p.e.args;
      r.result = p.e.result;
      r.session = p.e.session;
      r.prev = prev;
      r.hash = compute_hash(r);
      buf += to_json_line(r);
      buf += '\n';
      p.seq = r.seq;
      p.hash = r.hash;
      prev = r.hash;
    }
    std::size_t done = 0;
    while (done < buf.size()) {
      auto n = ::write(fd, buf.data() + done, buf.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        auto why = sys_error();
        // Cut the partial batch off again, so the file never ends in half a record.
        if (::ftruncate(fd, static_cast<off_t>(expected_size)) != 0)
          log->error("event=audit_truncate_failed file={} error=\"{}\"", o.path, sys_error());
        log->error("event=audit_write_failed file={} records={} error=\"{}\"", o.path, waiting.size(), why);
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    expected_size += buf.size();
    last_seq = seq;
    last_hash = prev;
    return true;
  }

  /// fdatasync, then the head sidecar (under the flock; only ever moved forward).
  bool sync() {
    if (::fdatasync(fd) != 0) {
      log->error("event=audit_fsync_failed file={} error=\"{}\"", o.path, sys_error());
      return false;
    }
    if (::flock(fd, LOCK_EX) == 0) {
      unlock_on_exit unlock{fd};
      auto h = read_head(head_fd, head_file);
      if (!h || !*h || (*h)->seq < last_seq) {
        auto text = format_head(chain_head{last_seq, last_hash});
        if (::pwrite(head_fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
          log->error("event=audit_head_write_failed file={} error=\"{}\"", head_file, sys_error());
      }
    }
    return true;
  }

  void report(std::vector<pending>& done_batch, bool ok, const std::string& error, bool shutting_down) {
    // Count before acknowledging: a caller woken by its acknowledgement must already see it in stats().
    if (ok)
      stat_durable += done_batch.size();
    else
      stat_failed += done_batch.size();
    for (auto& p : done_batch) {
      stored s;
      s.ok = ok;
      s.seq = ok ? p.seq : 0;
      s.hash = ok ? p.hash : std::string{};
      s.error = error;
      s.shutting_down = shutting_down;
      if (p.done)
        p.done(s);
    }
    {
      std::lock_guard<std::mutex> guard{mtx};
      outstanding -= done_batch.size();
      if (outstanding == 0)
        drained.notify_all();
    }
    done_batch.clear();
  }

  void run() {
    int attempts_while_stopping = 0;
    for (;;) {
      bool stop_now = false;
      {
        std::unique_lock<std::mutex> lock{mtx};
        auto deadline = steady::time_point::max();
        if (!unsynced.empty())
          deadline = o.fsync == fsync_policy::every_record ? steady::now() : first_unsynced + o.fsync_interval;
        if (failures > 0 && (!waiting.empty() || !unsynced.empty()))
          deadline = retry_at;
        auto ready = [&] { return stopping || (!inbox.empty() && failures == 0); };
        if (deadline == steady::time_point::max())
          wake.wait(lock, ready);
        else
          wake.wait_until(lock, deadline, ready);
        while (!inbox.empty()) {
          waiting.push_back(std::move(inbox.front()));
          inbox.pop_front();
        }
        stop_now = stopping;
      }
      auto now = steady::now();
      bool may_try = failures == 0 || now >= retry_at || stop_now;
      if (!waiting.empty() && may_try) {
        if (write_waiting()) {
          if (unsynced.empty())
            first_unsynced = now;
          for (auto& p : waiting)
            unsynced.push_back(std::move(p));
          waiting.clear();
          failures = 0;
        } else {
          ++stat_errors;
          ++failures;
          retry_at = now + backoff();
        }
      }
      bool sync_due = !unsynced.empty()
                      && (o.fsync == fsync_policy::every_record || now >= first_unsynced + o.fsync_interval || stop_now)
                      && (failures == 0 || now >= retry_at || stop_now);
      if (sync_due) {
        if (sync()) {
          stat_last_seq = last_seq;
          report(unsynced, true, {}, false);
        } else {
          ++stat_errors;
          ++failures;
          retry_at = now + backoff();
        }
      }
      if (stop_now) {
        if (waiting.empty() && unsynced.empty()) {
          std::lock_guard<std::mutex> guard{mtx};
          if (inbox.empty())
            return;
          continue;
        }
        if (failures > 0 && ++attempts_while_stopping >= 3) {
          std::vector<pending> rest(std::make_move_iterator(waiting.begin()), std::make_move_iterator(waiting.end()));
          waiting.clear();
          for (auto& p : unsynced)
            rest.push_back(std::move(p));
          unsynced.clear();
          log->error("event=audit_records_lost file={} records={} reason=store_failing_at_shutdown", o.path,
                     rest.size());
          report(rest, false, o.path + ": the audit store stopped while its writes were failing", true);
        }
      }
    }
  }
};

file_store::file_store(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

file_store::~file_store() {
  stop();
}

result<std::shared_ptr<file_store>> file_store::open(file_store_options options) {
  auto i = std::make_unique<impl>();
  i->o = std::move(options);
  auto& path = i->o.path;
  i->head_file = head_path(path);
  std::error_code ec;
  auto dir = fs::path(path).parent_path();
  bool created_dir = false;
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec)
      return failure{"cannot create the audit directory " + dir.string() + ": " + ec.message()};
    created_dir = true;
  }
  bool existed = fs::exists(path, ec);
  i->fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (i->fd < 0)
    return failure{"cannot open the audit file " + path + ": " + sys_error()};
  i->head_fd = ::open(i->head_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (i->head_fd < 0)
    return failure{"cannot open the audit head file " + i->head_file + ": " + sys_error()};
  if (!existed || created_dir) {
    // Make the new file's directory entry durable too.
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  if (!lock_within(i->fd, i->o.lock_timeout))
    return failure{"the audit file " + path + " stayed locked by another process for "
                   + std::to_string(i->o.lock_timeout.count()) + " ms"};
  {
    unlock_on_exit unlock{i->fd};
    auto t = tail_of(i->fd, path);
    if (!t)
      return failure{t.error()};
    auto h = read_head(i->head_fd, i->head_file);
    if (!h)
      return failure{h.error()};
    if (auto st = check_head(*t, *h, path, i->head_file); !st)
      return failure{st.error()};
    i->expected_size = t->size;
    i->last_seq = t->seq;
    i->last_hash = t->hash;
    i->stat_last_seq = t->seq;
  }
  auto* raw = i.get();
  i->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), raw->o.thread_name.substr(0, 15).c_str());
    raw->run();
  });
  raw->log->info("event=audit_store_opened backend=file file={} last_seq={} fsync={}", path, raw->last_seq,
                 raw->o.fsync == fsync_policy::every_record ? "every_record" : "batched");
  return std::shared_ptr<file_store>(new file_store(std::move(i)));
}

const std::string& file_store::where() const noexcept {
  return impl_->o.path;
}

bool file_store::submit(entry e, stored_fn done) {
  auto& i = *impl_;
  if (e.at == std::chrono::system_clock::time_point{})
    e.at = std::chrono::system_clock::now();
  {
    std::lock_guard<std::mutex> guard{i.mtx};
    if (i.stopping || i.outstanding >= i.o.max_queued)
      return false;
    i.inbox.push_back(impl::pending{std::move(e), std::move(done), 0, {}});
    ++i.outstanding;
  }
  i.wake.notify_one();
  return true;
}

bool file_store::drain(std::chrono::milliseconds within) {
  auto& i = *impl_;
  std::unique_lock<std::mutex> lock{i.mtx};
  return i.drained.wait_for(lock, within, [&] { return i.outstanding == 0; });
}

void file_store::stop() {
  auto& i = *impl_;
  {
    std::lock_guard<std::mutex> guard{i.mtx};
    i.stopping = true;
  }
  i.wake.notify_all();
  if (i.thread.joinable())
    i.thread.join();
}

store_stats file_store::stats() const {
  auto& i = *impl_;
  store_stats s;
  s.last_seq = i.stat_last_seq.load();
  s.durable = i.stat_durable.load();
  s.store_errors = i.stat_errors.load();
  s.failed = i.stat_failed.load();
  std::lock_guard<std::mutex> guard{i.mtx};
  s.queued = i.outstanding;
  return s;
}

result<tail_info> read_tail(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failure{"cannot open " + path + ": " + sys_error()};
  auto t = tail_of(fd, path);
  ::close(fd);
  return t;
}

} // namespace sa::audit
