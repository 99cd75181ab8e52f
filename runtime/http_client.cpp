// http_client: one loop thread drives libcurl's multi handle (connection cache, HTTP/2 multiplexing)
// for every request. It owns: the multi handle, the transfers (easy handles) and their deadlines.
// Other threads only touch the inbox (under mtx_) and call curl_multi_wakeup.
// Time-to-first-byte and idle timeouts are the loop's (a set of deadlines, re-armed lazily);
// connect and total timeouts are libcurl's, mapped to typed errors in http_curl_error.cpp.
#include "runtime/http_client.hpp"

#include "runtime/http_curl_error.hpp"
#include "runtime/http_redact.hpp"
#include "runtime/log.hpp"

#include <curl/curl.h>
#include <pthread.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace sa {

namespace {

using clock_type = std::chrono::steady_clock;

std::once_flag curl_global_once;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

long to_ms(std::chrono::milliseconds d) {
  return d.count() > 0 ? static_cast<long>(d.count()) : 0L;
}

} // namespace

struct http_client::impl {
  /// One request owned by the loop thread.
  struct transfer {
    impl* owner = nullptr;
    uint64_t id = 0;
    http_request request;
    std::shared_ptr<http_listener> listener;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    std::string safe_url; // for logs and error messages
    int status = 0;
    http_headers response_headers;
    bool headers_delivered = false;
    bool got_first_byte = false;
    bool cancelling = false; // cancel() was called on the loop thread: deliver nothing more
    clock_type::time_point started;
    clock_type::time_point last_activity;
    std::optional<clock_type::time_point> armed; // key in impl::deadlines_
    char errbuf[CURL_ERROR_SIZE] = {};

    ~transfer() {
      if (easy)
        curl_easy_cleanup(easy);
      if (header_list)
        curl_slist_free_all(header_list);
    }
  };

  struct command {
    uint64_t id = 0;
    std::unique_ptr<transfer> submit; // null: cancel `id`
  };

  http_client_options options_;
  std::shared_ptr<spdlog::logger> log_ = sa::log::get("http");
  CURLM* multi_ = nullptr;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<std::size_t> in_flight_{0};

  std::mutex mtx_; // guards inbox_ and stopping_: the only lock
  std::vector<command> inbox_;
  bool stopping_ = false;

  std::thread thread_;
  std::thread::id loop_id_; // set once in the constructor; read by cancel()

  // loop thread only
  std::unordered_map<uint64_t, std::unique_ptr<transfer>> transfers_;
  std::set<std::pair<clock_type::time_point, uint64_t>> deadlines_;

  explicit impl(http_client_options options) : options_(std::move(options)) {
    std::call_once(curl_global_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_cached_connections);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    thread_ = std::thread([this] { run(); });
    loop_id_ = thread_.get_id();
    pthread_setname_np(thread_.native_handle(), options_.thread_name.substr(0, 15).c_str());
  }

  ~impl() {
    stop();
    if (multi_)
      curl_multi_cleanup(multi_);
  }

  // --- any thread -----------------------------------------------------------------------------

