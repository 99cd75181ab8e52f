// The LLM prompts: what the answer prompt carries (numbered passages, account facts, history, summary,
// the rules), when thinking is asked for, how [n] markers map back to citations, and the classification
// prompt and its parser (the only gate between a model's free text and the pipeline's typed intent).
#include "actors/generator/prompt.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;

namespace {

sa::passage passage(std::string id, std::string title, std::string text) {
  sa::passage p;
  p.source_id = std::move(id);
  p.title = std::move(title);
  p.url = "https://docs.example/" + p.source_id;
  p.text = std::move(text);
  return p;
}

sa::generate_request request() {
  sa::generate_request r;
  r.question = "How do I add a custom domain?";
  r.intent.intent = sa::intent::technical;
  r.passages = {passage("domains.md#1", "Custom domains", "Open Settings, then Domains, and add the name."),
                passage("dns.md#2", "DNS records", "Create a CNAME record pointing to the site."),
                passage("ssl.md#1", "SSL", "Certificates are issued automatically."),
                passage("extra.md#1", "Extra", "Not sent: over max_passages.")};
  return r;
}

} // namespace

TEST_CASE("answer prompt: rules, numbered passages, question last", "[prompt]") {
  auto req = sa::answer_prompt(request(), sa::prompt_options{});
  CHECK_THAT(req.system, Contains("using only the numbered knowledge passages"));
  CHECK_THAT(req.system, Contains("[1] Custom domains\nOpen Settings"));
  CHECK_THAT(req.system, Contains("[3] SSL"));
  CHECK(req.system.find("Not sent") == std::string::npos);
  CHECK_THAT(req.system, Contains("classified as: technical"));
  REQUIRE(req.messages.size() == 1);
  CHECK(req.messages.back().role == sa::providers::chat_role::user);
  CHECK(req.messages.back().text == "How do I add a custom domain?");
  CHECK(req.thinking_budget == 0);
}

TEST_CASE("answer prompt: account facts, history window and summary", "[prompt]") {
  auto r = request();
  r.account.available = true;
  r.account.plan = "Business";
  r.account.seats_purchased = 10;
  r.account.seats_used = 7;
  r.account.invoices.push_back({"INV-1", "2026-10-01", 99.5, "USD", "paid", "October"});
  r.summary = "The customer asked about SSO earlier.";
  for (int i = 0; i < 8; ++i) {
    sa::turn_record t;
    t.user_text = "question " + std::to_string(i);
    t.answer_text = "answer " + std::to_string(i);
    r.history.push_back(t);
  }
  sa::prompt_options opts;
  opts.max_history_turns = 3;
  auto req = sa::answer_prompt(r, opts);
  CHECK_THAT(req.system, Contains("- plan: Business"));
  CHECK_THAT(req.system, Contains("- seats: 7 used of 10"));
  CHECK_THAT(req.system, Contains("- invoice: INV-1 dated 2026-10-01, 99.50 USD, paid (October)"));
  CHECK_THAT(req.system, Contains("Summary of the earlier conversation: The customer asked about SSO"));
  REQUIRE(req.messages.size() == 7); // 3 turns x (user, assistant) + the question
  CHECK(req.messages[0].text == "question 5");
  CHECK(req.messages[1].role == sa::providers::chat_role::assistant);
  CHECK(req.messages[1].text == "answer 5");
}

TEST_CASE("answer prompt: no passages says so, long passages are clipped on a character boundary", "[prompt]") {
  auto r = request();
  r.passages.clear();
  CHECK_THAT(sa::answer_prompt(r, {}).system, Contains("none matched"));
  r.passages = {passage("long.md#1", "Long", std::string(10, 'a') + "\xC3\xA9" + std::string(100, 'b'))};
  sa::prompt_options opts;
  opts.max_passage_chars = 11; // cuts inside the two-byte character
  auto system = sa::answer_prompt(r, opts).system;
  CHECK_THAT(system, Contains(std::string(10, 'a') + " ..."));
}

TEST_CASE("complex questions ask for thinking", "[prompt]") {
  CHECK_FALSE(sa::is_complex_question("How do I reset my password?", 40));
  CHECK(sa::is_complex_question("Why was I charged twice? And can you refund one?", 40));
  CHECK(sa::is_complex_question("one two three four five", 5));
  auto r = request();
  r.question = "Why did my build fail? Is it the config or the webhook?";
  CHECK(sa::answer_prompt(r, {}).thinking_budget == 1);
}

TEST_CASE("citations come from [n] markers in order, deduplicated, within range", "[prompt]") {
  auto r = request();
  auto cites = sa::cited_passages("Use Settings [2]. Then DNS [1], see [2] and [9] and [x] and [3", r.passages, 3);
  REQUIRE(cites.size() == 2);
  CHECK(cites[0].source_id == "dns.md#2");
  CHECK(cites[1].source_id == "domains.md#1");
  CHECK(sa::cited_passages("Extra [4]", r.passages, 3).empty()); // passage 4 was not in the prompt
  CHECK(sa::cited_passages("no markers", r.passages, 3).empty());
}

TEST_CASE("classification prompt asks for JSON, the parser accepts only a well-formed answer", "[prompt]") {
  auto req = sa::classify_prompt("Where is my invoice?");
  CHECK(req.json_mode);
  CHECK_THAT(req.system, Contains("JSON object"));
  REQUIRE(req.messages.size() == 1);
  CHECK(req.messages[0].text == "Where is my invoice?");

  auto c = sa::parse_classification(R"({"intent": "billing", "confidence": 0.83, "out_of_scope": false})");
  REQUIRE(c);
  CHECK(c->intent == sa::intent::billing);
  CHECK(c->confidence == Approx(0.83));
  CHECK_FALSE(c->out_of_scope);
  auto fenced = sa::parse_classification("```json\n{\"intent\":\"escalation_request\",\"confidence\":1}\n```");
  REQUIRE(fenced);
  CHECK(fenced->intent == sa::intent::escalation_request);
  CHECK(sa::parse_classification(R"({"intent":"general","confidence":0.5,"out_of_scope":true})")->out_of_scope);

  CHECK_FALSE(sa::parse_classification("billing"));                                   // not JSON
  CHECK_FALSE(sa::parse_classification(R"({"intent":"refunds","confidence":0.9})"));  // unknown intent
  CHECK_FALSE(sa::parse_classification(R"({"intent":"billing"})"));                    // no confidence
  CHECK_FALSE(sa::parse_classification(R"({"intent":"billing","confidence":"high"})"));
  CHECK_FALSE(sa::parse_classification(R"({"intent":"billing","confidence":1.5})"));
  CHECK_FALSE(sa::parse_classification(R"({"intent":"billing","confidence":0.9)"));   // truncated
}
