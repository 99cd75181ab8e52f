// Local classifier actor: a thin shell over intent_model and entity_extractor (shared, read-only).
// An LLM classifier (providers issue) implements the same classifier_actor interface.
#include "actors/classifier/classifier_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

classifier_actor::behavior_type local_classifier(classifier_actor::pointer self,
                                                 std::shared_ptr<const classifier_deps> deps) {
  log_exceptions(self, "classifier");
  return {
    [deps](const classify_request& r) -> classification {
      auto p = deps->model->predict(r.text, deps->min_confidence);
      classification c;
      if (!from_string(p.intent, c.intent))
        c.intent = intent::general;
      c.confidence = p.confidence;
      c.out_of_scope = p.out_of_scope;
      for (auto& e : deps->entities->extract(r.text))
        c.entities.push_back(entity_mention{e.kind, e.value});
      return c;
    },
  };
}

} // namespace sa
