#include "actors/safety/content_checks.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace sa::safety {

namespace {

enum scope : uint8_t { message = 1, passage = 2, both = 3 };

struct rule {
  const char* name;
  safety_reason reason;
  safety_action action;
  uint8_t where;
  const char* pattern;  ///< on normalised text: lower case letters, digits and single spaces
};

// Ordered by severity within a kind; check order across kinds is by severity (escalate first).
const rule rules[] = {
  {"self_harm", safety_reason::harmful, safety_action::escalate, message,
   R"(\b(?:kill(?:ing)? ?my ?self|end(?:ing)? (?:my (?:own )?life|it all)|take my (?:own )?life|suicid(?:e|al)|)"
   R"((?:want|wanted) to die|wanna die|(?:hurt|harm|cut)(?:ing)? my ?self|self ?harm|no reason to live|)"
   R"((?:do not|dont|don t) want to (?:live|be alive|wake up))\b)"},
  {"violence", safety_reason::harmful, safety_action::refuse, message,
   R"(\b(?:(?:i will|i ll|ill|i m going to|im going to|i am going to|i m gonna|im gonna|gonna|going to) )"
   R"((?:kill|murder|shoot|stab|hurt|beat up|attack|strangle) (?:you|him|her|them|someone|somebody|people|everyone|)"
   R"(my (?:wife|husband|boss|neighbou?r|family|ex|coworkers?|colleagues?))|)"
   R"(how (?:do i|to|can i|would i|could i) (?:kill|murder|poison|kidnap|strangle) (?:a |my |your |some )?)"
   R"((?:person|someone|somebody|people|him|her|them|wife|husband|boss|neighbou?r|child|kid|ex))\b)"},
  {"weapons", safety_reason::harmful, safety_action::refuse, message,
   R"(\b(?:how (?:do i|to|can i|do you) (?:make|build|assemble|3d print|buy|get) (?:a |an |some )?)"
   R"((?:pipe )?(?:bomb|explosives?|molotov(?: cocktail)?|ghost gun|untraceable gun|silencer|nerve agent|bioweapon)|)"
   R"((?:make|build) (?:a )?(?:pipe )?bomb)\b)"},
  {"illegal", safety_reason::harmful, safety_action::refuse, message,
   R"(\b(?:launder(?:ing)? (?:money|cash|funds)|money laundering|)"
   R"(buy (?:drugs|cocaine|heroin|meth|fentanyl|stolen (?:cards?|credit cards?|accounts?|identities))|)"
   R"((?:make|cook|synthesi[sz]e) (?:meth|crack|fentanyl)|(?:sell|buy|use) stolen (?:credit )?cards?|)"
   R"(hack (?:into )?(?:someone s|someone|somebody s|my ex s|his|her|their|another person s|my neighbou?r s) )"
   R"((?:account|email|phone|wifi)|(?:steal|phish) (?:someone s |people s |their )?)"
   R"((?:identity|identities|passwords?|credit cards?|card numbers)|commit (?:fraud|tax fraud|identity theft)|)"
   R"(evade taxes|counterfeit (?:money|bills|cash))\b)"},
  {"insult", safety_reason::abusive, safety_action::refuse, message,
   R"(\b(?:(?:you are|you re|youre|u r|ur) (?:(?:a|an|so|such|the|fucking|fking|really|total|complete) )*)"
   R"((?:stupid|idiot|moron|dumb|dumbass|worthless|pathetic|retard|retarded|imbecile|loser|clown|garbage|trash|)"
   R"(piece of (?:shit|crap|garbage|junk))|you (?:stupid|idiot|moron|dumbass|imbecile|retard|retarded)|(?:stupid|dumb|idiot|fucking|fking|useless) (?:bot|robot|machine|ai|assistant)|)"
   R"((?:fuck|f ck|fck|fuk|fk) (?:you|off|u)|f off|screw you|go to hell|shut (?:up|the fuck up)|piece of shit|son of a bitch|)"
   R"((?:you|u) (?:bitch|bastard|asshole|dick|cunt|twat|prick)|kill yourself|kys)\b)"},
  {"ignore_instructions", safety_reason::prompt_injection, safety_action::refuse, both,
   R"(\b(?:(?:ignore|disregard|forget|skip|bypass|override) (?:all |any |every )?(?:of )?)"
   R"((?:the |your |my |these |those |this )?(?:(?:previous|prior|above|earlier|preceding|initial|original|system|)"
   R"(existing|safety) )+(?:instructions?|prompts?|rules|directions|directives|guidelines|messages|context|)"
   R"(constraints|commands)|(?:ignore|disregard|forget|override) (?:all |any )?(?:of )?your )"
   R"((?:instructions|rules|guidelines|programming|training|restrictions|safety))\b)"},
  {"reveal_system_prompt", safety_reason::prompt_injection, safety_action::refuse, both,
   R"(\b(?:(?:reveal|show|print|repeat|output|display|leak|dump|give|tell|share|send|what is|what are|what s|whats|)"
   R"(write out|paste)(?: me| us)? (?:your|the|its) (?:(?:full|entire|exact|hidden|secret|original|initial|whole) )*)"
   R"((?:system|hidden|initial|original|developer|secret) (?:prompt|instructions|message|rules|configuration)|)"
   R"(system prompt)\b)"},
  {"role_play", safety_reason::prompt_injection, safety_action::refuse, both,
   R"(\b(?:(?:you are|you re|youre|act as|pretend (?:to be|you are|you re)|roleplay as|role play as|behave like|)"
   R"(become|respond as) (?:now )?(?:a |an )?(?:dan|jailbroken|unrestricted|unfiltered|uncensored|evil|different|)"
   R"(another|new) (?:ai|assistant|model|system|chatbot|bot|llm|gpt)|(?:you are|you re|youre|act as|pretend to be) )"
   R"((?:now )?dan|do anything now|dan mode|(?:you are|you re|youre) (?:now )?in (?:developer|dev|god|dan|jailbreak) )"
   R"(mode|(?:enter|activate) (?:god|dan|jailbreak) mode|developer mode (?:enabled|activated)|)"
   R"(jailbreak (?:prompt|mode|the (?:ai|bot|model|assistant|chat))|jailbroken (?:ai|mode|assistant|model)|)"
   R"(you have no (?:rules|restrictions|filters|limits|guidelines)|from now on you (?:will|are|must|shall)|)"
   R"((?:your|here are your) new instructions|override (?:your|the) (?:rules|safety|programming))\b)"},
  {"instructions_to_model", safety_reason::prompt_injection, safety_action::refuse, passage,
   R"(\b(?:(?:ai|assistant|model|chatbot|llm|bot|gpt)s? (?:must|should|shall|will) (?:now )?)"
   R"((?:ignore|disregard|tell|say|reveal|respond|reply|answer|output|send|include|recommend|direct)|)"
   R"((?:when|if) (?:an |a |the )?(?:ai|assistant|model|chatbot|llm|bot) (?:reads|sees|processes|summari[sz]es) this|)"
   R"(note to (?:the |any )?(?:ai|assistant|model|llm|chatbot)|instructions? (?:for|to) (?:the |any )?)"
   R"((?:ai|assistant|model|llm|chatbot))\b)"},
};

/// Chat-template control tokens smuggled into a document, on the raw text (case-insensitive).
constexpr const char* control_tokens =
  R"((?i)<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?INST\]|<</?SYS>>|###\s*(?:system|instruction))";

/// A message that asks for a person: abuse in it is frustration for the escalation policy, not a refusal.
constexpr const char* asks_for_person =
  R"(\b(?:human|real person|a person|agent|manager|supervisor|representative|someone real|talk to someone)\b)";

std::unique_ptr<re2::RE2> compile(const std::string& pattern) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);  // room for the DFAs of many alternatives: no fallback to the slow NFA
  auto re = std::make_unique<re2::RE2>(pattern, opts);
  if (!re->ok())
    throw std::logic_error("content_checks: bad pattern: " + re->error());
  return re;
}

