// The local provider: streaming chunks, sentence splitting, query terms, and composed answers (grounded
// sentences with citations, account facts, ticket resolutions, confidence, length limits).
#include "actors/generator/local_composer.hpp"
#include "runtime/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using strings = std::vector<std::string>;

namespace {

sa::passage doc(std::string id, std::string title, std::string text, double score = 12.0,
                sa::source_kind kind = sa::source_kind::doc) {
  sa::passage p;
  p.source_id = std::move(id);
  p.kind = kind;
  p.title = std::move(title);
  p.url = "https://docs.example/" + p.source_id;
  p.text = std::move(text);
  p.score = score;
  return p;
}

const std::string domains_text =
  "Custom domains let your site use your own name. To add a custom domain, open Settings and choose "
  "Domains. DNS changes can take up to 24 hours to propagate.";
const std::string builds_text =
  "Builds run in isolated containers. Each build has a time limit of 15 minutes on the community plan.";

sa::generate_request question(std::string q, sa::intent in = sa::intent::technical, double confidence = 0.9) {
  sa::generate_request r;
  r.tenant = sa::tenant_id{"acme"};
  r.session = sa::session_id{"s-1"};
  r.question = std::move(q);
  r.intent.intent = in;
  r.intent.confidence = confidence;
  return r;
}

sa::account_facts acme_facts() {
  sa::account_facts a;
  a.available = true;
  a.company = "Acme Corporation";
  a.user_name = "Alice Nguyen";
  a.user_role = "owner";
  a.plan = "business";
  a.plan_status = "active";
  a.seats_purchased = 25;
  a.seats_used = 18;
  a.billing_cycle = "monthly";
  a.price = 250.0;
  a.currency = "USD";
  a.next_renewal = "2026-12-01";
  a.payment_method = "Visa ending 4242";
  a.invoices = {{"INV-3", "2026-11-01", 250.0, "USD", "paid", ""},
                {"INV-2", "2026-10-01", 250.0, "USD", "refunded", ""},
                {"INV-1", "2026-09-01", 99.5, "EUR", "failed", ""},
                {"INV-0", "2026-08-01", 250.0, "USD", "paid", ""}};
  a.open_tickets = {{"TCK-1", "Build stuck", "open", "2026-11-20"}};
  return a;
}

std::string concat(const strings& parts) {
  std::string out;
  for (auto& p : parts)
    out += p;
  return out;
}

} // namespace

TEST_CASE("stream chunks concatenate to the input for every chunk size", "[generator][stream]") {
  const std::string text = "Here is what our documentation says: open Settings, then Domains [1]. "
                           "Ünïcödé wörds stay whole — 日本語 too.\n\nFor your account (Acme): paid.";
  for (std::size_t size = 0; size <= text.size() + 10; ++size) {
    INFO("chunk size " << size);
    auto chunks = sa::local_composer::stream_chunks(text, size);
    CHECK(concat(chunks) == text);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      CHECK_FALSE(chunks[i].empty());
      CHECK(sa::is_valid_utf8(chunks[i]));  // chunks break at spaces, never inside a character
      if (i + 1 < chunks.size()) {
        CHECK(chunks[i].back() == ' ');
        CHECK(chunks[i].size() >= std::max<std::size_t>(size, 1));
      }
    }
  }
}

TEST_CASE("stream chunks: a chunk larger than the text is the whole text", "[generator][stream]") {
  CHECK(sa::local_composer::stream_chunks("short answer", 1000) == strings{"short answer"});
  CHECK(sa::local_composer::stream_chunks("", 32).empty());
}

TEST_CASE("stream chunks of size 1 are one word (with its trailing space) each", "[generator][stream]") {
  CHECK(sa::local_composer::stream_chunks("a bc def", 1) == strings{"a ", "bc ", "def"});
  CHECK(sa::local_composer::stream_chunks("a bc def", 0) == strings{"a ", "bc ", "def"});
  CHECK(sa::local_composer::stream_chunks("a bc def", 3) == strings{"a bc ", "def"});
  CHECK(sa::local_composer::stream_chunks("nospacesatall", 4) == strings{"nospacesatall"});
}

