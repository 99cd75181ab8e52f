// cost_projection: see the header.
#include "actors/quality/cost_projection.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sa::quality {
namespace {

/// Share of turns that ask for thinking when thinking is configured (long or multi-part questions).
constexpr double assumed_thinking_share = 0.2;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  for (;;) {
    auto at = text.find(sep, start);
    out.push_back(text.substr(start, at - start));
    if (at == std::string::npos)
      return out;
    start = at + 1;
  }
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

/// A finite number filling all of `text`.
bool parse_number(const std::string& text, double& out) {
  if (text.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

/// USD for `tokens` of one occurrence on `model` (0 for the free local provider).
result<double> occurrence_usd(const std::map<std::string, config::price_config>& prices, const std::string& model,
                              const component_tokens& tokens, bool input_only) {
  auto i = prices.find(model);
  if (i == prices.end()) {
    if (model == "local")
      return 0.0;
    std::string known;
    for (const auto& [name, price] : prices)
      known += (known.empty() ? "" : ", ") + name;
    return failure{"model \"" + model + "\" has no price in providers.prices (priced: " +
                   (known.empty() ? std::string{"none"} : known) +
                   "); add providers.prices." + model + ".input_per_mtok and .output_per_mtok"};
  }
  double usd = tokens.input * i->second.input_per_mtok;
  if (!input_only)
    usd += tokens.output * i->second.output_per_mtok;
  return usd / 1e6;
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

/// 1234567.891 -> "1,234,567.89" (decimals 2), "1,234,568" (decimals 0).
std::string grouped(double x, int decimals) {
  auto s = fixed(x, decimals);
  auto dot = std::min(s.find('.'), s.size());
  for (auto i = static_cast<long>(dot) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string pad(std::string s, std::size_t width, bool right) {
  if (s.size() >= width)
    return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

const char* token_source(const component_cost_row& r) {
  return r.per_turn == 0 ? "not used" : r.given ? "given" : r.measured ? "measured" : "assumed";
}

} // namespace

std::vector<cost_component> default_components(const config::config& cfg) {
  bool thinking = cfg.generator.backend == "llm" &&
                  std::any_of(cfg.providers.endpoints.begin(), cfg.providers.endpoints.end(),
                              [](const auto& e) { return e.second.thinking_budget > 0; });
  return {
    {"classification", cfg.classifier.backend == "llm" ? 1.0 : 0.0, {350, 15}, false, false},
    {"retrieval_embeddings", cfg.retriever.embedding.provider.empty() ? 0.0 : 1.0, {30, 0}, true, false},
    {"generation", 1.0, {1800, 220}, false, false},
    {"thinking", thinking ? assumed_thinking_share : 0.0, {0, 600}, false, false},
    {"judging", cfg.quality.judge.empty() ? 0.0 : cfg.quality.sample_rate, {1500, 40}, false, false},
    {"moderation", cfg.safety.moderation.empty() ? 0.0 : 1.0, {300, 25}, false, false},
  };
}

model_mix default_mix(const config::config& cfg) {
  if (auto e = cfg.providers.endpoints.find(cfg.providers.root); e != cfg.providers.endpoints.end())
    return {{e->second.model, 1.0}};
  return {{"local", 1.0}};
}

result<model_mix> parse_model_mix(const std::string& text) {
  model_mix mix;
  double total = 0;
  for (auto entry : split(text, ',')) {
    entry = trim(entry);
    auto eq = entry.find('=');
    auto model = trim(entry.substr(0, eq));
    double share = 1;
    if (model.empty())
      return failure{"--model-mix: empty entry in \"" + text + "\"; expected MODEL=SHARE,... e.g. "
                     "gpt-4o-mini=0.8,claude-3-5-haiku-latest=0.2"};
    if (eq != std::string::npos && (!parse_number(trim(entry.substr(eq + 1)), share) || share <= 0 || share > 1))
      return failure{"--model-mix: \"" + entry + "\": the share must be a number in (0, 1]"};
    if (std::any_of(mix.begin(), mix.end(), [&](const auto& m) { return m.first == model; }))
      return failure{"--model-mix: model \"" + model + "\" is listed twice"};
    mix.emplace_back(model, share);
    total += share;
  }
  if (std::fabs(total - 1) > 1e-6)
    return failure{"--model-mix: the shares add up to " + fixed(total, 6) + "; they must add up to 1"};
  return mix;
}

status apply_token_overrides(const std::string& text, std::vector<cost_component>& components) {
  for (auto entry : split(text, ',')) {
    entry = trim(entry);
    auto eq = entry.find('=');
    auto colon = entry.find(':', eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || colon == std::string::npos)
      return failure{"--tokens: \"" + entry + "\": expected COMPONENT=INPUT:OUTPUT, e.g. generation=1800:220"};
    auto name = trim(entry.substr(0, eq));
    auto c = std::find_if(components.begin(), components.end(), [&](const auto& x) { return x.name == name; });
    if (c == components.end()) {
      std::string names;
      for (const auto& x : components)
        names += (names.empty() ? "" : ", ") + x.name;
      return failure{"--tokens: unknown component \"" + name + "\" (components: " + names + ")"};
    }
    component_tokens t;
    if (!parse_number(trim(entry.substr(eq + 1, colon - eq - 1)), t.input) ||
        !parse_number(trim(entry.substr(colon + 1)), t.output) || t.input < 0 || t.output < 0)
      return failure{"--tokens: \"" + entry + "\": token counts must be numbers >= 0"};
    c->tokens = t;
    c->given = true;
    c->measured = false;
    if (c->per_turn == 0)
      c->per_turn = 1;
  }
  return {};
}

result<projection> project_cost(const projection_input& in) {
  if (in.conversations == 0)
    return failure{"--conversations must be a whole number > 0 (conversations per month)"};
  if (!(in.turns_per_conversation > 0) || !std::isfinite(in.turns_per_conversation))
    return failure{"--turns-per-conversation must be a number > 0"};
  if (in.mix.empty())
    return failure{"the model mix is empty"};
  projection p;
  auto conversations = static_cast<double>(in.conversations);
  p.turns_per_month = conversations * in.turns_per_conversation;
  for (const auto& c : in.components) {
    component_cost_row row{c.name, c.per_turn, c.tokens, 0, 0, c.given, c.measured};
    double per_occurrence = 0;
    if (c.embedding) {
      if (!in.embedding_model.empty() && c.per_turn > 0) {
        auto usd = occurrence_usd(in.prices, in.embedding_model, c.tokens, true);
        if (!usd)
          return failure{usd.error()};
        per_occurrence = *usd;
      }
    } else {
      for (const auto& [model, share] : in.mix) {
        auto usd = occurrence_usd(in.prices, model, c.tokens, false);
        if (!usd)
          return failure{usd.error()};
        per_occurrence += share * *usd;
      }
    }
    row.usd_per_conversation = in.turns_per_conversation * c.per_turn * per_occurrence;
    row.usd_per_month = row.usd_per_conversation * conversations;
    p.usd_per_conversation += row.usd_per_conversation;
    p.usd_per_month += row.usd_per_month;
    p.rows.push_back(row);
  }
  return p;
}

std::string format_projection(const projection_input& in, const projection& p) {
  std::ostringstream out;
  out << "Monthly cost projection: " << grouped(static_cast<double>(in.conversations), 0) << " conversations x "
      << fixed(in.turns_per_conversation, 2) << " turns = " << grouped(p.turns_per_month, 0) << " turns\n";
  out << "Model mix:";
  for (const auto& [model, share] : in.mix)
    out << " " << model << " " << fixed(share * 100, 1) << "%";
  out << (in.embedding_model.empty() ? "" : "; embeddings: " + in.embedding_model) << "\n";
  out << "Prices: providers.prices, USD per million tokens (\"local\" is free)\n\n";
  out << pad("component", 22, false) << pad("per turn", 9, true) << pad("in tok", 9, true)
      << pad("out tok", 9, true) << pad("USD/conv", 12, true) << pad("USD/month", 16, true) << "  tokens\n";
  for (const auto& r : p.rows)
    out << pad(r.name, 22, false) << pad(fixed(r.per_turn, 2), 9, true) << pad(fixed(r.tokens.input, 0), 9, true)
        << pad(fixed(r.tokens.output, 0), 9, true) << pad(fixed(r.usd_per_conversation, 6), 12, true)
        << pad(grouped(r.usd_per_month, 2), 16, true) << "  " << token_source(r) << "\n";
  out << pad("total", 49, false) << pad(fixed(p.usd_per_conversation, 6), 12, true)
      << pad(grouped(p.usd_per_month, 2), 16, true) << "\n";
  return out.str();
}

std::string projection_json(const projection_input& in, const projection& p) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : p.rows)
    rows.push_back({{"component", r.name},
                    {"per_turn", r.per_turn},
                    {"input_tokens", r.tokens.input},
                    {"output_tokens", r.tokens.output},
                    {"usd_per_conversation", r.usd_per_conversation},
                    {"usd_per_month", r.usd_per_month},
                    {"tokens", token_source(r)}});
  nlohmann::json mix = nlohmann::json::object();
  for (const auto& [model, share] : in.mix)
    mix[model] = share;
  return nlohmann::json{{"conversations_per_month", in.conversations},
                        {"turns_per_conversation", in.turns_per_conversation},
                        {"turns_per_month", p.turns_per_month},
                        {"model_mix", mix},
                        {"embedding_model", in.embedding_model},
                        {"components", rows},
                        {"usd_per_conversation", p.usd_per_conversation},
                        {"usd_per_month", p.usd_per_month}}
    .dump();
}

} // namespace sa::quality
