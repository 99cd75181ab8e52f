// The configuration schema: one table row per key (dotted path, type, range or allowed set, doc, and how
// to read and write the field of sa::config::config). The loader, `describe()` and the JSON dump are all
// driven by this table, so a key exists exactly when it has a row here.
//
// Map keys are written as a path segment in angle brackets: "retriever.routes.<intent>.account_context".
// The names a map segment accepts come from map_key_names() ("<tenant>" accepts any non-empty name).
//
// Internal to sa_config (and its tests); callers use config/load.hpp.
#pragma once

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sa::config::schema {

using json = nlohmann::json;

/// The names matched by the `<...>` segments of a key's path, in path order.
using map_keys = std::vector<std::string>;

enum class kind { integer, number, boolean, string, string_list };

/// What a key accepts.
struct rule {
  kind type = kind::string;
  double min = 0;                     ///< integer, number: inclusive lower bound
  double max = 0;                     ///< integer, number: inclusive upper bound
  std::vector<std::string> one_of;    ///< string: allowed values; empty = any
  bool non_empty = false;             ///< string, string_list items: must not be empty
};

using emit_fn = std::function<void(const map_keys&, json)>;

struct key {
  std::string path;                 ///< dotted path; `<name>` segments are map keys
  schema::rule rule;
  std::string doc;                  ///< one line: meaning and unit
  /// Calls emit once per value present in the config (once for a plain key, once per map entry).
  std::function<void(const config&, const emit_fn&)> read;
  /// Stores an already validated value; `keys` holds the map keys of the path.
  std::function<void(config&, const map_keys& keys, const json&)> write;
  std::vector<std::string> segments;  ///< path split at '.' (filled by keys())
};

/// Every key, in the order of config.hpp.
const std::vector<key>& keys();

/// True for a `<name>` path segment.
bool is_map_segment(const std::string& segment);

/// The names a `<name>` segment accepts; empty = any non-empty name.
const std::vector<std::string>& map_key_names(const std::string& segment);

/// The product intents (retriever.routes keys) and retrieval source kinds (source_weights keys).
const std::vector<std::string>& intents();
const std::vector<std::string>& source_kinds();

/// The route every intent gets unless the configuration says otherwise.
std::map<std::string, route_config> default_routes();

/// "integer", "number", "boolean", "string", "list of strings".
std::string type_name(const rule& r);

/// The range or allowed set as text ("[100, 600000]", "one of: a, b", "non-empty"); empty if none.
std::string range_text(const rule& r);

/// What a valid value looks like, for messages: "an integer in [100, 600000]".
std::string expectation(const rule& r);

/// True when `v` satisfies `r`.
bool accepts(const rule& r, const json& v);

} // namespace sa::config::schema
