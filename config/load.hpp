// Loading the configuration: defaults < file < environment < command line, every layer validated
// against one schema (config/schema.cpp), every error collected.
//
// - File: JSON with comments; the top-level objects are the sections of config.hpp. See default.jsonc.
// - Environment: SUPPORT_AGENT_<PATH>=value, PATH being the dotted key path upper-cased with '.' written
//   as "__" (SUPPORT_AGENT_SESSION__TURN_TIMEOUT_MS=2000); the path is lower-cased back, map keys included.
//   Variables without the SUPPORT_AGENT_ prefix are ignored; one with the prefix must name a key.
// - Command line: "--set section.key=value" items.
// - An override value is parsed as JSON when it parses (2000, true, ["a","b"], {"doc":1}), else taken as
//   a string; a string key also takes the text of a value that parsed as something else (node.name=42).
// - Objects merge key by key, everything else replaces: a partial retriever.routes.<intent> keeps the
//   default values of the fields it does not name, and every intent not configured gets its default route.
//   Likewise a providers endpoint, strategy or price created by any layer starts from the struct defaults.
// - After all layers, validate() checks what no single key can (providers names and references, cycles,
//   base_url, llm backends needing providers.root; cluster seeds, advertised host and heartbeat timing);
//   its errors are reported with those of the layers.
#pragma once

#include "config/config.hpp"
#include "runtime/result.hpp"

#include <string>
#include <vector>

namespace sa::config {

struct load_options {
  std::string path;                     ///< config file; empty = defaults only
  std::vector<std::string> overrides;   ///< "section.key=value" from the command line (--set)
  std::vector<std::string> environment; ///< "NAME=value" entries (pass environ); SUPPORT_AGENT_* are read
};

/// The effective configuration, or one failure listing every error found (one "config error: ..." line
/// each, naming the key path, the offending value and what was expected).
result<config> load(const load_options& opts);

/// The checks no single key's rule can express, run by load() after every layer is applied: memory.redis_*
/// (TLS refused with what to do instead, host:port address, key prefix without braces, password variable not
/// SUPPORT_AGENT_*, backoff order), the providers
/// section's names and references (reserved `local`, endpoint/strategy name clashes, providers.root,
/// strategy members and route targets, route keys per strategy kind, member counts, cycles), endpoint
/// base_url, model and thinking_budget, llm backends needing providers.root, and account.http (URL template
/// placeholders, base URL, auth header and its variable, what backend http needs), and retriever.embedding (an
/// endpoint that can embed, a model, gemini's batch limit, hybrid.candidates >= top_k). One "config error: ..."
/// line per problem, naming the key; empty = consistent.
std::vector<std::string> validate(const config& cfg);

/// Things worth an operator's attention that are not errors (a model without a price counts as free).
/// One human-readable line each; load() does not report them, the caller logs them.
std::vector<std::string> warnings(const config& cfg);

/// The defaults: config{} with retriever.routes filled for every intent.
config defaults();

/// Every key: path, type, default, range or allowed set, doc (for `support-agent config --describe`).
std::string describe();

/// The configuration as JSON text in the file format (loading it back gives the same config).
std::string to_json_text(const config& cfg);

} // namespace sa::config
