// Document readers: Markdown, HTML, plain text, FAQ CSV and JSON, and ticket JSONL into chunks.
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/text_util.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <random>
#include <string>

using namespace sa::knowledge;

namespace {

std::string repeat_sentences(const std::string& stem, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += stem + " number " + std::to_string(i) + " explains one more detail of the setup. ";
  return out;
}

/// The inline stripper as it was written first (recursive, a scan per bracket), kept as the reference the
/// linear one must agree with; entities are left to the caller (the first one decoded them at every level).
std::size_t reference_match(std::string_view s, std::size_t open, char o, char c) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == o)
      ++depth;
    else if (s[i] == c && --depth == 0)
      return i;
  }
  return std::string_view::npos;
}

std::string reference_strip(std::string_view s) {
  const auto npos = std::string_view::npos;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
      out += s[++i];
    } else if (c == '`') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == '`')
        ++run;
      auto close = s.find(std::string(run, '`'), i + run);
      if (close == npos) {
        out.append(s.substr(i, run));
        i += run - 1;
      } else {
        out.append(detail::trim(s.substr(i + run, close - i - run)));
        i = close + run - 1;
      }
    } else if (c == '[' || (c == '!' && i + 1 < s.size() && s[i + 1] == '[')) {
      std::size_t open = c == '!' ? i + 1 : i;
      std::size_t close = reference_match(s, open, '[', ']');
      if (close == npos) {
        out += c;
        continue;
      }
      std::size_t after = close + 1;
      std::size_t end = npos;
      if (after < s.size() && s[after] == '(')
        end = reference_match(s, after, '(', ')');
      else if (after < s.size() && s[after] == '[')
        end = reference_match(s, after, '[', ']');
      if (end == npos && c != '!') {
        out += c;
        continue;
      }
      out += reference_strip(s.substr(open + 1, close - open - 1));
      i = end == npos ? close : end;
    } else if (c == '<') {
      auto close = s.find('>', i);
      if (close == npos) {
        out += c;
        continue;
      }
      auto inner = s.substr(i + 1, close - i - 1);
      if (inner.rfind("http://", 0) == 0 || inner.rfind("https://", 0) == 0 || inner.rfind("mailto:", 0) == 0) {
        out.append(inner);
        i = close;
      } else if (!inner.empty() && (std::isalpha(static_cast<unsigned char>(inner[0])) || inner[0] == '/'
                                    || inner[0] == '!')) {
        i = close;
      } else {
        out += c;
      }
    } else if (c == '*' || c == '~') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == c)
        ++run;
      bool spaced = (i == 0 || s[i - 1] == ' ') && (i + run >= s.size() || s[i + run] == ' ');
      if (spaced || (c == '~' && run == 1))
        out.append(s.substr(i, run));
      i += run - 1;
    } else if (c == '_') {
      std::size_t run = 1;
      while (i + run < s.size() && s[i + run] == '_')
        ++run;
      if (i > 0 && alnum(s[i - 1]) && i + run < s.size() && alnum(s[i + run]))
        out.append(s.substr(i, run));
      i += run - 1;
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

TEST_CASE("Markdown is chunked by headings with the heading path as section") {
  const std::string md = "# Billing\n\n"
                         "Everything about paying for your plan, from invoices to refunds and taxes.\n\n"
                         "## Invoices\n\n"
                         "Invoices are emailed on the first day of each month to the billing contact.\n\n"
                         "### Downloading invoices\n\n"
                         "Open Settings, then Billing, and click Download next to any past invoice.\n\n"
                         "## Refunds\n\n"
                         "Refunds are issued to the original card within ten business days of approval.\n";
  auto chunks = chunk_markdown("guides/billing.md", md, {});
  REQUIRE(chunks.size() == 4);
  CHECK(chunks[0].section == "Billing");
  CHECK(chunks[1].section == "Billing > Invoices");
  CHECK(chunks[2].section == "Billing > Invoices > Downloading invoices");
  CHECK(chunks[3].section == "Billing > Refunds");
  CHECK(chunks[3].text == "Refunds are issued to the original card within ten business days of approval.");
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    CHECK(chunks[i].id == "guides/billing.md#" + std::to_string(i));
    CHECK(chunks[i].kind == source_kind::doc);
    CHECK(chunks[i].title == "Billing"); // no front matter: the first H1
    CHECK(chunks[i].url == "guides/billing.md");
  }
}

