// action_rules: RE2 patterns for explicit tool requests, the confirmation reader and result text
// (see action_rules.hpp). Patterns are case-insensitive and compiled once in the constructor.
#include "actors/actions/action_rules.hpp"

#include "actors/actions/tool_registry.hpp"
#include "actors/text/phrase_match.hpp"

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace sa::actions {

namespace {

using json = nlohmann::json;

constexpr std::size_t subject_max_chars = 120;   // create_ticket.subject
constexpr std::size_t description_max_chars = 2000;
constexpr std::size_t note_max_chars = 500;
constexpr std::size_t reference_max_chars = 64;

std::unique_ptr<RE2> compile(const std::string& src) {
  RE2::Options opts;
  opts.set_case_sensitive(false);
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(src, opts);
  if (!re->ok())  // only reachable through a programming error in the patterns below
    throw std::logic_error("action_rules: bad pattern: " + re->error());
  return re;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim_text(std::string_view s, const char* chars = " \t\r\n") {
  auto b = s.find_first_not_of(chars);
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(chars);
  return std::string(s.substr(b, e - b + 1));
}

/// At most `max` characters, cut at a word boundary with "..." when it had to be cut.
std::string cut(const std::string& s, std::size_t max) {
  if (utf8_length(s) <= max)
    return s;
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size() && chars + 3 < max; ++chars) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out += s.substr(i, len);
    i += len;
  }
  if (auto sp = out.find_last_of(' '); sp != std::string::npos && sp > out.size() / 2)
    out.resize(sp);
  return trim_text(out, " \t\r\n,;:-") + "...";
}

/// Strips request fillers around a subject ("please", "can you", "for me", "thanks") and punctuation.
std::string clean_subject(std::string s) {
  static const std::vector<std::string> leading{"please ", "pls ", "can you ", "could you ", "would you ",
                                                "kindly ", "i want to ", "i'd like to ", "i would like to ",
                                                "i need to ", "i need you to ", "help me ", "go ahead and ",
                                                "and ", "so ", "then ", "me about ", "me regarding ",
                                                "me on ", "me for ", "me "};
  static const std::vector<std::string> trailing{" please", " pls", " for me", " thanks", " thank you",
                                                 " asap", " now"};
  bool changed = true;
  while (changed) {
    changed = false;
    s = trim_text(s, " \t\r\n,.;:!?-");
    auto l = lower(s);
    for (const auto& w : leading)
      if (l.rfind(w, 0) == 0) {
        s = s.substr(w.size());
        changed = true;
        break;
      }
    l = lower(s);
    for (const auto& w : trailing)
      if (l.size() >= w.size() && l.compare(l.size() - w.size(), w.size(), w) == 0) {
        s.resize(s.size() - w.size());
        changed = true;
        break;
      }
  }
  return s;
}

/// The names a tool's `workflow` argument accepts, read from its JSON Schema.
std::vector<std::string> offered_workflows(const action_tool& t) {
  std::vector<std::string> out;
  auto schema = json::parse(t.parameters_json, nullptr, false);
  if (schema.is_discarded())
    return out;
  auto props = schema.find("properties");
  if (props == schema.end() || !props->contains("workflow"))
    return out;
  auto e = (*props)["workflow"].find("enum");
  if (e == (*props)["workflow"].end() || !e->is_array())
    return out;
  for (auto& name : *e)
    if (name.is_string())
      out.push_back(name.get<std::string>());
  return out;
}

const action_tool* find_tool(const std::vector<action_tool>& offered, const char* name) {
  for (auto& t : offered)
    if (t.name == name)
      return &t;
  return nullptr;
}

} // namespace

struct action_rules::impl {
  std::unique_ptr<RE2> ticket_request;  // open/create/file ... ticket
  std::unique_ptr<RE2> subject_lead;    // about / regarding / for ... <subject>
  std::unique_ptr<RE2> workflow_named;  // run the <name> workflow
  std::unique_ptr<RE2> escalate_order;  // escalate ... order
  std::unique_ptr<RE2> order_ref;       // order #1234, ORD-1234
  std::unique_ptr<RE2> lookup_cue;      // status / look up / check / where is ...
  std::unique_ptr<RE2> priority_low, priority_urgent, priority_high;
  std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> workflow_phrases;  // name, phrases

  /// The first order reference in `text` ("" when none): ORD-1234, or the id after "order".
  std::string order_reference(std::string_view text) const {
    re2::StringPiece in(text.data(), text.size()), prefixed, after_word;
    if (!RE2::PartialMatch(in, *order_ref, &prefixed, &after_word))
      return {};
    auto& ref = prefixed.empty() ? after_word : prefixed;
    return std::string(ref.data(), ref.size());
  }

  std::string priority(std::string_view text) const {
    re2::StringPiece in(text.data(), text.size());
    if (RE2::PartialMatch(in, *priority_low))
      return "low";
    if (RE2::PartialMatch(in, *priority_urgent))
      return "urgent";
    if (RE2::PartialMatch(in, *priority_high))
      return "high";
    return "normal";
  }

