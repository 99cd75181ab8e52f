#include "actors/safety/safety_actor.hpp"

#include "actors/safety/moderation.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

#include "caf/all.hpp"

namespace sa {

std::shared_ptr<const safety::safety_checks> make_safety_checks(const config::safety_config& cfg) {
  safety::content_policy policy;
  auto& d = policy.defaults;
  d.harmful = cfg.harmful;
  d.abusive = cfg.abusive;
  d.prompt_injection = cfg.prompt_injection;
  d.off_topic = cfg.off_topic;
  d.off_topic_classifier = cfg.off_topic_classifier;
  d.off_topic_topics = cfg.off_topic_topics;
  for (const auto& [tenant, topics] : cfg.tenant_off_topic_topics) {
    auto own = d;
    own.off_topic_topics = topics;
    policy.tenants.emplace(tenant, std::move(own));
  }
  return std::make_shared<const safety::safety_checks>(std::make_shared<const safety::pii_scanner>(),
                                                       std::make_shared<const safety::content_checks>(std::move(policy)),
                                                       cfg.enabled, cfg.pii);
}

namespace {

/// Whether the moderator is asked about this check: a customer's message, first check, that the rules let
/// through, with the checks on.
bool moderated(const safety::safety_checks& checks, const moderation_deps* mod, const safety_check_request& req,
               const safety_verdict& rules) {
  return mod && mod->moderator && checks.enabled() && req.source == safety_source::user_message &&
         !req.classified && rules.action <= safety_action::redact;
}

void count(const moderation_deps& mod, const char* outcome) {
  if (mod.metrics)
    mod.metrics->moderation_call(outcome);
}

/// Puts the message (as the rules redacted it) to the moderator and delivers the merged verdict.
caf::result<safety_verdict> moderate(safety_actor::pointer self, std::shared_ptr<const moderation_deps> mod,
                                     const safety_check_request& req, safety_verdict rules) {
  completion_call call;
  call.id = next_completion_id();
  call.tenant = req.tenant;
  call.task = llm_task::moderate;
  call.request = safety::moderation_request(rules.redacted);
  call.deadline = deadline_in(mod->timeout);
  auto rp = self->make_response_promise<safety_verdict>();
  auto verdict = std::make_shared<safety_verdict>(std::move(rules));
  auto tenant = req.tenant.value;
  // A little longer than the call's own deadline, so the call's deadline error (with its reason) wins.
  self->request(mod->moderator, mod->timeout + std::chrono::milliseconds{250}, std::move(call))
    .then(
      [mod, rp, verdict, tenant](completion& c) mutable {
        verdict->cost_usd += c.cost_usd;  // paid whether or not the reply parses
        std::string why;
        auto result = c.finish == "content_filter" ? safety::moderation_result{true, "other"}
                                                   : safety::parse_moderation_reply(c.text, &why);
        if (!result) {
          count(*mod, "unparsable");
          log::get("safety")->warn("event=moderation_unparsable tenant={} moderator={} error=\"{}\"", tenant,
                                   mod->name, why);
        } else {
          count(*mod, result->flagged ? "flagged" : "allowed");
          if (result->flagged)
            safety::merge_verdict(*verdict, safety::moderation_verdict(*result));
        }
        rp.deliver(std::move(*verdict));
      },
      [mod, rp, verdict, tenant](caf::error& err) mutable {
        count(*mod, "failed");
        log::get("safety")->warn("event=moderation_failed tenant={} moderator={} error=\"{}\" fallback=rules",
                                 tenant, mod->name, to_string(err));
        rp.deliver(std::move(*verdict));
      });
  return rp;
}

} // namespace

safety_actor::behavior_type safety_checker(safety_actor::pointer self,
                                           std::shared_ptr<const safety::safety_checks> checks,
                                           std::shared_ptr<const moderation_deps> moderation) {
  log_exceptions(self, "safety");
  return {
    [self, checks, moderation](const safety_check_request& req) -> caf::result<safety_verdict> {
      auto v = checks->check(req);
      if (!moderated(*checks, moderation.get(), req, v))
        return v;
      return moderate(self, moderation, req, std::move(v));
    },
  };
}

} // namespace sa