TEST_CASE("Front matter title and url are kept on every chunk") {
  const std::string md = "---\n"
                         "title: \"Configuring two-factor authentication\"\n"
                         "source_file: \"docs/2fa.rst\"\n"
                         "url: 'https://example.com/2fa.html'\n"
                         "---\n"
                         "# Two factor\n\nSome text about the second factor that is long enough to stand alone.\n"
                         "## Recovery\n\nRecovery codes let you in when the phone is lost, keep them safe.\n";
  auto chunks = chunk_markdown("2fa.md", md, {});
  REQUIRE(chunks.size() == 2);
  for (const auto& c : chunks) {
    CHECK(c.title == "Configuring two-factor authentication");
    CHECK(c.url == "https://example.com/2fa.html");
    CHECK(c.text.find("source_file") == std::string::npos);
  }
}

TEST_CASE("Markdown markup is stripped to plain text, code and tables kept as text") {
  const std::string md = "# Setup\n\n"
                         "Read the [install guide](https://x.test/install) and ![logo](logo.png) **carefully**, "
                         "then _really_ run `make_all` with my_flag set.\n\n"
                         "> Note: quoted *advice*.\n\n"
                         "- first item\n"
                         "1. numbered item\n\n"
                         "```bash\n"
                         "# not a heading\n"
                         "pip install [extra]\n"
                         "```\n\n"
                         "| Plan | Price |\n"
                         "|------|------:|\n"
                         "| Pro  | $10   |\n\n"
                         "Escaped \\*star\\* and &amp; entity, see <https://x.test/a>.\n";
  auto chunks = chunk_markdown("setup.md", md, {});
  REQUIRE(chunks.size() == 1);
  const auto& t = chunks[0].text;
  CHECK(t.find("Read the install guide and logo carefully, then really run make_all with my_flag set.")
        != std::string::npos);
  CHECK(t.find("Note: quoted advice.") != std::string::npos);
  CHECK(t.find("first item\nnumbered item") != std::string::npos);
  CHECK(t.find("# not a heading\npip install [extra]") != std::string::npos);
  CHECK(t.find("Plan | Price\nPro | $10") != std::string::npos);
  CHECK(t.find("Escaped *star* and & entity, see https://x.test/a.") != std::string::npos);
  CHECK(t.find("](") == std::string::npos);
  CHECK(t.find("**") == std::string::npos);
  CHECK(t.find("```") == std::string::npos);
  CHECK(t.find("---") == std::string::npos);
  CHECK(chunks[0].section == "Setup");
}

TEST_CASE("inline markup is stripped as the recursive reference strips it, on random markup",
          "[knowledge][markdown]") {
  // No '&': the reference would decode entities once per level of link nesting.
  const std::string alphabet = "[]()!`<>*~_\\ ab:/h";
  std::mt19937 rng{20261129};
  for (int n = 0; n < 20000; ++n) {
    std::string text(std::uniform_int_distribution<std::size_t>{0, 40}(rng), ' ');
    for (auto& ch : text)
      ch = alphabet[std::uniform_int_distribution<std::size_t>{0, alphabet.size() - 1}(rng)];
    INFO(text);
    REQUIRE(detail::strip_markdown_inline(text) == reference_strip(text));
  }
  // Code spans: runs of backticks of every length, closed by the first run as long (or part of a longer one).
  const std::string ticks = "````` a[]b";
  for (int n = 0; n < 5000; ++n) {
    std::string text(std::uniform_int_distribution<std::size_t>{0, 300}(rng), ' ');
    for (auto& ch : text)
      ch = ticks[std::uniform_int_distribution<std::size_t>{0, ticks.size() - 1}(rng)];
    INFO(text);
    REQUIRE(detail::strip_markdown_inline(text) == reference_strip(text));
  }
  for (const std::string text : {"a [b [c](x) d](y) e", "![alt ![in](i.png)](o.png)", "[a](b(c)d) e",
                                 "[x] [y][ref] ![z]", "<https://x.test/a> <b>bold</b> <3", "\\[not](link)",
                                 "[[b](c](d))", "![[b][c](d)e]"}) {
    INFO(text);
    CHECK(detail::strip_markdown_inline(text) == reference_strip(text));
  }
  CHECK(detail::strip_markdown_inline("a [b [c](x) d](y) e") == "a b c d e");
  // The '(' after the inner "[b]" closes only after the outer link: inside it, "[b]" is plain brackets.
  CHECK(detail::strip_markdown_inline("[[b](c](d))") == "[b](c)"); // the last ")" is text
}

