// The terminal chat: reads questions from standard input line by line, sends each as a user turn, and
// prints the streamed answer, then intent, confidence, sources and any escalation.
#pragma once

#include "messages/session.hpp"

#include <chrono>
#include <iosfwd>
#include <string>

namespace caf {
class actor_system;
}

namespace sa {

struct chat_options {
  std::string tenant;
  std::string user;
  std::string session;               ///< empty: a new random id
  std::chrono::milliseconds turn_wait{20000};
  bool prompt = true;                ///< print "you> " before reading (interactive terminals)
};

/// Runs the chat until end of input; returns the process exit code (0, or 1 if a turn got no answer).
int run_chat(caf::actor_system& sys, const session_actor& router, const chat_options& opts,
             std::istream& in, std::ostream& out);

} // namespace sa
