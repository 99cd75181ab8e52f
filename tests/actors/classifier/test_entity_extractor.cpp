// Tests for the RE2 entity extractor: every kind, positives and negatives, overlaps, offsets.
#include "actors/classifier/entity_extractor.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <utility>

using namespace sa::classifier;

namespace {

using kv = std::pair<std::string, std::string>;

std::vector<kv> kinds_values(const entity_extractor& x, std::string_view text) {
  std::vector<kv> out;
  for (const auto& e : x.extract(text)) out.emplace_back(e.kind, e.value);
  return out;
}

std::vector<std::string> values_of(const entity_extractor& x, std::string_view text, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& e : x.extract(text))
    if (e.kind == kind) out.push_back(e.value);
  return out;
}

const entity_extractor& extractor() {
  static const entity_extractor x;
  return x;
}

} // namespace

TEST_CASE("entity extraction finds emails", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "write to Jane.Doe+billing@example.co.uk today", "email")
        == std::vector<std::string>{"Jane.Doe+billing@example.co.uk"});
  CHECK(values_of(x, "a@b.io and c_d@sub.example.com.", "email")
        == std::vector<std::string>{"a@b.io", "c_d@sub.example.com"});
  CHECK(values_of(x, "mention @someone or name@localhost or foo@.com", "email").empty());
}

TEST_CASE("entity extraction finds invoice ids", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "about INV-2026-0142 please", "invoice_id") == std::vector<std::string>{"INV-2026-0142"});
  CHECK(values_of(x, "inv-77 is wrong", "invoice_id") == std::vector<std::string>{"inv-77"});
  CHECK(values_of(x, "Invoice #1234 and invoice 5678 and invoice number 91011", "invoice_id")
        == std::vector<std::string>{"1234", "5678", "91011"});
  CHECK(values_of(x, "my invoice is wrong, INVITE-2026 and invoices", "invoice_id").empty());
  CHECK(values_of(x, "invoice #1", "invoice_id").empty());  // too short to be an invoice number
}

TEST_CASE("entity extraction finds ticket ids", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "see TCK-5012 and T-1001", "ticket_id") == std::vector<std::string>{"TCK-5012", "T-1001"});
  CHECK(values_of(x, "my ticket #88 is open", "ticket_id") == std::vector<std::string>{"88"});
  CHECK(values_of(x, "Ticket 4321", "ticket_id") == std::vector<std::string>{"4321"});
  CHECK(values_of(x, "ticketing is slow, ACCT-123, set-2, T-shirt", "ticket_id").empty());
}

TEST_CASE("entity extraction finds plan names as whole words, lower-cased", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "Upgrade from Basic to the PRO plan", "plan") == std::vector<std::string>{"basic", "pro"});
  CHECK(values_of(x, "enterprise or business?", "plan") == std::vector<std::string>{"enterprise", "business"});
  CHECK(values_of(x, "probably a professional basically freedom", "plan").empty());

  entity_extractor custom({"Starter", "Team Plus"});
  CHECK(values_of(custom, "move me to team plus from STARTER, not pro", "plan")
        == std::vector<std::string>{"team plus", "starter"});
  entity_extractor none(std::vector<std::string>{});
  CHECK(values_of(none, "pro plan", "plan").empty());
}

TEST_CASE("entity extraction finds amounts", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "charged $49 then $1,299.00", "amount") == std::vector<std::string>{"$49", "$1,299.00"});
  CHECK(values_of(x, "it was 49.00 USD, not €12,50 or 12 EUR", "amount")
        == std::vector<std::string>{"49.00 USD", "€12,50", "12 EUR"});
  CHECK(values_of(x, "£5 and 20 dollars and USD 15 and 7€", "amount")
        == std::vector<std::string>{"£5", "20 dollars", "USD 15", "7€"});
  CHECK(values_of(x, "I have 49 users and 3 seats", "amount").empty());
}

TEST_CASE("entity extraction finds dates", "[classifier][entities]") {
  const auto& x = extractor();
  CHECK(values_of(x, "since 2026-03-01 or 03/01/2026", "date") == std::vector<std::string>{"2026-03-01", "03/01/2026"});
  CHECK(values_of(x, "on March 3, then 3 March 2026, then Mar 3rd", "date")
        == std::vector<std::string>{"March 3", "3 March 2026", "Mar 3rd"});
  CHECK(values_of(x, "by Sept. 14, 2026 or the 2nd of June", "date")
        == std::vector<std::string>{"Sept. 14, 2026", "2nd of June"});
  CHECK(values_of(x, "march on, 2026 was good, 1234-56-78, marching 3 times", "date").empty());
}

TEST_CASE("entity extraction keeps the longer of overlapping matches, in order of offset",
          "[classifier][entities]") {
  const auto& x = extractor();
  // "pro" and "business" are plan names inside the email; the email is longer and wins.
  auto es = x.extract("Invoice INV-2026-0142 for $49 sent to pro@business.com on March 3");
  REQUIRE(es.size() == 4);
  CHECK(es[0].kind == "invoice_id");
  CHECK(es[0].value == "INV-2026-0142");
  CHECK(es[1].kind == "amount");
  CHECK(es[2].kind == "email");
  CHECK(es[2].value == "pro@business.com");
  CHECK(es[3].kind == "date");
  for (std::size_t i = 1; i < es.size(); ++i) CHECK(es[i - 1].offset < es[i].offset);

  // adjacent, non-overlapping matches are all kept
  CHECK(kinds_values(x, "ticket #12 on 2026-01-02")
        == std::vector<kv>{{"ticket_id", "12"}, {"date", "2026-01-02"}});
  // "invoice 2026-01-02": "invoice 2026" (12 chars) beats the date (10 chars) it overlaps
  CHECK(kinds_values(x, "invoice 2026-01-02") == std::vector<kv>{{"invoice_id", "2026"}});
}

TEST_CASE("entity offsets point at the value in the text", "[classifier][entities]") {
  const auto& x = extractor();
  std::string text = "Hi, ticket #88: refund €12,50 to a.b@c.de (Pro plan) by 2026-03-01, INV-1";
  auto es = x.extract(text);
  REQUIRE(es.size() == 6);
  for (const auto& e : es) {
    INFO(e.kind << " " << e.value);
    std::string at = text.substr(e.offset, e.value.size());
    if (e.kind == "plan") at[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(at[0])));
    CHECK(at == e.value);
  }
  CHECK(x.extract("").empty());
  CHECK(x.extract("nothing to see here").empty());
}

TEST_CASE("entity extraction is the same from many threads", "[classifier][entities][threads]") {
  const auto& x = extractor();
  const std::string text = "INV-2026-0142 $49 pro@business.com March 3 TCK-5012 enterprise";
  auto expected = kinds_values(x, text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (std::size_t k = 0; k < 8; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i)
        if (kinds_values(x, text) != expected) ++mismatches[k];
    });
  for (auto& t : threads) t.join();
  for (int m : mismatches) CHECK(m == 0);
}