TEST_CASE("inline markup nested or left open 200,000 deep is stripped without exhausting the stack or time",
          "[knowledge][markdown]") {
  const std::size_t deep = 200000;
  std::string nested;
  for (std::size_t k = 0; k < deep; ++k)
    nested += "![";
  nested += "x";
  nested.append(deep, ']');
  CHECK(detail::strip_markdown_inline(nested) == "x"); // every level an image whose alt text is the next
  CHECK(detail::strip_markdown_inline(std::string(deep, '[')) == std::string(deep, '['));
  std::string links;
  for (std::size_t k = 0; k < deep / 4; ++k)
    links += "[a](";
  CHECK(detail::strip_markdown_inline(links) == links);
  std::string tags;
  for (std::size_t k = 0; k < deep; ++k)
    tags += "a<";
  CHECK(detail::strip_markdown_inline(tags) == tags);
  // Runs of backticks, each shorter than the one before: none closes (a 1 MB paragraph searched on from each
  // one took minutes).
  std::string ticks;
  for (std::size_t k = 1414; k > 0; --k)
    ticks.append(k, '`').append(" ");
  CHECK(detail::strip_markdown_inline(ticks) == ticks);
  // The same down to 2, then 50,000 code spans that each longer run searches past.
  std::string spans = ticks.substr(0, ticks.size() - 2);
  std::string stripped = spans;
  for (std::size_t k = 0; k < deep / 4; ++k)
    spans += "a `b` ", stripped += "a b ";
  CHECK(detail::strip_markdown_inline(spans) == stripped);
  // An entity inside a link's text is decoded once, as everywhere else.
  CHECK(detail::strip_markdown_inline("[&amp;lt; is &lt;](x)") == "&lt; is <");
}

TEST_CASE("A long section is split into overlapping windows that break at word boundaries") {
  const std::string body = repeat_sentences("Sentence", 60);
  chunking_options opts;
  opts.max_chars = 300;
  opts.overlap_chars = 60;
  auto chunks = chunk_markdown("long.md", "# Long\n\n" + body, opts);
  REQUIRE(chunks.size() > 5);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& t = chunks[i].text;
    CHECK(t.size() <= opts.max_chars);
    CHECK(chunks[i].section == "Long");
    CHECK(chunks[i].id == "long.md#" + std::to_string(i));
    CHECK(body.find(t) != std::string::npos); // windows are verbatim slices: no word was cut or glued
    if (i + 1 < chunks.size()) {
      // the next window starts inside this one: about overlap_chars are shared
      auto head = chunks[i + 1].text.substr(0, 20);
      auto at = t.find(head);
      REQUIRE(at != std::string::npos);
      CHECK(t.size() - at <= opts.overlap_chars + 20);
      CHECK(t.back() == '.'); // broke at a sentence end
    }
  }
  // nothing lost: the last sentence is in the last window, the first in the first
  CHECK(chunks.front().text.rfind("Sentence number 0 ", 0) == 0);
  CHECK(chunks.back().text.find("Sentence number 59 ") != std::string::npos);
}

TEST_CASE("Windows never split a multi-byte character, even without spaces") {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "\xC3\xA9"; // é without any whitespace
  auto windows = detail::split_windows(text, 33, 8);
  REQUIRE(windows.size() > 5);
  for (const auto& w : windows) {
    CHECK(w.size() <= 33);
    CHECK(detail::invalid_utf8_line(w) == 0);
  }
}

