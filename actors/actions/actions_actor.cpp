// Actions service: validates each action_request against the tool registry (again: the session's check is
// not trusted), runs it scoped by the request's tenant and user, audits it, and answers one action_result.
//
// It owns the webhook jobs in flight (their HTTP requests on the node's http_client, their retry and
// deadline timers) and a bounded memory of finished actions by idempotency key, so a repeated request
// returns the first outcome instead of acting twice; a request whose key is in flight joins that job.
// To add a tool: validate it in tool_registry.cpp, add a run_<tool> here, and route it in `execute`.
#include "actors/actions/actions_actor.hpp"

#include "actors/actions/webhook.hpp"
#include "messages/completion.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/http_client.hpp"
#include "runtime/http_messages.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <deque>
#include <random>
#include <unordered_map>

namespace sa::actions {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

/// Private timer messages.
struct webhook_retry {
  uint64_t job = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, webhook_retry& x) {
  return f(caf::meta::type_name("sa::actions::webhook_retry"), x.job);
}
struct job_expired {
  uint64_t job = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_expired& x) {
  return f(caf::meta::type_name("sa::actions::job_expired"), x.job);
}

using impl_actor = actions_actor::extend<caf::reacts_to<http_response_headers>, caf::reacts_to<http_body_chunk>,
                                         caf::reacts_to<http_response_done>, caf::reacts_to<http_response_failed>,
                                         caf::reacts_to<webhook_retry>, caf::reacts_to<job_expired>>;

constexpr std::size_t max_response_bytes = 64 * 1024;  // what is kept of a webhook's answer
constexpr std::size_t remembered_results = 4096;       // finished actions kept by idempotency key
constexpr milliseconds min_attempt_time{50};           // no attempt starts with less time than this left
/// Without a deadline in the request, a webhook action still ends: every attempt and wait at their longest.
milliseconds fallback_budget(const webhook_policy& p) {
  return p.max_attempts * (p.attempt_timeout + p.backoff_max);
}

/// Forwards the http client's callbacks to the actor as messages; holds it weakly (a request in flight
/// never keeps a stopped service alive).
class weak_listener final : public http_listener {
public:
  explicit weak_listener(caf::weak_actor_ptr target) : target_(std::move(target)) {}
  void on_headers(uint64_t id, int status, const http_headers& headers) noexcept override {
    tell(http_response_headers{id, status, headers});
  }
  void on_chunk(uint64_t id, std::string chunk) noexcept override { tell(http_body_chunk{id, std::move(chunk)}); }
  void on_complete(uint64_t id) noexcept override { tell(http_response_done{id}); }
  void on_error(uint64_t id, const http_error& error) noexcept override {
    tell(http_response_failed{id, error.kind, error.message});
  }

private:
  template <class T>
  void tell(T msg) {
    if (auto strong = target_.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(std::move(strong)), std::move(msg));
  }
  caf::weak_actor_ptr target_;
};

/// One webhook action in progress.
struct job {
  uint64_t id = 0;
  action_request request;
  validated_call call;
  std::string key;                // tenant-scoped idempotency key (the state's maps)
  webhook_target target;
  std::string receiver;           // "helpdesk" or "workflow service", for the customer's message
  std::string body;
  steady_deadline deadline = 0;
  uint32_t attempts = 0;
  uint64_t http_id = 0;           // 0: no request in flight
  int status = 0;
  http_headers headers;
  std::string response;
  std::string last_problem;       // "HTTP 503", "timeout_first_byte", ... (no URL, no body)
  bool last_was_timeout = false;
  std::vector<caf::typed_response_promise<action_result>> promises;
};

struct actions_state {
  static inline const char* name = "actions";
  std::shared_ptr<const actions_deps> deps;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<weak_listener> listener;
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t next_job = 1;
  std::unordered_map<uint64_t, job> jobs;
  std::unordered_map<uint64_t, uint64_t> by_http;       // http request id -> job id
  std::unordered_map<std::string, uint64_t> in_flight;  // idempotency key -> job id
  std::unordered_map<std::string, action_result> finished;  // idempotency key -> outcome (bounded)
  std::deque<std::string> finished_order;

