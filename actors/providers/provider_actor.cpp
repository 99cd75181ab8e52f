#include "actors/providers/provider_actor.hpp"

#include "actors/providers/anthropic/anthropic_protocol.hpp"
#include "actors/providers/gemini/gemini_protocol.hpp"
#include "actors/providers/openai/openai_protocol.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <atomic>
#include <random>
#include <unordered_map>
#include <variant>

namespace sa::providers {

bool wire_kind_from_string(const std::string& name, wire_kind& out) noexcept {
  if (name == "openai")
    out = wire_kind::openai;
  else if (name == "anthropic")
    out = wire_kind::anthropic;
  else if (name == "gemini")
    out = wire_kind::gemini;
  else if (name == "openai_compatible")
    out = wire_kind::openai_compatible;
  else
    return false;
  return true;
}

namespace {

using clock = health_clock;

/// The three wire protocols behind one face.
using wire_protocol = std::variant<openai_protocol, anthropic_protocol, gemini_protocol>;

wire_protocol make_wire(const endpoint_settings& s) {
  switch (s.kind) {
    case wire_kind::anthropic: return anthropic_protocol{};
    case wire_kind::gemini: return gemini_protocol{};
    case wire_kind::openai: {
      openai_options o;
      o.use_max_completion_tokens = s.use_max_completion_tokens;
      return openai_protocol{o};
    }
    case wire_kind::openai_compatible: {
      // vLLM, llama.cpp server and Ollama's /v1 speak Chat Completions; usage in the stream is widely
      // supported now, and a server that ignores stream_options simply reports no usage.
      openai_options o;
      o.use_max_completion_tokens = s.use_max_completion_tokens;
      return openai_protocol{o};
    }
  }
  return openai_protocol{};
}

/// Bytes of a non-2xx body kept for parse_error; the rest is dropped (error bodies are small).
constexpr std::size_t max_error_body = 64 * 1024;

} // namespace

/// How an attempt ended. `ok`: `end` holds the finish and usage; else `error` says what failed.
struct attempt_outcome {
  bool ok = false;
  stream_end end;
  provider_error error;
  bool client_stopped = false;  ///< the http client was stopped: nothing will ever answer this request
  std::string text;             ///< the answer (thinking excluded)
  uint32_t deltas = 0;          ///< deltas sent to the sink (0: the attempt may be retried)
};

namespace {

/// One HTTP attempt, as the http client's listener: runs on the client's loop thread only. Decodes the
/// stream there, sends each answer delta straight to the call's sink, and tells the provider actor once,
/// when the attempt ends. `abandon()` (any thread) stops further deltas, for a cancelled or superseded
/// attempt. Holds the provider only weakly, so an attempt in flight never keeps a stopped actor alive.
class attempt_stream final : public http_listener {
public:
  attempt_stream(caf::weak_actor_ptr provider, std::shared_ptr<const wire_protocol> wire, uint64_t call,
                 completion_sink_actor sink)
    : provider_(std::move(provider)), wire_(std::move(wire)), call_(call), sink_(std::move(sink)) {}

  void abandon() noexcept { abandoned_.store(true, std::memory_order_relaxed); }

  void on_headers(uint64_t, int status, const http_headers& headers) noexcept override {
    status_ = status;
    headers_ = headers;
    if (status >= 200 && status < 300)
      decoder_ = std::visit([](const auto& w) { return w.make_decoder(); }, *wire_);
  }

  void on_chunk(uint64_t id, std::string chunk) noexcept override {
    if (outcome_sent_)
      return;
    if (!decoder_) {
      if (error_body_.size() < max_error_body)
        error_body_.append(chunk, 0, max_error_body - error_body_.size());
      return;
    }
    decoder_->feed(chunk, [&](const stream_event& ev) { on_event(id, ev); });
  }

