#include "config/load.hpp"

#include "config/schema.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sa::config {

namespace {

using schema::json;

constexpr std::string_view env_prefix = "SUPPORT_AGENT_";

std::string join(const std::vector<std::string>& xs, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < xs.size(); ++i)
    out += (i == 0 ? "" : sep) + xs[i];
  return out;
}

/// A value as it appears in messages: JSON text, shortened when long.
std::string show(const json& v) {
  auto text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80)
    text = text.substr(0, 77) + "...";
  return text;
}

/// Applies one layer (the file, or one override) to the config, collecting errors.
class applier {
public:
  applier(config& cfg, std::vector<std::string>& errors, std::string origin)
    : cfg_(cfg), errors_(errors), origin_(std::move(origin)) {}

  /// Where we are in the schema: the keys whose path starts with `path`.
  struct cursor {
    std::vector<const schema::key*> candidates;
    std::vector<std::string> path;
    schema::map_keys captured;
  };

  static cursor root() {
    cursor c;
    for (const auto& k : schema::keys())
      c.candidates.push_back(&k);
    return c;
  }

  /// Steps into `name` below `at`; reports and returns false when no key lives there.
  bool descend(cursor& at, const std::string& name) {
    auto depth = at.path.size();
    std::vector<const schema::key*> literal, mapped;
    std::vector<std::string> known;
    const std::string* map_segment = nullptr;
    for (const auto* k : at.candidates) {
      const auto& seg = k->segments[depth];
      if (schema::is_map_segment(seg)) {
        map_segment = &seg;
        mapped.push_back(k);
      } else {
        if (seg == name)
          literal.push_back(k);
        if (std::find(known.begin(), known.end(), seg) == known.end())
          known.push_back(seg);
      }
    }
    at.path.push_back(name);
    if (!literal.empty()) {
      at.candidates = std::move(literal);
      return true;
    }
    if (map_segment != nullptr) {
      const auto& names = schema::map_key_names(*map_segment);
      bool ok = names.empty() ? !name.empty() : std::find(names.begin(), names.end(), name) != names.end();
      if (ok) {
        at.candidates = std::move(mapped);
        at.captured.push_back(name);
        return true;
      }
      auto what = map_segment->substr(1, map_segment->size() - 2);
      report(dotted(at) + ": unknown " + what +
             (names.empty() ? " (expected a non-empty name)" : " (known: " + join(names, ", ") + ")"));
      return false;
    }
    report(dotted(at) + ": unknown " + (depth == 0 ? "section" : "key") + " (known: " + join(known, ", ") + ")");
    return false;
  }

  /// Applies `value` at `at`: a leaf is validated and written, an object is walked key by key.
  /// `raw` is the override text, taken as a string when a string key got a value of another JSON type.
  void apply(const cursor& at, const json& value, const std::string* raw = nullptr) {
    auto depth = at.path.size();
    if (at.candidates.size() == 1 && at.candidates.front()->segments.size() == depth) {
      const auto& k = *at.candidates.front();
      const json* v = &value;
      json text;
      if (k.rule.type == schema::kind::string && raw != nullptr && !value.is_string()) {
        text = *raw;
        v = &text;
      }
      if (!schema::accepts(k.rule, *v)) {
        report(dotted(at) + " = " + show(*v) + ": expected " + schema::expectation(k.rule));
        return;
      }
      k.write(cfg_, at.captured, *v);
      return;
    }
    if (!value.is_object()) {
      report((depth == 0 ? std::string("top level") : dotted(at)) + " = " + show(value) + ": expected an object");
      return;
    }
    for (const auto& [name, item] : value.items()) {
      auto next = at;
      if (descend(next, name))
        apply(next, item);
    }
  }

  void report(const std::string& text) {
    errors_.push_back("config error: " + text + (origin_.empty() ? "" : " (from " + origin_ + ")"));
  }

private:
  static std::string dotted(const cursor& at) { return join(at.path, "."); }

  config& cfg_;
  std::vector<std::string>& errors_;
  std::string origin_;
};

void apply_file(const std::string& path, config& cfg, std::vector<std::string>& errors) {
  auto fail = [&](const std::string& what) { errors.push_back("config error: " + path + ": " + what); };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    fail("no such file");
    return;
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("not a regular file");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in) {
    fail("cannot read the file");
    return;
  }
  json doc;
  try {
    doc = json::parse(buf.str(), nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // what(): "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    std::string what = e.what();
    auto at = what.find("at line");
    fail("invalid JSON " + (at == std::string::npos ? what : what.substr(at)));
    return;
  }
  if (!doc.is_object()) {
    fail("expected a JSON object of sections at the top level, got " + show(doc));
    return;
  }
  applier{cfg, errors, path}.apply(applier::root(), doc);
}

