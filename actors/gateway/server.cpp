// The gateway's Beast server (after boost/beast example/websocket/server/chat-multi @boost-1.74.0):
// listener -> http_session (plain HTTP routes, or upgrade) -> ws_session (one per WebSocket, in
// ws_session.cpp). Everything here runs on the io thread(s); each connection has a strand. Actors are
// reached only by spawn and anon_send; they reach a socket only by posting to its strand
// (connection_link). Differences from the example: the outbound queue is bounded (a slow reader is
// disconnected), and session state lives in the gateway actor, not behind a mutex.
// To add an HTTP route: http_session::respond. The dashboard's snapshot timer: gateway::impl.
#include "actors/gateway/server_internal.hpp"

#include "actors/gateway/connection_actor.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace sa::gateway {

namespace websocket = beast::websocket;

namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = std::string(s.substr(i + 1, 2));
      char* end = nullptr;
      auto v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

} // namespace

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {};
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query = query.substr(amp + 1);
  }
  return {};
}

bool load_metrics_token(const config::gateway_config& cfg, std::string& out, std::string& error) {
  out.clear();
  if (!cfg.metrics_enabled || cfg.metrics_token_env.empty())
    return true;
  const char* token = std::getenv(cfg.metrics_token_env.c_str());
  if (token == nullptr || *token == '\0') {
    error = "gateway.metrics_token_env names " + cfg.metrics_token_env
            + ", which is not set in the environment (it holds the bearer token GET /metrics requires; "
              "set it, or set gateway.metrics_token_env to \"\" for no token)";
    return false;
  }
  out = token;
  return true;
}

namespace {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

bool take_tenant_token(server_state& state, const std::string& tenant) {
  auto& cfg = state.settings.cfg;
  std::lock_guard<std::mutex> guard{state.tenant_mutex};
  auto it = state.tenant_buckets.find(tenant);
  if (it == state.tenant_buckets.end())
    it = state.tenant_buckets
           .emplace(tenant, token_bucket{cfg.tenant_messages_per_second,
                                         static_cast<double>(cfg.tenant_message_burst)})
           .first;
  return it->second.take();
}

std::string bearer_token(const http::request<http::string_body>& req) {
  auto h = req[http::field::authorization];
  std::string_view v{h.data(), h.size()};
  constexpr std::string_view prefix = "Bearer ";
  if (v.size() > prefix.size() && v.substr(0, prefix.size()) == prefix)
    return std::string(v.substr(prefix.size()));
  return {};
}

namespace {

const char* mime_type(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".html")
    return "text/html; charset=utf-8";
  if (ext == ".css")
    return "text/css; charset=utf-8";
  if (ext == ".js")
    return "application/javascript; charset=utf-8";
  if (ext == ".svg")
    return "image/svg+xml";
  if (ext == ".png")
    return "image/png";
  if (ext == ".ico")
    return "image/x-icon";
  if (ext == ".json")
    return "application/json";
  return "application/octet-stream";
}

} // namespace

