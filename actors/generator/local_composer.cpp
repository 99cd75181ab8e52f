#include "actors/generator/local_composer.hpp"

#include "actors/text/phrase_match.hpp"  // lower_words
#include "actors/retriever/synonyms.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_set>

namespace sa {

namespace {

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words{
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "for", "with", "at", "by",
    "from", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "doing",
    "have", "has", "had", "i", "me", "my", "we", "our", "us", "you", "your", "it", "its", "this",
    "that", "these", "those", "there", "here", "what", "which", "who", "whom", "how", "why", "when",
    "where", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "not", "no",
    "so", "than", "too", "very", "just", "about", "into", "over", "again", "some", "any", "all",
    "also", "get", "got", "please", "hi", "hello", "hey", "thanks", "thank", "im", "ive", "id",
    "dont", "doesnt", "cant", "wont", "isnt", "arent", "one", "there", "them", "they", "their",
    "he", "she", "him", "her", "his", "hers", "a", "want", "need", "like", "know", "tell", "help"};
  return words;
}

// Words that carry courtesy, not a question: a message made only of these is small talk.
const std::unordered_set<std::string>& courtesy_words() {
  static const std::unordered_set<std::string> words{
    "hi", "hello", "hey", "thanks", "thank", "thx", "ty", "great", "perfect", "ok", "okay", "cool",
    "awesome", "bye", "goodbye", "good", "morning", "afternoon", "evening", "helped", "helpful",
    "cheers", "nice", "appreciate", "appreciated", "much", "lot", "there", "works", "worked", "fine",
    "excellent", "wonderful", "yes", "yep", "sure", "bot", "welcome", "day", "night"};
  return words;
}

// Words that ask about the customer's own account: the account facts answer these.
const std::unordered_set<std::string>& account_words() {
  static const std::unordered_set<std::string> words{
    "plan", "seat", "invoice", "invoic", "bill", "billing", "renewal", "renew", "payment", "price",
    "subscription", "charge", "charg", "card", "cost", "paying", "pay", "role", "ticket"};
  return words;
}

// Quoted evidence must read as an answer: no questions (FAQ titles) and no code or markup.
bool quotable(const std::string& sentence) {
  if (sentence.empty() || sentence.back() == '?')
    return false;
  size_t letters = 0;
  for (unsigned char c : sentence)
    letters += std::isalpha(c) || c == ' ' ? 1 : 0;
  if (letters * 10 < sentence.size() * 8)
    return false;
  for (auto* code : {"$(", "</", "/>", "{{", "};", "=>", "()"})
    if (sentence.find(code) != std::string::npos)
      return false;
  return true;
}

std::string stem(std::string w) {
  auto strip = [&](const char* suffix) {
    std::string s{suffix};
    if (w.size() > s.size() + 3 && w.compare(w.size() - s.size(), s.size(), s) == 0) {
      w.resize(w.size() - s.size());
      return true;
    }
    return false;
  };
  strip("ing") || strip("ed") || strip("es") || strip("s");
  return w;
}

// Stems match when equal, or when the shorter (at least 4 letters) starts the longer:
// "invoic" (invoices) and "invoice" match both ways.
bool contains_term(const std::vector<std::string>& stems, const std::string& term) {
  for (auto& s : stems) {
    if (s == term)
      return true;
    auto& shorter = s.size() < term.size() ? s : term;
    auto& longer = s.size() < term.size() ? term : s;
    if (shorter.size() >= 4 && longer.compare(0, shorter.size(), shorter) == 0)
      return true;
  }
  return false;
}

std::string money(double amount, const std::string& currency) {
  char buf[64];
  if (currency == "USD")
    std::snprintf(buf, sizeof buf, "$%.2f", amount);
  else
    std::snprintf(buf, sizeof buf, "%.2f %s", amount, currency.c_str());
  return buf;
}

/// A usage figure: whole numbers without decimals, others with up to two.
std::string figure(double x) {
  char buf[64];
  if (std::fabs(x - std::round(x)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.0f", x);
  else
    std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

/// " Usage this period (start to end): builds 340 of 1000; bandwidth 12.5 GB." or "" without usage.
std::string usage_summary(const account_facts& a) {
  if (a.usage.empty())
    return {};
  std::string out = " Usage this period";
  if (!a.usage_period_start.empty() && !a.usage_period_end.empty())
    out += " (" + a.usage_period_start + " to " + a.usage_period_end + ")";
  out += ":";
  for (const auto& m : a.usage) {
    out += " " + m.name + " " + figure(m.used);
    if (m.limit > 0)
      out += " of " + figure(m.limit);
    if (!m.unit.empty())
      out += " " + m.unit;
    out += &m == &a.usage.back() ? "." : ";";
  }
  return out;
}

} // namespace

std::vector<std::string> local_composer::content_terms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : lower_words(text)) {
    if (w.size() < 2 || stop_words().count(w))
      continue;
    auto s = stem(w);
    if (std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> local_composer::sentences(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    auto b = cur.find_first_not_of(" \t*-#>");
    auto e = cur.find_last_not_of(" \t");
    if (b != std::string::npos && e != std::string::npos && e >= b) {
      auto s = cur.substr(b, e - b + 1);
      if (s.size() >= 12)
        out.push_back(std::move(s));
    }
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      flush();
      continue;
    }
    cur.push_back(c);
    if ((c == '.' || c == '?' || c == '!') && (i + 1 == text.size() || text[i + 1] == ' '
                                               || text[i + 1] == '\n'))
      flush();
  }
  flush();
  return out;
}

std::vector<std::string> local_composer::stream_chunks(std::string_view text, std::size_t chunk_chars) {
  std::vector<std::string> out;
  if (chunk_chars == 0)
    chunk_chars = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + chunk_chars);
    if (end < text.size()) {
      auto space = text.find(' ', end);
      end = space == std::string_view::npos ? text.size() : space + 1;
    }
    out.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::string local_composer::account_summary(const generate_request& r) const {
  auto& a = r.account;
  auto in = r.intent.intent;
  if (!a.available) {
    // Asked for, and the account service could not say: the answer says so rather than guessing.
    bool failed = a.failure != account_failure::none && a.failure != account_failure::not_found;
    return failed && (in == intent::billing || in == intent::account)
             ? "I could not look up your account details just now, so this answer does not cover them."
             : std::string{};
  }
  // A part that could not be fetched is unknown, not empty: say so instead of "no invoices".
  bool subscription = !a.lacks("subscription") && !a.plan.empty();
  auto unreachable = [](const char* what) { return std::string{" I could not retrieve your "} + what + " just now."; };
  std::string out;
  if (in == intent::billing) {
    out = a.company.empty() ? "For your account:" : "For your account (" + a.company + "):";
    if (subscription) {
      out += " you are on the " + a.plan + " plan";
      if (a.price > 0) {
        out += " at " + money(a.price, a.currency) + " per " + (a.billing_cycle == "yearly" ? "year" : "month");
        if (!a.next_renewal.empty())
          out += ", renewing on " + a.next_renewal;
        if (!a.payment_method.empty())
          out += ", paid by " + a.payment_method;
      } else {
        out += ", which is free";
      }
      out += ". Seats: " + std::to_string(a.seats_used) + " of " + std::to_string(a.seats_purchased) + " in use.";
    } else if (a.lacks("subscription")) {
      out += unreachable("subscription details");
    }
    out += usage_summary(a);
    if (a.lacks("invoices")) {
      out += unreachable("invoices");
    } else {
      // An invoice named in the question comes first; otherwise the three most recent.
      std::vector<const invoice_info*> shown;
      for (auto& e : r.intent.entities)
        if (e.kind == "invoice_id")
          for (auto& inv : a.invoices)
            if (inv.id == e.value)
              shown.push_back(&inv);
      if (shown.empty())
        for (size_t i = 0; i < a.invoices.size() && i < 3; ++i)
          shown.push_back(&a.invoices[i]);
      if (!shown.empty()) {
        out += " Recent invoices:";
        for (auto* inv : shown)
          out += " " + inv->id + " (" + inv->date + ", " + money(inv->amount, inv->currency) + ", "
                 + inv->status + ")" + (inv == shown.back() ? "." : ";");
      } else {
        out += " There are no invoices on your account yet.";
      }
    }
  } else if (in == intent::account) {
    out = a.company.empty() ? "For your account:" : "For your account (" + a.company + "):";
    if (subscription) {
      if (!a.user_name.empty())
        out += " you are signed in as " + a.user_name + (a.user_role.empty() ? "" : " (" + a.user_role + ")") + ",";
      out += " on the " + a.plan + " plan with " + std::to_string(a.seats_used) + " of "
             + std::to_string(a.seats_purchased) + " seats in use.";
    } else if (a.lacks("subscription")) {
      out += unreachable("subscription details");
    }
    out += usage_summary(a);
    if (out.back() == ':')  // no subscription lookup configured and no usage: nothing to say yet
      out.clear();
  }
  if (in == intent::account || in == intent::technical) {
    if (a.lacks("open_tickets")) {
      out += unreachable("open tickets");
    } else if (!a.open_tickets.empty()) {
      out += out.empty() ? "" : " ";
      out += "Open tickets on your account:";
      for (auto& t : a.open_tickets)
        out += " " + t.id + " \"" + t.subject + "\" (" + t.status + ")" + (&t == &a.open_tickets.back() ? "." : ";");
    }
  }
  if (!out.empty() && out.front() == ' ')
    out.erase(0, 1);
  return out;
}

generation local_composer::compose(const generate_request& r) const {
  generation g;
  g.provider = "local";
  auto words = lower_words(r.question);
  bool small_talk = !words.empty() && !r.intent.out_of_scope && words.size() <= 8
                    && std::all_of(words.begin(), words.end(), [](const std::string& w) {
                         return courtesy_words().count(w) > 0 || stop_words().count(w) > 0;
                       });
  if (small_talk) {
    bool thanks = std::any_of(words.begin(), words.end(), [](const std::string& w) {
      return w == "thanks" || w == "thank" || w == "thx" || w == "ty" || w == "helped" || w == "cheers"
             || w == "appreciate" || w == "appreciated";
    });
    g.text = thanks ? "You're welcome! Is there anything else I can help you with?"
                    : "Hello! I can help with billing, your account, and technical questions about the "
                      "product. What can I do for you?";
    g.confidence = 0.9;  // a complete answer to what was said
    return g;
  }
  auto terms = content_terms(r.question);
  // Each term also counts as covered by the words the documentation uses for it ("yearly" by "annual").
  std::vector<std::vector<std::string>> alternatives(terms.size());
  for (auto& w : lower_words(r.question)) {
    auto t = std::find(terms.begin(), terms.end(), stem(w));
    if (t == terms.end())
      continue;
    for (auto& alt : knowledge::synonyms_of(w))
      alternatives[static_cast<size_t>(t - terms.begin())].push_back(stem(alt));
  }
  struct candidate {
    size_t passage;
    size_t order;
    std::string text;
    double score;
    std::vector<std::string> covered;
  };
  std::vector<candidate> cands;
  auto n_passages = std::min(r.passages.size(), opts_.max_passages);
  for (size_t p = 0; p < n_passages; ++p) {
    // Past tickets are other customers' conversations: only their resolution is evidence to quote.
    std::string_view body = r.passages[p].text;
    if (r.passages[p].kind == source_kind::ticket) {
      auto at = body.find("Resolution:");
      if (at == std::string_view::npos)
        continue;
      body.remove_prefix(at + 11);
    }
    auto sents = sentences(body);
    for (size_t s = 0; s < sents.size(); ++s) {
      if (!quotable(sents[s]))
        continue;
      std::vector<std::string> stems;
      for (auto& w : lower_words(sents[s]))
        stems.push_back(stem(w));
      candidate c{p, s, sents[s], 0, {}};
      for (size_t k = 0; k < terms.size(); ++k) {
        bool hit = contains_term(stems, terms[k]);
        for (size_t a = 0; !hit && a < alternatives[k].size(); ++a)
          hit = contains_term(stems, alternatives[k][a]);
        if (hit)
          c.covered.push_back(terms[k]);
      }
      if (c.covered.empty())
        continue;
      // Distinct query terms matched, damped by length, with a preference for better passages.
      c.score = static_cast<double>(c.covered.size()) / std::sqrt(1.0 + stems.size() / 8.0)
                * (1.0 - 0.15 * static_cast<double>(p));
      cands.push_back(std::move(c));
    }
  }
  std::sort(cands.begin(), cands.end(), [](auto& a, auto& b) { return a.score > b.score; });
  std::vector<candidate> picked;
  std::set<std::string> covered;
  size_t chars = 0;
  for (auto& c : cands) {
    if (picked.size() >= opts_.max_sentences || chars + c.text.size() > opts_.max_answer_chars * 3 / 4)
      break;
    chars += c.text.size();
    covered.insert(c.covered.begin(), c.covered.end());
    picked.push_back(c);
  }
  std::sort(picked.begin(), picked.end(),
            [](auto& a, auto& b) { return std::tie(a.passage, a.order) < std::tie(b.passage, b.order); });

  double coverage = terms.empty() ? 0.0 : static_cast<double>(covered.size()) / terms.size();
  double top = r.passages.empty() ? 0.0 : r.passages.front().score;
  double strength = top / (top + 6.0);
  auto account = account_summary(r);

  std::string text;
  std::vector<size_t> cited;  // the first passage cited for each source, in citation order
  if (!picked.empty() && coverage >= 0.34) {
    text = "Here is what our documentation says:";
    for (auto& c : picked) {
      // Two chunks of the same page are one source: cite the page once.
      auto same_source = [&](size_t p) { return r.passages[p].url == r.passages[c.passage].url
                                                && r.passages[p].title == r.passages[c.passage].title; };
      auto it = std::find_if(cited.begin(), cited.end(), same_source);
      size_t n = (it == cited.end()) ? (cited.push_back(c.passage), cited.size())
                                     : static_cast<size_t>(it - cited.begin()) + 1;
      text += " " + c.text + " [" + std::to_string(n) + "]";
    }
  } else {
    text = "I could not find a reliable answer to that in our documentation.";
    coverage = std::min(coverage, 0.2);
  }
  // A question about the customer's own plan, seats, invoices or payment is answered by the facts
  // first; documentation follows as background.
  bool about_account = !account.empty()
                       && (r.intent.intent == intent::billing || r.intent.intent == intent::account)
                       && std::any_of(terms.begin(), terms.end(),
                                      [](const std::string& t) { return account_words().count(t) > 0; });
  if (about_account)
    text = account + "\n\n" + text;
  else if (!account.empty())
    text += "\n\n" + account;
  if (text.size() > opts_.max_answer_chars) {
    const std::string ellipsis = " ...";
    auto room = opts_.max_answer_chars > ellipsis.size() ? opts_.max_answer_chars - ellipsis.size() : 0;
    auto cut = text.rfind(' ', room);
    text = text.substr(0, cut == std::string::npos ? room : cut) + ellipsis;
  }
  for (auto p : cited) {
    auto& ps = r.passages[p];
    g.sources.push_back(citation{ps.source_id, ps.title, ps.url});
  }
  // Evidence-based confidence: how much of the question the cited text covers, how strong the best
  // match is, and how sure the classifier was. Account facts support billing/account answers.
  double conf = 0.5 * coverage + 0.3 * strength + 0.2 * r.intent.confidence;
  // Only facts lend confidence: a summary that says the subscription could not be fetched does not.
  bool facts = !account.empty() && r.account.available && !r.account.lacks("subscription");
  if (facts && (r.intent.intent == intent::billing || r.intent.intent == intent::account)) {
    conf = std::max(conf, 0.35 + 0.45 * r.intent.confidence);
    if (about_account)
      conf = std::max(conf, 0.8);
  }
  if (r.intent.out_of_scope)
    conf = std::min(conf, 0.3);
  g.confidence = std::clamp(conf, 0.0, 1.0);
  g.text = std::move(text);
  g.usage.prompt_tokens = static_cast<uint32_t>(r.question.size() / 4);
  g.usage.completion_tokens = static_cast<uint32_t>(g.text.size() / 4);
  return g;
}

} // namespace sa