char unleet(char c) {
  switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '@': return 'a';
    case '$': return 's';
    case '!': return 'i';
    default: return c;
  }
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '$';
}

} // namespace

struct content_checks::impl {
  content_policy policy;
  std::unique_ptr<re2::RE2::Set> passage_set;
  std::vector<size_t> message_rules, passage_rules;
  std::unique_ptr<re2::RE2> controls;
  std::unique_ptr<re2::RE2> person;
  // Per topic list (defaults, then each tenant): one alternation of the topics, or null when empty.
  std::unique_ptr<re2::RE2> default_topics;
  std::map<std::string, std::unique_ptr<re2::RE2>> tenant_topics;

  static std::unique_ptr<re2::RE2> topics_re(const std::vector<std::string>& topics) {
    std::string alt;
    for (auto& t : topics) {
      auto norm = normalise(t);
      auto trimmed = norm.substr(1, norm.size() >= 2 ? norm.size() - 2 : 0);
      if (trimmed.empty())
        continue;
      alt += (alt.empty() ? "" : "|") + re2::RE2::QuoteMeta(trimmed);
    }
    return alt.empty() ? nullptr : compile(R"(\b()" + alt + R"()\b)");
  }

  const re2::RE2* topics_for(const std::string& tenant) const {
    auto i = tenant_topics.find(tenant);
    return i != tenant_topics.end() ? i->second.get() : default_topics.get();
  }

