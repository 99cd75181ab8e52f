// LLM classifier actor (one per session, classifier.backend = "llm"): asks the provider chain for the
// intent in JSON mode (task classify, so a by_task strategy can give it its own cheap model) and
// falls back to the local fastText model when the chain fails or answers something unusable. Entities
// always come from the RE2 extractor.
#pragma once

#include "actors/classifier/classifier_actor.hpp"
#include "messages/completion.hpp"

#include <chrono>
#include <memory>

namespace sa {

struct llm_classifier_deps {
  completion_actor chain;
  std::shared_ptr<const classifier_deps> local;  ///< fallback model, entities, min_confidence
  std::chrono::milliseconds budget{5000};        ///< deadline of one classification call
};

classifier_actor::behavior_type llm_classifier(classifier_actor::pointer self,
                                               std::shared_ptr<const llm_classifier_deps> deps);

} // namespace sa
