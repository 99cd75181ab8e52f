// metrics: the families behind metrics.hpp, on prometheus-cpp's Registry; rendered by its TextSerializer.
#include "runtime/metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <sstream>

namespace sa {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr std::size_t max_label_chars = 64;

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
         || c == ':' || c == '-';
}

/// Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (char c : name)
    if (!(label_char(c) && c != '.' && c != '-'))
      return false;
  return true;
}

/// The registry and every name its families use (sampled figures must not reuse one).
struct named_registry {
  prometheus::Registry registry;
  std::set<std::string> names;

  Family<Counter>& counter(const char* name, const char* help) {
    names.insert(name);
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  }

  Family<Gauge>& gauge(const char* name, const char* help) {
    names.insert(name);
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  }

  Family<Histogram>& histogram(const char* name, const char* help) {
    for (const char* suffix : {"", "_bucket", "_sum", "_count"})
      names.insert(std::string(name) + suffix);
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  }
};

/// The sampled figures as families, read when collected.
class sampled_collectable final : public prometheus::Collectable {
public:
  bool add(std::vector<sampled_metric> figures, const std::set<std::string>& taken) {
    std::lock_guard<std::mutex> guard{mutex_};
    std::set<std::string> names;
    for (const auto& f : figures)
      if (!valid_metric_name(f.name) || !f.read || taken.count(f.name) != 0 || !names.insert(f.name).second
          || std::any_of(figures_.begin(), figures_.end(), [&](const auto& g) { return g.name == f.name; }))
        return false;
    for (auto& f : figures)
      figures_.push_back(std::move(f));
    return true;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard<std::mutex> guard{mutex_};
    std::vector<prometheus::MetricFamily> out;
    for (const auto& f : figures_) {
      prometheus::MetricFamily fam;
      fam.name = f.name;
      fam.help = f.help;
      prometheus::ClientMetric m;
      if (f.counter) {
        fam.type = prometheus::MetricType::Counter;
        m.counter.value = f.read();
      } else {
        fam.type = prometheus::MetricType::Gauge;
        m.gauge.value = f.read();
      }
      fam.metric.push_back(std::move(m));
      out.push_back(std::move(fam));
    }
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::vector<sampled_metric> figures_;
};

/// A CSAT score as a label: "1".."5", else "invalid".
std::string csat_score_label(int score) {
  return score >= 1 && score <= 5 ? std::to_string(score) : std::string{"invalid"};
}

} // namespace

std::string metric_label(std::string_view value) {
  if (value.empty() || value.size() > max_label_chars)
    return "invalid";
  for (char c : value)
    if (!label_char(c))
      return "invalid";
  return std::string(value);
}

const std::vector<double>& metrics::latency_buckets() {
  static const std::vector<double> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1,      2.5,   5,    10,    20,   30};
  return buckets;
}

struct metrics::impl {
  named_registry r;
  sampled_collectable sampled;