  /// The workflow a configured phrase or "run the X workflow" names, among `offered`; "" when none.
  std::string requested_workflow(std::string_view text, const std::vector<std::string>& offered) const {
    re2::StringPiece in(text.data(), text.size()), name;
    if (RE2::PartialMatch(in, *workflow_named, &name)) {
      auto n = lower(std::string_view(name.data(), name.size()));
      for (auto& w : offered)
        if (lower(w) == n)
          return w;
    }
    auto words = lower_words(text);
    for (auto& [workflow, phrases] : workflow_phrases) {
      if (std::find(offered.begin(), offered.end(), workflow) == offered.end())
        continue;
      for (auto& p : phrases)
        if (phrase_in(words, p))
          return workflow;
    }
    return {};
  }
};

action_rules::action_rules(std::vector<workflow_phrases> workflows) : impl_(std::make_unique<impl>()) {
  auto& x = *impl_;
  // A request for one new ticket: "open a ticket", "create a support ticket", "file a new case", "create
  // ticket ...". Not "my open tickets" or "any open tickets" (existing ones): "open", "start", "make",
  // "raise", "submit", "log" and "lodge" need an article, and "tickets" (plural) never matches.
  x.ticket_request = compile(  // one group: the whole request phrase
    R"((\b(?:(?:open(?:\s+up)?|start|make|raise|submit|log|lodge|put\s+in)\s+(?:a|an|one|another|new)|)"
    R"((?:create|file)(?:\s+(?:a|an|one|another|new|the))?)(?:\s+[\w'-]+){0,2}?\s+)"
    R"((?:ticket|case|support\s+request)\b))");
  x.subject_lead = compile(
    R"(^[\s,:;-]*(?:about|regarding|re:?|concerning|for|on|titled|called|saying|with\s+the\s+(?:subject|title))\b[\s:]*(.+)$)");
  x.workflow_named = compile(R"(\b(?:trigger|run|start|launch|kick\s+off|execute)\s+(?:the\s+|a\s+|an\s+)?)"
                             R"(([a-z0-9][a-z0-9_-]{0,63})\s+(?:work\s*flow|process)\b)");
  x.escalate_order = compile(R"(\bescalat\w*\b.{0,40}\border\b|\border\b.{0,40}\bescalat\w*)");
  // An order number has at least two characters with a digit among the first ones ("order 2 weeks ago" is none).
  x.order_ref = compile(R"(\b(ord-\d[\w-]{0,30})\b|\border\s*(?:no\.?|number|num\.?|nr\.?|id)?\s*#?\s*)"
                        R"(([a-z]{0,5}-?\d[\w-]{1,30})\b)");
  x.lookup_cue = compile(R"(\b(?:status|look\s*(?:up|into)|lookup|check|find|details?|where\s+is|what\s+is|)"
                         R"(what'?s|show|tell\s+me\s+about|info(?:rmation)?|paid|due|state|happened)\b|\?\s*$)");
  x.priority_low = compile(R"(\b(?:low[\s-]priority|no\s+rush|not\s+urgent|whenever|low\s+prio)\b)");
  x.priority_urgent = compile(R"(\b(?:urgent(?:ly)?|asap|emergency|critical|immediately|right\s+away)\b)");
  x.priority_high = compile(R"(\b(?:high[\s-]priority|important|high\s+prio|escalat\w*)\b)");
  for (auto& w : workflows) {
    std::vector<std::vector<std::string>> phrases;
    for (auto& p : w.phrases)
      if (auto words = lower_words(p); !words.empty())
        phrases.push_back(std::move(words));
    x.workflow_phrases.emplace_back(w.workflow, std::move(phrases));
  }
}

action_rules::~action_rules() = default;

bool action_rules::asks_for_action(std::string_view text) const {
  re2::StringPiece in(text.data(), text.size());
  if (RE2::PartialMatch(in, *impl_->ticket_request) || RE2::PartialMatch(in, *impl_->escalate_order)
      || RE2::PartialMatch(in, *impl_->workflow_named))
    return true;
  auto words = lower_words(text);
  for (auto& [workflow, phrases] : impl_->workflow_phrases)
    for (auto& p : phrases)
      if (phrase_in(words, p))
        return true;
  return false;
}