TEST_CASE("Tiny sections merge into the next one, or stay when they are all there is") {
  auto merged = chunk_markdown("m.md",
                               "# Guide\n\n## Intro\n\nShort.\n\n## Details\n\n"
                               "The details section is long enough to be its own chunk, by a wide margin.\n",
                               {});
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].section == "Guide > Details");
  CHECK(merged[0].text.rfind("Intro\nShort.\n\nThe details section", 0) == 0);

  auto only = chunk_markdown("only.md", "# Tiny\n\nJust this.\n", {});
  REQUIRE(only.size() == 1);
  CHECK(only[0].text == "Just this.");
  CHECK(only[0].title == "Tiny");

  CHECK(chunk_markdown("empty.md", "", {}).empty());
}

TEST_CASE("Setext headings and text before the first heading are handled") {
  auto chunks = chunk_markdown("s.md",
                               "Preamble paragraph that is long enough to be a chunk of its own, really.\n\n"
                               "Account\n=======\n\nAccount text that is long enough to be a chunk of its own, that one too.\n\n"
                               "Email\n-----\n\nEmail text that is long enough to be a chunk of its own as well.\n",
                               {});
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].section.empty());
  CHECK(chunks[0].title == "Account");
  CHECK(chunks[1].section == "Account");
  CHECK(chunks[2].section == "Account > Email");
}

TEST_CASE("HTML pages lose tags, scripts and styles, decode entities and keep their title") {
  const std::string html =
    "<!DOCTYPE html><html><head><title>Reset &amp; Recover</title><style>p{color:red}</style>"
    "<script>var x = '<h1>fake</h1>';</script></head><body>"
    "<h1>Password reset</h1><p>Click <a href=\"/forgot\">Forgot password</a> on the sign&#8209;in page "
    "and follow the emailed link.</p><!-- hidden comment -->"
    "<h2>Locked out</h2><p>After five failed attempts the account locks for 15&nbsp;minutes, then unlocks.</p>"
    "<table><tr><th>Attempts</th><th>Lock</th></tr><tr><td>5</td><td>15 min</td></tr></table>"
    "</body></html>";
  auto chunks = detail::chunk_html("help/reset.html", html, {});
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0].title == "Reset & Recover");
  CHECK(chunks[0].section == "Password reset");
  CHECK(chunks[0].text == "Click Forgot password on the sign\xE2\x80\x91in page and follow the emailed link.");
  CHECK(chunks[1].section == "Password reset > Locked out");
  CHECK(chunks[1].text.find("locks for 15 minutes, then unlocks.") != std::string::npos);
  CHECK(chunks[1].text.find("Attempts | Lock\n5 | 15 min") != std::string::npos);
  for (const auto& c : chunks) {
    CHECK(c.text.find('<') == std::string::npos);
    CHECK(c.text.find("color") == std::string::npos);
    CHECK(c.text.find("fake") == std::string::npos);
    CHECK(c.text.find("hidden") == std::string::npos);
  }
  auto untitled = detail::chunk_html("x.html", "<h1>Only heading</h1><p>Body text here.</p>", {});
  REQUIRE(untitled.size() == 1);
  CHECK(untitled[0].title == "Only heading");
}

TEST_CASE("Plain text files become one document split by paragraphs into windows") {
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += "Paragraph " + std::to_string(i) + " talks about shipping times and carriers in some detail.\r\n\r\n";
  chunking_options opts;
  opts.max_chars = 200;
  opts.overlap_chars = 0;
  auto chunks = detail::chunk_plain_text("notes/shipping.txt", text, opts);
  REQUIRE(chunks.size() >= 4);
  CHECK(chunks[0].title == "shipping");
  CHECK(chunks[0].url == "notes/shipping.txt");
  for (const auto& c : chunks) {
    CHECK(c.text.size() <= 200);
    CHECK(c.text.rfind("Paragraph ", 0) == 0); // broke at paragraph boundaries
    CHECK(c.text.find('\r') == std::string::npos);
  }
}

