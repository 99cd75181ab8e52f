// Offline evaluation sets: labeled questions in JSON lines, one row per line, for `support-agent eval`.
//
//   {"text": "...", "intent": "billing", "out_of_scope": false, "relevant_sources": ["faq:faq-003"],
//    "should_escalate": false, "id": "b01"}
//
// `text` and `intent` are required; the others are optional (a measure uses only the rows that carry its
// label). The format is documented in data/eval/README.md. To add a field: add it to eval_row, to
// known_fields in eval_set.cpp, and parse it in parse_row (with a clear error for a bad value).
#pragma once

#include "runtime/result.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace sa::eval {

/// The labels an eval row may carry: the five product intents and out_of_scope.
const std::vector<std::string>& intent_labels();

struct eval_row {
  std::string id;                      ///< the row's "id", else "line N"
  std::string text;
  std::string intent;                  ///< gold label: one of intent_labels() ("out_of_scope" when out of scope)
  std::optional<bool> should_escalate; ///< absent: the row does not count for escalation precision/recall
  std::vector<std::string> relevant_sources; ///< empty: the row does not count for recall@k
  std::size_t line = 0;                ///< 1-based line in the set file
};

/// Reads a set; an error names the file, the line, the field and the problem
/// ("set.jsonl:12: field \"intent\": \"refund\" is not one of general, billing, ...").
/// Blank lines and lines starting with '#' are skipped.
result<std::vector<eval_row>> load_set(const std::string& path);

/// The same from a stream (`name` is what errors call the file).
result<std::vector<eval_row>> parse_set(std::istream& in, const std::string& name);

/// True when a retrieved passage id names a labeled source: a page path under the knowledge root
/// ("docs/custom-domains.md" matches any of its chunks "docs/custom-domains.md#3"), "faq:<id>" or
/// "ticket:<id>"; ids under an edition prefix ("edition2/docs/x.md") count for the unprefixed source.
bool source_matches(std::string passage_id, const std::string& relevant);

} // namespace sa::eval
