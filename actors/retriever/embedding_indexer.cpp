// embedding indexer: an actor running one embedding_job at a time (see embedding_indexer.hpp). Its state and
// logic (indexer_core: the tenants' embedding caches and the job) live on a blocking_lane, where the actor
// forwards each of its messages, so they are handled one at a time and in order, as an actor's would be,
// without cache reads and graph builds on a scheduler thread. The slots it reads and writes belong to the node.
#include "actors/retriever/embedding_indexer.hpp"

#include "actors/retriever/embedding_cache.hpp"
#include "actors/retriever/embedding_job.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "runtime/blocking_lane.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>

namespace sa {

namespace {

using tick_atom = caf::atom_constant<caf::atom("emb_tick")>;   // periodic check, re-armed by its handler
using check_atom = caf::atom_constant<caf::atom("emb_check")>; // one check now (after a job)
using pump_atom = caf::atom_constant<caf::atom("emb_pump")>;
using steady = std::chrono::steady_clock;

/// Bytes kept of one batch answer: room for 3,072 dimensions as JSON text per input, and then some.
std::size_t max_batch_body(std::size_t batch_size) { return batch_size * 65536 + (1u << 20); }

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

struct job_state {
  std::shared_ptr<const knowledge::knowledge_index> index;
  std::vector<std::string> tenants;
  std::unique_ptr<knowledge::embedding_job> work;
  std::map<uint64_t, uint64_t> in_flight; ///< http request id -> batch id
  std::map<uint64_t, uint64_t> batch_bytes; ///< batch id -> bytes of its texts (for the 4-bytes-a-token estimate)
  uint64_t tokens = 0;                    ///< input tokens the job's embedding answers were billed for
  uint32_t failures = 0;                  ///< consecutive failed batches
  bool pump_due = false;                  ///< a delayed pump is scheduled
  steady::time_point started = steady::now();
  steady::time_point last_progress = steady::now();
};

struct indexer_state {
  embedding_indexer_settings settings;
  std::map<std::string, std::unique_ptr<knowledge::embedding_cache>> caches; ///< by tenant, opened on first use
  std::set<std::string> without_cache;     ///< tenants whose cache could not be opened (logged once)
  std::unique_ptr<job_state> job;
  struct backoff {
    std::weak_ptr<const knowledge::knowledge_index> index;
    steady::time_point next;
    std::chrono::milliseconds delay{0};
  };
  std::map<const knowledge::knowledge_index*, backoff> dropped; ///< jobs that failed, tried again at `next`
  std::shared_ptr<spdlog::logger> log = log::get("embedding");