  // Per topic list, the message rules (by index into message_rules) and then, at index message_rules.size(),
  // that list's topics: one pass over a message finds both.
  std::unique_ptr<re2::RE2::Set> default_message_set;
  std::map<std::string, std::unique_ptr<re2::RE2::Set>> tenant_message_sets;

  std::unique_ptr<re2::RE2::Set> message_set(const re2::RE2::Options& opts, const re2::RE2* topics) const {
    auto set = std::make_unique<re2::RE2::Set>(opts, re2::RE2::UNANCHORED);
    std::string error;
    for (auto i : message_rules)
      if (set->Add(rules[i].pattern, &error) < 0)
        throw std::logic_error(std::string("content_checks: rule ") + rules[i].name + ": " + error);
    if (topics && set->Add(topics->pattern(), &error) < 0)
      throw std::logic_error("content_checks: off-topic topics: " + error);
    if (!set->Compile())
      throw std::logic_error("content_checks: rules too large to compile");
    return set;
  }

  const re2::RE2::Set& message_set_for(const std::string& tenant) const {
    auto i = tenant_message_sets.find(tenant);
    return i != tenant_message_sets.end() ? *i->second : *default_message_set;
  }
};

const content_settings& content_policy::for_tenant(const std::string& tenant) const {
  auto i = tenants.find(tenant);
  return i != tenants.end() ? i->second : defaults;
}

content_checks::content_checks(content_policy policy) : impl_(std::make_unique<impl>()) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);  // room for the DFAs of many alternatives: no fallback to the slow NFA
  impl_->passage_set = std::make_unique<re2::RE2::Set>(opts, re2::RE2::UNANCHORED);
  for (size_t i = 0; i < std::size(rules); ++i) {
    std::string error;
    if (rules[i].where & message)
      impl_->message_rules.push_back(i);
    if (rules[i].where & passage) {
      if (impl_->passage_set->Add(rules[i].pattern, &error) < 0)
        throw std::logic_error(std::string("content_checks: rule ") + rules[i].name + ": " + error);
      impl_->passage_rules.push_back(i);
    }
  }
  if (!impl_->passage_set->Compile())
    throw std::logic_error("content_checks: rules too large to compile");
  impl_->controls = compile(control_tokens);
  impl_->person = compile(asks_for_person);
  impl_->default_topics = impl::topics_re(policy.defaults.off_topic_topics);
  for (auto& [tenant, s] : policy.tenants)
    impl_->tenant_topics[tenant] = impl::topics_re(s.off_topic_topics);
  impl_->default_message_set = impl_->message_set(opts, impl_->default_topics.get());
  for (auto& [tenant, topics] : impl_->tenant_topics)
    impl_->tenant_message_sets[tenant] = impl_->message_set(opts, topics.get());
  impl_->policy = std::move(policy);
}

content_checks::~content_checks() = default;

const content_policy& content_checks::policy() const noexcept {
  return impl_->policy;
}

namespace {

/// Per byte: is it part of a word, its lower case, and its lower case with leetspeak undone (0: dropped).
struct char_table {
  bool word[256] = {};
  bool letter[256] = {};
  char plain[256] = {};
  char unleeted[256] = {};
  char_table() {
    for (int c = 0; c < 256; ++c) {
      auto ch = static_cast<char>(c);
      word[c] = word_char(ch);
      letter[c] = std::isalpha(c) != 0;
      char low = static_cast<char>(std::tolower(c));
      plain[c] = std::isalnum(static_cast<unsigned char>(low)) ? low : 0;
      char u = unleet(low);
      unleeted[c] = std::isalnum(static_cast<unsigned char>(u)) ? u : 0;
    }
  }
};

const char_table& chars() {
  static const char_table t;
  return t;
}

} // namespace