  void push(command cmd, const std::shared_ptr<http_listener>* refuse_to) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!stopping_) {
        bool was_empty = inbox_.empty();
        inbox_.push_back(std::move(cmd));
        // The loop drains the whole inbox after each wake-up: one wake-up per non-empty inbox.
        // Called under the lock so that stop() cannot free the multi handle meanwhile.
        if (was_empty)
          curl_multi_wakeup(multi_);
        return;
      }
    }
    if (refuse_to && *refuse_to)
      (*refuse_to)->on_error(cmd.id, {http_error_kind::cancelled, "http client stopped"});
  }

  void stop() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_)
        return;
      stopping_ = true;
      curl_multi_wakeup(multi_);
    }
    if (thread_.joinable())
      thread_.join();
  }

  // --- loop thread ----------------------------------------------------------------------------

  void run() {
    for (;;) {
      std::vector<command> commands;
      bool stopping;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        commands.swap(inbox_);
        stopping = stopping_;
      }
      for (auto& cmd : commands) {
        if (cmd.submit && stopping)
          cmd.submit->listener->on_error(cmd.id, {http_error_kind::cancelled, "http client stopped"});
        else if (cmd.submit)
          start(std::move(cmd.submit));
        else
          cancel(cmd.id, "cancelled by caller");
      }
      if (stopping)
        break;
      int running = 0;
      curl_multi_perform(multi_, &running);
      collect_finished();
      expire(clock_type::now());
      curl_multi_poll(multi_, nullptr, 0, poll_timeout_ms(), nullptr);
    }
    // stopping_ is set: nothing enters the inbox any more.
    std::vector<uint64_t> ids;
    for (auto& [id, t] : transfers_)
      ids.push_back(id);
    for (auto id : ids)
      cancel(id, "http client stopped");
  }

  int poll_timeout_ms() const {
    constexpr int max_wait_ms = 1000;
    if (deadlines_.empty())
      return max_wait_ms;
    auto wait = deadlines_.begin()->first - clock_type::now();
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, max_wait_ms));
  }

  void start(std::unique_ptr<transfer> t) {
    auto& r = t->request;
    CURL* e = curl_easy_init();
    if (!e) {
      auto listener = std::move(t->listener);
      listener->on_error(t->id, {http_error_kind::other, "curl_easy_init failed (out of memory?)"});
      return;
    }
    t->easy = e;
    t->owner = this;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &impl::on_header_line);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &impl::on_body_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, to_ms(r.connect_timeout));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, to_ms(r.total_timeout));
    if (r.url.rfind("https://", 0) == 0)
      curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); // wait to multiplex on a coming HTTP/2 connection
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET" || !r.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      if (r.method != "POST")
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    bool has_expect = false;
    std::string names; // header names only, for the log
    for (auto& [name, value] : r.headers) {
      auto line = name + ": " + value;
      t->header_list = curl_slist_append(t->header_list, line.c_str());
      if (strcasecmp(name.c_str(), "expect") == 0)
        has_expect = true;
      names += names.empty() ? name : "," + name;
    }
    if (!has_expect) // no 100-continue round trip before sending a body
      t->header_list = curl_slist_append(t->header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

    t->safe_url = http_redact::url(r.log_url.empty() ? r.url : r.log_url);
    t->started = t->last_activity = clock_type::now();
    auto id = t->id;
    if (auto rc = curl_multi_add_handle(multi_, e); rc != CURLM_OK) {
      auto listener = std::move(t->listener);
      listener->on_error(id, {http_error_kind::other,
                              std::string("cannot start request: ") + curl_multi_strerror(rc)});
      return;
    }
    log_->debug("event=start id={} method={} url={} headers=[{}]", id, r.method, t->safe_url, names);
    auto* raw = t.get();
    transfers_.emplace(id, std::move(t));
    in_flight_ = transfers_.size();
    arm(*raw);
  }

  std::optional<clock_type::time_point> deadline_of(const transfer& t) const {
    const auto& r = t.request;
    if (!t.got_first_byte) {
      if (r.first_byte_timeout.count() > 0)
        return t.started + r.first_byte_timeout;
    } else if (r.idle_timeout.count() > 0) {
      return t.last_activity + r.idle_timeout;
    }
    return std::nullopt;
  }

  void disarm(transfer& t) {
    if (t.armed)
      deadlines_.erase({*t.armed, t.id});
    t.armed.reset();
  }

  void arm(transfer& t) {
    disarm(t);
    if (auto d = deadline_of(t)) {
      deadlines_.emplace(*d, t.id);
      t.armed = d;
    }
  }

  /// Fires due deadlines. Activity only moves a deadline later, so entries are re-armed lazily here
  /// rather than on every chunk.
  void expire(clock_type::time_point now) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto i = transfers_.find(id);
      if (i == transfers_.end())
        continue;
      auto& t = *i->second;
      t.armed.reset();
      auto d = deadline_of(t);
      if (!d)
        continue;
      if (*d > now) {
        deadlines_.emplace(*d, id);
        t.armed = d;
        continue;
      }
      if (t.got_first_byte)
        fail(id, {http_error_kind::timeout_idle,
                  "no data for " + std::to_string(t.request.idle_timeout.count()) + " ms from "
                    + t.safe_url});
      else
        fail(id, {http_error_kind::timeout_first_byte,
                  "no response within " + std::to_string(t.request.first_byte_timeout.count())
                    + " ms from " + t.safe_url});
    }
  }

  /// Removes a transfer from curl and the loop, then tells its listener (last callback).
  void fail(uint64_t id, http_error error) {
    auto i = transfers_.find(id);
    if (i == transfers_.end())
      return;
    auto t = std::move(i->second);
    transfers_.erase(i);
    in_flight_ = transfers_.size();
    disarm(*t);
    curl_multi_remove_handle(multi_, t->easy);
    auto level = error.kind == http_error_kind::cancelled ? spdlog::level::debug
                                                          : spdlog::level::info;
    log_->log(level, "event=failed id={} kind={} url={} elapsed_ms={}", id, to_string(error.kind),
              t->safe_url, elapsed_ms(*t));
    auto listener = std::move(t->listener);
    t.reset(); // free the easy handle (and close its connection) before the callback
    listener->on_error(id, error);
  }

  void cancel(uint64_t id, const char* why) {
    fail(id, {http_error_kind::cancelled, why});
  }

  static long long elapsed_ms(const transfer& t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t.started)
      .count();
  }

  void collect_finished() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg != CURLMSG_DONE)
        continue;
      CURL* easy = m->easy_handle;
      CURLcode rc = m->data.result; // m is invalid once the handle is removed
      transfer* t = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
      if (!t)
        continue;
      if (rc == CURLE_OK)
        complete(*t);
      else
        fail(t->id, classify(*t, rc));
    }
  }

  void complete(transfer& t) {
    if (!t.headers_delivered)
      deliver_headers(t);
    auto id = t.id;
    auto status = t.status;
    auto i = transfers_.find(id);
    auto owned = std::move(i->second);
    transfers_.erase(i);
    in_flight_ = transfers_.size();
    disarm(*owned);
    curl_multi_remove_handle(multi_, owned->easy);
    log_->debug("event=done id={} status={} url={} elapsed_ms={}", id, status, owned->safe_url,
                elapsed_ms(*owned));
    auto listener = std::move(owned->listener);
    owned.reset();
    listener->on_complete(id);
  }

  http_error classify(transfer& t, CURLcode rc) {
    curl_off_t connect_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    http_curl_outcome o;
    o.curl_code = rc;
    o.detail = t.errbuf[0] ? t.errbuf : curl_easy_strerror(rc);
    o.safe_url = t.safe_url;
    o.connected = connect_us > 0;
    o.elapsed_ms = elapsed_ms(t);
    o.connect_timeout = t.request.connect_timeout;
    o.total_timeout = t.request.total_timeout;
    return http_error_from_curl(o);
  }

  void touch(transfer& t) {
    t.last_activity = clock_type::now();
    if (!t.got_first_byte) {
      t.got_first_byte = true;
      arm(t); // the idle deadline may be earlier than the first-byte one
    }
  }

  void deliver_headers(transfer& t) {
    t.headers_delivered = true;
    if (t.status == 0) {
      long code = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
      t.status = static_cast<int>(code);
    }
    t.listener->on_headers(t.id, t.status, t.response_headers);
  }

  static size_t on_header_line(char* data, size_t size, size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    auto len = size * count;
    t.owner->touch(t);
    if (t.headers_delivered || t.cancelling)
      return len; // trailers, or cancelled from a callback
    std::string_view line = trim(std::string_view(data, len));
    if (line.rfind("HTTP/", 0) == 0) { // a new response (after 1xx or a redirect)
      t.response_headers.clear();
      t.status = 0;
      auto sp = line.find(' ');
      if (sp != std::string_view::npos) {
        for (auto c : line.substr(sp + 1, 3))
          if (c >= '0' && c <= '9')
            t.status = t.status * 10 + (c - '0');
      }
      return len;
    }
    if (line.empty()) {
      if (t.status >= 200)
        t.owner->deliver_headers(t);
      return len;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
      t.response_headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                      std::string(trim(line.substr(colon + 1))));
    return len;
  }

  static size_t on_body_data(char* data, size_t size, size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    auto len = size * count;
    t.owner->touch(t);
    if (t.cancelling)
      return len;
    if (!t.headers_delivered)
      t.owner->deliver_headers(t);
    t.listener->on_chunk(t.id, std::string(data, len));
    return len;
  }
};

http_client::http_client(http_client_options options)
  : impl_(std::make_unique<impl>(std::move(options))) {
}

http_client::~http_client() = default;

uint64_t http_client::submit(http_request request, std::shared_ptr<http_listener> listener) {
  assert(listener && "http_client::submit needs a listener");
  auto t = std::make_unique<impl::transfer>();
  auto id = impl_->next_id_++;
  t->id = id;
  t->request = std::move(request);
  t->listener = listener;
  impl_->push({id, std::move(t)}, &listener);
  return id;
}

void http_client::cancel(uint64_t id) {
  if (std::this_thread::get_id() == impl_->loop_id_) {
    // From a callback: silence the request now; curl may still hand over data read in this wake-up.
    if (auto i = impl_->transfers_.find(id); i != impl_->transfers_.end())
      i->second->cancelling = true;
  }
  impl_->push({id, nullptr}, nullptr);
}

void http_client::stop() {
  impl_->stop();
}

std::size_t http_client::in_flight() const noexcept {
  return impl_->in_flight_.load();
}

} // namespace sa
