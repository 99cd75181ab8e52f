// Local classifier actor: a thin shell over intent_model and entity_extractor (shared, read-only).
// The LLM classifier (llm_classifier.cpp) implements the same interface and falls back to this one.
#include "actors/classifier/classifier_actor.hpp"

#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

namespace sa {

classification classify_locally(const classifier_deps& deps, const std::string& text) {
  auto p = deps.model->predict(text, deps.min_confidence);
  classification c;
  if (!from_string(p.intent, c.intent))
    c.intent = intent::general;
  c.confidence = p.confidence;
  c.out_of_scope = p.out_of_scope;
  c.entities = extract_entities(deps, text);
  return c;
}

std::vector<entity_mention> extract_entities(const classifier_deps& deps, const std::string& text) {
  std::vector<entity_mention> out;
  for (auto& e : deps.entities->extract(text))
    out.push_back(entity_mention{e.kind, e.value});
  return out;
}

classifier_actor::behavior_type local_classifier(classifier_actor::pointer self,
                                                 std::shared_ptr<const classifier_deps> deps) {
  log_exceptions(self, "classifier");
  return {
    [deps](const classify_request& r) -> classification { return classify_locally(*deps, r.text); },
  };
}

} // namespace sa