  void on_complete(uint64_t id) noexcept override {
    if (outcome_sent_)
      return;
    if (decoder_) {
      decoder_->finish([&](const stream_event& ev) { on_event(id, ev); });
      return;
    }
    auto out = std::make_shared<attempt_outcome>();
    out->error = std::visit([&](const auto& w) { return w.parse_error(status_, headers_, error_body_); }, *wire_);
    finish(id, std::move(out));
  }

  void on_error(uint64_t id, const http_error& error) noexcept override {
    if (outcome_sent_)
      return;
    auto out = std::make_shared<attempt_outcome>();
    switch (error.kind) {
      case http_error_kind::cancelled:
        if (abandoned_.load(std::memory_order_relaxed))
          return; // the provider cancelled it and has forgotten it
        out->client_stopped = true;
        out->error = transport_error(error_kind::connection, error.message);
        break;
      case http_error_kind::timeout_connect:
      case http_error_kind::timeout_first_byte:
      case http_error_kind::timeout_idle:
      case http_error_kind::timeout_total: out->error = transport_error(error_kind::timeout, error.message); break;
      default: out->error = transport_error(error_kind::connection, error.message); break;
    }
    finish(id, std::move(out));
  }

private:
  void on_event(uint64_t id, const stream_event& ev) {
    if (outcome_sent_)
      return;
    if (auto* d = std::get_if<stream_delta>(&ev)) {
      if (d->text.empty() || d->thinking)
        return; // thinking is billed (usage says so), never shown
      text_ += d->text;
      if (sink_ && !abandoned_.load(std::memory_order_relaxed))
        caf::anon_send(sink_, completion_delta{call_, deltas_, d->text, false});
      ++deltas_;
      return;
    }
    auto out = std::make_shared<attempt_outcome>();
    if (auto* e = std::get_if<stream_end>(&ev)) {
      out->ok = true;
      out->end = *e;
    } else {
      out->error = std::get<provider_error>(ev);
    }
    finish(id, std::move(out));
  }

  void finish(uint64_t id, std::shared_ptr<attempt_outcome> out) {
    outcome_sent_ = true;
    out->text = std::move(text_);
    out->deltas = deltas_;
    if (auto strong = provider_.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(std::move(strong)),
                     provider_attempt_done{id, std::shared_ptr<const attempt_outcome>{std::move(out)}});
  }

  caf::weak_actor_ptr provider_;
  std::shared_ptr<const wire_protocol> wire_;
  uint64_t call_;
  completion_sink_actor sink_;
  std::atomic<bool> abandoned_{false};
  // Loop thread only:
  int status_ = 0;
  header_list headers_;
  std::string error_body_;
  std::unique_ptr<stream_decoder> decoder_;
  std::string text_;
  uint32_t deltas_ = 0;
  bool outcome_sent_ = false;
};

struct call_state {
  completion_call call;
  caf::typed_response_promise<completion> promise;
  uint32_t attempt = 0;             // 1 = first request
  uint64_t http_id = 0;             // 0: no request in flight (waiting for a retry)
  std::shared_ptr<attempt_stream> stream;  // the attempt in flight
  bool probe = false;               // holds a half-open probe slot of the breaker
  bool retrying = false;            // holds a retry budget slot
};

struct provider_state {
  endpoint_settings settings;
  std::shared_ptr<http_client> http;
  std::shared_ptr<const wire_protocol> wire;  // shared with the attempts' listeners (const: thread-safe)
  circuit_breaker breaker{breaker_options{}};
  retry_budget budget{retry_budget_options{}};
  std::mt19937_64 rng;
  std::unordered_map<uint64_t, call_state> calls;   // by completion_call id
  std::unordered_map<uint64_t, uint64_t> by_http;   // http request id -> call id
  provider_health health;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<sa::metrics> metrics;  // null: no figures

  static inline const char* name = "provider";

