#include "actors/handoff/handoff_store.hpp"

#include "actors/handoff/handoff_record.hpp"
#include "runtime/blocking_lane.hpp"
#include "runtime/log.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sa::handoff {

namespace {

namespace fs = std::filesystem;

class memory_store : public store {
public:
  std::vector<handoff_view> load(std::size_t) override { return {}; }
  void save(const handoff_view&) override {}
  void flush(std::function<void()> done) override { done(); }
  uint64_t syncs() const override { return 0; }
};

/// Where each record's latest version is in the log, built by one pass over it. Only this index is kept
/// for every record ever stored (a few dozen bytes each), never the records themselves: open() and load()
/// read back only the lines they need, so opening a log costs memory for the records kept, not for the
/// log's whole history.
struct log_index {
  struct entry {
    off_t offset = 0;          ///< the latest version's line, without its newline
    std::size_t length = 0;
    bool finished = false;     ///< closed or handed back
    int64_t finished_ms = 0;   ///< finished_unix_ms: when it finished
  };
  std::vector<entry> entries;  ///< one per record, in the order they were first stored
  std::size_t lines = 0;
  /// The file's last line has no newline (a crash mid-write): `whole_bytes` is where the complete lines end,
  /// and `tail_read` says whether that last line was a whole record anyway (only its newline missing).
  bool torn = false;
  bool tail_read = false;
  std::size_t whole_bytes = 0;
};


result<log_index> scan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return failure{path + ": cannot read (" + std::strerror(errno) + ")"};
  log_index out;
  // (tenant, id) -> position in out.entries, for this pass only: ids are unique per tenant only (records
  // written before ids included the tenant could share one across tenants).
  std::map<std::pair<std::string, std::string>, std::size_t> position;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto offset = static_cast<off_t>(out.whole_bytes);
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
    log_index::entry e{offset, line.size(), is_finished(v), finished_unix_ms(v)};
    auto [it, added] = position.emplace(std::make_pair(std::move(v.tenant.value), std::move(v.id)),
                                        out.entries.size());
    if (added)
      out.entries.push_back(e);
    else
      out.entries[it->second] = e;
  }
  return out;
}

/// The line an index entry points at, from `in` (the log the index was built from), without its newline.
bool read_line(std::ifstream& in, const log_index::entry& e, std::string& line) {
  line.assign(e.length, '\0');
  in.clear();
  return in.seekg(e.offset) && in.read(line.data(), static_cast<std::streamsize>(line.size()));
}

/// The record an index entry points at.
result<handoff_view> read_record(std::ifstream& in, const std::string& path, const log_index::entry& e) {
  std::string line;
  if (!read_line(in, e, line))
    return failure{path + ": cannot read back a record at byte " + std::to_string(e.offset)};
  handoff_view v;
  std::string error;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !from_json(j, v, error))
    return failure{path + ": the record at byte " + std::to_string(e.offset) + " changed while it was read"};
  return v;
}

/// Reads back, in the order they were first stored and one at a time, the records of `index` whose position
/// `at` accepts and then the ones `keep` accepts (either may be empty: every one).
result<std::vector<handoff_view>> read_records(const std::string& path, const log_index& index,
                                                const std::function<bool(std::size_t)>& at,
                                                const std::function<bool(const handoff_view&)>& keep) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return failure{path + ": cannot read (" + std::strerror(errno) + ")"};
  std::vector<handoff_view> out;
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    if (at && !at(i))
      continue;
    auto v = read_record(in, path, index.entries[i]);
    if (!v)
      return failure{v.error()};
    if (!keep || keep(*v))
      out.push_back(std::move(*v));
  }
  return out;
}

