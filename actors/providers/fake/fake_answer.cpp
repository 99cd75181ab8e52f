// fake_answer: deterministic answers derived from the request (see fake_answer.hpp).
#include "actors/providers/fake/fake_answer.hpp"

#include "actors/providers/fake/fake_tools.hpp"

#include <cctype>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace sa::providers::fake {

using json = nlohmann::json;

namespace {

constexpr std::array<const char*, 8> sentences = {
  "Thank you for reaching out.",
  "I have looked into your account.",
  "The duplicate charge will be refunded within five business days.",
  "Your ticket has been updated.",
  "Is there anything else I can help with?",
  "Please check your email for a confirmation.",
  "I understand how frustrating this is.",
  "The issue has been passed to our billing team.",
};

constexpr std::size_t quote_bytes = 40;

/// The text of an OpenAI/Anthropic "content": a string, or a list of {"type":"text","text":...} blocks.
std::string content_text(const json& content) {
  if (content.is_string())
    return content.get<std::string>();
  std::string out;
  if (content.is_array())
    for (const auto& block : content)
      if (block.is_object()) {
        auto it = block.find("text");
        if (it != block.end() && it->is_string()) {
          if (!out.empty())
            out += ' ';
          out += it->get<std::string>();
        }
      }
  return out;
}

/// True when a message holds only tool results (an OpenAI "tool" message, an Anthropic user message of
/// tool_result blocks, a Gemini turn of functionResponse parts): it is not the customer's text.
bool only_tool_results(const json& blocks) {
  if (!blocks.is_array() || blocks.empty())
    return false;
  for (const auto& b : blocks)
    if (!b.is_object() || !(b.value("type", std::string()) == "tool_result" || b.contains("functionResponse")))
      return false;
  return true;
}

/// Gemini {"parts":[{"text":...}]}.
std::string parts_text(const json& content) {
  if (!content.is_object())
    return {};
  auto parts = content.find("parts");
  if (parts == content.end())
    return {};
  return content_text(*parts);
}

uint32_t u32_or(const json& j, const char* key, uint32_t fallback) {
  if (!j.is_object())
    return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    return fallback;
  auto v = it->get<uint64_t>();
  return v > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(v);
}

/// The tool's name and schema: OpenAI {"type":"function","function":{name, parameters}}, Anthropic
/// {name, input_schema}, Gemini {"functionDeclarations":[{name, parameters}]}.
void collect_tools(provider_kind p, const json& body, answer_request& r) {
  auto tools = body.find("tools");
  if (tools == body.end() || !tools->is_array())
    return;
  auto add = [&](const json& decl, const char* schema_key) {
    if (!decl.is_object() || !decl.contains("name") || !decl["name"].is_string())
      return;
    r.tool_names.push_back(decl["name"].get<std::string>());
    r.tool_schemas.push_back(decl.contains(schema_key) ? decl[schema_key].dump() : std::string("{}"));
  };
  for (const auto& t : *tools) {
    if (!t.is_object())
      continue;
    if (p == provider_kind::openai && t.contains("function"))
      add(t["function"], "parameters");
    else if (p == provider_kind::anthropic)
      add(t, "input_schema");
    else if (p == provider_kind::gemini && t.contains("functionDeclarations") && t["functionDeclarations"].is_array())
      for (const auto& d : t["functionDeclarations"])
        add(d, "parameters");
  }
}

/// {"prop": quote} for every string property of the schema ("string" or Gemini's "STRING").
std::string tool_arguments(const std::string& schema_text, const std::string& quote) {
  json args = json::object();
  auto schema = json::parse(schema_text, nullptr, false);
  if (schema.is_object() && schema.contains("properties") && schema["properties"].is_object())
    for (const auto& [name, prop] : schema["properties"].items())
      if (prop.is_object() && prop.contains("type") && prop["type"].is_string()) {
        auto type = prop["type"].get<std::string>();
        if (type == "string" || type == "STRING")
          args[name] = quote;
      }
  return args.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Pieces of at most `size` bytes, never splitting a UTF-8 character.
std::vector<std::string> fragments_of(const std::string& text, std::size_t size = 8) {
  std::vector<std::string> out;
  std::size_t i = 0;
  size = std::max<std::size_t>(size, 1);
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + size);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      ++end;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

} // namespace

const char* to_string(provider_kind p) noexcept {
  switch (p) {
    case provider_kind::openai: return "openai";
    case provider_kind::anthropic: return "anthropic";
    case provider_kind::gemini: return "gemini";
  }
  return "unknown";
}

std::optional<provider_kind> provider_from_string(std::string_view name) noexcept {
  if (name == "openai") return provider_kind::openai;
  if (name == "anthropic") return provider_kind::anthropic;
  if (name == "gemini") return provider_kind::gemini;
  return std::nullopt;
}

uint64_t fnv1a(std::string_view text) noexcept {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t estimate_tokens(std::string_view text) noexcept {
  uint64_t n = (text.size() + 3) / 4;
  return n == 0 ? 1 : n;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut; // text[cut] is a continuation byte: back up to the start of its character
  return std::string(text.substr(0, cut)) + "...";
}

std::vector<std::string> split_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && text[i] == ' ')
      ++i;
    while (i < text.size() && text[i] != ' ')
      ++i;
    out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::string answer::joined_text() const {
  std::string s;
  for (const auto& t : text)
    s += t;
  return s;
}

std::string answer::joined_thinking() const {
  std::string s;
  for (const auto& t : thinking)
    s += t;
  return s;
}

result<answer_request> parse_answer_request(provider_kind provider, std::string_view body,
                                            std::string_view gemini_model, bool gemini_stream) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return failure{std::string("fake-provider: the ") + to_string(provider) +
                   " request body is not a JSON object"};
  answer_request r;
  r.provider = provider;
  std::string all_text;
  if (provider == provider_kind::gemini) {
    r.model = std::string(gemini_model);
    r.stream = gemini_stream;
    if (auto sys = j.find("systemInstruction"); sys != j.end())
      all_text += parts_text(*sys);
    if (auto contents = j.find("contents"); contents != j.end() && contents->is_array())
      for (const auto& c : *contents) {
        auto text = parts_text(c);
        all_text += text;
        if (c.is_object() && c.value("role", std::string("user")) == "user" &&
            !(c.contains("parts") && only_tool_results(c["parts"])))
          r.last_user_text = text;
      }
    if (auto cfg = j.find("generationConfig"); cfg != j.end() && cfg->is_object()) {
      r.max_tokens = u32_or(*cfg, "maxOutputTokens", 0);
      if (auto tc = cfg->find("thinkingConfig"); tc != cfg->end())
        r.thinking = u32_or(*tc, "thinkingBudget", 0) > 0;
      r.json_mode = cfg->value("responseMimeType", std::string()) == "application/json";
    }
  } else {
    if (auto m = j.find("model"); m != j.end() && m->is_string())
      r.model = m->get<std::string>();
    if (auto s = j.find("stream"); s != j.end() && s->is_boolean())
      r.stream = s->get<bool>();
    if (auto sys = j.find("system"); sys != j.end()) {
      auto sys_text = content_text(*sys);
      if (provider == provider_kind::anthropic && sys_text.find("JSON object") != std::string::npos)
        r.json_mode = true; // Anthropic has no JSON mode: the prompt asks for it
      all_text += sys_text;
    }
    if (auto msgs = j.find("messages"); msgs != j.end() && msgs->is_array())
      for (const auto& m : *msgs) {
        if (!m.is_object())
          continue;
        auto text = m.contains("content") ? content_text(m["content"]) : std::string();
        all_text += text;
        if (m.value("role", std::string()) == "user" && !(m.contains("content") && only_tool_results(m["content"])))
          r.last_user_text = text;
      }
    if (provider == provider_kind::openai) {
      r.max_tokens = u32_or(j, "max_completion_tokens", u32_or(j, "max_tokens", 0));
      if (auto so = j.find("stream_options"); so != j.end() && so->is_object())
        r.include_usage = so->value("include_usage", false);
      if (auto rf = j.find("response_format"); rf != j.end() && rf->is_object())
        r.json_mode = rf->value("type", std::string()) == "json_object";
    } else {
      r.max_tokens = u32_or(j, "max_tokens", 0);
      if (auto th = j.find("thinking"); th != j.end() && th->is_object())
        r.thinking = th->value("type", std::string()) == "enabled";
    }
  }
  collect_tools(provider, j, r);
  read_tool_turns(provider, j, r);
  r.prompt_tokens = estimate_tokens(all_text);
  return r;
}