  ~indexer_state() {
    if (job && settings.http)
      for (const auto& [http_id, batch] : job->in_flight)
        settings.http->cancel(http_id);
  }
};

/// What runs on the lane. `me` is the actor: timers and the http client's answers go to it, and it forwards
/// them here. `stopped`: the actor has exited; jobs still queued do nothing.
struct indexer_core {
  indexer_state state;
  caf::actor me;
  std::atomic<bool> stopped{false};
};

using self_ptr = indexer_core*;

knowledge::embedding_cache* cache_for(self_ptr self, const std::string& tenant) {
  auto& st = self->state;
  if (st.settings.state_dir.empty() || st.without_cache.count(tenant) != 0)
    return nullptr;
  if (auto it = st.caches.find(tenant); it != st.caches.end())
    return it->second.get();
  std::string why;
  if (!knowledge::valid_tenant_name(tenant, &why)) {
    st.without_cache.insert(tenant);
    st.log->warn("event=embedding_cache_unavailable tenant={} problem=\"tenant name not usable as a folder: {}\"",
                 log::tag(tenant), why);
    return nullptr;
  }
  auto file = knowledge::embedding_cache_file(st.settings.state_dir, tenant);
  auto cache = knowledge::embedding_cache::open(file);
  if (!cache) {
    // Only a cache: move an unreadable file aside and start an empty one rather than embed on every load.
    std::error_code ec;
    std::filesystem::rename(file, file + ".unreadable", ec);
    st.log->warn("event=embedding_cache_reset tenant={} problem=\"{}\" moved_to={}", tenant, cache.error(),
                 ec ? std::string("(could not move: ") + ec.message() + ")" : file + ".unreadable");
    cache = knowledge::embedding_cache::open(file);
  }
  if (!cache) {
    st.without_cache.insert(tenant);
    st.log->error("event=embedding_cache_unavailable tenant={} problem=\"{}\" (vectors are kept in memory only)",
                  tenant, cache.error());
    return nullptr;
  }
  auto* raw = cache->get();
  st.caches.emplace(tenant, std::move(*cache));
  return raw;
}

void log_cache_problems(self_ptr self) {
  for (const auto& p : self->state.job->work->take_cache_problems())
    self->state.log->warn("event=embedding_cache_problem problem=\"{}\"", p);
}

void schedule_pump(self_ptr self, std::chrono::milliseconds delay) {
  auto& job = *self->state.job;
  if (job.pump_due)
    return;
  job.pump_due = true;
  caf::delayed_anon_send(self->me, delay, pump_atom::value);
}

/// Requests batches until max_in_flight are out or none is left.
void pump(self_ptr self) {
  auto& st = self->state;
  auto& job = *st.job;
  while (job.in_flight.size() < std::max<std::size_t>(st.settings.max_in_flight, 1)) {
    auto batch = job.work->next_batch();
    if (!batch)
      break;
    auto id = submit_embedding(*st.settings.http, st.settings.embedding, batch->texts,
                               knowledge::embedding_purpose::document, st.settings.embedding.batch_timeout,
                               self->me.address(), max_batch_body(st.settings.embedding.batch_size));
    job.in_flight.emplace(id, batch->id);
    uint64_t bytes = 0;
    for (const auto& t : batch->texts)
      bytes += t.size();
    job.batch_bytes[batch->id] = bytes;
    if (st.settings.stats)
      ++st.settings.stats->index_requests;
  }
}

void drop_job(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  auto& job = *st.job;
  for (const auto& [http_id, batch] : job.in_flight)
    st.settings.http->cancel(http_id);
  auto& b = st.dropped[job.index.get()];
  if (b.index.lock() != job.index)
    b = {job.index, {}, {}};
  b.delay = b.delay.count() == 0 ? st.settings.job_retry_initial
                                 : std::min(b.delay * 2, st.settings.job_retry_max);
  b.next = steady::now() + b.delay;
  st.log->error("event=embedding_failed tenants={} embedded={}/{} reason=\"{}\" retry_in_s={} "
                "(answering from BM25 alone until then)",
                joined(job.tenants), job.work->embedded(), job.work->to_embed(), reason,
                std::chrono::duration_cast<std::chrono::seconds>(b.delay).count());
  st.job.reset();
}

/// Builds the vector index of the finished job and publishes it for the tenants still served by its BM25 index.
void finish_job(self_ptr self) {
  auto& st = self->state;
  auto& job = *st.job;
  const auto t0 = steady::now();
  auto built = job.work->build(st.settings.index);
  const double build_ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
  if (!built) {
    drop_job(self, built.error());
    return;
  }
  auto catalog = st.settings.catalog->load();
  auto next = std::make_shared<vector_catalog>(*st.settings.vectors->load());
  std::vector<std::string> published;
  for (const auto& t : job.tenants)
    if (catalog->find_shared(t) == job.index) {
      (*next)[t] = tenant_vectors{*built, job.index, st.settings.embedding.endpoint.model};
      published.push_back(t);
    }
  st.settings.vectors->store(std::move(next));
  st.dropped.erase(job.index.get());
  st.log->info("event=vectors_ready tenants={} chunks={} dims={} embedded={} cached={} tokens={} cost_usd={:.6f} "
               "seconds={:.1f} build_ms={:.0f}",
               joined(published), (*built)->size(), (*built)->dimensions(), job.work->embedded(), job.work->cached(),
               job.tokens, static_cast<double>(job.tokens) * st.settings.embedding.input_per_mtok / 1e6,
               seconds_since(job.started), build_ms);
  st.job.reset();
  caf::anon_send(self->me, check_atom::value); // more to do?
}

void start_job(self_ptr self, std::shared_ptr<const knowledge::knowledge_index> index, std::vector<std::string> tenants) {
  auto& st = self->state;
  std::vector<knowledge::embedding_cache*> caches;
  for (const auto& t : tenants)
    caches.push_back(cache_for(self, t));
  auto work = knowledge::embedding_job::start(index->all_chunks(), st.settings.embedding.endpoint.model, caches,
                                              st.settings.embedding.batch_size);
  if (!work) {
    st.log->error("event=embedding_failed tenants={} reason=\"{}\"", joined(tenants), work.error());
    return;
  }
  st.job = std::make_unique<job_state>();
  st.job->index = std::move(index);
  st.job->tenants = std::move(tenants);
  st.job->work = std::move(*work);
  auto& w = *st.job->work;
  if (st.settings.stats)
    st.settings.stats->texts_cached += w.cached();
  st.log->info("event=embedding_started tenants={} chunks={} cached={} to_embed={} model={} provider={}",
               joined(st.job->tenants), w.chunk_count(), w.cached(), w.to_embed(), st.settings.embedding.endpoint.model,
               st.settings.embedding.endpoint.name);
  log_cache_problems(self);
  if (w.done()) {
    finish_job(self);
    return;
  }
  pump(self);
}

/// Looks for a BM25 index without current vectors and starts its job.
void check(self_ptr self) {
  auto& st = self->state;
  if (st.job)
    return;
  auto catalog = st.settings.catalog->load();
  auto vectors = st.settings.vectors->load();
  // Tenants that lost their knowledge lose their vectors too.
  bool pruned = false;
  auto next = std::make_shared<vector_catalog>(*vectors);
  for (auto it = next->begin(); it != next->end();)
    if (!catalog->find(it->first)) {
      it = next->erase(it);
      pruned = true;
    } else {
      ++it;
    }
  if (pruned) {
    st.settings.vectors->store(next);
    vectors = next;
  }
  std::map<const knowledge::knowledge_index*, std::pair<std::shared_ptr<const knowledge::knowledge_index>,
                                                        std::vector<std::string>>> todo;
  for (const auto& t : st.settings.tenants) {
    auto index = catalog->find_shared(t);
    if (!index || vectors_for(*vectors, t, index.get()))
      continue;
    // Another tenant already has vectors for this very index (it serves both): share them.
    bool shared = false;
    for (const auto& [other, entry] : *vectors)
      if (entry.built_for.lock() == index) {
        auto with = std::make_shared<vector_catalog>(*vectors);
        (*with)[t] = entry;
        st.settings.vectors->store(with);
        vectors = with;
        shared = true;
        break;
      }
    if (shared)
      continue;
    auto& slot = todo[index.get()];
    slot.first = index;
    slot.second.push_back(t);
  }
  const auto now = steady::now();
  for (auto& [raw, work] : todo) {
    if (auto d = st.dropped.find(raw); d != st.dropped.end() && d->second.index.lock() == work.first && now < d->second.next)
      continue; // failed recently: wait for its backoff
    start_job(self, std::move(work.first), std::move(work.second));
    return;
  }
}

void on_reply(self_ptr self, embedding_reply& r) {
  auto& st = self->state;
  if (!st.job)
    return;
  auto& job = *st.job;
  auto it = job.in_flight.find(r.request_id);
  if (it == job.in_flight.end())
    return; // from a dropped job
  const uint64_t batch = it->second;
  job.in_flight.erase(it);
  std::string problem;
  std::size_t count = 0;
  uint64_t reported_tokens = 0;
  if (r.failed) {
    problem = to_string(r.error) + ": " + r.message;
  } else if (r.status < 200 || r.status >= 300) {
    problem = knowledge::embedding_error_message(r.status, r.body);
  } else if (r.truncated) {
    problem = "the answer is larger than " + std::to_string(r.body.size()) + " bytes";
  } else {
    // The answer must hold one vector per text the job handed out in this batch.
    auto parsed = knowledge::parse_embedding_response(st.settings.embedding.endpoint.wire, r.body,
                                                      job.work->batch_size(batch), &reported_tokens);
    if (!parsed) {
      problem = parsed.error();
    } else {
      count = parsed->size();
      if (auto s = job.work->complete(batch, std::move(*parsed)); !s)
        problem = s.error();
    }
  }
  if (!problem.empty()) {
    job.work->requeue(batch);
    ++job.failures;
    if (st.settings.stats)
      ++st.settings.stats->index_failures;
    if (job.failures >= st.settings.max_failures) {
      drop_job(self, problem);
      return;
    }
    auto delay = st.settings.retry_initial;
    for (uint32_t i = 1; i < job.failures && delay < st.settings.retry_max; ++i)
      delay *= 2;
    delay = std::min(delay, st.settings.retry_max);
    st.log->warn("event=embedding_batch_failed tenants={} problem=\"{}\" failures={} retry_in_ms={}", joined(job.tenants),
                 problem, job.failures, delay.count());
    schedule_pump(self, delay);
    return;
  }
  job.failures = 0;
  // Billed as the question embeddings are: the tokens the answer reports, else 4 bytes a token.
  const uint64_t tokens = reported_tokens > 0 ? reported_tokens : (job.batch_bytes[batch] + 3) / 4;
  job.batch_bytes.erase(batch);
  job.tokens += tokens;
  if (st.settings.stats) {
    st.settings.stats->texts_embedded += count;
    st.settings.stats->index_tokens += tokens;
  }
  log_cache_problems(self);
  auto& w = *job.work;
  if (w.done() || steady::now() - job.last_progress >= std::chrono::seconds(2)) {
    job.last_progress = steady::now();
    st.log->info("event=embedding_progress tenants={} embedded={}/{} cached={} seconds={:.1f}", joined(job.tenants),
                 w.embedded(), w.to_embed(), w.cached(), seconds_since(job.started));
  }
  if (w.done()) {
    if (job.in_flight.empty())
      finish_job(self);
    return;
  }
  if (!job.pump_due)
    pump(self);
}

/// The actor: forwards every message to the core on the lane. Holds the lane; the lane's jobs hold the core.
struct facade_state {
  static inline const char* name = "embedding_indexer";
  std::shared_ptr<indexer_core> core;
  std::shared_ptr<blocking_lane> lane;
  ~facade_state() {
    if (core)
      core->stopped = true;
  }
};

caf::behavior embedding_indexer(caf::stateful_actor<facade_state>* self, embedding_indexer_settings settings,
                                std::shared_ptr<blocking_lane> lane) {
  log_exceptions(self, "embedding_indexer");
  auto core = std::make_shared<indexer_core>();
  core->state.settings = std::move(settings);
  core->me = caf::actor{self};
  self->state.core = std::move(core);
  self->state.lane = std::move(lane);
  // Runs `f` on the core, on the lane, unless the actor has exited by then. An exception ends the indexer,
  // as it would have ended an actor handling the message (tenants keep BM25 alone).
  auto on_lane = [self](std::function<void(self_ptr)> f) {
    self->state.lane->post([core = self->state.core, f = std::move(f)] {
      if (core->stopped)
        return;
      try {
        f(core.get());
      } catch (...) {  // logged by type (a message could quote a document); the actor exits as it would have
        core->stopped = true;
        core->state.log->error("event=embedding_indexer_failed exception_type={} (hybrid retrieval stops indexing)",
                               exception_type(std::current_exception()));
        caf::anon_send_exit(core->me, caf::exit_reason::unhandled_exception);
      }
    });
  };
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      on_lane([](self_ptr c) {
        check(c);
        caf::delayed_anon_send(c->me, c->state.settings.check_interval, tick_atom::value);
      });
    },
    [=](check_atom) { on_lane([](self_ptr c) { check(c); }); },
    [=](pump_atom) {
      on_lane([](self_ptr c) {
        if (!c->state.job)
          return;
        c->state.job->pump_due = false;
        pump(c);
      });
    },
    [=](embedding_reply& r) { on_lane([r = std::move(r)](self_ptr c) mutable { on_reply(c, r); }); },
  };
}

} // namespace

caf::actor spawn_embedding_indexer(caf::actor_system& sys, embedding_indexer_settings settings) {
  // The core (which the lane's jobs hold) keeps the settings, so they must not hold the lane.
  auto lane = std::move(settings.lane);
  settings.lane = nullptr;
  if (!lane)
    lane = std::make_shared<blocking_lane>("sa-embed-index");
  return sys.spawn(embedding_indexer, std::move(settings), std::move(lane));
}

} // namespace sa
