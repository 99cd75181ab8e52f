// The offline evaluation runner: pass-through taps around the classifier and retriever, and a client loop
// on the calling thread (a scoped_actor: never a scheduler thread) that sends one row at a time.
#include "actors/eval/eval_runner.hpp"

#include "actors/quality/groundedness.hpp"
#include "messages/errors.hpp"
#include "messages/session.hpp"

#include "caf/all.hpp"

#include <algorithm>
#include <mutex>
#include <optional>

namespace sa::eval {

namespace {

/// What the taps saw during the row in flight (rows run one at a time, so "the current row" is enough).
struct turn_trace {
  std::optional<classification> cls;
  std::vector<std::string> top_k;           ///< first retrieval's passage ids, up to k
  std::vector<passage> passages;            ///< every passage any retrieval of the turn returned
};

class recorder {
public:
  explicit recorder(unsigned k) : k_(k) {}
  unsigned k() const { return k_; }
  void classified(const classification& c) {
    std::lock_guard<std::mutex> guard{m_};
    if (!trace_.cls)
      trace_.cls = c;
  }
  void retrieved(const retrieval& r) {
    std::lock_guard<std::mutex> guard{m_};
    if (trace_.top_k.empty())
      for (std::size_t i = 0; i < r.passages.size() && i < k_; ++i)
        trace_.top_k.push_back(r.passages[i].source_id);
    trace_.passages.insert(trace_.passages.end(), r.passages.begin(), r.passages.end());
  }
  turn_trace take() {
    std::lock_guard<std::mutex> guard{m_};
    return std::exchange(trace_, turn_trace{});
  }

private:
  unsigned k_;
  std::mutex m_;
  turn_trace trace_;
};

using rec_ptr = std::shared_ptr<recorder>;

classifier_actor::behavior_type classifier_tap(classifier_actor::pointer self, classifier_actor inner,
                                               rec_ptr rec) {
  return {
    [self, inner, rec](classify_request& r) -> caf::result<classification> {
      auto rp = self->make_response_promise<classification>();
      self->request(inner, caf::infinite, std::move(r))
        .then([rp, rec](classification& c) mutable {
                rec->classified(c);
                rp.deliver(std::move(c));
              },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

/// Asks the retriever for at least k passages (recall@k for any k), records them, and answers the session
/// with the number it asked for, so the pipeline sees what it would without the tap.
retriever_actor::behavior_type retriever_tap(retriever_actor::pointer self, retriever_actor inner, rec_ptr rec) {
  return {
    [self, inner, rec](retrieve_request& r) -> caf::result<retrieval> {
      auto rp = self->make_response_promise<retrieval>();
      auto wanted = r.limit;
      r.limit = std::max(r.limit, rec->k());
      self->request(inner, caf::infinite, std::move(r))
        .then([rp, rec, wanted](retrieval& got) mutable {
                rec->retrieved(got);
                if (got.passages.size() > wanted)
                  got.passages.resize(wanted);
                rp.deliver(std::move(got));
              },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

session_children tapped(session_children base, const rec_ptr& rec) {
  auto classifier = base.classifier;
  base.classifier = [classifier, rec](caf::local_actor* self) -> classifier_actor {
    return self->spawn<caf::linked>([classifier, rec](classifier_actor::pointer tap, int) {
      auto inner = classifier(tap);
      return classifier_tap(tap, inner, rec);
    }, 0);  // an argument: CAF 0.17 dereferences a null argument tuple for argument-less spawns
  };
  auto retriever = base.retriever;
  base.retriever = [retriever, rec](caf::local_actor* self) -> retriever_actor {
    return self->spawn<caf::linked>([retriever, rec](retriever_actor::pointer tap, int) {
      auto inner = retriever(tap);
      return retriever_tap(tap, inner, rec);
    }, 0);
  };
  return base;
}

std::string predicted_label(const turn_completed& c, const turn_trace& trace) {
  if (trace.cls && trace.cls->out_of_scope)
    return "out_of_scope";
  return to_string(c.intent);
}

void observe_answer(const turn_completed& c, const turn_trace& trace, eval_observation& o) {
  o.predicted = predicted_label(c, trace);
  o.escalated = c.escalation.escalate;
  o.confidence = c.confidence;
  if (o.escalated)
    o.escalation_reason = to_string(c.escalation.reason);
  if (c.escalation.escalate || c.sources.empty())
    return;
  std::vector<std::string> cited;
  for (const auto& s : c.sources)
    if (std::any_of(trace.passages.begin(), trace.passages.end(),
                    [&](const passage& p) { return p.source_id == s.source_id; }))
      cited.push_back(s.source_id);
  if (cited.empty())
    return;  // cites only what no retrieval returned (e.g. account facts): nothing to check against
  auto g = quality::score_groundedness(c.text, trace.passages, cited);
  if (!g.applicable())
    return;
  o.groundedness = g.groundedness;
  o.word_support = g.word_support;
}

} // namespace

std::vector<eval_observation> run_set(caf::actor_system& sys, std::shared_ptr<const node_services> svc,
                                      const std::vector<eval_row>& rows, const run_options& opts,
                                      session_children children) {
  auto rec = std::make_shared<recorder>(std::max(1u, opts.k));
  if (!children.classifier || !children.retriever || !children.generator || !children.escalation) {
    auto defaults = default_children(svc);
    if (!children.classifier)
      children.classifier = defaults.classifier;
    if (!children.retriever)
      children.retriever = defaults.retriever;
    if (!children.generator)
      children.generator = defaults.generator;
    if (!children.escalation)
      children.escalation = defaults.escalation;
  }
  auto node = start_node(sys, svc, tapped(std::move(children), rec));
  std::vector<eval_observation> out;
  out.reserve(rows.size());
  {
    caf::scoped_actor self{sys};
    auto listener = caf::actor_cast<session_listener_actor>(self);
    auto started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      eval_observation o;
      o.id = row.id;
      o.gold = row.intent;
      o.should_escalate = row.should_escalate;
      o.relevant = row.relevant_sources;
      rec->take();
      auto cmid = "eval-" + std::to_string(i + 1);
      auto sent = std::chrono::steady_clock::now();
      self->send(node.router, user_turn{tenant_id{opts.tenant}, user_id{opts.user}, session_id{cmid}, cmid,
                                        row.text, listener});
      std::optional<turn_completed> completed;
      bool done = false;
      while (!done) {
        self->receive(
          [&](turn_delta&) {}, [&](turn_reset&) {},
          [&](turn_completed& c) {
            if (c.client_message_id == cmid) {
              completed = std::move(c);
              done = true;
            }
          },
          [&](turn_failed& f) { done = f.client_message_id == cmid; },
          caf::after(opts.turn_wait) >> [&] { done = true; });
      }
      o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
      auto trace = rec->take();
      o.retrieved = trace.top_k;
      if (completed)
        observe_answer(*completed, trace, o);
      else
        o.failed = true;
      out.push_back(std::move(o));
      if (opts.progress && opts.progress_every > 0 && ((i + 1) % opts.progress_every == 0 || i + 1 == rows.size())) {
        auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        opts.progress("eval: " + std::to_string(i + 1) + "/" + std::to_string(rows.size()) + " rows, "
                      + std::to_string(static_cast<long>(secs)) + " s");
      }
    }
  }
  stop_node(node);
  // As serve and chat do: wait for the actors, then let the services' blocking lanes finish their queued
  // writes here, not on a scheduler thread where the last actor holding one would release it.
  sys.await_all_actors_done();
  node.blocking_state.clear();
  return out;
}

} // namespace sa::eval