TEST_CASE("FAQ CSV handles quotes, doubled quotes, embedded newlines and CRLF") {
  const std::string csv = "id,question,answer,category,url\r\n"
                          "q1,How do I reset my password?,\"Go to Settings, then Security.\",account,https://x.test/pw\r\n"
                          "q2,\"What does \"\"pending\"\" mean?\",\"The order is paid.\r\nIt ships soon.\",orders,\r\n"
                          "\r\n"
                          "q3,Plain question,Plain answer,misc,\r\n";
  auto r = parse_faq_csv("faq.csv", csv);
  REQUIRE(r.ok());
  const auto& faqs = r.value();
  REQUIRE(faqs.size() == 3);
  CHECK(faqs[0].id == "faq:q1");
  CHECK(faqs[0].kind == source_kind::faq);
  CHECK(faqs[0].title == "How do I reset my password?");
  CHECK(faqs[0].text == "How do I reset my password?\nGo to Settings, then Security.");
  CHECK(faqs[0].url == "https://x.test/pw");
  CHECK(faqs[0].section.empty());
  CHECK(faqs[1].title == "What does \"pending\" mean?");
  CHECK(faqs[1].text == "What does \"pending\" mean?\nThe order is paid.\nIt ships soon.");
  CHECK(faqs[1].url == "faq.csv");
  CHECK(faqs[2].id == "faq:q3");
}

TEST_CASE("FAQ CSV errors name the file and line") {
  auto missing = parse_faq_csv("kb/faq.csv", "id,question,category\n1,Q?,x\n");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().rfind("kb/faq.csv:1:", 0) == 0);
  CHECK(missing.error().find("answer") != std::string::npos);

  auto fields = parse_faq_csv("faq.csv", "question,answer\n\"Multi\nline?\",Yes\nQ2?,A2,extra\n");
  REQUIRE_FALSE(fields.ok());
  CHECK(fields.error().rfind("faq.csv:4:", 0) == 0); // the record after the two-line one

  auto stray = parse_faq_csv("faq.csv", "question,answer\nWhat is \"this\"?,That\n");
  REQUIRE_FALSE(stray.ok());
  CHECK(stray.error().rfind("faq.csv:2:", 0) == 0);

  auto unterminated = parse_faq_csv("faq.csv", "question,answer\nQ?,\"never closed\n\n");
  REQUIRE_FALSE(unterminated.ok());
  CHECK(unterminated.error().rfind("faq.csv:2:", 0) == 0);

  CHECK_FALSE(parse_faq_csv("faq.csv", "").ok());
  auto no_id = parse_faq_csv("faq.csv", "Question,Answer\nQ?,A.\n");
  REQUIRE(no_id.ok());
  CHECK(no_id.value().at(0).id == "faq:2"); // no id column: the line number
}

TEST_CASE("FAQ JSON reads an array or an object with faqs, with string or integer ids") {
  auto arr = parse_faq_json("kb/faq.json", R"([
    {"id": "q1", "question": " How do I reset my password? ", "answer": "Settings, then Security.", "url": "https://x.test/pw"},
    {"id": 7, "question": "Can I pay yearly?", "answer": "Yes.", "category": "billing"},
    {"question": "No id here?", "answer": "Then the file and line name it."}
  ])");
  REQUIRE(arr.ok());
  REQUIRE(arr.value().size() == 3);
  const auto& q1 = arr.value()[0];
  CHECK(q1.id == "faq:q1");
  CHECK(q1.kind == source_kind::faq);
  CHECK(q1.title == "How do I reset my password?");
  CHECK(q1.text == "How do I reset my password?\nSettings, then Security.");
  CHECK(q1.url == "https://x.test/pw");
  CHECK(arr.value()[1].id == "faq:7");
  CHECK(arr.value()[1].url == "kb/faq.json");
  CHECK(arr.value()[2].id == "faq:kb/faq.json:4");

  auto wrapped = parse_faq_json("f.json", "\xEF\xBB\xBF{\"version\": 1, \"tags\": [\"a\"], \"faqs\": [{\"question\": \"Q?\", \"answer\": \"A.\"}]}");
  REQUIRE(wrapped.ok());
  REQUIRE(wrapped.value().size() == 1);
  CHECK(wrapped.value()[0].title == "Q?");
  auto empty = parse_faq_json("f.json", "[]");
  REQUIRE(empty.ok());
  CHECK(empty.value().empty());
}