  provider_state() = default;
  provider_state(const provider_state&) = delete;
  provider_state& operator=(const provider_state&) = delete;
  /// Runs when the actor ends (stateful_actor::on_exit), for whatever reason: requests still streaming
  /// are freed at once, and every call still in progress is answered - its caller would otherwise wait
  /// forever, since CAF does not answer a response promise that is dropped. The error is the one CAF gives
  /// a request to an actor that is gone (what a monitoring strategy sees as well).
  ~provider_state() {
    if (http)
      for (auto& entry : by_http)
        http->cancel(entry.first);
    for (auto& entry : calls)
      if (entry.second.promise.pending())
        entry.second.promise.deliver(caf::make_error(caf::sec::request_receiver_down));
  }
};

using self_ptr = provider_actor::stateful_pointer<provider_state>;

/// Counts a call that ended, by outcome ("ok" or the provider error's name).
void count_call(self_ptr self, const char* outcome) {
  if (auto& m = self->state.metrics)
    m->provider_call(self->state.settings.name, outcome);
}

void count_call(self_ptr self, const caf::error& err) {
  auto code = provider_code(err);
  count_call(self, code ? to_string(*code) : "error");
}

/// The breaker's state as of `now`, for the gauge (updated whenever a call touches the breaker).
void publish_breaker(self_ptr self, clock::time_point now) {
  auto& st = self->state;
  if (!st.metrics)
    return;
  auto state = st.breaker.state(now);
  st.metrics->provider_breaker(st.settings.name, state == breaker_state::open        ? breaker_gauge::open
                                                 : state == breaker_state::half_open ? breaker_gauge::half_open
                                                                                     : breaker_gauge::closed);
}

/// Errors that say nothing about the provider's health (the request was wrong, or nobody waits).
bool counts_against_provider(error_kind k) noexcept {
  return k != error_kind::invalid_request && k != error_kind::blocked;
}

std::string describe(const endpoint_settings& s, const provider_error& e) {
  std::string out = s.name + ": " + to_string(e.kind);
  if (e.http_status != 0)
    out += " (HTTP " + std::to_string(e.http_status) + ")";
  if (!e.message.empty())
    out += ": " + e.message.substr(0, 200);
  return out;
}

/// Gives back what the call holds: its retry budget slot and its half-open probe slot. Every path that
/// ends an attempt or a call goes through here, so no slot leaks (a leaked probe slot would keep a
/// half-open breaker rejecting every call for good).
void release_slots(self_ptr self, call_state& c) {
  if (c.retrying) {
    self->state.budget.retry_finished();
    c.retrying = false;
  }
  if (c.probe) {
    self->state.breaker.on_abandon();
    c.probe = false;
  }
}

/// Forgets the call's HTTP request; `cancel`: it may still be running, stop it (frees its connection).
void drop_request(self_ptr self, call_state& c, bool cancel) {
  if (c.http_id == 0)
    return;
  if (cancel) {
    c.stream->abandon();
    self->state.http->cancel(c.http_id);
  }
  self->state.by_http.erase(c.http_id);
  c.http_id = 0;
  c.stream.reset();
}

/// Ends a call: removes its state and answers the promise.
void finish_with_error(self_ptr self, uint64_t id, caf::error err) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  drop_request(self, c, true);
  release_slots(self, c);
  st.budget.request_finished();
  ++st.health.failures;
  auto promise = c.promise;
  st.calls.erase(i);
  st.health.in_flight = st.calls.size();
  count_call(self, err);
  publish_breaker(self, clock::now());
  promise.deliver(std::move(err));
}

void send_attempt(self_ptr self, uint64_t id);

void fail_attempt(self_ptr self, uint64_t id, const provider_error& err, uint32_t deltas_sent) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  auto now = clock::now();
  // A decoded error (error event, bad JSON) ends the attempt while its response may still be arriving.
  drop_request(self, c, true);
  if (counts_against_provider(err.kind)) {
    st.breaker.on_failure(now);
    c.probe = false; // the verdict was given
  }
  release_slots(self, c); // an error that is not the provider's fault gives a probe slot back
  st.health.breaker_opened = st.breaker.opened();
  st.log->debug("{} attempt {} failed: {}", st.settings.name, c.attempt, to_string(err.kind));
  // Retry here only before the first delta: after it, the strategy restarts the answer elsewhere. A
  // failure that just opened the breaker is not retried either: fail over now instead of waiting.
  if (err.retryable && deltas_sent == 0 && c.attempt <= st.settings.max_retries
      && st.breaker.state(now) != breaker_state::open) {
    auto delay = backoff_delay(st.settings.backoff, c.attempt, err.retry_after_ms, st.rng);
    if (delay && *delay < time_left(c.call.deadline)) {
      if (!st.budget.try_start_retry()) {
        ++st.health.budget_denied;
        finish_with_error(self, id,
                          make_provider_error(provider_errc::retry_budget,
                                              describe(st.settings, err) + "; retry budget spent"));
        return;
      }
      c.retrying = true;
      ++st.health.retries;
      if (st.metrics)
        st.metrics->provider_retry(st.settings.name);
      self->delayed_send(self, *delay, provider_retry_due{id, c.attempt});
      return;
    }
  }
  finish_with_error(self, id, make_provider_error(to_errc(err.kind), describe(st.settings, err)));
}

