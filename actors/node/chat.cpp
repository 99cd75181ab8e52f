// Terminal chat client. It runs on the program's main thread (a scoped_actor), never on a scheduler
// thread: reading the terminal and printing are blocking I/O.
#include "actors/node/chat.hpp"

#include "messages/errors.hpp"

#include "caf/all.hpp"

#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

namespace sa {

namespace {

std::string random_id(const char* prefix) {
  std::random_device rd;
  std::ostringstream os;
  os << prefix << std::hex << rd() << rd();
  return os.str();
}

void print_details(std::ostream& out, const turn_completed& c) {
  out << "\n  intent: " << to_string(c.intent) << "   confidence: " << std::fixed << std::setprecision(2)
      << c.confidence << "   turn: " << c.turn << "   latency: " << std::setprecision(1)
      << c.latency_us / 1000.0 << " ms\n";
  for (size_t i = 0; i < c.sources.size(); ++i)
    out << "  [" << i + 1 << "] " << c.sources[i].title << " - " << c.sources[i].url << "\n";
  if (c.account_unavailable)
    out << "  (account details were unavailable for this answer: " << to_string(c.account_problem) << ")\n";
  if (!c.account_missing.empty()) {
    out << "  (some account details were unavailable for this answer:";
    for (const auto& lookup : c.account_missing)
      out << " " << lookup;
    out << ")\n";
  }
  if (!c.actions.empty()) {
    out << "  actions:";
    for (const auto& a : c.actions)
      out << " " << a;
    out << "\n";
  }
  if (c.escalation.escalate)
    out << "  escalated to a human: " << to_string(c.escalation.reason) << " (" << c.escalation.detail
        << ")\n";
}

} // namespace

int run_chat(caf::actor_system& sys, const session_actor& router, const chat_options& opts,
             std::istream& in, std::ostream& out) {
  caf::scoped_actor self{sys};
  auto listener = caf::actor_cast<session_listener_actor>(self);
  auto session = opts.session.empty() ? random_id("chat-") : opts.session;
  int exit_code = 0;
  unsigned n = 0;
  std::string line;
  for (;;) {
    if (opts.prompt)
      out << "you> " << std::flush;
    if (!std::getline(in, line))
      break;
    if (!opts.prompt)
      out << "you> " << line << "\n";
    if (line.find_first_not_of(" \t\r") == std::string::npos && opts.prompt)
      continue;
    auto cmid = "m" + std::to_string(++n);
    self->send(router, user_turn{tenant_id{opts.tenant}, user_id{opts.user}, session_id{session}, cmid,
                                 line, listener});
    out << "agent> " << std::flush;
    bool done = false;
    while (!done) {
      self->receive(
        [&](turn_delta& d) {
          if (d.client_message_id == cmid)
            out << d.text << std::flush;
        },
        [&](turn_reset& r) {
          // A terminal cannot take back what it printed: say so, and the answer starts again below.
          if (r.client_message_id == cmid)
            out << "\n[answer restarted: " << r.reason << "]\n" << std::flush;
        },
        [&](turn_completed& c) {
          if (c.client_message_id != cmid)
            return;
          print_details(out, c);
          done = true;
        },
        [&](turn_failed& f) {
          if (f.client_message_id != cmid)
            return;
          out << "[error " << to_string(static_cast<support_errc>(f.code)) << "] " << f.message << "\n";
          done = true;
        },
        caf::after(opts.turn_wait) >> [&] {
          out << "\n[error] no answer within " << opts.turn_wait.count() << " ms\n";
          exit_code = 1;
          done = true;
        });
    }
    out << std::endl;
  }
  return exit_code;
}

} // namespace sa
