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

classifier_actor::behavior_type local_classifier(classifier_actor::pointer self,
                                                 std::shared_ptr<const classifier_deps> deps);

} // namespace sa