  actions_state() = default;
  actions_state(const actions_state&) = delete;
  actions_state& operator=(const actions_state&) = delete;
  /// Whatever ends the service: requests in flight are cancelled and every waiting caller is answered
  /// (CAF does not answer a dropped promise).
  ~actions_state() {
    if (deps && deps->http)
      for (auto& entry : by_http)
        deps->http->cancel(entry.first);
    for (auto& entry : jobs)
      for (auto& p : entry.second.promises)
        if (p.pending())
          p.deliver(caf::make_error(caf::sec::request_receiver_down));
  }
};

using self_ptr = impl_actor::stateful_pointer<actions_state>;

std::string today_utc() {
  auto now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string now_iso_utc() {
  auto now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string quote(const std::string& s) { return "\u201c" + s + "\u201d"; }

std::string money(double amount, const std::string& currency) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", amount);
  return std::string(buf) + (currency.empty() ? "" : " " + currency);
}

action_result result_for(const action_request& r, action_status status, std::string summary, std::string detail = {}) {
  action_result out;
  out.call_id = r.call.id;
  out.tool = r.call.tool;
  out.status = status;
  out.summary = std::move(summary);
  out.detail = std::move(detail);
  return out;
}

/// What the audit trail records as the result (messages/audit.hpp): ok, refused, not_found, error:<status>.
std::string audit_result(action_status s) {
  switch (s) {
    case action_status::ok: return "ok";
    case action_status::invalid_arguments:
    case action_status::unavailable: return "refused";
    case action_status::not_found: return "not_found";
    case action_status::failed:
    case action_status::timeout: break;
  }
  return std::string("error:") + to_string(s);
}

void audit(self_ptr self, const action_request& r, const std::string& arguments, const action_result& res) {
  auto& st = self->state;
  st.log->info("event=action tool={} tenant={} session={} status={} attempts={} reference={}", r.call.tool,
               r.tenant.value, log::tag(r.tenant.value + '/' + r.session.value), to_string(res.status),
               res.attempts, res.reference.empty() ? "-" : res.reference);
  if (!st.deps->audit)
    return;
  audit_event e{r.tenant, audit_actors::bot, r.call.tool, arguments, audit_result(res.status), r.session};
  auto tool = r.call.tool;
  auto tenant = r.tenant.value;
  self->request(st.deps->audit, st.deps->account_timeout, std::move(e))
    .then([](const audit_receipt&) {},
          [self, tool, tenant](caf::error& err) {
            self->state.log->error("event=audit_failed action={} tenant={} error={}", tool, tenant, to_string(err));
          });
}

/// Remembers a finished action by its key, so a repeated request answers the same without acting again.
void remember(self_ptr self, const std::string& key, const action_result& res) {
  auto& st = self->state;
  if (key.empty() || st.finished.count(key))
    return;
  st.finished.emplace(key, res);
  st.finished_order.push_back(key);
  while (st.finished_order.size() > remembered_results) {
    st.finished.erase(st.finished_order.front());
    st.finished_order.pop_front();
  }
}

/// The tenant-scoped key of a request ("" when it has none: every request then runs).
std::string scoped_key(const action_request& r) {
  return r.idempotency_key.empty() ? std::string{} : r.tenant.value + '\n' + r.idempotency_key;
}

// --- create_ticket into the embedded store -------------------------------------------------------------

std::string ticket_summary(const ticket_info& t) {
  return "I've opened support ticket " + t.id + ", " + quote(t.subject) +
         ". Our support team will follow up with you here; please mention " + t.id + " if you contact us about it.";
}

action_result create_embedded_ticket(self_ptr self, const action_request& r, const validated_call& call) {
  new_ticket t{call.text("subject"), call.text("description"), call.text("priority"), today_utc()};
  auto created = self->state.deps->tickets->create(r.tenant.value, r.user.value, r.idempotency_key, t);
  if (!created)
    return result_for(r, action_status::failed,
                      "I couldn't open the ticket: our ticket system is not accepting new tickets right now. Please "
                      "try again later, or ask for a member of our team.",
                      created.error());
  auto res = result_for(r, action_status::ok, ticket_summary(created->info));
  res.reference = created->info.id;
  res.data_json = dump({{"ticket_id", created->info.id}, {"subject", created->info.subject},
                        {"status", created->info.status}, {"priority", created->priority},
                        {"opened", created->info.opened}, {"duplicate", created->duplicate}});
  return res;
}

// --- lookup_order_or_invoice ---------------------------------------------------------------------------

std::string infer_kind(const std::string& reference) {
  auto upper = reference;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("INV", 0) == 0)
    return "invoice";
  if (upper.rfind("TCK", 0) == 0 || upper.rfind("T-", 0) == 0)
    return "ticket";
  if (upper.rfind("ORD", 0) == 0)
    return "order";
  return {};
}

action_result lookup_in(const action_request& r, const validated_call& call, const account_facts& facts,
                        const std::vector<ticket_info>& created) {
  auto reference = call.text("reference");
  auto kind = call.text("kind");
  if (kind.empty())
    kind = infer_kind(reference);
  if (kind.empty() || kind == "invoice" || kind == "order") {
    for (const auto& inv : facts.invoices)
      if (reference_matches(inv.id, reference)) {
        auto summary = "Invoice " + inv.id + " from " + inv.date + ": " + money(inv.amount, inv.currency) +
                       ", status " + inv.status + (inv.description.empty() ? "" : " (" + inv.description + ")") + ".";
        auto res = result_for(r, action_status::ok, std::move(summary));
        res.reference = inv.id;
        res.data_json = dump({{"kind", "invoice"}, {"id", inv.id}, {"date", inv.date}, {"amount", inv.amount},
                              {"currency", inv.currency}, {"status", inv.status}, {"description", inv.description}});
        return res;
      }
  }
  if (kind.empty() || kind == "ticket") {
    std::vector<ticket_info> tickets = facts.open_tickets;
    tickets.insert(tickets.end(), created.begin(), created.end());
    for (const auto& t : tickets)
      if (reference_matches(t.id, reference)) {
        auto summary = "Ticket " + t.id + ", " + quote(t.subject) + (t.opened.empty() ? "" : ", opened " + t.opened) +
                       ": status " + t.status + ".";
        auto res = result_for(r, action_status::ok, std::move(summary));
        res.reference = t.id;
        res.data_json = dump({{"kind", "ticket"}, {"id", t.id}, {"subject", t.subject}, {"status", t.status},
                              {"opened", t.opened}});
        return res;
      }
  }
  if ((kind.empty() || kind == "invoice" || kind == "order") && facts.lacks("invoices"))
    return result_for(r, action_status::unavailable,
                      "I can't look up " + reference + " right now: your invoices are unavailable at the moment. "
                      "Please try again in a few minutes.",
                      "account facts without invoices");
  std::string what = kind == "invoice" ? "an invoice" : kind == "order" ? "an order" : kind == "ticket" ? "a ticket"
                                                                                                      : "an invoice, order or ticket";
  auto summary = "I couldn't find " + what + " " + quote(reference) +
                 " on your account. Please check the number as it is written on the " +
                 (kind == "ticket" ? std::string("ticket") : std::string("invoice or order confirmation")) +
                 " (for example INV-2026-0142 or TCK-5012).";
  auto res = result_for(r, action_status::not_found, std::move(summary), "no " + (kind.empty() ? "record" : kind) +
                                                                           " with that reference for this user");
  res.data_json = dump({{"kind", kind.empty() ? "unknown" : kind}, {"found", false}});
  return res;
}

// --- webhooks ------------------------------------------------------------------------------------------

void finish_job(self_ptr self, uint64_t id, action_result res);
void start_attempt(self_ptr self, uint64_t id);

std::string failure_summary(const job& j) {
  auto what = j.call.tool.name == tools::create_ticket ? "open the ticket " + quote(j.call.text("subject"))
                                                       : "start the " + quote(j.call.text("workflow")) + " workflow";
  return "I couldn't " + what + ": ";
}

action_result webhook_success(const job& j) {
  auto res = result_for(j.request, action_status::ok, {});
  res.attempts = j.attempts;
  auto body = json::parse(j.response, nullptr, false);
  auto field = [&](std::initializer_list<const char*> names) -> std::string {
    if (!body.is_object())
      return {};
    for (auto* n : names) {
      auto i = body.find(n);
      if (i != body.end() && i->is_string() && !i->get_ref<const std::string&>().empty())
        return i->get<std::string>().substr(0, 64);
      if (i != body.end() && i->is_number_integer())
        return std::to_string(i->get<int64_t>());
    }
    return {};
  };
  if (j.call.tool.name == tools::create_ticket) {
    res.reference = field({"ticket_id", "id"});
    auto subject = j.call.text("subject");
    res.summary = res.reference.empty()
                    ? "I've passed your ticket " + quote(subject) + " to our helpdesk. Our support team will follow up "
                      "with you."
                    : "I've opened support ticket " + res.reference + ", " + quote(subject) +
                        ". Our support team will follow up with you; please mention " + res.reference +
                        " if you contact us about it.";
    res.data_json = dump({{"ticket_id", res.reference}, {"subject", subject}, {"priority", j.call.text("priority")},
                          {"attempts", j.attempts}});
  } else {
    res.reference = field({"run_id", "id"});
    auto workflow = j.call.text("workflow");
    auto ref = j.call.text("reference");
    res.summary = "I've started the " + quote(workflow) + " workflow" + (ref.empty() ? "" : " for " + ref) + "." +
                  (res.reference.empty() ? "" : " Its reference is " + res.reference + ".") +
                  " The team behind it will take it from here.";
    res.data_json = dump({{"workflow", workflow}, {"accepted", true}, {"run_id", res.reference},
                          {"attempts", j.attempts}});
  }
  return res;
}

void fail_job(self_ptr self, uint64_t id, action_status status, const std::string& why) {
  auto i = self->state.jobs.find(id);
  if (i == self->state.jobs.end())
    return;
  auto& j = i->second;
  auto res = result_for(j.request, status, failure_summary(j) + why, j.last_problem);
  res.attempts = j.attempts;
  res.data_json = dump({{"accepted", false}, {"attempts", j.attempts}, {"problem", j.last_problem}});
  finish_job(self, id, std::move(res));
}

/// No more attempts: says honestly what is known (a timeout may still have reached the receiver).
void give_up_after_retries(self_ptr self, uint64_t id, bool out_of_time) {
  auto& j = self->state.jobs.at(id);
  std::string why;
  if (j.last_was_timeout || out_of_time)
    why = "the " + j.receiver + " did not confirm it in time (" + std::to_string(j.attempts) +
          (j.attempts == 1 ? " attempt" : " attempts") +
          "), so I can't tell you it was done. If it did go through, it won't be done twice. Please try again "
          "later, or ask for a member of our team.";
  else
    why = "the " + j.receiver + " is not responding properly right now (" + std::to_string(j.attempts) +
          (j.attempts == 1 ? " attempt" : " attempts") + ", last: " + j.last_problem +
          "). Nothing was done. Please try again later, or ask for a member of our team.";
  fail_job(self, id, j.last_was_timeout || out_of_time ? action_status::timeout : action_status::failed, why);
}

void attempt_failed(self_ptr self, uint64_t id, attempt_verdict verdict) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  st.log->info("event=webhook_attempt_failed tool={} tenant={} attempt={} problem={}", j.call.tool.name,
               j.request.tenant.value, j.attempts, j.last_problem);
  if (verdict == attempt_verdict::give_up) {
    fail_job(self, id, action_status::failed,
             "the " + j.receiver + " refused the request (" + j.last_problem +
               "). Nothing was done. Please ask for a member of our team.");
    return;
  }
  const auto& p = st.deps->settings->policy;
  if (j.attempts >= p.max_attempts) {
    give_up_after_retries(self, id, false);
    return;
  }
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = backoff_delay(j.attempts, p.backoff_initial, p.backoff_max, unit(st.rng));
  if (auto ra = retry_after(j.headers); ra && *ra > delay)
    delay = *ra;
  if (delay + min_attempt_time > time_left(j.deadline)) {
    give_up_after_retries(self, id, true);
    return;
  }
  self->delayed_send(self, delay, webhook_retry{id});
}