void succeed(self_ptr self, uint64_t id, const attempt_outcome& outcome) {
  const auto& end = outcome.end;
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  st.breaker.on_success(clock::now());
  c.probe = false; // the verdict was given
  release_slots(self, c);
  // The stream's terminal event came; the body ends on its own (not cancelled: the connection is reused).
  drop_request(self, c, false);
  st.budget.request_finished();
  completion out;
  out.text = outcome.text;
  out.provider = st.settings.name;
  out.model = c.call.request.model;
  out.finish_reason = end.finish_reason;
  out.finish = to_string(end.finish);
  out.tokens = end.tokens;
  out.cost_usd = cost_usd(end.tokens, st.settings.price);
  out.spent_prompt_tokens = end.tokens.prompt_tokens;
  out.spent_completion_tokens = end.tokens.completion_tokens;
  out.tool_calls = end.tool_calls;
  out.thinking = end.thinking;
  out.attempts = c.attempt;
  ++st.health.successes;
  st.health.prompt_tokens += end.tokens.prompt_tokens;
  st.health.completion_tokens += end.tokens.completion_tokens;
  st.health.cost_usd += out.cost_usd;
  if (st.metrics) {
    // Tenant and model come from the call and the config, never from the answer.
    const auto& tenant = c.call.tenant.value.empty() ? std::string{"none"} : c.call.tenant.value;
    const auto& t = end.tokens;
    auto thinking = std::min(t.thinking_tokens, t.completion_tokens);
    st.metrics->tokens(tenant, out.model, t.prompt_tokens, t.completion_tokens - thinking, thinking);
    st.metrics->cost(tenant, out.model, out.cost_usd);
    // By component: the call's task, its thinking apart (sa_component_*; README "Cost").
    auto thinking_usd = thinking_cost_usd(t, st.settings.price);
    const char* component = c.call.task == llm_task::classify ? "classification"
                            : c.call.task == llm_task::judge    ? "judging"
                            : c.call.task == llm_task::moderate ? "moderation"
                                                                : "generation";
    st.metrics->component_cost(tenant, component, out.model, t.prompt_tokens, t.completion_tokens - thinking,
                               out.cost_usd - thinking_usd);
    if (thinking > 0)
      st.metrics->component_cost(tenant, "thinking", out.model, 0, thinking, thinking_usd);
  }
  count_call(self, "ok");
  publish_breaker(self, clock::now());
  auto promise = c.promise;
  st.calls.erase(i);
  st.health.in_flight = st.calls.size();
  promise.deliver(std::move(out));
}