  Family<Counter>& turns = r.counter("sa_turns_total",
    "Turns a session ran, by tenant, intent and outcome (answered, escalated to a human, failed).");
  Family<Histogram>& ttft = r.histogram("sa_ttft_seconds",
    "Time from a turn's start at the session to the first text of its answer sent to the client.");
  Family<Histogram>& turn_duration = r.histogram("sa_turn_duration_seconds",
    "Time from a turn's start at the session to its end (completed or failed).");
  Family<Counter>& escalations = r.counter("sa_escalations_total",
    "Turns handed to a human, by tenant and escalation reason.");
  Family<Counter>& safety_verdicts = r.counter("sa_safety_verdicts_total",
    "Safety checks that did not allow the text as is, by action (redact, refuse, escalate) and reason (pii, harmful, "
    "abusive, off_topic, prompt_injection, other_person_data, moderation).");
  Family<Counter>& moderation_calls = r.counter("sa_moderation_calls_total",
    "LLM moderation calls (safety.moderation), by outcome: allowed, flagged, failed (error or deadline: the rules' "
    "verdict stood) or unparsable.");
  Family<Counter>& conversations = r.counter("sa_conversations_closed_total",
    "Conversations closed (session idle after answering), by who resolved them: bot (no turn escalated) or "
    "human. Resolution rate = resolved_by=\"bot\" / all.");
  Family<Counter>& csat = r.counter("sa_csat_ratings_total",
    "Customer ratings of answers (score 1-5), by tenant, intent and escalation reason of the rated turn.");
  Family<Counter>& csat_surveys = r.counter("sa_csat_surveys_total",
    "End-of-conversation surveys (score 1-5, resolved true/false), by tenant, and intent and escalation reason "
    "of the conversation's last answered turn.");
  Family<Counter>& quality_samples = r.counter("sa_quality_samples_total",
    "Turns the quality monitor sampled, by tenant, intent, judge (endpoint or strategy, or local_groundedness) "
    "and outcome (scored, judge_failed, not_applicable).");
  Family<Histogram>& quality_scores = r.histogram("sa_quality_score",
    "Scores of sampled answers normalised to 0-1, by tenant, intent, judge and dimension (relevance, accuracy, "
    "helpfulness, tone; local: groundedness, word_support).");
  Family<Counter>& component_tokens = r.counter("sa_component_tokens_total",
    "LLM tokens by tenant, component (classification, retrieval_embeddings, generation, thinking, judging), "
    "model and kind (input, output); free models included.");
  Family<Counter>& component_cost = r.counter("sa_component_cost_usd_total",
    "LLM cost in US dollars at the configured prices, by tenant, component and model.");
  Family<Histogram>& conversation_cost = r.histogram("sa_conversation_cost_usd",
    "LLM cost of closed conversations in US dollars, by tenant.");
  Family<Counter>& provider_requests = r.counter("sa_provider_requests_total",
    "Completion calls to an LLM endpoint, by provider and outcome (ok, or the provider error: timeout, "
    "rate_limited, circuit_open, ...).");
  Family<Counter>& provider_retries = r.counter("sa_provider_retries_total",
    "Requests an LLM endpoint sent again after a retryable failure, by provider.");
  Family<Counter>& provider_fallbacks = r.counter("sa_provider_fallbacks_total",
    "Times a fallback strategy moved from a failed member to the next one, by strategy, from and to.");
  Family<Gauge>& breaker = r.gauge("sa_provider_breaker_state",
    "Circuit breaker of an LLM endpoint as of its last call: 0 closed, 1 half-open, 2 open.");
  Family<Counter>& tokens = r.counter("sa_tokens_total",
    "Billed tokens of LLM answers, by tenant, model and kind (input, output, thinking; output excludes thinking).");
  Family<Counter>& cost = r.counter("sa_cost_usd_total",
    "Cost of LLM answers in US dollars at the configured prices, by tenant and model.");
  Family<Gauge>& sessions = r.gauge("sa_active_sessions", "Session actors alive on this node.");
  Family<Gauge>& connections = r.gauge("sa_gateway_connections", "Open WebSocket connections.");
  Family<Counter>& restarts = r.counter("sa_actor_restarts_total",
    "Actors restarted after a crash, by kind (memory, account, provider:NAME, a session child's role, or "
    "session).");
  Family<Counter>& memory_errors = r.counter("sa_memory_backend_errors_total",
    "Conversation memory backend problems, by backend and kind (load_fallback, append_refused, append_failed, "
    "write_lost).");

  Family<Counter>& handoffs = r.counter("sa_handoffs_total",
    "Handoff records by tenant and event: queued (an escalation entered the agents' queue), taken, returned "
    "(handed back to the bot), closed.");
  Family<Histogram>& time_to_take = r.histogram("sa_handoff_time_to_take_seconds",
    "Time from an escalation entering the queue to an agent taking it.");

  Gauge& sessions_now = sessions.Add({});
  Gauge& connections_now = connections.Add({});
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}

metrics::~metrics() = default;

void metrics::turn_finished(std::string_view tenant, std::string_view intent, std::string_view outcome,
                            double seconds) {
  auto t = metric_label(tenant);
  impl_->turns.Add({{"tenant", t}, {"intent", metric_label(intent)}, {"outcome", metric_label(outcome)}})
    .Increment();
  impl_->turn_duration.Add({{"tenant", t}}, latency_buckets()).Observe(seconds);
}

void metrics::first_delta(std::string_view tenant, double seconds) {
  impl_->ttft.Add({{"tenant", metric_label(tenant)}}, latency_buckets()).Observe(seconds);
}

void metrics::escalated(std::string_view tenant, std::string_view reason) {
  impl_->escalations.Add({{"tenant", metric_label(tenant)}, {"reason", metric_label(reason)}}).Increment();
}

void metrics::safety_checked(std::string_view action, std::string_view reason) {
  impl_->safety_verdicts.Add({{"action", metric_label(action)}, {"reason", metric_label(reason)}}).Increment();
}

void metrics::moderation_call(std::string_view outcome) {
  impl_->moderation_calls.Add({{"outcome", metric_label(outcome)}}).Increment();
}

void metrics::handoff_event(std::string_view tenant, std::string_view event) {
  impl_->handoffs.Add({{"tenant", metric_label(tenant)}, {"event", metric_label(event)}}).Increment();
}

void metrics::handoff_taken(std::string_view tenant, double seconds) {
  static const std::vector<double> buckets{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400};
  impl_->time_to_take.Add({{"tenant", metric_label(tenant)}}, buckets).Observe(seconds);
}

void metrics::conversation_closed(std::string_view tenant, bool by_human) {
  impl_->conversations.Add({{"tenant", metric_label(tenant)}, {"resolved_by", by_human ? "human" : "bot"}})
    .Increment();
}

void metrics::csat_rated(std::string_view tenant, std::string_view intent, std::string_view escalation_reason,
                         int score) {
  auto s = csat_score_label(score);
  impl_->csat
    .Add({{"tenant", metric_label(tenant)},
          {"intent", metric_label(intent)},
          {"escalation_reason", metric_label(escalation_reason)},
          {"score", s}})
    .Increment();
}

