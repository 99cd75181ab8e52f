// export_training: the agents' tags of escalated conversations as a labeled CSV for
// `support-agent train-intents` (header text,intent; extra columns are ignored by the reader):
//
//   text,intent,bot_could_answer,handoff
//   "why was I charged twice in [redacted email]'s account",billing,false,HO-3f0c9a1b2d4e
//
// text is the escalated message as the handoff recorded it (redacted); intent the agent's tag. Only tagged
// records of the tenant with a non-empty text are written. Plain function; the command is in main.cpp.
#pragma once

#include "messages/handoff.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace sa::handoff {

/// Writes the CSV; returns the number of rows (header excluded).
std::size_t export_training(const std::vector<handoff_view>& records, const std::string& tenant, std::ostream& out);

/// A CSV field, quoted (quotes doubled).
std::string csv_field(const std::string& s);

} // namespace sa::handoff
