// generator actor (one per session): the local provider. Streams the answer to the request's sink as
// generation_delta messages, then replies with the full generation.
#pragma once

#include "actors/generator/local_composer.hpp"
#include "messages/generate.hpp"

#include <memory>

namespace sa {

struct generator_deps {
  std::shared_ptr<const local_composer> composer;
  std::size_t stream_chunk_chars = 32;
};

generator_actor::behavior_type local_generator(generator_actor::pointer self,
                                               std::shared_ptr<const generator_deps> deps);

} // namespace sa