TEST_CASE("FAQ JSON errors name the file, the line and the entry") {
  auto fails = [](const std::string& text, const std::string& prefix, const std::string& what) {
    auto r = parse_faq_json("faq.json", text);
    REQUIRE_FALSE(r.ok());
    INFO(r.error());
    CHECK(r.error().rfind(prefix, 0) == 0);
    CHECK(r.error().find(what) != std::string::npos);
  };
  fails("[\n  {\"question\": \"Q?\", \"answer\": \"A\"},\n  {\"question\": \"Q2?\"}\n]", "faq.json:3:",
        "FAQ entry 2: missing required field 'answer'");
  fails("[\n  {\"question\": \"Q?\",\n   \"answer\": }\n]", "faq.json:3:", "invalid JSON");
  fails("[{\"question\": \"Q?\", \"answer\": \"\"}]", "faq.json:1:", "'answer' must be a non-empty string");
  fails("[{\"question\": 3, \"answer\": \"A\"}]", "faq.json:1:", "'question' must be a non-empty string");
  fails("[\n\"just text\"\n]", "faq.json:2:", "FAQ entry 1: expected an object");
  fails("[{\"id\": \"a\", \"question\": \"Q\", \"answer\": \"A\"},\n {\"id\": \"a\", \"question\": \"Q\", \"answer\": \"A\"}]",
        "faq.json:2:", "duplicate FAQ id 'a'");
  fails("[{\"id\": [1], \"question\": \"Q\", \"answer\": \"A\"}]", "faq.json:1:", "'id' must be a string or an integer");
  fails("{\"questions\": []}", "faq.json:1:", "expected an array");
  fails("42", "faq.json:1:", "expected an array");
  fails("", "faq.json:1:", "invalid JSON");
  fails("[1e99999]", "faq.json:1:", "invalid JSON");
}

TEST_CASE("HTML tag names are matched in any case, and a '<' inside a script does not end it") {
  // Exported help centres write upper-case tags; the end-tag search jumps from '<' to '<', so the '<'s
  // in the script (and a '</scr' that is not the end) must not stop it short or let it skip the real end.
  const std::string html = "<HTML><HEAD><TITLE>Billing &amp; Plans</Title></HEAD><BODY>"
                           "<SCRIPT>if (a<b && c <d) { s = '</scr' + 'ipt>'; }</SCRIPT>"
                           "<H1>Invoices</H1><P>Invoices are emailed to the billing contact on the first day of each month.</P>"
                           "<STYLE>p < q { }</style><H2>Refunds</h2><p>Refunds reach the original card within five business days.</P>"
                           "</BODY></HTML>";
  auto chunks = detail::chunk_html("billing.html", html, {});
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0].title == "Billing & Plans");
  CHECK(chunks[0].section == "Invoices");
  CHECK(chunks[0].text == "Invoices are emailed to the billing contact on the first day of each month.");
  CHECK(chunks[1].section == "Invoices > Refunds");
  CHECK(chunks[1].text == "Refunds reach the original card within five business days.");
  CHECK(detail::html_problem(html).empty());
  CHECK(detail::html_problem("<SCRIPT>x < y").rfind("1: <script> element is never closed", 0) == 0);
}

