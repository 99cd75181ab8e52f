// csat_report: the customers' ratings and end-of-conversation surveys the quality actor stored
// (<quality.dir>/<node>.csat.jsonl and its rotated <...>.1, one JSON object a line), summed for
// `support-agent csat`: overall, by intent, by escalation reason, and per conversation (tenant + session).
//
// Plain functions over files (blocking reads: a command, never an actor). A line that is not a CSAT record
// (bad JSON, a score outside 1..5) is counted as skipped, never fatal: the store may hold a half-written
// last line after a crash. To add a breakdown: a map in csat_report filled in add_record(), then
// format_csat() and csat_json().
#pragma once

#include "runtime/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sa::quality {

struct csat_filter {
  std::string tenant;         ///< empty: every tenant
  int64_t since_unix_ms = 0;  ///< records at or after this time only
};

/// Ratings of answers and surveys, counted apart (a survey is about the whole conversation).
struct csat_figures {
  uint64_t ratings = 0;
  double rating_sum = 0;
  uint64_t surveys = 0;
  double survey_sum = 0;
  uint64_t resolved = 0;      ///< surveys saying the problem is solved

  double rating_avg() const;  ///< NaN with no ratings
  double survey_avg() const;  ///< NaN with no surveys
};

struct csat_conversation {
  std::string tenant;
  std::string session;
  int64_t last_unix_ms = 0;
  std::string intent;             ///< of the last record (its rated turn, or the survey's last turn)
  std::string escalation_reason;  ///< likewise ("none": not escalated)
  csat_figures figures;
};

struct csat_report {
  std::vector<std::string> files;  ///< read, in order
  uint64_t records = 0;            ///< matching the filter
  uint64_t skipped = 0;            ///< lines that are not CSAT records
  csat_figures all;
  std::map<std::string, csat_figures> by_intent;
  std::map<std::string, csat_figures> by_escalation_reason;
  std::vector<csat_conversation> conversations;  ///< oldest last record first
};

/// The CSAT files in `dir` (every node's *.csat.jsonl and rotated *.csat.jsonl.1, rotated ones first so
/// records come oldest first). Fails when `dir` does not exist or cannot be listed.
result<std::vector<std::string>> csat_files(const std::string& dir);

/// Reads `files` and sums the records matching `filter`. Fails naming a file that cannot be opened.
result<csat_report> read_csat(const std::vector<std::string>& files, const csat_filter& filter);

/// `--since`: a duration back from `now_unix_ms` ("90m", "24h", "7d"), a date "2026-11-01" (UTC midnight)
/// or a UTC time "2026-11-01T12:30:00Z". Fails naming the accepted forms.
result<int64_t> parse_since(const std::string& text, int64_t now_unix_ms);

/// The tables `support-agent csat` prints.
std::string format_csat(const csat_report& r);

/// The same as one JSON object (text).
std::string csat_json(const csat_report& r);

} // namespace sa::quality