TEST_CASE("sentences split at terminators and line breaks, trimmed and without bullets",
          "[generator][sentences]") {
  const std::string text = "First sentence here. Second one is here! Is this the third one?\n"
                           "- A bullet point item\n"
                           "* Another bullet item\n"
                           "## Heading text here\n"
                           "> quoted text line here\n"
                           "Short.\n"
                           "Version 1.2 is out now.   \n"
                           "   indented sentence line";
  CHECK(sa::local_composer::sentences(text)
        == strings{"First sentence here.", "Second one is here!", "Is this the third one?", "A bullet point item",
                   "Another bullet item", "Heading text here", "quoted text line here", "Version 1.2 is out now.",
                   "indented sentence line"});
  CHECK(sa::local_composer::sentences("").empty());
  CHECK(sa::local_composer::sentences("Tiny. Also.\n\n- \n").empty());  // under 12 characters
}

TEST_CASE("content terms drop stop words, short words and duplicates, and are lightly stemmed",
          "[generator][terms]") {
  CHECK(sa::local_composer::content_terms("How do I add a custom domain?") == strings{"add", "custom", "domain"});
  CHECK(sa::local_composer::content_terms("Why were my builds failing and my invoices refunded?")
        == strings{"build", "fail", "invoic", "refund"});
  CHECK(sa::local_composer::content_terms("Domains, domains, DOMAINS!") == strings{"domain"});
  CHECK(sa::local_composer::content_terms("exit code 137 on x") == strings{"exit", "code", "137"});
  CHECK(sa::local_composer::content_terms("Hi, can you please help me? Thanks!").empty());
  // Short words keep their suffix (the stem would be too short to mean anything).
  CHECK(sa::local_composer::content_terms("uses bed sing") == strings{"uses", "bed", "sing"});
}

SCENARIO("a passage that contains the answer is quoted and cited", "[generator][compose]") {
  GIVEN("a question answered by the top passage") {
    sa::local_composer c{{}};
    auto r = question("How do I add a custom domain?");
    r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text)};
    WHEN("the answer is composed") {
      auto g = c.compose(r);
      THEN("it quotes the sentence with a [1] marker") {
        CHECK_THAT(g.text, StartsWith("Here is what our documentation says:"));
        CHECK_THAT(g.text, Contains("To add a custom domain, open Settings and choose Domains. [1]"));
        CHECK_THAT(g.text, !Contains("[2]"));
        CHECK_THAT(g.text, !Contains("could not find"));
      }
      THEN("the cited passage is the only source, with its title and url") {
        REQUIRE(g.sources.size() == 1);
        CHECK(g.sources[0].source_id == "hosting/domains.md#1");
        CHECK(g.sources[0].title == "Custom domains");
        CHECK(g.sources[0].url == "https://docs.example/hosting/domains.md#1");
      }
      THEN("confidence is high enough to answer, and the provider is local") {
        CHECK(g.confidence >= 0.7);
        CHECK(g.confidence <= 1.0);
        CHECK(g.provider == "local");
        CHECK(g.usage.cost_usd == 0);
        CHECK(g.usage.completion_tokens == g.text.size() / 4);
      }
    }
  }
}

TEST_CASE("sentences from two passages are cited in order of first use", "[generator][compose]") {
  sa::local_composer c{{}};
  auto r = question("custom domain build time limit");
  r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text),
                doc("builds/limits.md#1", "Build limits", builds_text, 10.0)};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("[1]"));
  CHECK_THAT(g.text, Contains("Each build has a time limit of 15 minutes on the community plan. [2]"));
  REQUIRE(g.sources.size() == 2);
  CHECK(g.sources[0].source_id == "hosting/domains.md#1");
  CHECK(g.sources[1].source_id == "builds/limits.md#1");
  CHECK(g.text.find("[1]") < g.text.find("[2]"));
}

TEST_CASE("passages beyond max_passages are not used", "[generator][compose]") {
  sa::composer_options o;
  o.max_passages = 1;
  sa::local_composer c{o};
  auto r = question("build time limit");
  r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text),
                doc("builds/limits.md#1", "Build limits", builds_text)};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("could not find"));
  CHECK(g.sources.empty());
}

TEST_CASE("passages unrelated to the question give a could-not-find answer with low confidence",
          "[generator][compose]") {
  sa::local_composer c{{}};
  auto r = question("How do I rotate my API keys?", sa::intent::technical, 0.95);
  r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text, 30.0),
                doc("builds/limits.md#1", "Build limits", builds_text, 25.0)};
  auto g = c.compose(r);
  CHECK(g.text == "I could not find a reliable answer to that in our documentation.");
  CHECK(g.sources.empty());
  CHECK(g.confidence < 0.7);
}