// --- plain HTTP (and the upgrade) ---------------------------------------------------------------

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& socket, std::shared_ptr<server_state> state)
    : stream_(std::move(socket)), state_(std::move(state)) {}

  void run() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(state_->settings.cfg.handshake_timeout_s));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec)
      return;
    auto req = parser_->release();
    std::string_view target{req.target().data(), req.target().size()};
    if (websocket::is_upgrade(req)) {
      auto path = target_path(target);
      bool agent = path == "/agent/ws" && state_->settings.handoff;  // the agent console needs the handoff service
      if (path != "/ws" && !agent)
        return reply(simple(req, http::status::not_found, "no WebSocket endpoint here; use /ws\n"));
      if (state_->stopping)
        return reply(simple(req, http::status::service_unavailable, "server stopping\n"));
      if (++state_->connections > state_->settings.cfg.max_connections) {
        --state_->connections;
        state_->log->warn("event=connection_refused reason=max_connections");
        return reply(simple(req, http::status::service_unavailable, "too many connections\n"));
      }
      stream_.expires_never();
      start_websocket(stream_.release_socket(), state_, std::move(req), agent);
      return;
    }
    reply(respond(req));
  }

  using response = http::response<http::string_body>;

  response simple(const http::request<http::string_body>& req, http::status status, std::string body,
                  const char* type = "text/plain; charset=utf-8") {
    response res{status, req.version()};
    res.set(http::field::server, "support-agent");
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = req.method() == http::verb::head ? std::string{} : std::move(body);
    res.prepare_payload();
    return res;
  }

  response respond(const http::request<http::string_body>& req) {
    using nlohmann::json;
    std::string_view target{req.target().data(), req.target().size()};
    auto path = std::string(target_path(target));
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return simple(req, http::status::method_not_allowed, "GET only\n");
    if (path == "/healthz")
      return simple(req, http::status::ok, R"({"status":"ok"})", "application/json");
    if (path == "/readyz")
      return state_->stopping ? simple(req, http::status::service_unavailable, R"({"status":"stopping"})", "application/json")
                              : simple(req, http::status::ok, R"({"status":"ready"})", "application/json");
    if (path == "/metrics")
      return metrics_page(req);
    if (path == "/api/dashboard")
      return dashboard_api(req);
    if (path == "/dashboard" || path == "/agent")
      return static_file(req, path + ".html");
    const auto& cfg = state_->settings.cfg;
    if (path.rfind("/dev/", 0) == 0) {
      if (!cfg.dev_tokens)
        return simple(req, http::status::not_found, "not found\n");
      const auto& accounts = state_->settings.accounts;
      if (path == "/dev/tenants") {
        json out = json::array();
        if (accounts)
          for (auto& t : accounts->tenants())
            out.push_back({{"id", t}, {"users", accounts->users(t)}});
        return simple(req, http::status::ok, json{{"tenants", out}}.dump(), "application/json");
      }
      if (path == "/dev/token") {
        auto tenant = query_param(target, "tenant");
        auto user = query_param(target, "user");
        auto role = query_param(target, "role");
        if (!role.empty() && role != roles::agent)
          return simple(req, http::status::bad_request, R"({"error":"role must be agent or absent"})", "application/json");
        // Agents are not demo-account users; their tenant must exist all the same.
        bool known = role.empty() ? !accounts || accounts->has_user(tenant, user)
                                  : !accounts || accounts->has_tenant(tenant);
        if (tenant.empty() || user.empty() || !known)
          return simple(req, http::status::bad_request, R"({"error":"unknown tenant or user"})", "application/json");
        std::string error;
        auto token = mint_token(state_->settings.keys, tenant, user, std::chrono::seconds(cfg.dev_token_ttl_s),
                                token_extras{role, query_param(target, "name")}, &error);
        if (token.empty())
          return simple(req, http::status::internal_server_error, json{{"error", error}}.dump(), "application/json");
        state_->log->info("event=dev_token_minted tenant={} user={}", tenant, log::tag(user));
        return simple(req, http::status::ok, json{{"token", token}, {"expires_in", cfg.dev_token_ttl_s}}.dump(),
                      "application/json");
      }
      return simple(req, http::status::not_found, "not found\n");
    }
    return static_file(req, path);
  }

  /// The refusal of a request for the node's figures (/metrics, /api/dashboard): 404 when metrics are
  /// off, 401 without the bearer token when one is set; nothing when the request may proceed.
  std::optional<response> metrics_refusal(const http::request<http::string_body>& req) {
    const auto& settings = state_->settings;
    if (!settings.cfg.metrics_enabled || !settings.metrics)
      return simple(req, http::status::not_found, "not found\n");
    if (!settings.metrics_token.empty()) {
      auto presented = bearer_token(req);
      // Constant time: the comparison must not tell how much of a guess was right.
      bool ok = presented.size() == settings.metrics_token.size()
                && CRYPTO_memcmp(presented.data(), settings.metrics_token.data(), presented.size()) == 0;
      if (!ok) {
        state_->log->warn("event=metrics_unauthorized token_presented={}", !presented.empty());
        auto res = simple(req, http::status::unauthorized, "bearer token required\n");
        res.set(http::field::www_authenticate, "Bearer");
        return res;
      }
    }
    return std::nullopt;
  }

  /// GET /metrics: the node's figures in Prometheus text format, behind the bearer token when one is set.
  response metrics_page(const http::request<http::string_body>& req) {
    if (auto refused = metrics_refusal(req))
      return std::move(*refused);
    return simple(req, http::status::ok, state_->settings.metrics->render(), metrics::content_type);
  }

  /// GET /api/dashboard: the dashboard's table, current figures and history (dashboard.hpp), guarded
  /// like /metrics.
  response dashboard_api(const http::request<http::string_body>& req) {
    if (auto refused = metrics_refusal(req))
      return std::move(*refused);
    if (!state_->dashboard)
      return simple(req, http::status::not_found, "not found\n");
    auto current = read_totals(*state_->settings.metrics, unix_now_ms());
    return simple(req, http::status::ok, state_->dashboard->to_json(current).dump(), "application/json");
  }

  response static_file(const http::request<http::string_body>& req, std::string path) {
    if (path == "/")
      path = "/index.html";
    // An origin-form target starts with '/': without it ("GET _old/x") the path would be glued to the web
    // root's own name and reach a sibling directory (web_old/x).
    if (path.empty() || path[0] != '/' || path.find("..") != std::string::npos || path.find('\0') != std::string::npos)
      return simple(req, http::status::bad_request, "bad path\n");
    auto file = state_->settings.cfg.web_root + path;
    std::ifstream in(file, std::ios::binary);
    if (!in || std::filesystem::is_directory(file))
      return simple(req, http::status::not_found, "not found\n");
    std::ostringstream os;
    os << in.rdbuf();
    auto res = simple(req, http::status::ok, os.str(), mime_type(file));
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
    return res;
  }

  void reply(response res) {
    auto sp = std::make_shared<response>(std::move(res));
    http::async_write(stream_, *sp, [self = shared_from_this(), sp](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<server_state> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

// --- listener and the gateway object --------------------------------------------------------------

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(asio::io_context& ioc, std::shared_ptr<server_state> state)
    : ioc_(ioc), acceptor_(asio::make_strand(ioc)), retry_(acceptor_.get_executor()), state_(std::move(state)) {}

  bool open(const tcp::endpoint& ep, std::string& error) {
    beast::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "gateway: cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) + ": "
              + ec.message();
      return false;
    }
    return true;
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void run() { do_accept(); }

  void close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }

private:
  void do_accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open())
      return;
    if (ec) {
      // Out of file descriptors (EMFILE, ENFILE) or buffers: accepting again at once fails again at once and
      // spins this io thread. The pending connection stays in the kernel's backlog; try again shortly.
      if (accept_errors_++ % 100 == 0)
        state_->log->error("event=accept_failed error=\"{}\" failures={} retry_ms={}", ec.message(), accept_errors_,
                           accept_retry_delay.count());
      retry_.expires_after(accept_retry_delay);
      retry_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e && self->acceptor_.is_open())
          self->do_accept();
      });
      return;
    }
    // Streamed answers are many small frames written one after another: without TCP_NODELAY, Nagle's
    // algorithm holds the second frame until the client's delayed ACK (~40 ms on Linux).
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<http_session>(std::move(socket), state_)->run();
    do_accept();
  }

  static constexpr std::chrono::milliseconds accept_retry_delay{100};

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;        ///< on the acceptor's strand: the pause after a failed accept
  uint64_t accept_errors_ = 0;      ///< failed accepts so far (every hundredth is logged)
  std::shared_ptr<server_state> state_;
};

