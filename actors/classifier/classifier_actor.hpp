// classifier actor (one per session): intent + calibrated confidence (fastText) and entities (RE2).
#pragma once

#include "actors/classifier/entity_extractor.hpp"
#include "actors/classifier/intent_model.hpp"
#include "messages/classify.hpp"

#include <memory>

namespace sa {

/// Immutable, shared by every session's classifier.
struct classifier_deps {
  std::shared_ptr<const classifier::intent_model> model;
  std::shared_ptr<const classifier::entity_extractor> entities;
  double min_confidence = 0.45;
};

/// The local model's answer (intent, calibrated confidence, out-of-scope) plus entities.
classification classify_locally(const classifier_deps& deps, const std::string& text);

/// Entities only (RE2): every classifier, local or LLM, reports them.
std::vector<entity_mention> extract_entities(const classifier_deps& deps, const std::string& text);

classifier_actor::behavior_type local_classifier(classifier_actor::pointer self,
                                                 std::shared_ptr<const classifier_deps> deps);

} // namespace sa
