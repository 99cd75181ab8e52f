// generator actor (one per session): the local provider. Streams the answer to the request's sink as
// generation_delta messages, then replies with the full generation. When the request offers tools, an
// explicit request for one is answered with a tool call instead (action_rules), and tool results with
// the text reporting them.
#pragma once

#include "actors/generator/local_composer.hpp"
#include "messages/generate.hpp"

namespace sa::actions {
class action_rules;
}

#include <memory>

namespace sa {

struct generator_deps {
  std::shared_ptr<const local_composer> composer;
  std::size_t stream_chunk_chars = 32;
  /// Explicit tool requests ("open a ticket ...") become tool calls (actors/actions/action_rules.hpp);
  /// null: the generator never asks for a tool.
  std::shared_ptr<const actions::action_rules> rules;
};

generator_actor::behavior_type local_generator(generator_actor::pointer self,
                                               std::shared_ptr<const generator_deps> deps);

} // namespace sa
