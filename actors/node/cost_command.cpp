// cost_command: see the header.
#include "actors/node/cost_command.hpp"

#include "actors/quality/cost_projection.hpp"
#include "actors/quality/measured_usage.hpp"
#include "runtime/result.hpp"

#include <curl/curl.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

namespace sa {
namespace {

bool whole_number(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(s);
  return true;
}

/// Bytes kept of a /metrics answer (a node's exposition is tens of KB).
constexpr std::size_t max_metrics_bytes = 16u << 20;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* into) {
  auto& body = *static_cast<std::string*>(into);
  if (body.size() + size * count > max_metrics_bytes)
    return 0;  // too large: curl fails the transfer
  body.append(data, size * count);
  return size * count;
}

/// GET `url` (blocking: a command, not an actor), with `token` as a bearer token when set.
result<std::string> fetch_metrics(const std::string& url, const std::string& token) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl{curl_easy_init(), curl_easy_cleanup};
  if (!curl)
    return failure{"--from-metrics: cannot start an HTTP request"};
  std::string body;
  curl_slist* headers = nullptr;
  if (!token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  auto rc = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK)
    return failure{"--from-metrics " + url + ": " + curl_easy_strerror(rc)};
  if (status != 200)
    return failure{"--from-metrics " + url + ": HTTP " + std::to_string(status) +
                   (status == 401 ? " (the node wants its metrics token: set the variable gateway.metrics_token_env names)"
                                  : status == 404 ? " (metrics off on that node, or not its /metrics path)" : "")};
  return body;
}

/// The /metrics text `source` names: an http(s) URL, or a file holding a saved exposition.
result<std::string> read_metrics(const config::config& cfg, const std::string& source) {
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    std::string token;
    if (!cfg.gateway.metrics_token_env.empty())
      if (const char* t = std::getenv(cfg.gateway.metrics_token_env.c_str()))
        token = t;
    return fetch_metrics(source, token);
  }
  std::ifstream in(source, std::ios::binary);
  if (!in)
    return failure{"--from-metrics " + source + ": cannot read the file (give a saved /metrics text or an "
                   "http://host:port/metrics URL)"};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

} // namespace

int run_cost_command(const config::config& cfg, const cost_cli_options& opts, std::ostream& out, std::ostream& err) {
  quality::projection_input in;
  if (!whole_number(opts.conversations, in.conversations) || in.conversations == 0) {
    err << "support-agent: cost needs --conversations N, a whole number > 0 of conversations per month"
        << (opts.conversations.empty() ? "" : " (got \"" + opts.conversations + "\")") << "\n";
    return 2;
  }
  if (!opts.turns_per_conversation.empty()) {
    char* end = nullptr;
    in.turns_per_conversation = std::strtod(opts.turns_per_conversation.c_str(), &end);
    if (end != opts.turns_per_conversation.c_str() + opts.turns_per_conversation.size() ||
        !std::isfinite(in.turns_per_conversation) || in.turns_per_conversation <= 0 ||
        in.turns_per_conversation > 1000) {
      err << "support-agent: --turns-per-conversation must be a number in (0, 1000] (got \""
          << opts.turns_per_conversation << "\")\n";
      return 2;
    }
  }
  if (opts.model_mix.empty()) {
    in.mix = quality::default_mix(cfg);
  } else {
    auto mix = quality::parse_model_mix(opts.model_mix);
    if (!mix) {
      err << "support-agent: " << mix.error() << "\n";
      return 2;
    }
    in.mix = std::move(*mix);
  }
  in.embedding_model = cfg.retriever.embedding.provider.empty() ? std::string{} : cfg.retriever.embedding.model;
  in.prices = cfg.providers.prices;
  in.components = quality::default_components(cfg);
  std::string measured_note;
  if (!opts.from_metrics.empty()) {
    auto text = read_metrics(cfg, opts.from_metrics);
    auto usage = text ? quality::parse_measured_usage(*text) : result<quality::measured_usage>{failure{text.error()}};
    if (!usage) {
      err << "support-agent: " << (text ? "--from-metrics " + opts.from_metrics + ": " : "") << usage.error() << "\n";
      return 2;
    }
    auto assumed = quality::apply_measured(*usage, in.components);
    if (!assumed) {
      err << "support-agent: --from-metrics " << opts.from_metrics << ": " << assumed.error() << "\n";
      return 2;
    }
    measured_note = "Tokens per turn measured over " + std::to_string(static_cast<uint64_t>(usage->turns)) +
                    " turns at " + opts.from_metrics;
    if (opts.turns_per_conversation.empty() && usage->conversations > 0) {
      in.turns_per_conversation = usage->turns / usage->conversations;
      measured_note += "; turns per conversation measured over " +
                       std::to_string(static_cast<uint64_t>(usage->conversations)) + " closed conversations";
    } else if (opts.turns_per_conversation.empty()) {
      measured_note += "; turns per conversation assumed (no closed conversation measured)";
    }
    measured_note += assumed->empty() ? "\n" : "\nAssumed (nothing measured for them): " + joined(*assumed) + "\n";
  }
  if (!opts.tokens.empty())
    if (auto applied = quality::apply_token_overrides(opts.tokens, in.components); !applied) {
      err << "support-agent: " << applied.error() << "\n";
      return 2;
    }
  auto p = quality::project_cost(in);
  if (!p) {
    err << "support-agent: " << p.error() << "\n";
    return 2;
  }
  if (opts.json_file == "-") {
    out << quality::projection_json(in, *p) << "\n";
    return 0;
  }
  out << quality::format_projection(in, *p) << measured_note;
  if (!opts.json_file.empty()) {
    std::ofstream f(opts.json_file);
    f << quality::projection_json(in, *p) << "\n";
    if (!f) {
      err << "support-agent: cannot write " << opts.json_file << "\n";
      return 1;
    }
  }
  return 0;
}

} // namespace sa