TEST_CASE("no passages at all give a could-not-find answer with low confidence", "[generator][compose]") {
  sa::local_composer c{{}};
  auto g = c.compose(question("How do I add a custom domain?"));
  CHECK_THAT(g.text, StartsWith("I could not find a reliable answer"));
  CHECK(g.sources.empty());
  CHECK(g.confidence < 0.7);
}

SCENARIO("a billing question includes the customer's plan, price and invoices", "[generator][account]") {
  GIVEN("a billing question with account facts and no useful passage") {
    sa::local_composer c{{}};
    auto r = question("what am I paying?", sa::intent::billing, 0.9);
    r.account = acme_facts();
    WHEN("the answer is composed") {
      auto g = c.compose(r);
      THEN("the account summary names the plan, the price, the renewal and the payment method") {
        CHECK_THAT(g.text, Contains("For your account (Acme Corporation): you are on the business plan at "
                                    "$250.00 per month, renewing on 2026-12-01, paid by Visa ending 4242."));
      }
      THEN("the three most recent invoices are listed, newest first, with their currency") {
        CHECK_THAT(g.text, Contains(" Recent invoices: INV-3 (2026-11-01, $250.00, paid); "
                                    "INV-2 (2026-10-01, $250.00, refunded); INV-1 (2026-09-01, 99.50 EUR, failed)."));
        CHECK_THAT(g.text, !Contains("INV-0"));
      }
      THEN("open tickets are not part of a billing answer") { CHECK_THAT(g.text, !Contains("TCK-1")); }
      THEN("the account facts support the answer") {
        CHECK(g.confidence >= 0.35 + 0.45 * 0.9 - 1e-9);
        CHECK(g.confidence >= 0.7);
      }
    }
  }
}

TEST_CASE("a yearly plan is priced per year", "[generator][account]") {
  sa::local_composer c{{}};
  auto r = question("what do I pay?", sa::intent::billing);
  r.account = acme_facts();
  r.account.billing_cycle = "yearly";
  r.account.invoices.clear();
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("$250.00 per year"));
  CHECK_THAT(g.text, Contains("There are no invoices on your account yet."));
}

TEST_CASE("an invoice named in the question is shown first", "[generator][account]") {
  sa::local_composer c{{}};
  auto r = question("why was INV-0 charged?", sa::intent::billing);
  r.account = acme_facts();
  r.intent.entities = {{"invoice_id", "INV-0"}};
  auto g = c.compose(r);
  auto at = g.text.find("Recent invoices:");
  REQUIRE(at != std::string::npos);
  CHECK_THAT(g.text.substr(at), StartsWith("Recent invoices: INV-0 (2026-08-01, $250.00, paid)"));
}

TEST_CASE("an invoice id that is not on the account falls back to the recent invoices", "[generator][account]") {
  sa::local_composer c{{}};
  auto r = question("why was INV-999 charged?", sa::intent::billing);
  r.account = acme_facts();
  r.intent.entities = {{"invoice_id", "INV-999"}};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("Recent invoices: INV-3 "));
  CHECK_THAT(g.text, !Contains("INV-999"));
}

TEST_CASE("an account question includes seats and open tickets", "[generator][account]") {
  sa::local_composer c{{}};
  auto r = question("who am I signed in as?", sa::intent::account);
  r.account = acme_facts();
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("you are signed in as Alice Nguyen (owner), on the business plan with 18 of 25 "
                              "seats in use. Open tickets on your account: TCK-1 \"Build stuck\" (open)."));
  CHECK_THAT(g.text, !Contains("INV-3"));
}

TEST_CASE("unavailable account facts are not mentioned", "[generator][account]") {
  sa::local_composer c{{}};
  auto r = question("what am I paying?", sa::intent::billing, 0.9);
  r.account = acme_facts();
  r.account.available = false;
  auto g = c.compose(r);
  CHECK_THAT(g.text, !Contains("For your account"));
  CHECK_THAT(g.text, !Contains("INV-"));
  CHECK(g.confidence < 0.7);
}

TEST_CASE("a past ticket contributes only its resolution", "[generator][tickets]") {
  sa::local_composer c{{}};
  auto r = question("my build fails with exit code 137");
  r.passages = {doc("tickets/T-88", "Build killed",
                    "Customer: My build failed with exit code 137 again, this is my private repo acme-secret. "
                    "Agent: Let me check the build exit code.\n"
                    "Resolution: Exit code 137 means the build ran out of memory; raise the memory limit in "
                    "build settings.",
                    12.0, sa::source_kind::ticket)};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("Exit code 137 means the build ran out of memory; raise the memory limit in build "
                              "settings. [1]"));
  CHECK_THAT(g.text, !Contains("acme-secret"));
  CHECK_THAT(g.text, !Contains("Customer:"));
  CHECK_THAT(g.text, !Contains("Let me check"));
  REQUIRE(g.sources.size() == 1);
  CHECK(g.sources[0].source_id == "tickets/T-88");
}

