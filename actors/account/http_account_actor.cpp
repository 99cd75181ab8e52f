// HTTP account actor: answers account_request from the company's own REST API (docs/account-api.md).
// Per request it takes the parts the cache holds and fetches the rest - one GET per lookup, all at once,
// through the node's http client (whose loop thread also reads each response, so the scheduler never
// waits on I/O) - and answers when every lookup is in or account.http.timeout_ms has passed, whichever
// comes first. A lookup that failed or did not finish is listed in `missing` (the other parts are used);
// with none at all the answer is available=false with the reason. Requests for a (tenant, user) whose
// fetch is in flight join it instead of sending their own. The URL carries only the tenant and user of
// the request, which the session takes from its authenticated user. To add a lookup: account_api.hpp.
#include "actors/account/http_account_actor.hpp"

#include "actors/account/account_cache.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/http_client.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <cstdlib>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sa {

namespace {

using clock = std::chrono::steady_clock;
using account_api::lookup;
using part_ptr = std::shared_ptr<const account_api::part>;

constexpr std::size_t index(lookup which) noexcept {
  return static_cast<std::size_t>(which);
}

/// Private: one lookup's response, read on the http client's loop thread.
struct lookup_done {
  uint64_t http_id = 0;
  part_ptr result;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lookup_done& x) {
  return f(caf::meta::type_name("sa::account_lookup_done"), x.http_id);
}

/// Private: the fetch with this id has run out of time.
struct fetch_deadline {
  uint64_t fetch = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_deadline& x) {
  return f(caf::meta::type_name("sa::account_fetch_deadline"), x.fetch);
}

using http_accounts_impl = account_actor::extend<caf::reacts_to<lookup_done>, caf::reacts_to<fetch_deadline>>;

account_failure failure_of(http_error_kind kind) noexcept {
  switch (kind) {
    case http_error_kind::timeout_connect:
    case http_error_kind::timeout_first_byte:
    case http_error_kind::timeout_idle:
    case http_error_kind::timeout_total: return account_failure::timeout;
    default: return account_failure::unreachable;
  }
}

/// Collects one lookup's response on the loop thread and sends the actor what it makes of it. The
/// problem it reports names a field, a status or a transport error kind: never a value, a URL or a header.
class lookup_listener final : public http_listener {
public:
  lookup_listener(caf::weak_actor_ptr owner, http_client* client, lookup which, std::string tenant, std::string user,
                  std::size_t max_bytes)
    : owner_(std::move(owner)), client_(client), which_(which), tenant_(std::move(tenant)), user_(std::move(user)),
      max_bytes_(max_bytes) {}

  void on_headers(uint64_t, int status, const http_headers&) noexcept override { status_ = status; }

  void on_chunk(uint64_t id, std::string chunk) noexcept override {
    if (too_large_)
      return;
    if (body_.size() + chunk.size() > max_bytes_) {
      too_large_ = true;
      body_.clear();
      client_->cancel(id);  // from inside a callback: only on_error{cancelled} follows
      return;
    }
    body_ += chunk;
  }

  void on_complete(uint64_t id) noexcept override {
    send(id, std::make_shared<const account_api::part>(
               account_api::read_response(which_, status_, body_, tenant_, user_)));
  }

  void on_error(uint64_t id, const http_error& error) noexcept override {
    if (too_large_)
      send(id, account_api::failed_part(account_failure::bad_response,
                                        "response larger than " + std::to_string(max_bytes_) + " bytes"));
    else
      send(id, account_api::failed_part(failure_of(error.kind), "transport error " + to_string(error.kind)));
  }

private:
  void send(uint64_t id, part_ptr result) {
    if (auto strong = owner_.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(std::move(strong)), lookup_done{id, std::move(result)});
  }