void start_attempt(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  auto left = time_left(j.deadline);
  if (left < min_attempt_time) {
    give_up_after_retries(self, id, true);
    return;
  }
  const auto& p = st.deps->settings->policy;
  http_request req;
  req.method = "POST";
  req.url = j.target.url;
  req.body = j.body;
  req.headers = signed_headers(j.target.secret, unix_seconds(), j.body, j.request.idempotency_key);
  req.connect_timeout = std::min(p.connect_timeout, left);
  req.first_byte_timeout = std::min(p.attempt_timeout, left);
  req.idle_timeout = req.first_byte_timeout;
  req.total_timeout = req.first_byte_timeout;
  ++j.attempts;
  j.status = 0;
  j.headers.clear();
  j.response.clear();
  j.http_id = st.deps->http->submit(std::move(req), st.listener);
  st.by_http[j.http_id] = id;
}

/// Starts a webhook action: builds its body once (every retry sends the same bytes, re-signed).
void start_job(self_ptr self, const action_request& r, validated_call call, webhook_target target,
               std::string receiver, caf::typed_response_promise<action_result> promise) {
  auto& st = self->state;
  job j;
  j.id = st.next_job++;
  j.request = r;
  j.key = scoped_key(r);
  j.target = std::move(target);
  j.receiver = std::move(receiver);
  j.deadline = r.deadline != 0 ? r.deadline : deadline_in(fallback_budget(st.deps->settings->policy));
  json body{{"id", r.idempotency_key}, {"tenant", r.tenant.value}, {"user", r.user.value},
            {"created_at", now_iso_utc()}};
  if (call.tool.name == tools::create_ticket) {
    body["event"] = "ticket.create";
    body["ticket"] = call.arguments;
  } else {
    body["event"] = "workflow.trigger";
    body["workflow"] = call.text("workflow");
    json args = call.arguments;
    args.erase("workflow");
    body["arguments"] = std::move(args);
  }
  j.body = dump(body);
  j.call = std::move(call);
  j.promises.push_back(std::move(promise));
  auto id = j.id;
  if (!j.key.empty())
    st.in_flight[j.key] = id;
  st.jobs.emplace(id, std::move(j));
  self->delayed_send(self, std::max(time_left(st.jobs.at(id).deadline), milliseconds{0}), job_expired{id});
  start_attempt(self, id);
}