TEST_CASE("a past ticket without a resolution contributes nothing", "[generator][tickets]") {
  sa::local_composer c{{}};
  auto r = question("my build fails with exit code 137");
  r.passages = {doc("tickets/T-89", "Build killed",
                    "Customer: My build failed with exit code 137. Agent: We are looking into the exit code.",
                    12.0, sa::source_kind::ticket)};
  auto g = c.compose(r);
  CHECK_THAT(g.text, StartsWith("I could not find"));
  CHECK(g.sources.empty());
}

TEST_CASE("an out-of-scope question is capped at confidence 0.3 even with a perfect match",
          "[generator][confidence]") {
  sa::local_composer c{{}};
  auto r = question("How do I add a custom domain?", sa::intent::technical, 1.0);
  r.intent.out_of_scope = true;
  r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text, 100.0)};
  auto g = c.compose(r);
  CHECK(g.confidence <= 0.3);

  r.intent.out_of_scope = false;
  CHECK(c.compose(r).confidence > 0.3);
}

TEST_CASE("confidence grows with the classifier's confidence and stays within [0, 1]",
          "[generator][confidence]") {
  sa::local_composer c{{}};
  auto r = question("How do I add a custom domain?", sa::intent::technical, 0.2);
  r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text, 1e9)};
  auto low = c.compose(r).confidence;
  r.intent.confidence = 1.0;
  auto high = c.compose(r).confidence;
  CHECK(low < high);
  CHECK(low >= 0.0);
  CHECK(high <= 1.0);
}

TEST_CASE("the answer never exceeds max_answer_chars", "[generator][limits]") {
  // Truncation cuts at the last space at or before max_answer_chars and then appends " ...", so the
  // result can be up to 4 characters longer than the limit.
  for (std::size_t max_chars : {60u, 100u, 150u, 200u, 333u}) {
    INFO("max_answer_chars " << max_chars);
    sa::composer_options o;
    o.max_answer_chars = max_chars;
    sa::local_composer c{o};
    auto r = question("How do I add a custom domain and what am I paying?", sa::intent::billing);
    r.passages = {doc("hosting/domains.md#1", "Custom domains", domains_text)};
    r.account = acme_facts();
    auto g = c.compose(r);
    CHECK(g.text.size() <= max_chars);
    CHECK_THAT(g.text, Contains(" ..."));
  }
}

TEST_CASE("a truncated answer ends with an ellipsis at a word boundary", "[generator][limits]") {
  sa::composer_options o;
  o.max_answer_chars = 100;
  sa::local_composer c{o};
  auto r = question("what am I paying?", sa::intent::billing);
  r.account = acme_facts();
  auto g = c.compose(r);
  REQUIRE(g.text.size() > 4);
  CHECK(g.text.size() <= 100 + 4);
  CHECK(g.text.substr(g.text.size() - 4) == " ...");
  // The text before the ellipsis is a prefix of the untruncated answer, cut before a space.
  sa::local_composer full{{}};
  auto whole = full.compose(r).text;
  auto kept = g.text.substr(0, g.text.size() - 4);
  CHECK_THAT(whole, StartsWith(kept));
  CHECK(whole[kept.size()] == ' ');
}

TEST_CASE("a singular question term matches its plural in a passage", "[generator][terms]") {
  // "invoice" stays "invoice" but "invoices" stems to "invoic", and a term only matches passage words
  // that start with it, so the singular question misses the plural passage.
  sa::local_composer c{{}};
  auto r = question("Where is my invoice?", sa::intent::billing);
  r.passages = {doc("billing/invoices.md#1", "Invoices", "Invoices are listed under Settings, then Billing.")};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("Invoices are listed under Settings, then Billing. [1]"));
}

TEST_CASE("a question in the customer's words is answered from a passage in the documentation's words",
          "[generator][terms]") {
  // "yearly" is not a form of "annual": the synonym table bridges them.
  sa::local_composer c{{}};
  auto r = question("Can I pay yearly?", sa::intent::billing);
  r.passages = {doc("billing/plans.md#1", "Plans", "Every plan is available with monthly or annual billing.")};
  auto g = c.compose(r);
  CHECK_THAT(g.text, Contains("Every plan is available with monthly or annual billing. [1]"));
}
