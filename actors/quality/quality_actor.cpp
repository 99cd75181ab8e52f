// The quality actor: see the header.
#include "actors/quality/quality_actor.hpp"

#include "actors/quality/groundedness.hpp"
#include "actors/quality/jsonl_store.hpp"
#include "actors/quality/judge_rubric.hpp"
#include "runtime/blocking_lane.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>

namespace sa {
namespace {

using json = nlohmann::json;

/// A comment longer than this is cut before storage (the frame limit bounds it anyway).
constexpr std::size_t max_comment_chars = 2000;

/// The two files, opened and written on the lane only (one job at a time); the actor never touches them.
struct quality_files {
  std::unique_ptr<quality::jsonl_store> samples;
  std::unique_ptr<quality::jsonl_store> csat;
};

enum class file_kind : uint8_t { samples, csat };

struct quality_state {
  static inline const char* name = "quality";
  std::shared_ptr<const quality_deps> deps;
  std::shared_ptr<blocking_lane> lane;
  std::shared_ptr<quality_files> files;
  quality_stats stats;
  std::shared_ptr<spdlog::logger> log;
};

/// The actor's own interface: the public one plus the lane's "a record was written (or not)".
using written_atom = caf::atom_constant<caf::atom("q_written")>;
using service_actor = quality_actor::extend<caf::reacts_to<written_atom, bool, bool>>;  // csat?, ok?
using self_ptr = service_actor::stateful_pointer<quality_state>;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Appends the record on the lane; the actor counts it (scored or csat_stored, or store_errors) once written.
void store(self_ptr self, file_kind kind, const json& record) {
  // The job holds the files and a handle, never the lane (a lane must not own itself).
  self->state.lane->post([files = self->state.files, kind, line = dump(record), who = caf::actor_cast<service_actor>(self)] {
    auto& to = kind == file_kind::csat ? *files->csat : *files->samples;
    const bool ok = to.append(line);
    if (!ok)
      log::get("quality")->error("event=quality_store_failed file={} error={}", to.path(), to.last_error());
    caf::anon_send(who, written_atom::value, kind == file_kind::csat, ok);
  });
}

/// The redacted sample as stored (never the raw texts).
json sample_json(self_ptr self, const quality_sample& s) {
  const auto& pii = *self->state.deps->pii;
  return json{{"at_unix_ms", now_unix_ms()},
              {"tenant", s.tenant.value},
              {"session", s.session.value},
              {"turn", s.turn},
              {"intent", to_string(s.intent)},
              {"escalation_reason", to_string(s.escalation)},
              {"provider", s.provider},
              {"question", pii.redact(s.question)},
              {"answer", pii.redact(s.answer)},
              {"cited", s.cited}};
}

/// Scores the sample locally and records it (outcome "scored", or "judge_failed" after a failed judge).
void record_local(self_ptr self, const quality_sample& s, const std::string& judge_error) {
  auto& st = self->state;
  auto score = quality::score_groundedness(s.answer, s.passages, s.cited);
  auto tenant = s.tenant.value;
  auto intent = to_string(s.intent);
  auto record = sample_json(self, s);
  record["judge"] = local_judge_name;
  if (!judge_error.empty())
    record["judge_error"] = judge_error;
  if (score.applicable()) {
    record["scores"] = json{{"groundedness", score.groundedness}, {"word_support", score.word_support}};
    record["counts"] = json{{"sentences", score.sentences},
                            {"supported_sentences", score.supported_sentences},
                            {"words", score.words},
                            {"supported_words", score.supported_words}};
  } else {
    record["scores"] = nullptr;  // no content words: the check says nothing about this answer
  }
  if (auto* m = st.deps->metrics.get()) {
    m->quality_sampled(tenant, intent, local_judge_name,
                       !judge_error.empty() ? "judge_failed" : score.applicable() ? "scored" : "not_applicable");
    if (score.applicable()) {
      m->quality_score(tenant, intent, local_judge_name, "groundedness", score.groundedness);
      m->quality_score(tenant, intent, local_judge_name, "word_support", score.word_support);
    }
  }
  store(self, file_kind::samples, record);
}

void record_judged(self_ptr self, const quality_sample& s, const quality::judge_scores& scores,
                   const completion& c) {
  auto& st = self->state;
  const auto& judge = st.deps->judge_name;
  auto record = sample_json(self, s);
  record["judge"] = judge;
  record["judge_model"] = c.model;
  json values = json::object();
  for (std::size_t i = 0; i < quality::dimensions().size(); ++i)
    values[quality::dimensions()[i]] = scores.values[i];
  record["scores"] = values;
  record["judge_cost_usd"] = c.cost_usd;
  if (auto* m = st.deps->metrics.get()) {
    auto intent = to_string(s.intent);
    m->quality_sampled(s.tenant.value, intent, judge, "scored");
    for (std::size_t i = 0; i < quality::dimensions().size(); ++i)
      m->quality_score(s.tenant.value, intent, judge, quality::dimensions()[i],
                       quality::judge_scores::normalised(scores.values[i]));
  }
  store(self, file_kind::samples, record);
}

void judge(self_ptr self, quality_sample s) {
  auto& st = self->state;
  const auto& pii = *st.deps->pii;
  completion_call call;
  call.id = next_completion_id();
  call.tenant = s.tenant;
  call.task = llm_task::judge;
  call.intent = to_string(s.intent);
  // The judge sees the redacted texts: what it needs to score, without the customer's personal data.
  call.request = quality::judge_request(pii.redact(s.question), pii.redact(s.answer), s.passages, s.cited);
  call.deadline = deadline_in(st.deps->judge_timeout);
  auto sample = std::make_shared<quality_sample>(std::move(s));
  // A little longer than the call's own deadline, so the judge's deadline error (with its reason) wins.
  self->request(st.deps->judge, st.deps->judge_timeout + std::chrono::seconds{1}, std::move(call))
    .then(
      [self, sample](completion& c) {
        // Paid whether or not the reply parses: the conversation's cost includes it.
        if (sample->cost_sink && c.cost_usd > 0)
          self->send(sample->cost_sink, judging_cost{sample->session, sample->turn, c.cost_usd});
        std::string why;
        if (auto scores = quality::parse_judge_reply(c.text, &why)) {
          record_judged(self, *sample, *scores, c);
          return;
        }
        ++self->state.stats.judge_failures;
        self->state.log->warn("event=judge_unparsable tenant={} judge={} error=\"{}\"", sample->tenant.value,
                              self->state.deps->judge_name, why);
        record_local(self, *sample, "unparsable: " + why);
      },
      [self, sample](caf::error& err) {
        ++self->state.stats.judge_failures;
        auto why = to_string(err);
        self->state.log->warn("event=judge_failed tenant={} judge={} error=\"{}\"", sample->tenant.value,
                              self->state.deps->judge_name, why);
        record_local(self, *sample, why);
      });
}

/// Answers the session wrote itself (a handoff message, a safety refusal, an action's confirmation, a
/// replayed answer, a human agent's words) are not the bot's generated answers: never sampled.
bool generated(const std::string& provider) {
  for (const char* own : {"none", "safety", "actions", "memory", "agent"})
    if (provider == own)
      return false;
  return true;
}

void count_local_tokens(self_ptr self, const quality_sample& s) {
  auto* m = self->state.deps->metrics.get();
  if (!m || s.provider != "local")
    return;
  std::size_t prompt_chars = s.question.size();
  for (const auto& p : s.passages)
    prompt_chars += p.text.size();
  m->component_cost(s.tenant.value, "generation", "local", estimate_tokens(prompt_chars),
                    estimate_tokens(s.answer.size()), 0);
}

service_actor::behavior_type quality_service(self_ptr self, std::shared_ptr<const quality_deps> deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.log = log::get("quality");
  st.lane = st.deps->lane ? st.deps->lane : std::make_shared<blocking_lane>("sa-quality");
  st.files = std::make_shared<quality_files>();
  // Opening counts the lines already there: on the lane, before any write (jobs run in order).
  st.lane->post([files = st.files, samples = st.deps->samples_path, csat = st.deps->csat_path, n = st.deps->max_records] {
    files->samples = std::make_unique<quality::jsonl_store>(samples, n);
    files->csat = std::make_unique<quality::jsonl_store>(csat, n);
  });
  return {
    [self](quality_sample& s) {
      auto& st = self->state;
      ++st.stats.offered;
      count_local_tokens(self, s);
      if (!generated(s.provider) || !st.deps->sampler.should_sample(s.tenant.value, s.session.value, s.turn))
        return;
      ++st.stats.sampled;
      if (st.deps->judge)
        judge(self, std::move(s));
      else
        record_local(self, s, {});
    },
    [self](csat_record& r) {
      auto& st = self->state;
      auto intent = r.known ? std::string{to_string(r.intent)} : std::string{"unknown"};
      auto reason = r.known ? std::string{to_string(r.escalation)} : std::string{"unknown"};
      json record{{"at_unix_ms", now_unix_ms()},
                  {"tenant", r.tenant.value},
                  {"session", r.session.value},
                  {"kind", r.survey ? "survey" : "rating"},
                  {"csat", r.csat},
                  {"intent", intent},
                  {"escalation_reason", reason}};
      if (r.survey)
        record["resolved"] = r.resolved;
      else
        record["turn"] = r.turn;
      if (!r.comment.empty())  // redacted: the customer's words may hold their own or others' data
        record["comment"] = st.deps->pii->redact(r.comment.substr(0, max_comment_chars));
      store(self, file_kind::csat, record);
    },
    [self](const quality_stats_request&) { return self->state.stats; },
    [self](written_atom, bool csat, bool ok) {
      auto& stats = self->state.stats;
      if (!ok)
        ++stats.store_errors;
      else if (csat)
        ++stats.csat_stored;
      else
        ++stats.scored;
    },
  };
}

} // namespace

std::shared_ptr<const quality_deps> quality_deps_from(const config::config& cfg, std::shared_ptr<sa::metrics> metrics,
                                                      std::shared_ptr<const safety::pii_scanner> pii,
                                                      completion_actor judge) {
  auto d = std::make_shared<quality_deps>();
  const auto& q = cfg.quality;
  d->sampler = quality::sampler{q.sample_rate, static_cast<uint64_t>(q.seed)};
  d->pii = std::move(pii);
  d->metrics = std::move(metrics);
  d->judge = std::move(judge);
  d->judge_name = d->judge ? q.judge : std::string{local_judge_name};
  d->judge_timeout = std::chrono::milliseconds{q.judge_timeout_ms};
  auto dir = q.dir.empty() ? cfg.node.state_dir + "/quality" : q.dir;
  d->samples_path = dir + "/" + cfg.node.name + ".samples.jsonl";
  d->csat_path = dir + "/" + cfg.node.name + ".csat.jsonl";
  d->max_records = static_cast<std::size_t>(q.max_records);
  return d;
}

uint64_t estimate_tokens(std::size_t chars) noexcept {
  return (static_cast<uint64_t>(chars) + 3) / 4;
}

quality_actor spawn_quality(caf::local_actor* parent, std::shared_ptr<const quality_deps> deps) {
  return parent->spawn(quality_service, std::move(deps));
}

quality_actor spawn_quality(caf::actor_system& sys, std::shared_ptr<const quality_deps> deps) {
  return sys.spawn(quality_service, std::move(deps));
}

} // namespace sa
