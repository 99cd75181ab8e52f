// One WebSocket connection on the io side (after boost/beast example/websocket/server/async
// @boost-1.74.0: run -> on_accept -> do_read -> on_read -> on_write, each handling its error first).
// It authenticates the client, spawns the connection's actor, turns text frames into typed messages for
// it, and writes the frames the actor posts back through a bounded queue (overflow: close 1008).
// Limits: frame size (1009), token bucket (rate_limited error), handshake/idle timeouts with pings.
#include "actors/gateway/server_internal.hpp"

#include "actors/classifier/intent_model.hpp"
#include "actors/gateway/agent_connection_actor.hpp"
#include "actors/gateway/agent_protocol.hpp"
#include "actors/gateway/connection_actor.hpp"
#include "actors/gateway/outbound_queue.hpp"
#include "actors/gateway/protocol.hpp"
#include "actors/gateway/rate_limit.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <optional>

namespace sa::gateway {

namespace websocket = beast::websocket;

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& socket, std::shared_ptr<server_state> state, bool agent)
    : ws_(std::move(socket)), state_(std::move(state)), agent_endpoint_(agent), auth_timer_(ws_.get_executor()),
      close_timer_(ws_.get_executor()),
      bucket_(state_->settings.cfg.messages_per_second, state_->settings.cfg.message_burst),
      out_(outbound_queue::for_config(state_->settings.cfg)) {
    if (state_->settings.metrics)
      state_->settings.metrics->connection_opened();
  }

  ~ws_session() {
    --state_->connections;
    if (state_->settings.metrics)
      state_->settings.metrics->connection_closed();
  }

  void run(http::request<http::string_body> req) {
    const auto& cfg = state_->settings.cfg;
    token_ = bearer_token(req);
    std::string_view target{req.target().data(), req.target().size()};
    if (token_.empty())
      token_ = query_param(target, "token");
    resume_ = query_param(target, "session");
    agent_seen_ = query_param(target, "agent_seen");
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(cfg.handshake_timeout_s);
    t.idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(static_cast<size_t>(cfg.max_frame_bytes));
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "support-agent"); }));
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  /// Queues a frame (io thread, on this strand). Overflow disconnects the slow reader.
  void send(std::string frame) {
    if (closing_ || close_after_drain_)
      return;
    if (!out_.push(std::move(frame))) {
      state_->log->warn("event=slow_reader_disconnected tenant={} queued={} queued_bytes={}", tenant_, out_.frames(),
                        out_.waiting_bytes());
      out_.drop_waiting();  // the frame being written must outlive its async_write
      start_close(websocket::close_code::policy_error, "slow reader");
      return;
    }
    if (!out_.writing())
      do_write();
  }

  /// Sends an error frame, then closes with `code` once queued frames are written.
  void fail(const std::string& error_code, const std::string& message, websocket::close_code code) {
    if (closing_ || close_after_drain_)
      return;
    out_.force_push(error_frame(error_code, message));
    close_after_drain_ = code;
    arm_close_deadline();
    if (!out_.writing())
      do_write();
  }

  /// Closes the socket without a handshake: on the strand (a close that overran its deadline), or once the io
  /// threads have stopped.
  void abort() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  /// The connection's strand (copying it is safe from any thread).
  auto executor() { return ws_.get_executor(); }

  void close(uint16_t code, const std::string& reason) {
    start_close(static_cast<websocket::close_code>(code), reason);
  }