void finish_job(self_ptr self, uint64_t id, action_result res) {
  auto& st = self->state;
  auto i = st.jobs.find(id);
  if (i == st.jobs.end())
    return;
  auto j = std::move(i->second);
  st.jobs.erase(i);
  if (j.http_id != 0) {
    st.by_http.erase(j.http_id);
    st.deps->http->cancel(j.http_id);
  }
  if (!j.key.empty()) {
    st.in_flight.erase(j.key);
    if (res.status == action_status::ok)
      remember(self, j.key, res);
  }
  if (res.status == action_status::ok && j.call.tool.name == tools::create_ticket && !res.reference.empty())
    st.deps->tickets->record(j.request.tenant.value, j.request.user.value, j.request.idempotency_key,
                             ticket_info{res.reference, j.call.text("subject"), "open", today_utc()},
                             j.call.text("priority"));
  audit(self, j.request, dump(j.call.arguments), res);
  for (auto& p : j.promises)
    p.deliver(res);
}

// --- requests ------------------------------------------------------------------------------------------

caf::result<action_result> execute(self_ptr self, action_request r) {
  auto& st = self->state;
  const auto& settings = *st.deps->settings;
  if (!settings.enabled) {
    auto res = result_for(r, action_status::unavailable, "I can't do that here: actions are turned off.",
                          "actions.enabled = false");
    audit(self, r, "{}", res);
    return res;
  }
  auto call = settings.registry->validate(r.tenant.value, r.call);
  if (!call) {
    auto res = result_for(r, action_status::invalid_arguments, "I couldn't do that: " + call.error() + ".",
                          call.error());
    auto args = json::parse(r.call.arguments_json, nullptr, false);
    audit(self, r, args.is_object() ? dump(args) : "{}", res);
    return res;
  }
  auto key = scoped_key(r);
  if (auto done = st.finished.find(key); !key.empty() && done != st.finished.end()) {
    st.log->info("event=action_replayed tool={} tenant={}", r.call.tool, r.tenant.value);
    auto res = done->second;
    res.call_id = r.call.id;
    return res;
  }
  if (auto running = st.in_flight.find(key); !key.empty() && running != st.in_flight.end()) {
    auto promise = self->make_response_promise<action_result>();
    st.jobs.at(running->second).promises.push_back(promise);
    return promise;
  }
  const auto& tool = call->tool.name;
  if (tool == tools::lookup_order_or_invoice) {
    auto promise = self->make_response_promise<action_result>();
    auto timeout = st.deps->account_timeout;
    if (r.deadline != 0)
      timeout = std::max(milliseconds{1}, std::min(timeout, time_left(r.deadline)));
    auto validated = std::make_shared<validated_call>(std::move(*call));
    self->request(st.deps->account, timeout, account_request{r.tenant, r.user})
      .then(
        [self, r, validated, promise](account_facts& facts) mutable {
          action_result res;
          if (!facts.available)
            res = result_for(r, action_status::unavailable,
                             "I can't look that up right now: your account details are unavailable. Please try "
                             "again in a few minutes.",
                             std::string("account facts unavailable: ") + to_string(facts.failure));
          else
            res = lookup_in(r, *validated, facts, self->state.deps->tickets->list(r.tenant.value, r.user.value));
          audit(self, r, dump(validated->arguments), res);
          promise.deliver(std::move(res));
        },
        [self, r, validated, promise](caf::error& err) mutable {
          auto res = result_for(r, action_status::unavailable,
                                "I can't look that up right now: your account details are unavailable. Please try "
                                "again in a few minutes.",
                                "account service: " + to_string(err));
          audit(self, r, dump(validated->arguments), res);
          promise.deliver(std::move(res));
        });
    return promise;
  }
  if (tool == tools::create_ticket && settings.helpdesk.url.empty()) {
    auto res = create_embedded_ticket(self, r, *call);
    if (res.status == action_status::ok)
      remember(self, key, res);
    audit(self, r, dump(call->arguments), res);
    return res;
  }
  if (!st.deps->http) {  // a configuration the node never builds: webhooks without an HTTP client
    auto res = result_for(r, action_status::unavailable, "I can't do that right now. Please ask for a member of our team.",
                          "no HTTP client for webhooks");
    audit(self, r, dump(call->arguments), res);
    return res;
  }
  auto promise = self->make_response_promise<action_result>();
  if (tool == tools::create_ticket) {
    start_job(self, r, std::move(*call), settings.helpdesk, "helpdesk", promise);
    return promise;
  }
  const auto* workflow = settings.workflow_for(r.tenant.value, call->text("workflow"));
  if (!workflow) {  // the registry offers a tenant only its own workflows; this is a second lock
    auto res = result_for(r, action_status::unavailable, "I can't start that workflow for your account.",
                          "workflow not configured for this tenant");
    audit(self, r, dump(call->arguments), res);
    promise.deliver(res);
    return promise;
  }
  start_job(self, r, std::move(*call), workflow->target, "workflow service", promise);
  return promise;
}