void metrics::csat_survey(std::string_view tenant, std::string_view intent, std::string_view escalation_reason,
                          int score, bool resolved) {
  auto s = csat_score_label(score);
  impl_->csat_surveys
    .Add({{"tenant", metric_label(tenant)},
          {"intent", metric_label(intent)},
          {"escalation_reason", metric_label(escalation_reason)},
          {"score", s},
          {"resolved", resolved ? "true" : "false"}})
    .Increment();
}

void metrics::quality_sampled(std::string_view tenant, std::string_view intent, std::string_view judge,
                              std::string_view outcome) {
  impl_->quality_samples
    .Add({{"tenant", metric_label(tenant)},
          {"intent", metric_label(intent)},
          {"judge", metric_label(judge)},
          {"outcome", metric_label(outcome)}})
    .Increment();
}

void metrics::quality_score(std::string_view tenant, std::string_view intent, std::string_view judge,
                            std::string_view dimension, double score) {
  static const std::vector<double> buckets{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  impl_->quality_scores
    .Add({{"tenant", metric_label(tenant)},
          {"intent", metric_label(intent)},
          {"judge", metric_label(judge)},
          {"dimension", metric_label(dimension)}},
         buckets)
    .Observe(std::clamp(score, 0.0, 1.0));
}

void metrics::component_cost(std::string_view tenant, std::string_view component, std::string_view model,
                             uint64_t input, uint64_t output, double usd) {
  prometheus::Labels labels{
    {"tenant", metric_label(tenant)}, {"component", metric_label(component)}, {"model", metric_label(model)}};
  auto kind = [&](const char* k) {
    auto l = labels;
    l.emplace("kind", k);
    return l;
  };
  impl_->component_tokens.Add(kind("input")).Increment(static_cast<double>(input));
  impl_->component_tokens.Add(kind("output")).Increment(static_cast<double>(output));
  impl_->component_cost.Add(labels).Increment(std::max(0.0, usd));  // a counter never goes down
}

void metrics::conversation_cost(std::string_view tenant, double usd) {
  static const std::vector<double> buckets{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  impl_->conversation_cost.Add({{"tenant", metric_label(tenant)}}, buckets).Observe(std::max(0.0, usd));
}

void metrics::provider_call(std::string_view provider, std::string_view outcome) {
  impl_->provider_requests.Add({{"provider", metric_label(provider)}, {"outcome", metric_label(outcome)}})
    .Increment();
}

void metrics::provider_retry(std::string_view provider) {
  impl_->provider_retries.Add({{"provider", metric_label(provider)}}).Increment();
}

void metrics::provider_fallback(std::string_view strategy, std::string_view from, std::string_view to) {
  impl_->provider_fallbacks
    .Add({{"strategy", metric_label(strategy)}, {"from", metric_label(from)}, {"to", metric_label(to)}})
    .Increment();
}

void metrics::provider_breaker(std::string_view provider, breaker_gauge state) {
  impl_->breaker.Add({{"provider", metric_label(provider)}}).Set(static_cast<double>(state));
}

void metrics::tokens(std::string_view tenant, std::string_view model, uint64_t input, uint64_t output,
                     uint64_t thinking) {
  auto t = metric_label(tenant);
  auto m = metric_label(model);
  // Every kind gets a sample, zero included, so rates over kinds line up.
  impl_->tokens.Add({{"tenant", t}, {"model", m}, {"kind", "input"}}).Increment(static_cast<double>(input));
  impl_->tokens.Add({{"tenant", t}, {"model", m}, {"kind", "output"}}).Increment(static_cast<double>(output));
  impl_->tokens.Add({{"tenant", t}, {"model", m}, {"kind", "thinking"}}).Increment(static_cast<double>(thinking));
}

void metrics::cost(std::string_view tenant, std::string_view model, double usd) {
  if (usd < 0)
    return;  // a counter never goes down
  impl_->cost.Add({{"tenant", metric_label(tenant)}, {"model", metric_label(model)}}).Increment(usd);
}

void metrics::session_activated() {
  impl_->sessions_now.Increment();
}

void metrics::sessions_ended(std::size_t count) {
  impl_->sessions_now.Decrement(static_cast<double>(count));
}

void metrics::connection_opened() {
  impl_->connections_now.Increment();
}

void metrics::connection_closed() {
  impl_->connections_now.Decrement();
}

void metrics::actor_restarted(std::string_view kind) {
  impl_->restarts.Add({{"kind", metric_label(kind)}}).Increment();
}

void metrics::memory_backend_error(std::string_view backend, std::string_view kind) {
  impl_->memory_errors.Add({{"backend", metric_label(backend)}, {"kind", metric_label(kind)}}).Increment();
}

bool metrics::add_sampled(std::vector<sampled_metric> figures) {
  return impl_->sampled.add(std::move(figures), impl_->r.names);
}

std::vector<prometheus::MetricFamily> metrics::collect() const {
  auto families = impl_->r.registry.Collect();
  auto sampled = impl_->sampled.Collect();
  families.insert(families.end(), std::make_move_iterator(sampled.begin()), std::make_move_iterator(sampled.end()));
  return families;
}

std::string metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, collect());
  return out.str();
}

} // namespace sa