TEST_CASE("Broken HTML is found with its line, untidy but readable HTML is not broken") {
  using detail::html_problem;
  CHECK(html_problem("<html><body><div><p>Unclosed paragraphs<div>and mismatched</span> tags</body>").empty());
  CHECK(html_problem("<p>a < b and c > d, x<3</p>").empty());
  CHECK(html_problem("<script>if (a<b) { s = '<a href=\"'; }</script><p>text</p>").empty());
  CHECK(html_problem("").empty());
  CHECK(html_problem("<p>one</p>\n<p>two\n<img src=\"x.png\n").rfind("3: tag '<img' is never closed", 0) == 0);
  CHECK(html_problem("ok\n<!-- note\nmore").rfind("2: comment '<!--' is never closed", 0) == 0);
  CHECK(html_problem("<style>\np { color: red }\n").rfind("1: <style> element is never closed", 0) == 0);
  CHECK(html_problem("<p>x</p>\n<!DOCTYPE html").rfind("2: tag '<!' is never closed", 0) == 0);
}

TEST_CASE("Tickets JSONL makes one chunk per ticket and names a bad line") {
  const std::string jsonl =
    R"({"id":"T-1","subject":"Refund not received","conversation":[{"role":"customer","text":"I was promised a refund."},{"role":"agent","text":"Checking now."}],"resolution":"Refund re-issued to card.","tags":["billing"],"intent":"refund"})"
    "\n\n"
    R"({"id":42,"subject":"Login loop","conversation":[],"resolution":""})"
    "\n";
  auto r = parse_tickets_jsonl("tickets.jsonl", jsonl);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  const auto& t = r.value()[0];
  CHECK(t.id == "ticket:T-1");
  CHECK(t.kind == source_kind::ticket);
  CHECK(t.title == "Refund not received");
  CHECK(t.text == "Refund not received\nI was promised a refund.\nChecking now.\nResolution: Refund re-issued to card.");
  CHECK(t.url == "tickets.jsonl");
  CHECK(r.value()[1].id == "ticket:42");

  auto bad_json = parse_tickets_jsonl("t.jsonl", jsonl + "{not json\n");
  REQUIRE_FALSE(bad_json.ok());
  CHECK(bad_json.error().rfind("t.jsonl:4:", 0) == 0);
  CHECK(bad_json.error().find("invalid JSON") != std::string::npos);

  auto missing = parse_tickets_jsonl("t.jsonl", R"({"id":"x","conversation":[],"resolution":"r"})");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().rfind("t.jsonl:1:", 0) == 0);
  CHECK(missing.error().find("subject") != std::string::npos);

  auto not_object = parse_tickets_jsonl("t.jsonl", "[1,2]\n");
  CHECK_FALSE(not_object.ok());
}

TEST_CASE("Query terms are lowercase words without stop words or FTS5 syntax") {
  using detail::fts_query;
  CHECK(detail::query_terms("How do I reset MY Password?") == std::vector<std::string>{"reset", "password"});
  CHECK(fts_query("reset token") == "\"reset\" OR \"token\"");
  CHECK(fts_query("\"quoted\" AND (x OR y*) NOT -z NEAR(a b) col:val ^start")
        == "\"quoted\" OR \"x\" OR \"y\" OR \"z\" OR \"near\" OR \"b\" OR \"col\" OR \"val\" OR \"start\"");
  CHECK(fts_query("the of and to").empty());
  CHECK(fts_query("  ...!!! ").empty());
  CHECK(fts_query("Caf\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve") == "\"caf\xC3\xA9\" OR \"na\xC3\xAFve\"");
  CHECK(fts_query("bad \xFF\xFE bytes") == "\"bad\" OR \"bytes\"");
  CHECK(fts_query("refund refund REFUND") == "\"refund\"");
}

TEST_CASE("Source kinds convert to and from their names") {
  source_kind k = source_kind::doc;
  CHECK(from_string("ticket", k));
  CHECK(k == source_kind::ticket);
  CHECK_FALSE(from_string("wiki", k));
  CHECK(std::string(to_string(source_kind::faq)) == "faq");
}

TEST_CASE("the FTS query is widened with the words the documentation uses", "[knowledge][query]") {
  auto q = sa::knowledge::detail::fts_query("pay yearly");
  CHECK(q.find("\"annual\"") != std::string::npos);
  CHECK(q.find("\"payment\"") != std::string::npos);
  CHECK(q.find("\"yearly\"") != std::string::npos);
}
