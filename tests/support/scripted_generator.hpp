// A generator child that plays a script instead of composing: deltas and resets to the request's sink,
// in order, then a final generation (or a crash). Tests put it in a session's place of the local
// generator (session_children::generator) to drive what LLM providers and strategies will do, such as
// restarting an answer on another provider after part of it streamed.
#pragma once

#include "actors/session/session_actor.hpp"
#include "messages/generate.hpp"
#include "runtime/exceptions.hpp"

#include "caf/all.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sa::test {

struct generation_script {
  struct step {
    enum kind_t { delta, reset } kind = delta;
    std::string text;  ///< delta: the piece; reset: the reason
  };
  std::vector<step> steps;
  std::string final_text;     ///< the generation's text (the answer after the last reset)
  double confidence = 0.95;
  bool crash = false;         ///< after the steps, throw instead of answering

  generation_script& delta(std::string text) {
    steps.push_back({step::delta, std::move(text)});
    return *this;
  }
  generation_script& reset(std::string reason) {
    steps.push_back({step::reset, std::move(reason)});
    return *this;
  }
};

inline generator_actor::behavior_type scripted_generator(generator_actor::pointer self,
                                                         std::shared_ptr<const generation_script> script) {
  log_exceptions(self, "generator");
  return {
    [self, script](const generate_request& r) -> generation {
      uint32_t seq = 0;
      for (auto& s : script->steps) {
        if (s.kind == generation_script::step::reset) {
          self->send(r.sink, generation_reset{r.session, r.turn, s.text});
          seq = 0;
        } else {
          self->send(r.sink, generation_delta{r.session, r.turn, seq++, s.text});
        }
      }
      if (script->crash)
        throw std::runtime_error("scripted generator crash");
      generation g;
      g.text = script->final_text;
      g.confidence = script->confidence;
      g.provider = "scripted";
      return g;
    },
  };
}

/// A generator factory for session_children: every session's generator plays `script`.
inline std::function<generator_actor(caf::local_actor*)>
scripted_generator_factory(std::shared_ptr<const generation_script> script) {
  return [script](caf::local_actor* self) -> generator_actor {
    return self->spawn<caf::linked>(scripted_generator, script);
  };
}

} // namespace sa::test