std::string fake_signature(std::string_view model, std::string_view last_user_text) {
  // "fake-signature" in base64, then the hash of what the thinking was about
  return "ZmFrZS1zaWduYXR1cmU" + hex64(fnv1a(std::string(model) + '\n' + std::string(last_user_text)));
}

std::string json_answer(std::string_view last_user_text) {
  // The quality monitor's judge request (actors/quality/judge_rubric.cpp): fixed rubric scores, accuracy 2
  // when no context was retrieved, so a test can tell the two apart.
  if (last_user_text.rfind("QUESTION:\n", 0) == 0 && last_user_text.find("\nANSWER:\n") != std::string_view::npos) {
    bool no_context = last_user_text.find("(no context was retrieved)") != std::string_view::npos;
    return std::string{"{\"relevance\": 4, \"accuracy\": "} + (no_context ? "2" : "4") +
           ", \"helpfulness\": 3, \"tone\": 5}";
  }
  // The safety check's moderation request (actors/safety/moderation.cpp): flagged when the message holds
  // "FLAG:<category>" (e.g. "FLAG:illegal"), so a test or a chaos run chooses the verdict; else not flagged.
  constexpr std::string_view moderate = "MESSAGE TO MODERATE:\n";
  if (last_user_text.substr(0, moderate.size()) == moderate) {
    auto at = last_user_text.find("FLAG:");
    if (at == std::string_view::npos)
      return "{\"flagged\": false, \"category\": \"none\"}";
    auto end = at + 5;
    while (end < last_user_text.size() && (std::isalnum(static_cast<unsigned char>(last_user_text[end])) ||
                                           last_user_text[end] == '_'))
      ++end;
    return "{\"flagged\": true, \"category\": \"" + std::string(last_user_text.substr(at + 5, end - at - 5)) + "\"}";
  }
  std::string text;
  for (char c : last_user_text)
    text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto any = [&](std::initializer_list<const char*> words) {
    for (auto* w : words)
      if (text.find(w) != std::string::npos)
        return true;
    return false;
  };
  const char* intent = "general";
  if (any({"human", "agent", "person", "someone real"}))
    intent = "escalation_request";
  else if (any({"invoice", "bill", "charge", "refund", "price", "plan", "payment", "seat"}))
    intent = "billing";
  else if (any({"password", "login", "log in", "sso", "role", "2fa", "profile", "user"}))
    intent = "account";
  else if (any({"error", "fail", "crash", "api", "integration", "setup", "install", "bug", "webhook"}))
    intent = "technical";
  return std::string{"{\"intent\": \""} + intent + "\", \"confidence\": 0.9, \"out_of_scope\": false}";
}