std::optional<action_call> action_rules::match(std::string_view text, const std::vector<entity_mention>& entities,
                                               const std::vector<action_tool>& offered) const {
  auto& x = *impl_;
  re2::StringPiece in(text.data(), text.size());
  auto entity = [&](const char* kind) -> std::string {
    for (auto& e : entities)
      if (e.kind == kind)
        return e.value;
    return {};
  };
  auto order = x.order_reference(text);
  std::string reference = order;
  std::string reference_kind = order.empty() ? "" : "order";
  if (reference.empty() && !(reference = entity("invoice_id")).empty())
    reference_kind = "invoice";
  if (reference.empty() && !(reference = entity("ticket_id")).empty())
    reference_kind = "ticket";
  reference = cut(reference, reference_max_chars);
  auto message = trim_text(text);

  auto make = [](const char* tool, json args) {
    return action_call{std::string("rule-") + tool, tool, args.dump(-1, ' ', false, json::error_handler_t::replace)};
  };
  auto ticket = [&](std::string subject, std::string priority) {
    json args{{"subject", cut(subject, subject_max_chars)}, {"priority", std::move(priority)}};
    if (!message.empty())
      args["description"] = cut(message, description_max_chars);
    return make(tools::create_ticket, std::move(args));
  };
  const auto* workflow_tool = find_tool(offered, tools::trigger_workflow);
  const auto* ticket_tool = find_tool(offered, tools::create_ticket);
  const auto* lookup_tool = find_tool(offered, tools::lookup_order_or_invoice);

  // 1. A configured workflow, by its phrases or by name.
  if (workflow_tool) {
    if (auto name = x.requested_workflow(text, offered_workflows(*workflow_tool)); !name.empty()) {
      json args{{"workflow", name}};
      if (!reference.empty())
        args["reference"] = reference;
      if (!message.empty())
        args["note"] = cut(message, note_max_chars);
      return make(tools::trigger_workflow, std::move(args));
    }
  }
  // 2. An order escalation with no workflow for it: a high-priority ticket.
  if (ticket_tool && RE2::PartialMatch(in, *x.escalate_order)) {
    auto subject = order.empty() ? std::string("Order escalation") : "Escalation of order " + order;
    auto priority = x.priority(text);
    return ticket(subject, priority == "urgent" ? priority : "high");
  }
  // 3. "open a ticket ...": the subject is what follows "about/regarding/...", else the rest of the message.
  re2::StringPiece found;
  if (ticket_tool && RE2::PartialMatch(in, *x.ticket_request, &found)) {
    auto begin = static_cast<std::size_t>(found.data() - text.data());
    auto end = begin + found.size();
    auto after = std::string(text.substr(end));
    std::string subject;
    re2::StringPiece lead;
    if (RE2::PartialMatch(after, *x.subject_lead, &lead))
      subject = clean_subject(std::string(lead.data(), lead.size()));
    if (subject.size() < 3)
      subject = clean_subject(std::string(text.substr(0, begin)) + " " + after);
    if (subject.size() < 3)
      subject = reference.empty() ? "Support request" : "Question about " + reference_kind + " " + reference;
    if (!subject.empty())
      subject[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(subject[0])));
    return ticket(subject, x.priority(text));
  }
  // 4. A lookup: a reference and a cue ("status of", "check", a question).
  if (lookup_tool && utf8_length(reference) >= 2 && RE2::PartialMatch(in, *x.lookup_cue)) {
    json args{{"reference", reference}};
    if (!reference_kind.empty())
      args["kind"] = reference_kind;
    return make(tools::lookup_order_or_invoice, std::move(args));
  }
  return std::nullopt;
}

reply_kind read_confirmation(std::string_view text) {
  static const std::set<std::string> confirm{"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "k",
                                             "confirm", "confirmed", "proceed", "absolutely", "correct", "do",
                                             "go", "definitely", "affirmative"};
  static const std::set<std::string> decline{"no", "n", "nope", "nah", "cancel", "dont", "stop", "abort",
                                             "nevermind", "not", "never", "negative"};
  static const std::set<std::string> neutral{"please", "pls", "it", "that", "this", "the", "ticket", "workflow",
                                             "ahead", "thanks", "thank", "you", "right", "now", "so", "then",
                                             "sounds", "good", "fine", "great", "perfect", "mind", "i", "that's",
                                             "thats", "a", "for", "me", "bot", "and", "one"};
  auto words = lower_words(text);
  if (words.empty() || words.size() > 8)
    return reply_kind::other;
  bool yes = false, no = false, only_verbs = true;  // "do", "go" alone: "do not" declines
  for (auto& w : words) {
    if (confirm.count(w)) {
      yes = true;
      only_verbs = only_verbs && (w == "do" || w == "go");
    } else if (decline.count(w)) {
      no = true;
    } else if (!neutral.count(w)) {
      return reply_kind::other;
    }
  }
  if (no && yes && only_verbs)
    return reply_kind::decline;
  if (yes && !no)
    return reply_kind::confirm;
  if (no && !yes)
    return reply_kind::decline;
  return reply_kind::other;
}

std::optional<generation> local_tool_step(const generate_request& r, const action_rules* rules) {
  if (!r.tool_results.empty()) {
    generation g;
    g.text = render_results(r.tool_results);
    g.confidence = 1.0;
    g.provider = "local";
    return g;
  }
  if (!rules || r.tools.empty())
    return std::nullopt;
  auto call = rules->match(r.question, r.intent.entities, r.tools);
  if (!call)
    return std::nullopt;
  generation g;
  g.confidence = 1.0;
  g.provider = "local";
  g.tool_calls.push_back(std::move(*call));
  return g;
}

std::string render_results(const std::vector<action_result>& results) {
  std::string out;
  for (auto& r : results) {
    if (r.summary.empty())
      continue;
    if (!out.empty())
      out += "\n\n";
    out += r.summary;
  }
  if (out.empty())
    out = "I couldn't complete that request. Please try again, or ask for a member of our team.";
  return out;
}

} // namespace sa::actions