private:
  void on_accept(beast::error_code ec) {
    if (ec)
      return;  // handshake failed or timed out; nothing was spawned
    {
      std::lock_guard<std::mutex> g{state_->live_mutex};
      state_->live.insert(shared_from_this());
    }
    if (state_->stopping) {
      start_close(websocket::close_code::going_away, "server stopping");
    } else if (!token_.empty()) {
      authenticate(token_);
    } else {
      // No token in the header or URL: the first frame must be {"type":"auth"} within the handshake timeout.
      auth_timer_.expires_after(std::chrono::seconds(state_->settings.cfg.handshake_timeout_s));
      auth_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->authenticated())
          self->fail(codes::unauthorized, "No auth frame within the handshake timeout.",
                     websocket::close_code::policy_error);
      });
    }
    token_.clear();
    do_read();
  }

  void authenticate(const std::string& token) {
    auto v = verify_token(state_->settings.keys, token);
    if (!v.who) {
      state_->log->warn("event=auth_refused reason=\"{}\"", v.reason);
      fail(codes::unauthorized, "Authentication failed: " + v.reason + ".", websocket::close_code::policy_error);
      return;
    }
    // Agent tokens open the agent console only; customer tokens never open it.
    if (agent_endpoint_ != v.who->is_agent()) {
      state_->log->warn("event=auth_refused reason=\"wrong role\" endpoint={}", agent_endpoint_ ? "agent" : "customer");
      fail(codes::unauthorized,
           agent_endpoint_ ? "Authentication failed: this endpoint needs an agent token."
                           : "Authentication failed: agent tokens open /agent/ws, not /ws.",
           websocket::close_code::policy_error);
      return;
    }
    // The node's cap was checked at the upgrade; a tenant's and a user's need the token's claims.
    switch (state_->slots->acquire(v.who->tenant, v.who->user, agent_endpoint_, slot_)) {
      case connection_slots::verdict::granted:
        break;
      case connection_slots::verdict::tenant_full:
        state_->log->warn("event=connection_refused reason=max_connections_per_tenant tenant={}", v.who->tenant);
        fail(codes::too_many_connections,
             "Your organisation has too many open connections to this server; try again later.",
             websocket::close_code::try_again_later);
        return;
      case connection_slots::verdict::user_full:
        state_->log->warn("event=connection_refused reason=max_connections_per_user tenant={} user={}",
                          v.who->tenant, log::tag(v.who->user));
        fail(codes::too_many_connections,
             "You have too many open connections; close another tab or window and try again.",
             websocket::close_code::try_again_later);
        return;
    }
    tenant_ = v.who->tenant;
    // The token's lifetime bounds the connection's: an expired or revoked token does not stay signed in on an
    // open socket (the auth timer, done with the handshake, now waits for exp plus the verification leeway).
    expires_ = v.who->expires + std::chrono::seconds(state_->settings.keys.leeway_s);
    arm_expiry();
    std::weak_ptr<ws_session> weak = shared_from_this();
    auto poster = make_poster(*state_, ws_.get_executor());
    connection_link link{
      [weak, poster](std::string frame) {
        poster->post([weak, frame = std::move(frame)]() mutable {
          if (auto s = weak.lock())
            s->send(std::move(frame));
        });
      },
      [weak, poster](uint16_t code, std::string reason) {
        poster->post([weak, code, reason = std::move(reason)] {
          if (auto s = weak.lock())
            s->close(code, reason);
        });
      }};
    if (agent_endpoint_) {
      auto name = v.who->name.empty() ? v.who->user : v.who->name;
      agent_actor_ = spawn_agent_connection(
        *state_->sys, agent_connection_deps{state_->settings.handoff, state_->gateway, v.who->tenant, v.who->user, name},
        std::move(link));
      state_->log->info("event=agent_authenticated tenant={} agent={}", v.who->tenant, log::tag(v.who->user));
      send(agent_ready_frame(v.who->tenant, v.who->user, name));
      return;
    }
    actor_ = spawn_connection(*state_->sys,
                              connection_deps{state_->router, state_->gateway, v.who->tenant, v.who->user,
                                              state_->settings.metrics, state_->settings.handoff,
                                              state_->settings.quality},
                              std::move(link));
    state_->log->info("event=connection_authenticated tenant={} user={}", v.who->tenant, log::tag(v.who->user));
    send(ready_frame(v.who->tenant, v.who->user));
    if (!resume_.empty()) {
      agent_seen seen;
      if (!agent_seen_.empty() && !parse_agent_seen(agent_seen_, seen))
        send(error_frame(codes::bad_request, "The agent_seen parameter must be <handoff id>:<seq> (the last "
                                             "agent_message shown, as in HO-3f0c9a1b2d4e:2); the session resumes "
                                             "without it."));
      caf::anon_send(actor_, client_resume{std::move(resume_), std::move(seen)});
    }
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == websocket::error::message_too_big)
        state_->log->warn("event=frame_too_big tenant={}", tenant_);
      on_closed();
      return;
    }
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (closing_ || close_after_drain_) {
      do_read();
      return;
    }
    if (!ws_.got_text()) {
      fail(codes::unsupported_data, "Binary frames are not supported; send JSON text frames.",
           websocket::close_code::unknown_data);
      do_read();
      return;
    }
    if (!bucket_.take()) {
      send(error_frame(codes::rate_limited, "You are sending messages too fast; slow down."));
      do_read();
      return;
    }
    if (!tenant_.empty() && !take_tenant_token(*state_, tenant_)) {
      state_->log->warn("event=tenant_rate_limited tenant={}", tenant_);
      send(error_frame(codes::rate_limited,
                       "Your organisation is sending messages faster than we accept; try again shortly."));
      do_read();
      return;
    }
    handle(text);
    do_read();
  }

  bool authenticated() const { return actor_ || agent_actor_; }

  /// Closes the connection when its token expires (timers wait at most a day at a time: a far `exp` stays
  /// representable, and the clock is read again on waking).
  void arm_expiry() {
    auto left = expires_ - std::chrono::system_clock::now();
    if (left <= std::chrono::system_clock::duration::zero()) {
      state_->log->info("event=token_expired tenant={} endpoint={}", tenant_, agent_endpoint_ ? "agent" : "customer");
      fail(codes::token_expired, "Your sign-in token has expired; reconnect with a new one.",
           websocket::close_code::policy_error);
      return;
    }
    auth_timer_.expires_after(std::min<std::chrono::steady_clock::duration>(left, std::chrono::hours(24)));
    auth_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->closing_ && !self->close_after_drain_)
        self->arm_expiry();
    });
  }

  void handle_agent(const std::string& text) {
    auto r = parse_agent_frame(text, classifier::intent_model::labels());
    if (!r.ok) {
      if (!agent_actor_)
        fail(codes::unauthorized, "Authenticate first: send {\"type\":\"auth\",\"token\":\"...\"}.",
             websocket::close_code::policy_error);
      else
        send(agent_error_frame(r.code, r.message, r.request));
      return;
    }
    if (!agent_actor_) {
      if (r.auth)
        authenticate(r.token);
      else
        fail(codes::unauthorized, "Authenticate first: send {\"type\":\"auth\",\"token\":\"...\"}.",
             websocket::close_code::policy_error);
      return;
    }
    if (r.auth)
      send(error_frame(codes::bad_request, "Already authenticated."));
    else if (r.ping)
      send(pong_frame());
    else
      caf::anon_send(agent_actor_, std::move(r.request));
  }

  void handle(const std::string& text) {
    if (agent_endpoint_) {
      handle_agent(text);
      return;
    }
    auto r = parse_client_frame(text);
    if (!r.ok) {
      send(error_frame(r.code, r.message));
      return;
    }
    auto& f = r.frame;
    if (!actor_) {
      if (f.kind == client_kind::auth)
        authenticate(f.token);
      else
        fail(codes::unauthorized, "Authenticate first: send {\"type\":\"auth\",\"token\":\"...\"}.",
             websocket::close_code::policy_error);
      return;
    }
    switch (f.kind) {
      case client_kind::auth:
        send(error_frame(codes::bad_request, "Already authenticated."));
        break;
      case client_kind::message:
        caf::anon_send(actor_, client_message{std::move(f.id), std::move(f.text)});
        break;
      case client_kind::feedback:
        caf::anon_send(actor_, client_feedback{f.turn, f.csat, std::move(f.comment), false, false});
        break;
      case client_kind::survey:
        caf::anon_send(actor_, client_feedback{0, f.csat, std::move(f.comment), true, f.resolved});
        break;
      case client_kind::escalate:
        caf::anon_send(actor_, client_escalate{});
        break;
      case client_kind::resume:
        caf::anon_send(actor_, client_resume{std::move(f.session), std::move(f.seen)});
        break;
      case client_kind::ping:
        send(pong_frame());
        break;
    }
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.start_write()),
                    beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    out_.written();
    if (ec)
      return;  // the read side sees the failure and cleans up
    if (out_.has_waiting() && !closing_)
      do_write();
    else if (close_after_drain_)
      start_close(*close_after_drain_, "");
  }

  void start_close(websocket::close_code code, const std::string& reason) {
    if (closing_)
      return;
    closing_ = true;
    auth_timer_.cancel();
    arm_close_deadline();
    ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) {});
  }

  /// Once the server has decided to close, the connection ends within handshake_timeout_s whatever the
  /// client does. A client that stops reading but keeps sending would otherwise hold it open for ever: the
  /// close frame (and the last frames before it) wait behind a write that never completes, and every frame
  /// the client sends counts as activity, so the idle timeout never fires either.
  void arm_close_deadline() {
    if (close_deadline_armed_)
      return;
    close_deadline_armed_ = true;
    close_timer_.expires_after(std::chrono::seconds(state_->settings.cfg.handshake_timeout_s));
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return;  // closed in time (on_closed cancels the timer)
      self->state_->log->warn("event=close_deadline_passed tenant={} queued={}", self->tenant_, self->out_.frames());
      self->abort();  // the pending write and read fail, and the read side cleans up
    });
  }

  void on_closed() {
    auth_timer_.cancel();
    close_timer_.cancel();
    if (actor_)
      caf::anon_send(actor_, connection_closed{});
    if (agent_actor_)
      caf::anon_send(agent_actor_, connection_closed{});
    actor_ = nullptr;
    agent_actor_ = nullptr;
    std::lock_guard<std::mutex> g{state_->live_mutex};
    state_->live.erase(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<server_state> state_;
  bool agent_endpoint_ = false;  // /agent/ws: the agent console protocol
  beast::flat_buffer buffer_;
  asio::steady_timer auth_timer_;  ///< the first-frame auth deadline, then the token's expiry
  asio::steady_timer close_timer_;  ///< how long a close (or a close after the queue drains) may take
  bool close_deadline_armed_ = false;
  std::chrono::system_clock::time_point expires_;  ///< when the token (plus leeway) stops being valid
  token_bucket bucket_;
  outbound_queue out_;
  bool closing_ = false;
  std::optional<websocket::close_code> close_after_drain_;
  std::string token_;
  std::string resume_;
  std::string agent_seen_;  ///< the agent_seen query parameter, read with resume_
  std::string tenant_;
  connection_actor actor_;
  agent_connection_actor agent_actor_;
  connection_slots::lease slot_;  ///< this connection's place under the tenant's and the user's caps
};

void start_websocket(tcp::socket&& socket, std::shared_ptr<server_state> state,
                     http::request<http::string_body> req, bool agent) {
  std::make_shared<ws_session>(std::move(socket), std::move(state), agent)->run(std::move(req));
}

void close_websockets(server_state& st) {
  std::lock_guard<std::mutex> g{st.live_mutex};
  for (auto& s : st.live) {
    std::weak_ptr<ws_session> weak = s;
    asio::post(s->executor(), [weak] {
      if (auto s = weak.lock())
        s->close(static_cast<uint16_t>(websocket::close_code::going_away), "server stopping");
    });
  }
}

void abort_websockets(server_state& st) {
  std::lock_guard<std::mutex> g{st.live_mutex};
  for (auto& s : st.live)
    s->abort();
  st.live.clear();
}

std::shared_ptr<strand_poster> make_poster(server_state& state, asio::any_io_executor ex) {
  auto poster = std::make_shared<strand_poster>(std::move(ex));
  std::lock_guard<std::mutex> guard{state.live_mutex};
  if (state.posters.size() >= 64 && state.posters.size() == state.posters.capacity())
    state.posters.erase(std::remove_if(state.posters.begin(), state.posters.end(),
                                       [](const std::weak_ptr<strand_poster>& w) { return w.expired(); }),
                        state.posters.end());
  state.posters.push_back(poster);
  return poster;
}

void close_posters(server_state& state) {
  std::lock_guard<std::mutex> guard{state.live_mutex};
  for (auto& weak : state.posters)
    if (auto p = weak.lock())
      p->close();
  state.posters.clear();
}

} // namespace sa::gateway