void send_attempt(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& c = i->second;
  auto left = time_left(c.call.deadline);
  if (left.count() <= 0) {
    finish_with_error(self, id, make_provider_error(provider_errc::deadline, st.settings.name + ": deadline passed"));
    return;
  }
  ++c.attempt;
  auto built = std::visit([&](const auto& w) { return w.build_request(c.call.request); }, *st.wire);
  if (!built.ok()) {
    // Our own request is wrong: not the provider's fault, never retried (a probe slot is given back).
    finish_with_error(self, id, make_provider_error(provider_errc::invalid_request,
                                                    st.settings.name + ": " + built.error()));
    return;
  }
  auto& wire_req = built.value();
  sa::http_request req;
  req.method = wire_req.method;
  req.url = st.settings.base_url + wire_req.path;
  req.headers = std::move(wire_req.headers);
  if (!st.settings.api_key.empty())
    req.headers.emplace_back(wire_req.api_key_header, wire_req.api_key_prefix + st.settings.api_key);
  req.body = std::move(wire_req.body);
  req.connect_timeout = std::min(st.settings.connect_timeout, left);
  req.first_byte_timeout = std::min(st.settings.first_byte_timeout, left);
  req.idle_timeout = st.settings.idle_timeout;
  req.total_timeout = left;
  ++st.health.requests;
  c.stream = std::make_shared<attempt_stream>(caf::weak_actor_ptr{self->ctrl()}, st.wire, id, c.call.sink);
  c.http_id = st.http->submit(std::move(req), c.stream);
  st.by_http.emplace(c.http_id, id);
}

/// The call id an http message belongs to; 0 when the request was abandoned (cancelled, superseded).
uint64_t call_of(self_ptr self, uint64_t http_id) {
  auto i = self->state.by_http.find(http_id);
  return i == self->state.by_http.end() ? 0 : i->second;
}

completion_request with_endpoint_defaults(const endpoint_settings& s, completion_request r) {
  // Always streamed: one decoder path for every answer, usage in the stream, and the idle timeout
  // watches a slow answer. A call without a sink simply gets its answer in the final completion.
  r.stream = true;
  // Thinking blocks and call signatures of a tool-use exchange are signed by the endpoint that made them.
  drop_foreign_reasoning(r, s.name);
  if (r.model.empty())
    r.model = s.model;
  if (r.max_tokens == 0)
    r.max_tokens = s.max_tokens;
  if (!r.temperature && s.temperature >= 0)
    r.temperature = s.temperature;
  if (r.thinking_budget > 0 && s.thinking_budget > 0) {
    r.thinking_budget = s.thinking_budget;
    r.max_tokens += s.thinking_budget; // Anthropic: budget < max_tokens, and the answer keeps its room
  } else {
    r.thinking_budget = 0;
  }
  return r;
}