/// Makes a file's creation or renaming in `dir` durable (the file's own fsync does not).
bool sync_directory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
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
    const bool existed = fs::exists(path_, ec);
    if (existed) {
      auto scanned = scan(path_);
      if (!scanned) {
        error = scanned.error();
        return false;
      }
      index_ = std::move(*scanned);
      if (index_.lines > 2 * index_.entries.size() + 16) {
        if (!compact(error))
          return false;
      } else if (index_.torn && !mend_tail(error)) {
        return false;
      }
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
      error = path_ + ": cannot open for appending (" + std::strerror(errno) + ")";
      return false;
    }
    if (!existed && !sync_directory(fs::path(path_).parent_path().string())) {
      error = path_ + ": cannot make its creation durable (" + std::strerror(errno) + ")";
      return false;
    }
    size_ = static_cast<off_t>(st.st_size);
    return true;
  }

  std::vector<handoff_view> load(std::size_t finished_kept) override {
    // Which finished records to keep: the most recently finished, by finish time, then by the position of
    // their latest line.
    std::vector<std::size_t> finished;
    for (std::size_t i = 0; i < index_.entries.size(); ++i)
      if (index_.entries[i].finished)
        finished.push_back(i);
    const auto& e = index_.entries;
    auto later = [&e](std::size_t a, std::size_t b) {
      return std::make_pair(e[a].finished_ms, e[a].offset) > std::make_pair(e[b].finished_ms, e[b].offset);
    };
    if (finished.size() > finished_kept) {
      std::nth_element(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(finished_kept),
                       finished.end(), later);
      finished.resize(finished_kept);
    }
    std::vector<bool> keep(e.size(), false);
    for (std::size_t i = 0; i < e.size(); ++i)
      keep[i] = !e[i].finished;
    for (auto i : finished)
      keep[i] = true;
    auto records = read_records(path_, index_, [&keep](std::size_t i) { return keep[i]; }, nullptr);
    index_ = {};
    // The log was readable a moment ago (open scanned it): something outside changed it underneath. Running
    // on without its open records would open a second handoff for a conversation that has one.
    if (!records)
      throw std::runtime_error(records.error());
    return std::move(*records);
  }

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
  bool mend_tail(std::string& error) {
    bool ok;
    if (index_.tail_read) {
      int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      ok = fd >= 0 && write_all(fd, "\n") && ::fdatasync(fd) == 0;
      if (fd >= 0)
        ::close(fd);
    } else {
      ok = ::truncate(path_.c_str(), static_cast<off_t>(index_.whole_bytes)) == 0;
    }
    if (!ok) {
      error = path_ + ": cannot mend its torn last line (" + std::strerror(errno) + ")";
      return false;
    }
    log::get("handoff")->warn("event=handoff_store_torn_line_mended file={} kept={}", path_,
                              index_.tail_read ? "true" : "false");
    return true;
  }

  /// Rewrites the log with one line per record, each its latest version copied as it was written (to a
  /// temporary file, fsynced, renamed over the log, the rename made durable), and points the index at it.
  bool compact(std::string& error) {
    auto tmp = path_ + ".compact";
    std::ifstream in(path_, std::ios::binary);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600);
    if (!in || fd < 0) {
      error = (in ? tmp : path_) + ": " + std::strerror(errno);
      if (fd >= 0)
        ::close(fd);
      return false;
    }
    bool ok = true;
    std::string chunk, line;
    off_t written = 0;
    for (auto& e : index_.entries) {
      if (!read_line(in, e, line)) {
        ok = false;
        errno = EIO;
        break;
      }
      e.offset = written + static_cast<off_t>(chunk.size());
      chunk += line;
      chunk += '\n';
      if (chunk.size() >= (1u << 20)) {
        ok = write_all(fd, chunk);
        written += static_cast<off_t>(chunk.size());
        chunk.clear();
        if (!ok)
          break;
      }
    }
    ok = ok && write_all(fd, chunk) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0
        || !sync_directory(fs::path(path_).parent_path().string())) {
      error = path_ + ": compaction failed (" + std::strerror(errno) + ")";
      return false;
    }
    index_.lines = index_.entries.size();
    index_.torn = false;
    return true;
  }

  std::string path_;
  int fd_ = -1;
  off_t size_ = 0;                               // the file's length: whole lines only (on the lane's thread)
  log_index index_;                              // from open() until load()
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

result<std::vector<handoff_view>> read_file_records(const std::string& path,
                                                     const std::function<bool(const handoff_view&)>& keep) {
  auto index = scan(path);
  if (!index)
    return failure{index.error()};
  return read_records(path, *index, nullptr, keep);
}

} // namespace sa::handoff