  caf::weak_actor_ptr owner_;
  http_client* client_;  // valid in callbacks: they run on its loop thread
  lookup which_;
  std::string tenant_;
  std::string user_;
  std::size_t max_bytes_;
  // Loop thread only:
  int status_ = 0;
  std::string body_;
  bool too_large_ = false;
};

/// The lookups of one (tenant, user) in flight, and every request waiting for them.
struct fetch {
  std::string tenant;
  std::string user;
  std::vector<caf::typed_response_promise<account_facts>> waiters;
  std::array<part_ptr, account_api::lookup_count> parts;   // null: not configured, or still in flight
  std::array<uint64_t, account_api::lookup_count> http_ids{};  // 0: none in flight
  std::size_t pending = 0;
};

struct http_accounts_state {
  static inline const char* name = "account";
  std::shared_ptr<const account_api::http_settings> settings;
  std::shared_ptr<http_client> client;
  std::shared_ptr<account_http_stats> stats;
  std::unique_ptr<account_cache> cache;
  std::unordered_map<uint64_t, fetch> fetches;                         // by fetch id
  std::map<std::pair<std::string, std::string>, uint64_t> in_flight;  // (tenant, user) -> fetch id
  std::unordered_map<uint64_t, std::pair<uint64_t, lookup>> by_http;  // http id -> (fetch id, lookup)
  uint64_t next_fetch = 1;
  std::shared_ptr<spdlog::logger> log;