provider_actor::behavior_type provider(self_ptr self, endpoint_settings s, std::shared_ptr<http_client> client,
                                       std::shared_ptr<sa::metrics> metrics) {
  log_exceptions(self, "provider");
  auto& st = self->state;
  st.wire = std::make_shared<const wire_protocol>(make_wire(s));
  st.breaker = circuit_breaker{s.breaker};
  st.budget = retry_budget{s.budget};
  st.rng.seed(s.seed != 0 ? s.seed : std::random_device{}());
  st.health.name = s.name;
  st.settings = std::move(s);
  st.http = std::move(client);
  st.log = log::get("provider");
  st.metrics = std::move(metrics);
  publish_breaker(self, clock::now());
  return {
    [self](completion_call& call) -> caf::result<completion> {
      auto& st = self->state;
      ++st.health.calls;
      auto now = clock::now();
      if (time_left(call.deadline).count() <= 0) {
        ++st.health.failures;
        count_call(self, "deadline");
        return make_provider_error(provider_errc::deadline, st.settings.name + ": deadline passed");
      }
      if (st.calls.count(call.id) != 0) {
        ++st.health.failures;
        count_call(self, "invalid_request");
        return make_provider_error(provider_errc::invalid_request,
                                   st.settings.name + ": call id " + std::to_string(call.id) + " already in progress");
      }
      auto before = st.breaker.state(now);
      if (!st.breaker.try_acquire(now)) {
        ++st.health.rejected_open;
        ++st.health.failures;
        count_call(self, "circuit_open");
        publish_breaker(self, now);
        return make_provider_error(provider_errc::circuit_open, st.settings.name + ": circuit open");
      }
      auto id = call.id;
      call_state c;
      c.probe = before == breaker_state::half_open;
      c.call = std::move(call);
      c.call.request = with_endpoint_defaults(st.settings, std::move(c.call.request));
      c.promise = self->make_response_promise<completion>();
      auto promise = c.promise;
      st.calls.emplace(id, std::move(c));
      st.health.in_flight = st.calls.size();
      st.budget.request_started();
      send_attempt(self, id);
      return promise;
    },
    [self](const completion_cancel& cancel) {
      auto& st = self->state;
      auto i = st.calls.find(cancel.call);
      if (i == st.calls.end())
        return;
      // finish_with_error cancels the HTTP request and gives back the probe and retry slots.
      finish_with_error(self, cancel.call,
                        make_provider_error(provider_errc::cancelled, st.settings.name + ": cancelled"));
    },
    [self](provider_health_request) -> provider_health {
      auto& st = self->state;
      auto h = st.health;
      h.breaker = to_string(st.breaker.state(clock::now()));
      h.breaker_opened = st.breaker.opened();
      h.in_flight = st.calls.size();
      return h;
    },
    [self](provider_retry_due& due) {
      auto& st = self->state;
      auto i = st.calls.find(due.call);
      if (i == st.calls.end() || i->second.attempt != due.attempt || i->second.http_id != 0)
        return;
      auto now = clock::now();
      auto before = st.breaker.state(now);
      if (!st.breaker.try_acquire(now)) {
        ++st.health.rejected_open;
        finish_with_error(self, due.call,
                          make_provider_error(provider_errc::circuit_open,
                                              st.settings.name + ": circuit opened while waiting to retry"));
        return;
      }
      i->second.probe = before == breaker_state::half_open;
      send_attempt(self, due.call);
    },
    [self](provider_attempt_done& done) {
      auto id = call_of(self, done.http_id);
      if (id == 0)
        return; // abandoned (cancelled, or its call already ended)
      auto& st = self->state;
      auto& c = st.calls.at(id);
      // The terminal event came; a successful body ends on its own (not cancelled: the connection is
      // reused), an error mid-body is cancelled by fail_attempt.
      const auto& out = *done.outcome;
      if (out.ok) {
        succeed(self, id, out);
      } else if (out.client_stopped) {
        drop_request(self, c, false);
        finish_with_error(self, id, make_provider_error(provider_errc::cancelled,
                                                        st.settings.name + ": " + out.error.message));
      } else {
        fail_attempt(self, id, out.error, out.deltas);
      }
    },
  };
}

} // namespace

provider_actor spawn_provider(caf::actor_system& sys, endpoint_settings settings, std::shared_ptr<http_client> http,
                              std::shared_ptr<sa::metrics> metrics) {
  return sys.spawn(provider, std::move(settings), std::move(http), std::move(metrics));
}

provider_actor spawn_provider(caf::local_actor* parent, endpoint_settings settings, std::shared_ptr<http_client> http,
                              std::shared_ptr<sa::metrics> metrics) {
  return parent->spawn(provider, std::move(settings), std::move(http), std::move(metrics));
}

void register_provider_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<provider_health_request>("sa::providers::provider_health_request")
    .add_message_type<provider_health>("sa::providers::provider_health")
    .add_message_type<provider_retry_due>("sa::providers::provider_retry_due");
  // provider_attempt_done is node-local (its outcome is shared, not serialized) and stays unregistered.
}

} // namespace sa::providers