struct gateway::impl {
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::strand<asio::io_context::executor_type> timer_strand{asio::make_strand(ioc)};
  asio::steady_timer dashboard_timer{timer_strand};  // touched on timer_strand only
  std::shared_ptr<server_state> state;
  std::shared_ptr<listener> lst;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::mutex m;
  std::condition_variable cv;
  int running = 0;
  bool stopped = false;

  explicit impl(int threads) : ioc(threads) {}

  /// Records a dashboard snapshot every gateway.dashboard_interval_s until the timer is cancelled.
  void schedule_snapshot() {
    dashboard_timer.expires_after(std::chrono::seconds(state->settings.cfg.dashboard_interval_s));
    dashboard_timer.async_wait([this](beast::error_code ec) {
      if (ec || state->stopping)
        return;
      state->dashboard->record(read_totals(*state->settings.metrics, unix_now_ms()));
      schedule_snapshot();
    });
  }
};

result<std::unique_ptr<gateway>> gateway::start(caf::actor_system& sys, session_actor router,
                                                gateway_settings settings) {
  const auto cfg = settings.cfg;
  auto p = std::make_unique<impl>(cfg.io_threads);
  p->state = std::make_shared<server_state>();
  auto& st = *p->state;
  st.sys = &sys;
  st.router = std::move(router);
  st.settings = std::move(settings);
  st.slots.emplace(cfg.max_connections_per_tenant, cfg.max_connections_per_user);
  st.log = log::get("gateway");
  beast::error_code ec;
  auto address = asio::ip::make_address(cfg.listen_address, ec);
  if (ec)
    return failure{"gateway.listen_address '" + cfg.listen_address + "' is not an IP address"};
  p->lst = std::make_shared<listener>(p->ioc, p->state);
  std::string error;
  if (!p->lst->open(tcp::endpoint{address, static_cast<uint16_t>(cfg.port)}, error))
    return failure{error};
  p->port = p->lst->port();
  st.gateway = spawn_gateway_actor(sys);
  if (cfg.metrics_enabled && st.settings.metrics) {
    st.dashboard = std::make_shared<dashboard_history>(static_cast<std::size_t>(cfg.dashboard_history),
                                                       cfg.dashboard_interval_s);
    st.dashboard->record(read_totals(*st.settings.metrics, unix_now_ms()));
    p->schedule_snapshot();
  }
  p->lst->run();
  p->work.emplace(p->ioc.get_executor());
  p->running = cfg.io_threads;
  for (int i = 0; i < cfg.io_threads; ++i)
    p->threads.emplace_back([raw = p.get()] {
      for (;;) {
        try {
          raw->ioc.run();
          break;
        } catch (const std::exception& e) {
          raw->state->log->error("event=io_handler_exception what=\"{}\"", e.what());
        }
      }
      std::lock_guard<std::mutex> g{raw->m};
      if (--raw->running == 0)
        raw->cv.notify_all();
    });
  st.log->info("event=gateway_listening address={} port={} io_threads={} algorithm={} dev_tokens={}",
               cfg.listen_address, p->port, cfg.io_threads, cfg.jwt_algorithm, cfg.dev_tokens);
  return std::unique_ptr<gateway>(new gateway(std::move(p)));
}