impl_actor::behavior_type actions_service(self_ptr self, std::shared_ptr<const actions_deps> deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.log = log::get("actions");
  st.listener = std::make_shared<weak_listener>(caf::weak_actor_ptr{self->ctrl()});
  log_exceptions(self, "actions");
  auto job_of = [self](uint64_t http_id) -> job* {
    auto& st = self->state;
    auto i = st.by_http.find(http_id);
    if (i == st.by_http.end())
      return nullptr;
    auto j = st.jobs.find(i->second);
    return j == st.jobs.end() ? nullptr : &j->second;
  };
  return {
    [self](action_request& r) -> caf::result<action_result> { return execute(self, std::move(r)); },
    [self](const ticket_list_request& r) -> ticket_list {
      return ticket_list{self->state.deps->tickets->list(r.tenant.value, r.user.value)};
    },
    [job_of](http_response_headers& h) {
      if (auto* j = job_of(h.request_id)) {
        j->status = h.status;
        j->headers = std::move(h.headers);
      }
    },
    [job_of](http_body_chunk& c) {
      if (auto* j = job_of(c.request_id); j && j->response.size() < max_response_bytes)
        j->response.append(c.data, 0, max_response_bytes - j->response.size());
    },
    [self, job_of](const http_response_done& d) {
      auto* j = job_of(d.request_id);
      if (!j)
        return;
      self->state.by_http.erase(d.request_id);
      j->http_id = 0;
      auto verdict = verdict_for_status(j->status);
      if (verdict == attempt_verdict::success) {
        finish_job(self, j->id, webhook_success(*j));
        return;
      }
      j->last_problem = "HTTP " + std::to_string(j->status);
      j->last_was_timeout = j->status == 408;
      attempt_failed(self, j->id, verdict);
    },
    [self, job_of](const http_response_failed& f) {
      auto* j = job_of(f.request_id);
      if (!j)
        return;
      self->state.by_http.erase(f.request_id);
      j->http_id = 0;
      j->last_problem = sa::to_string(f.kind);
      j->last_was_timeout = f.kind == http_error_kind::timeout_first_byte || f.kind == http_error_kind::timeout_idle
                            || f.kind == http_error_kind::timeout_total || f.kind == http_error_kind::timeout_connect;
      attempt_failed(self, j->id, verdict_for_error(f.kind));
    },
    [self](const webhook_retry& r) {
      if (self->state.jobs.count(r.job))
        start_attempt(self, r.job);
    },
    [self](const job_expired& e) {
      if (!self->state.jobs.count(e.job))
        return;
      auto& j = self->state.jobs.at(e.job);
      if (j.last_problem.empty())
        j.last_problem = "deadline";
      give_up_after_retries(self, e.job, true);
    },
  };
}

} // namespace

actions_actor spawn_actions(caf::local_actor* parent, std::shared_ptr<const actions_deps> deps) {
  return caf::actor_cast<actions_actor>(parent->spawn(actions_service, std::move(deps)));
}

} // namespace sa::actions