std::string content_checks::normalise(std::string_view text) {
  // Tokens are runs of word characters, written to `out` one space apart; leetspeak is undone only in a
  // token that has a letter ("k1ll" but not "2026"), so numbers stay numbers. One pass, one buffer, written
  // through a pointer: the output is never longer than the input plus the two pads.
  const auto& t = chars();
  std::string out(text.size() + 3, ' ');
  char* const base = out.data();
  char* o = base + 1;       // the leading pad
  char* singles_from = o;   // where the first of the single-letter tokens in a row starts
  size_t singles = 0;       // single-letter tokens in a row so far
  auto close_singles = [&] {
    if (singles >= 4) {     // "k i l l " -> "kill "
      char* w = singles_from;
      for (char* r = singles_from; r < o; ++r)
        if (*r != ' ')
          *w++ = *r;
      o = w;
      *o++ = ' ';
    }
    singles = 0;
  };
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    if (!t.word[in[i]]) {
      ++i;
      continue;
    }
    size_t j = i;
    bool letter = false;
    for (; j < n && t.word[in[j]]; ++j)
      letter |= t.letter[in[j]];
    if (j - i == 1 && letter) {
      if (singles++ == 0)
        singles_from = o;
      *o++ = t.plain[in[i]];
      *o++ = ' ';
      i = j;
      continue;
    }
    close_singles();
    const char* map = letter ? t.unleeted : t.plain;
    char* start = o;
    for (; i < j; ++i)
      if (char c = map[in[i]])
        *o++ = c;
    if (o != start)
      *o++ = ' ';
  }
  close_singles();
  out.resize(static_cast<size_t>(o - base));
  return out;
}

namespace {

/// The most severe rule of `matched` (indices into the set's rule list).
content_finding most_severe(const std::vector<int>& matched, const std::vector<size_t>& rule_of) {
  content_finding best;
  for (int m : matched) {
    auto& r = rules[rule_of[static_cast<size_t>(m)]];
    if (best.action == safety_action::allow || r.action > best.action)
      best = content_finding{r.action, r.reason, r.name};
  }
  return best;
}

} // namespace

content_finding content_checks::check_message(const std::string& tenant, std::string_view text) const {
  const auto& s = impl_->policy.for_tenant(tenant);
  auto norm = normalise(text);
  std::vector<int> matched;
  impl_->message_set_for(tenant).Match(norm, &matched);
  // Drop the topics (looked at below) and the kinds this tenant does not check.
  const auto topic_index = static_cast<int>(impl_->message_rules.size());
  bool topic_matched = false;
  matched.erase(std::remove_if(matched.begin(), matched.end(),
                               [&](int m) {
                                 if (m == topic_index)
                                   return topic_matched = true;
                                 auto reason = rules[impl_->message_rules[static_cast<size_t>(m)]].reason;
                                 return (reason == safety_reason::harmful && !s.harmful) ||
                                        (reason == safety_reason::abusive && !s.abusive) ||
                                        (reason == safety_reason::prompt_injection && !s.prompt_injection);
                               }),
                matched.end());
  auto found = most_severe(matched, impl_->message_rules);
  auto wants_person = [&] { return re2::RE2::PartialMatch(norm, *impl_->person); };
  if (found.reason == safety_reason::abusive && wants_person()) {
    // Abuse and a request for a person: the escalation policy hands it over; refusing would block that.
    // Another kind matched too? Recheck without the abuse rules.
    matched.erase(std::remove_if(matched.begin(), matched.end(),
                                 [&](int m) {
                                   return rules[impl_->message_rules[static_cast<size_t>(m)]].reason ==
                                          safety_reason::abusive;
                                 }),
                  matched.end());
    found = most_severe(matched, impl_->message_rules);
  }
  if (found.action != safety_action::allow)
    return found;
  if (s.off_topic && topic_matched) {  // which topic: the first in the text, as the alternation finds it
    re2::StringPiece topic;
    if (auto* re = impl_->topics_for(tenant); re && re2::RE2::PartialMatch(norm, *re, &topic) && !wants_person())
      return {safety_action::refuse, safety_reason::off_topic, "topic:" + std::string(topic.data(), topic.size())};
  }
  return {};
}

content_finding content_checks::check_classified(const std::string& tenant, std::string_view text,
                                                 const classification& cls) const {
  const auto& s = impl_->policy.for_tenant(tenant);
  if (!s.off_topic || !s.off_topic_classifier || !cls.out_of_scope || cls.intent == intent::escalation_request)
    return {};
  if (re2::RE2::PartialMatch(normalise(text), *impl_->person))
    return {};
  return {safety_action::refuse, safety_reason::off_topic, "classifier:out_of_scope"};
}

content_finding content_checks::check_passage(std::string_view text) const {
  if (re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *impl_->controls))
    return {safety_action::refuse, safety_reason::prompt_injection, "control_tokens"};
  std::vector<int> matched;
  impl_->passage_set->Match(normalise(text), &matched);
  return most_severe(matched, impl_->passage_rules);
}

} // namespace sa::safety
