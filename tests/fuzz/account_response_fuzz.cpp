// Fuzz target: the HTTP account backend's response reader (actors/account/account_api.cpp), which reads
// whatever the account API sends. Byte 0 picks the lookup (low 2 bits) and the status (200, 203, 404,
// 500); the rest is the body, read as a response for tenant "acme", user "alice". Invariants: it never
// throws; a failure has a reason and a problem and carries no facts; a success keeps lists within 50
// entries and invoices newest first; an echoed tenant or user other than the one asked for is never accepted.
#include "actors/account/account_api.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sa::account_api::lookup;
  if (size == 0)
    return 0;
  static constexpr lookup lookups[] = {lookup::subscription, lookup::invoices, lookup::usage, lookup::open_tickets};
  static constexpr int statuses[] = {200, 203, 404, 500};
  auto which = lookups[data[0] & 3];
  auto status = statuses[(data[0] >> 2) & 3];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto p = sa::account_api::read_response(which, status, body, "acme", "alice");
  if (!p.ok()) {
    SA_FUZZ_CHECK(!p.problem.empty());
    SA_FUZZ_CHECK(p.facts.company.empty() && p.facts.invoices.empty() && p.facts.usage.empty() &&
                  p.facts.open_tickets.empty());
    return 0;
  }
  SA_FUZZ_CHECK(status == 200 || status == 203);
  SA_FUZZ_CHECK(p.facts.invoices.size() <= 50 && p.facts.usage.size() <= 50 && p.facts.open_tickets.size() <= 50);
  for (size_t i = 1; i < p.facts.invoices.size(); ++i)
    SA_FUZZ_CHECK(p.facts.invoices[i - 1].date >= p.facts.invoices[i].date);
  // Accepted, so any tenant or user it echoes at the top level is the one asked for.
  auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  SA_FUZZ_CHECK(doc.is_object());
  const std::pair<const char*, const char*> echoes[] = {{"tenant", "acme"}, {"user", "alice"}};
  for (auto [key, asked] : echoes)
    if (auto i = doc.find(key); i != doc.end() && !i->is_null())
      SA_FUZZ_CHECK(i->is_string() && i->get<std::string>() == asked);
  return 0;
}
