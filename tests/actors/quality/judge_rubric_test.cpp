// The judge rubric: what the judge is asked, and which replies are accepted.
#include "actors/quality/judge_rubric.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::quality;

TEST_CASE("the judge request carries the rubric, the cited context and the answer in JSON mode", "[quality][judge]") {
  passage cited;
  cited.source_id = "a#1";
  cited.title = "Domains";
  cited.text = "Create a CNAME record.";
  passage other;
  other.source_id = "b#1";
  other.text = "Unrelated billing text.";
  auto r = judge_request("How do I add a domain?", "Create a CNAME record.", {cited, other}, {"a#1"});
  CHECK(r.json_mode);
  REQUIRE(r.temperature);
  CHECK(*r.temperature == 0.0);
  CHECK(r.system == judge_system_prompt());
  for (const char* d : dimensions())
    CHECK(r.system.find(d) != std::string::npos);
  REQUIRE(r.messages.size() == 1);
  const auto& text = r.messages[0].text;
  CHECK(text.rfind("QUESTION:\nHow do I add a domain?", 0) == 0);
  CHECK(text.find("[a#1] Domains\nCreate a CNAME record.") != std::string::npos);
  CHECK(text.find("Unrelated billing") == std::string::npos);
  CHECK(text.find("\nANSWER:\nCreate a CNAME record.") != std::string::npos);
  auto empty = judge_request("q", "a", {}, {});
  CHECK(empty.messages[0].text.find("(no context was retrieved)") != std::string::npos);
  auto long_context = judge_request("q", "a", {other, other, other}, {}, 30);
  CHECK(long_context.messages[0].text.size() < 30 + 40);
}

TEST_CASE("judge replies: a complete object of integers 1..5, even inside prose or fences", "[quality][judge]") {
  auto s = parse_judge_reply(R"({"relevance": 5, "accuracy": 4, "helpfulness": 3, "tone": 2})");
  REQUIRE(s);
  CHECK(s->values == std::array<int, 4>{5, 4, 3, 2});
  CHECK(judge_scores::normalised(5) == 1.0);
  CHECK(judge_scores::normalised(1) == 0.0);
  CHECK(judge_scores::normalised(4) == 0.75);
  CHECK(parse_judge_reply("```json\n{\"relevance\":1,\"accuracy\":1,\"helpfulness\":1,\"tone\":1}\n```"));
  std::string why;
  CHECK_FALSE(parse_judge_reply("great answer", &why));
  CHECK(why == "no JSON object in the reply");
  CHECK_FALSE(parse_judge_reply(R"({"relevance": 5, "accuracy": 4, "helpfulness": 3})", &why));
  CHECK(why == "\"tone\" is missing or not a number");
  CHECK_FALSE(parse_judge_reply(R"({"relevance": 6, "accuracy": 4, "helpfulness": 3, "tone": 2})", &why));
  CHECK(why == "\"relevance\" is not an integer from 1 to 5");
  CHECK_FALSE(parse_judge_reply(R"({"relevance": 4.5, "accuracy": 4, "helpfulness": 3, "tone": 2})", &why));
  CHECK_FALSE(parse_judge_reply(R"({"relevance": "5", "accuracy": 4, "helpfulness": 3, "tone": 2})", &why));
  CHECK_FALSE(parse_judge_reply("{not json}", &why));
  CHECK(why == "the reply's object is not valid JSON");
}
