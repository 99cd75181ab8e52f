#include "actors/classifier/llm_classifier.hpp"

#include "actors/generator/prompt.hpp"
#include "runtime/exceptions.hpp"
#include "runtime/log.hpp"

#include "caf/all.hpp"

namespace sa {

classifier_actor::behavior_type llm_classifier(classifier_actor::pointer self,
                                               std::shared_ptr<const llm_classifier_deps> deps) {
  log_exceptions(self, "classifier");
  return {
    [self, deps](const classify_request& r) -> caf::result<classification> {
      completion_call call;
      call.id = next_completion_id();
      call.tenant = r.tenant;
      call.task = llm_task::classify;
      call.request = classify_prompt(r.text);
      call.deadline = deadline_in(deps->budget);
      auto promise = self->make_response_promise<classification>();
      auto text = r.text;
      auto fallback = [deps, text, promise](const char* why, double spent_usd) mutable {
        log::get("classifier")->debug("llm classification unusable ({}); local model answers", why);
        auto local = classify_locally(*deps->local, text);
        local.cost_usd = spent_usd;  // the unusable answer was paid for all the same
        promise.deliver(std::move(local));
      };
      self->request(deps->chain, caf::infinite, std::move(call))
        .then(
          [deps, text, promise, fallback](const completion& c) mutable {
            auto parsed = parse_classification(c.text);
            if (!parsed)
              return fallback("not a classification", c.cost_usd);
            if (parsed->confidence < deps->local->min_confidence)
              parsed->intent = intent::general;
            parsed->entities = extract_entities(*deps->local, text);
            parsed->cost_usd = c.cost_usd;
            promise.deliver(std::move(*parsed));
          },
          [fallback](const caf::error&) mutable { fallback("provider chain failed", 0); });
      return promise;
    },
  };
}

} // namespace sa