  http_accounts_state() = default;
  http_accounts_state(const http_accounts_state&) = delete;
  http_accounts_state& operator=(const http_accounts_state&) = delete;
  /// The actor ended (shutdown or crash): free the requests, answer every waiter (CAF does not answer a
  /// dropped promise; the session then answers without account facts, flagged).
  ~http_accounts_state() {
    if (client)
      for (auto& entry : by_http)
        client->cancel(entry.first);
    for (auto& entry : fetches)
      for (auto& w : entry.second.waiters)
        if (w.pending())
          w.deliver(caf::make_error(caf::sec::request_receiver_down));
  }
};

using self_ptr = http_accounts_impl::stateful_pointer<http_accounts_state>;

void log_failure(self_ptr self, const fetch& f, lookup which, const account_api::part& p) {
  auto& st = self->state;
  ++st.stats->lookup_failures;
  // A user the API does not know is an answer, not a fault; everything else is worth a warning.
  auto level = p.failure == account_failure::not_found ? spdlog::level::debug : spdlog::level::warn;
  st.log->log(level, "event=account_lookup_failed tenant={} lookup={} reason={} problem=\"{}\"", f.tenant,
              account_api::to_string(which), to_string(p.failure), p.problem);
}

/// Answers every waiter of the fetch and forgets it.
void finish(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.fetches.find(id);
  if (i == st.fetches.end())
    return;
  auto f = std::move(i->second);
  st.fetches.erase(i);
  st.in_flight.erase({f.tenant, f.user});
  auto facts = account_api::combine(f.parts);
  if (!facts.available)
    ++st.stats->unavailable;
  else if (!facts.missing.empty())
    ++st.stats->partial;
  for (auto& w : f.waiters)
    w.deliver(facts);
}

void start_lookup(self_ptr self, uint64_t id, fetch& f, lookup which) {
  auto& st = self->state;
  const auto& s = *st.settings;
  http_request req;
  req.method = "GET";
  req.url = s.url(which, f.tenant, f.user);
  req.log_url = s.base_url + s.templates[index(which)].text();  // the http client's logs show no ids
  req.headers.emplace_back("Accept", "application/json");
  if (!s.auth_header.empty())
    req.headers.emplace_back(s.auth_header, s.auth_value);
  // The fetch's own timer joins the lookups; these free a connection that outlives it.
  req.connect_timeout = s.timeout;
  req.first_byte_timeout = s.timeout;
  req.idle_timeout = s.timeout;
  req.total_timeout = s.timeout;
  auto listener = std::make_shared<lookup_listener>(caf::weak_actor_ptr{self->ctrl()}, st.client.get(), which,
                                                    f.tenant, f.user, s.max_response_bytes);
  auto http_id = st.client->submit(std::move(req), std::move(listener));
  f.http_ids[index(which)] = http_id;
  ++f.pending;
  st.by_http.emplace(http_id, std::make_pair(id, which));
  ++st.stats->lookups;
}

http_accounts_impl::behavior_type http_accounts(self_ptr self, std::shared_ptr<const account_api::http_settings> settings,
                                                std::shared_ptr<http_client> client,
                                                std::shared_ptr<account_http_stats> stats) {
  log_exceptions(self, "account");
  auto& st = self->state;
  st.cache = std::make_unique<account_cache>(settings->cache_ttl, settings->cache_max_entries);
  st.settings = std::move(settings);
  st.client = std::move(client);
  st.stats = stats ? std::move(stats) : std::make_shared<account_http_stats>();
  st.log = log::get("account");
  return {
    [self](const account_request& r) -> caf::result<account_facts> {
      auto& st = self->state;
      ++st.stats->requests;
      const auto& tenant = r.tenant.value;
      const auto& user = r.user.value;
      if (!account_api::valid_id(tenant) || !account_api::valid_id(user)) {
        account_facts none;
        none.failure = account_failure::not_found;
        ++st.stats->unavailable;
        return none;
      }
      // Everything fresh in the cache: answered at once.
      auto now = clock::now();
      std::array<part_ptr, account_api::lookup_count> cached;
      bool all_cached = true;
      for (auto which : account_api::all_lookups) {
        if (st.settings->templates[index(which)].empty())
          continue;
        cached[index(which)] = st.cache->find(tenant, user, which, now);
        all_cached = all_cached && cached[index(which)] != nullptr;
      }
      if (all_cached) {
        ++st.stats->cache_hits;
        return account_api::combine(cached);
      }
      auto rp = self->make_response_promise<account_facts>();
      if (auto joined = st.in_flight.find({tenant, user}); joined != st.in_flight.end()) {
        ++st.stats->coalesced;
        st.fetches.at(joined->second).waiters.push_back(rp);
        return rp;
      }
      auto id = st.next_fetch++;
      auto& f = st.fetches[id];
      f.tenant = tenant;
      f.user = user;
      f.waiters.push_back(rp);
      st.in_flight.emplace(std::make_pair(tenant, user), id);
      for (auto which : account_api::all_lookups) {
        if (st.settings->templates[index(which)].empty())
          continue;
        if (cached[index(which)])
          f.parts[index(which)] = std::move(cached[index(which)]);
        else
          start_lookup(self, id, f, which);
      }
      self->delayed_send(self, st.settings->timeout, fetch_deadline{id});
      return rp;
    },
    [self](lookup_done& d) {
      auto& st = self->state;
      auto h = st.by_http.find(d.http_id);
      if (h == st.by_http.end())
        return;  // cancelled when its fetch timed out
      auto [id, which] = h->second;
      st.by_http.erase(h);
      auto i = st.fetches.find(id);
      if (i == st.fetches.end())
        return;
      auto& f = i->second;
      f.http_ids[index(which)] = 0;
      --f.pending;
      if (d.result->ok())
        st.cache->put(f.tenant, f.user, which, d.result, clock::now());
      else
        log_failure(self, f, which, *d.result);
      f.parts[index(which)] = std::move(d.result);
      if (f.pending == 0)
        finish(self, id);
    },
    [self](const fetch_deadline& d) {
      auto& st = self->state;
      auto i = st.fetches.find(d.fetch);
      if (i == st.fetches.end())
        return;  // answered in time
      auto& f = i->second;
      for (auto which : account_api::all_lookups) {
        auto& http_id = f.http_ids[index(which)];
        if (http_id == 0)
          continue;
        st.client->cancel(http_id);
        st.by_http.erase(http_id);
        http_id = 0;
        auto late = account_api::failed_part(account_failure::timeout,
                                             "no answer within " + std::to_string(st.settings->timeout.count()) +
                                               " ms");
        log_failure(self, f, which, *late);
        f.parts[index(which)] = std::move(late);
      }
      f.pending = 0;
      finish(self, d.fetch);
    },
  };
}

} // namespace