/// One override: `path` split into segments, `text` the value as given.
void apply_override(const std::vector<std::string>& path, const std::string& text, const std::string& origin,
                    config& cfg, std::vector<std::string>& errors) {
  applier a{cfg, errors, origin};
  auto at = applier::root();
  for (const auto& seg : path)
    if (!a.descend(at, seg))
      return;
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded())
    value = text;
  a.apply(at, value, &text);
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos)
      return out;
    start = pos + sep.size();
  }
}

void apply_set(const std::string& item, config& cfg, std::vector<std::string>& errors) {
  auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0) {
    errors.push_back("config error: --set \"" + item + "\": expected section.key=value");
    return;
  }
  apply_override(split(item.substr(0, eq), "."), item.substr(eq + 1), "--set", cfg, errors);
}

void apply_env(const std::string& entry, config& cfg, std::vector<std::string>& errors) {
  auto eq = entry.find('=');
  if (eq == std::string::npos || entry.compare(0, env_prefix.size(), env_prefix) != 0)
    return;
  auto name = entry.substr(0, eq);
  auto path = name.substr(env_prefix.size());
  std::transform(path.begin(), path.end(), path.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  apply_override(split(path, "__"), entry.substr(eq + 1), name, cfg, errors);
}

/// Sets `v` at the path of key `k` with its map segments replaced by `keys`.
void put(json& out, const schema::key& k, const schema::map_keys& keys, json v) {
  json* node = &out;
  std::size_t next_key = 0;
  for (const auto& seg : k.segments)
    node = &(*node)[schema::is_map_segment(seg) ? keys.at(next_key++) : seg];
  *node = std::move(v);
}

json to_json(const config& cfg) {
  json out = json::object();
  for (const auto& k : schema::keys()) {
    // Maps appear even when empty.
    json* node = &out;
    for (const auto& seg : k.segments) {
      if (schema::is_map_segment(seg)) {
        if (node->is_null())
          *node = json::object();
        break;
      }
      node = &(*node)[seg];
    }
    k.read(cfg, [&](const schema::map_keys& keys, json v) { put(out, k, keys, std::move(v)); });
  }
  return out;
}

} // namespace

config defaults() {
  config cfg;
  cfg.retriever.routes = schema::default_routes();
  return cfg;
}

result<config> load(const load_options& opts) {
  // Routes start from their defaults, so an intent not configured keeps its default route and a partial
  // route keeps the default values of the fields it does not name.
  config cfg = defaults();
  std::vector<std::string> errors;
  if (!opts.path.empty())
    apply_file(opts.path, cfg, errors);
  for (const auto& entry : opts.environment)
    apply_env(entry, cfg, errors);
  for (const auto& item : opts.overrides)
    apply_set(item, cfg, errors);
  if (!errors.empty())
    return failure{join(errors, "\n")};
  return cfg;
}

std::string to_json_text(const config& cfg) {
  return to_json(cfg).dump(2, ' ', false, json::error_handler_t::replace);
}

std::string describe() {
  std::ostringstream out;
  out << "Configuration keys. Layers, later wins: defaults < file (--config, JSON with comments)\n"
         "< environment (SUPPORT_AGENT_<SECTION>__<KEY>=value) < command line (--set section.key=value).\n"
         "<name> segments are map keys.\n";
  auto defs = defaults();
  for (const auto& k : schema::keys()) {
    std::vector<std::string> values;
    bool plain = std::none_of(k.segments.begin(), k.segments.end(), schema::is_map_segment);
    k.read(defs, [&](const schema::map_keys& keys, const json& v) {
      values.push_back(plain ? show(v) : join(keys, ".") + "=" + show(v));
    });
    auto range = schema::range_text(k.rule);
    out << "\n" << k.path << "\n"
        << "    type: " << schema::type_name(k.rule) << (range.empty() ? "" : ", " + range) << "\n"
        << "    default: " << (values.empty() ? "(none)" : join(values, ", ")) << "\n"
        << "    " << k.doc << "\n";
  }
  return out.str();
}

} // namespace sa::config