answer make_answer(const answer_request& r) {
  answer a;
  uint64_t h = fnv1a(r.model + '\n' + r.last_user_text);
  a.id = hex64(h);
  a.prompt_tokens = r.prompt_tokens;
  std::string quote = truncate_utf8(r.last_user_text, quote_bytes);
  std::size_t first = h % sentences.size();
  std::size_t second = (first + 1 + (h >> 8) % (sentences.size() - 1)) % sentences.size();
  if (r.thinking) {
    a.thinking = split_tokens("The customer asked: " + quote + " I should answer briefly and politely.");
    a.signature = fake_signature(r.model, r.last_user_text);
  }
  if (!r.follow_up && (r.script || !r.tool_names.empty())) {
    // A scripted call, else the tool the message names (its arguments shaped by the tool's schema).
    std::optional<tool_answer> t;
    if (r.script) {
      t.emplace();
      t->name = r.script->tool;
      t->arguments_json = r.script->arguments_json;
      if (t->arguments_json.empty())
        for (std::size_t i = 0; i < r.tool_names.size(); ++i)
          if (r.tool_names[i] == r.script->tool)
            t->arguments_json = tool_arguments(r.tool_schemas[i], quote);
      if (t->arguments_json.empty())
        t->arguments_json = "{}";
      a.text = split_tokens(r.script->text);
    } else {
      for (std::size_t i = 0; i < r.tool_names.size() && !t; ++i)
        if (!r.tool_names[i].empty() && r.last_user_text.find(r.tool_names[i]) != std::string::npos) {
          t.emplace();
          t->name = r.tool_names[i];
          t->arguments_json = tool_arguments(r.tool_schemas[i], quote);
        }
    }
    if (t) {
      t->id = a.id;
      t->malformed = r.script && r.script->malformed;
      auto streamed = t->malformed ? t->arguments_json.substr(0, t->arguments_json.size() / 2) : t->arguments_json;
      t->fragments = fragments_of(streamed, r.script ? r.script->fragment_bytes : 8);
      a.tool = std::move(t);
      return a; // a tool call: never cut by max_tokens
    }
  }
  std::string text;
  if (r.follow_up) {
    // Phrase the tool results, so a test sees they reached the model.
    for (const auto& out : r.tool_outputs)
      text += "The " + out.name + " tool " + (out.is_error ? "failed: " : "returned: ") +
              truncate_utf8(out.content, 160) + " ";
    text += sentences[first];
  } else {
    text = r.json_mode ? json_answer(r.last_user_text)
                       : "Answer to: " + quote + " " + sentences[first] + " " + sentences[second];
  }
  a.text = split_tokens(text);
  if (r.max_tokens > 0 && a.output_tokens() > r.max_tokens) {
    a.truncated = true;
    if (a.thinking.size() >= r.max_tokens) {
      a.thinking.resize(r.max_tokens);
      a.text.clear();
    } else {
      a.text.resize(r.max_tokens - a.thinking.size());
    }
  }
  return a;
}

} // namespace sa::providers::fake
