#include "actors/handoff/handoff_store.hpp"

#include "actors/handoff/handoff_record.hpp"
#include "runtime/blocking_lane.hpp"
#include "runtime/log.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sa::handoff {

namespace {

namespace fs = std::filesystem;

class memory_store : public store {
public:
  std::vector<handoff_view> load() override { return {}; }
  void save(const handoff_view&) override {}
  void flush(std::function<void()> done) override { done(); }
  uint64_t syncs() const override { return 0; }
};

struct replayed {
  std::vector<handoff_view> records;
  std::size_t lines = 0;
  /// The file's last line has no newline (a crash mid-write): `whole_bytes` is where the complete lines end,
  /// and `tail_read` says whether that last line was a whole record anyway (only its newline missing).
  bool torn = false;
  bool tail_read = false;
  std::size_t whole_bytes = 0;
};

result<replayed> replay(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return failure{path + ": cannot read (" + std::strerror(errno) + ")"};
  replayed out;
  // (tenant, id) -> position in out.records: ids are unique per tenant only (records written before ids
  // included the tenant could share one across tenants).
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    // getline stops at the end of the file without a newline only on a torn last line.
    bool last_torn = in.eof();
    if (!last_torn)
      out.whole_bytes += line.size() + 1;
    out.torn = last_torn && !line.empty();
    if (line.empty())
      continue;
    ++out.lines;
    auto j = nlohmann::json::parse(line, nullptr, false);
    handoff_view v;
    std::string error;
    bool read = !j.is_discarded() && from_json(j, v, error);
    if (last_torn)
      out.tail_read = read;
    if (!read) {
      // Only the last line can be torn by a crash; anything else is worth a louder word, but still skipped.
      log::get("handoff")->warn("event=handoff_store_line_skipped file={} line={} error=\"{}\"", path, number,
                                j.is_discarded() ? "not JSON" : error);
      continue;
    }
    auto [it, added] = index.emplace(std::make_pair(v.tenant.value, v.id), out.records.size());
    if (added)
      out.records.push_back(std::move(v));
    else
      out.records[it->second] = std::move(v);
  }
  return out;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

class file_store : public store {
public:
  explicit file_store(std::string path) : path_(std::move(path)) {}
  ~file_store() override {
    lane_.join();  // what is queued is written first
    if (fd_ >= 0)
      ::close(fd_);
  }

  bool open(std::string& error) {
    std::error_code ec;
    if (auto dir = fs::path(path_).parent_path(); !dir.empty())
      fs::create_directories(dir, ec);
    if (fs::exists(path_, ec)) {
      auto r = replay(path_);
      if (!r) {
        error = r.error();
        return false;
      }
      records_ = std::move(r->records);
      if (r->lines > 2 * records_.size() + 16) {
        if (!compact(error))
          return false;
      } else if (r->torn && !mend_tail(*r, error)) {
        return false;
      }
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
      error = path_ + ": cannot open for appending (" + std::strerror(errno) + ")";
      return false;
    }
    size_ = static_cast<off_t>(st.st_size);
    return true;
  }

  std::vector<handoff_view> load() override { return std::move(records_); }

  void save(const handoff_view& v) override {
    lane_.post([this, id = v.id, line = to_json(v, detail::stored).dump() + "\n"] {
      unsynced_ = true;
      if (write_all(fd_, line)) {
        size_ += static_cast<off_t>(line.size());
        return;
      }
      failed(id, "write");
      // Cut off what part of the line did reach the file, or the next line would be glued to it and both
      // lost on the next replay.
      if (::ftruncate(fd_, size_) != 0)
        failed(id, "ftruncate after a failed write");
    });
  }

  /// Group commit: a flush with another flush queued behind it leaves its callback to that one, so a burst
  /// of changes (each followed by its flush) shares one fdatasync; the last flush queued syncs and answers all.
  void flush(std::function<void()> done) override {
    ++flushes_queued_;
    lane_.post([this, done = std::move(done)]() mutable {
      waiting_.push_back(std::move(done));
      if (--flushes_queued_ > 0)
        return;  // a later flush covers these writes too
      if (unsynced_) {
        unsynced_ = false;
        ++syncs_;
        if (::fdatasync(fd_) != 0)
          failed("(every record since the last sync)", "fdatasync");
      }
      auto ready = std::move(waiting_);
      waiting_.clear();
      for (auto& f : ready)
        f();
    });
  }

  uint64_t syncs() const override { return syncs_; }


private:
  void failed(const std::string& id, const char* step) const {
    const int err = errno;
    log::get("handoff")->error("event=handoff_store_failed store=file:{} handoff={} step={} error=\"{}\"", path_, id,
                               step, std::strerror(err));
  }

  /// A torn last line: appending behind it would glue the next record to it, and the replay after that
  /// would lose both. A whole record that only lacks its newline gets one; a fragment is cut off (replay
  /// skipped it, and it was never acknowledged as durable).
  bool mend_tail(const replayed& r, std::string& error) {
    bool ok;
    if (r.tail_read) {
      int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      ok = fd >= 0 && write_all(fd, "\n") && ::fdatasync(fd) == 0;
      if (fd >= 0)
        ::close(fd);
    } else {
      ok = ::truncate(path_.c_str(), static_cast<off_t>(r.whole_bytes)) == 0;
    }
    if (!ok) {
      error = path_ + ": cannot mend its torn last line (" + std::strerror(errno) + ")";
      return false;
    }
    log::get("handoff")->warn("event=handoff_store_torn_line_mended file={} kept={}", path_,
                              r.tail_read ? "true" : "false");
    return true;
  }

  /// Rewrites the log with one line per record (to a temporary file, fsynced, renamed over the log).
  bool compact(std::string& error) {
    auto tmp = path_ + ".compact";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      error = tmp + ": " + std::strerror(errno);
      return false;
    }
    std::string data;
    for (const auto& v : records_)
      data += to_json(v, detail::stored).dump() + "\n";
    bool ok = write_all(fd, data) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
      error = path_ + ": compaction failed (" + std::strerror(errno) + ")";
      return false;
    }
    return true;
  }

  std::string path_;
  int fd_ = -1;
  off_t size_ = 0;                               // the file's length: whole lines only (on the lane's thread)
  std::vector<handoff_view> records_;
  std::atomic<int> flushes_queued_{0};           // posted and not yet started
  std::atomic<uint64_t> syncs_{0};
  bool unsynced_ = false;                        // on the lane's thread only, as is waiting_
  std::vector<std::function<void()>> waiting_;
  blocking_lane lane_{"sa-handoff"};
};

} // namespace

std::unique_ptr<store> make_memory_store() {
  return std::make_unique<memory_store>();
}

result<std::unique_ptr<store>> open_file_store(const std::string& path) {
  auto s = std::make_unique<file_store>(path);
  std::string error;
  if (!s->open(error))
    return failure{error};
  return std::unique_ptr<store>{std::move(s)};
}

result<std::vector<handoff_view>> read_file_records(const std::string& path) {
  auto r = replay(path);
  if (!r)
    return failure{r.error()};
  return std::move(r->records);
}

} // namespace sa::handoff