result<account_api::http_settings> account_http_settings_from(const config::account_config& cfg,
                                                              const account_env_lookup& env) {
  const auto& h = cfg.http;
  account_api::http_settings s;
  s.base_url = h.base_url;
  const std::pair<const char*, const std::string*> templates[] = {{"subscription_url", &h.subscription_url},
                                                                  {"invoices_url", &h.invoices_url},
                                                                  {"usage_url", &h.usage_url},
                                                                  {"open_tickets_url", &h.open_tickets_url}};
  static_assert(std::size(templates) == account_api::lookup_count);
  for (std::size_t i = 0; i < account_api::lookup_count; ++i) {
    auto t = account_api::url_template::parse(*templates[i].second);
    if (!t)
      return failure{std::string{"account.http."} + templates[i].first + " = \"" + *templates[i].second +
                     "\": " + t.error()};
    s.templates[i] = std::move(*t);
  }
  if (!h.auth_header_env.empty()) {
    const char* value = env ? env(h.auth_header_env.c_str()) : std::getenv(h.auth_header_env.c_str());
    if (value == nullptr || *value == '\0')
      return failure{"account.http.auth_header_env names " + h.auth_header_env +
                     ", which is not set in the environment (it holds the value of the " + h.auth_header +
                     " header sent to the account API)"};
    std::string v{value};
    if (v.find_first_of("\r\n") != std::string::npos)
      return failure{"the environment variable " + h.auth_header_env +
                     " (account.http.auth_header_env) holds a line break, which an HTTP header value cannot"};
    s.auth_header = h.auth_header;
    s.auth_value = std::move(v);
  }
  s.timeout = std::chrono::milliseconds{h.timeout_ms};
  s.cache_ttl = std::chrono::milliseconds{h.cache_ttl_ms};
  s.cache_max_entries = static_cast<std::size_t>(h.cache_max_entries);
  s.max_response_bytes = static_cast<std::size_t>(h.max_response_bytes);
  return s;
}

account_actor spawn_http_accounts(caf::local_actor* parent, std::shared_ptr<const account_api::http_settings> settings,
                                  std::shared_ptr<http_client> client, std::shared_ptr<account_http_stats> stats) {
  return caf::actor_cast<account_actor>(
    parent->spawn(http_accounts, std::move(settings), std::move(client), std::move(stats)));
}

account_actor spawn_http_accounts(caf::actor_system& sys, std::shared_ptr<const account_api::http_settings> settings,
                                  std::shared_ptr<http_client> client, std::shared_ptr<account_http_stats> stats) {
  return caf::actor_cast<account_actor>(
    sys.spawn(http_accounts, std::move(settings), std::move(client), std::move(stats)));
}

bool add_account_http_metrics(metrics& m, const std::shared_ptr<account_http_stats>& stats) {
  std::weak_ptr<account_http_stats> weak = stats;
  auto counter = [weak](const char* name, const char* help, std::atomic<uint64_t> account_http_stats::*field) {
    return sampled_metric{name, help, true, [weak, field]() -> double {
                            auto s = weak.lock();
                            return s ? static_cast<double>(((*s).*field).load()) : 0.0;
                          }};
  };
  using s = account_http_stats;
  return m.add_sampled({
    counter("sa_account_requests_total", "Account context requests to the HTTP account backend.", &s::requests),
    counter("sa_account_lookups_total", "HTTP lookups sent to the account API (subscription, invoices, usage, "
            "open tickets).", &s::lookups),
    counter("sa_account_lookup_failures_total", "Account API lookups that failed or timed out (that part of the "
            "facts was missing).", &s::lookup_failures),
    counter("sa_account_cache_hits_total", "Account context requests answered from the cache alone.", &s::cache_hits),
    counter("sa_account_coalesced_total", "Account context requests that joined an identical fetch in flight.",
            &s::coalesced),
    counter("sa_account_partial_total", "Account context answers with some lookups missing.", &s::partial),
    counter("sa_account_unavailable_total", "Account context answers without account facts.", &s::unavailable),
  });
}

} // namespace sa
