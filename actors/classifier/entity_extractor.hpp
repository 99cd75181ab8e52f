// entity_extractor: named entities in a customer message, by RE2 patterns compiled once.
//
// Plain class, shared read-only; extract() is const and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::classifier {

/// Entity kinds; the names are stable (they appear in messages and tests).
///   email, invoice_id (INV-2026-0142, invoice #1234), ticket_id (TCK-5012, ticket #88),
///   plan (a configured plan name), amount ($49, 49.00 USD, €12,50), date (2026-03-01, March 3, 3/1/2026)
struct entity {
  std::string kind;
  std::string value;   ///< as written in the text (normalised where noted: plan lower-cased)
  std::size_t offset = 0;
};

class entity_extractor {
public:
  explicit entity_extractor(std::vector<std::string> plan_names = {"community", "business", "basic",
                                                                   "advanced", "pro", "enterprise",
                                                                   "free"});
  ~entity_extractor();
  entity_extractor(const entity_extractor&) = delete;
  entity_extractor& operator=(const entity_extractor&) = delete;

  /// Entities in order of appearance; overlapping matches keep the longer one.
  std::vector<entity> extract(std::string_view text) const;

  struct impl;
private:
  std::unique_ptr<impl> impl_;
};

} // namespace sa::classifier