gateway::gateway(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

gateway::~gateway() {
  stop();
}

uint16_t gateway::port() const noexcept {
  return impl_->port;
}

int gateway::connections() const noexcept {
  return impl_->state->connections.load();
}

void gateway::stop() {
  auto& p = *impl_;
  if (p.stopped)
    return;
  p.stopped = true;
  auto& st = *p.state;
  st.stopping = true;
  st.log->info("event=gateway_stopping connections={}", st.connections.load());
  p.lst->close();
  asio::post(p.timer_strand, [raw = &p] { raw->dashboard_timer.cancel(); });
  close_websockets(st);
  p.work.reset();
  {
    std::unique_lock<std::mutex> lock{p.m};
    if (!p.cv.wait_for(lock, std::chrono::milliseconds(st.settings.cfg.shutdown_grace_ms),
                       [&] { return p.running == 0; })) {
      st.log->warn("event=gateway_forced_stop connections={}", st.connections.load());
      p.ioc.stop();
    }
  }
  for (auto& t : p.threads)
    t.join();
  // Whatever did not close in the grace period is cut (the io threads are gone, so this thread may).
  abort_websockets(st);
  close_posters(st);
  caf::anon_send_exit(st.gateway, caf::exit_reason::user_shutdown);
  st.log->info("event=gateway_stopped");
}

} // namespace sa::gateway
