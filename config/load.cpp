#include "config/load.hpp"

#include "config/schema.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
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
    static const cursor all = [] {
      cursor c;
      for (const auto& k : schema::keys())
        c.candidates.push_back(&k);
      return c;
    }();
    return all;
  }

  /// Steps into `name` below `at`; reports and returns false when no key lives there.
  bool descend(cursor& at, const std::string& name) {
    auto depth = at.path.size();
    // A path that goes on past a value ("session.turn_timeout_ms.x"): there is nothing below a value.
    for (const auto* k : at.candidates)
      if (k->segments.size() <= depth) {
        report(dotted(at) + "." + name + ": " + dotted(at) + " is a single value, it has no keys below it");
        return false;
      }
    std::vector<const schema::key*> literal, mapped;
    const std::string* map_segment = nullptr;
    for (const auto* k : at.candidates) {
      const auto& seg = k->segments[depth];
      if (schema::is_map_segment(seg)) {
        map_segment = &seg;
        mapped.push_back(k);
      } else if (seg == name) {
        literal.push_back(k);
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
    // The names for the message are gathered only here: every line of a config walks this function, and
    // collecting them on the way (a linear search per candidate) made each step quadratic.
    std::vector<std::string> known;
    for (const auto* k : at.candidates)
      if (const auto& seg = k->segments[depth];
          !schema::is_map_segment(seg) && std::find(known.begin(), known.end(), seg) == known.end())
        known.push_back(seg);
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
  } catch (const json::exception& e) {
    // out_of_range.406: a number too large for a double (found by tests/fuzz/config_fuzz.cpp).
    std::string what = e.what();
    auto text = what.find("] ");
    fail("invalid JSON: " + (text == std::string::npos ? what : what.substr(text + 2)));
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

// --- whole-config checks (validate, warnings) ---------------------------------------------------------

/// The built-in local provider's name: always a valid member, never an endpoint or strategy name.
const std::string local_provider = "local";

/// The tasks a by_task strategy routes (messages/completion.hpp llm_task; sa_config does not link it).
const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names{"generate", "classify", "judge", "summarize", "moderate"};
  return names;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

std::string quoted(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

/// What is wrong with an endpoint base_url, which must be scheme://host[:port]; empty when nothing is.
std::string base_url_problem(const std::string& url) {
  std::string rest;
  if (url.rfind("https://", 0) == 0)
    rest = url.substr(8);
  else if (url.rfind("http://", 0) == 0)
    rest = url.substr(7);
  else
    return "expected it to start with http:// or https://";
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
    return "expected no spaces or control characters";
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  if (authority.find('@') != std::string::npos)
    return "expected no user or password in the URL (the key comes from api_key_env)";
  auto host = authority;
  std::string port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    auto close = authority.find(']');
    if (close == std::string::npos)
      return "expected ']' closing the IPv6 address";
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return "expected ':port' after the IPv6 address";
      has_port = true;
      port = authority.substr(close + 2);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    has_port = true;
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host == "[]")
    return "expected a host after the scheme";
  if (has_port) {
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits || std::stol(port) < 1 || std::stol(port) > 65535)
      return "expected a port in [1, 65535] after ':'";
  }
  if (end != std::string::npos) {
    if (rest.substr(end) == "/")
      return "expected no trailing slash";
    return "expected no path, query or fragment: the provider adds its API path (such as /v1/chat/completions)";
  }
  return {};
}

/// What is wrong with memory.redis_address, which must be host:port; empty when nothing is.
std::string redis_address_problem(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return "expected host:port, e.g. 127.0.0.1:6379";
  auto host = address.substr(0, colon);
  auto port = address.substr(colon + 1);
  if (std::any_of(address.begin(), address.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f || c == '/'; }))
    return "expected host:port without a scheme, path, spaces or control characters, e.g. 127.0.0.1:6379";
  if (host.front() == '[' && host.back() != ']')
    return "expected ']' closing the IPv6 address";
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  if (!digits || std::stol(port) < 1 || std::stol(port) > 65535)
    return "expected a port in [1, 65535] after ':'";
  return {};
}

/// What keeps the product from reading the file at `path`; empty when nothing does.
std::string readable_file_problem(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return "no such file";
  if (!std::filesystem::is_regular_file(path, ec))
    return "not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return "cannot be read (check its permissions)";
  return {};
}

/// The memory.redis_tls_* keys: only with redis_tls (else the connection silently stays plaintext), files
/// that can be read, a client certificate and key together, a server name that is a plain host name.
template <class Report>
void validate_redis_tls(const memory_config& m, const Report& report) {
  const std::pair<const char*, const std::string*> keys[] = {{"memory.redis_tls_ca_file", &m.redis_tls_ca_file},
                                                             {"memory.redis_tls_cert_file", &m.redis_tls_cert_file},
                                                             {"memory.redis_tls_key_file", &m.redis_tls_key_file},
                                                             {"memory.redis_tls_server_name", &m.redis_tls_server_name}};
  if (!m.redis_tls) {
    std::vector<std::string> set;
    for (auto [key, value] : keys)
      if (!value->empty())
        set.push_back(key);
    if (!set.empty())
      report(join(set, ", ") + " set but memory.redis_tls is false: the connection to Redis would not use TLS; "
             "set memory.redis_tls = true, or clear " + (set.size() == 1 ? "it" : "them"));
    return;
  }
  if (m.redis_tls_cert_file.empty() != m.redis_tls_key_file.empty())
    report(m.redis_tls_cert_file.empty()
             ? "memory.redis_tls_key_file = " + quoted(m.redis_tls_key_file) +
                 ": memory.redis_tls_cert_file is empty; a client certificate needs both files, or neither"
             : "memory.redis_tls_cert_file = " + quoted(m.redis_tls_cert_file) +
                 ": memory.redis_tls_key_file is empty; a client certificate needs both files, or neither");
  for (auto [key, value] : keys) {
    if (value == &m.redis_tls_server_name || value->empty())
      continue;
    if (auto problem = readable_file_problem(*value); !problem.empty())
      report(std::string(key) + " = " + quoted(*value) + ": " + problem);
  }
  const auto& name = m.redis_tls_server_name;
  unsigned char v6[16];
  bool ipv6 = ::inet_pton(AF_INET6, name.c_str(), v6) == 1;
  if (!ipv6 && !std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_';
      }))
    report("memory.redis_tls_server_name = " + quoted(name) +
           ": expected a host name or IP address (no scheme, port, brackets, spaces or control characters)");
}

template <class Report>
void validate_memory(const memory_config& m, const Report& report) {
  validate_redis_tls(m, report);
  if (auto problem = redis_address_problem(m.redis_address); !problem.empty())
    report("memory.redis_address = " + quoted(m.redis_address) + ": " + problem);
  if (m.redis_key_prefix.find_first_of("{}") != std::string::npos)
    report("memory.redis_key_prefix = " + quoted(m.redis_key_prefix) +
           ": expected no braces (they mark the Redis Cluster hash tag, which is the session)");
  if (m.redis_password_env.rfind(env_prefix, 0) == 0)
    report("memory.redis_password_env = " + quoted(m.redis_password_env) +
           ": SUPPORT_AGENT_* variables are configuration overrides; name another variable");
  if (m.redis_backoff_initial_ms > m.redis_backoff_max_ms)
    report("memory.redis_backoff_initial_ms = " + std::to_string(m.redis_backoff_initial_ms) +
           ": expected at most memory.redis_backoff_max_ms (" + std::to_string(m.redis_backoff_max_ms) + ")");
}

/// What is wrong with account.http.base_url, which is scheme://host[:port][/prefix]; empty when nothing is.
std::string account_base_url_problem(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return base_url_problem(url);  // names the missing scheme
  auto path = url.find_first_of("/?#", scheme + 3);
  auto root = url.substr(0, path);
  if (root.find('@') != std::string::npos)
    return "expected no user or password in the URL (the credential comes from account.http.auth_header_env)";
  if (auto problem = base_url_problem(root); !problem.empty())
    return problem;
  if (path == std::string::npos)
    return {};
  auto prefix = url.substr(path);
  if (prefix.find_first_of("?#") != std::string::npos)
    return "expected no query or fragment (the URL templates carry the query)";
  if (prefix.back() == '/')
    return "expected no trailing slash (the URL templates start with '/')";
  return {};
}

/// What is wrong with an account.http URL template; empty when nothing is. The same grammar as
/// actors/account/account_api.cpp (url_template::parse), which reads the templates when the node starts.
std::string url_template_problem(const std::string& text) {
  if (text.front() != '/')
    return "expected a path starting with '/' (it is appended to account.http.base_url)";
  if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
    return "expected no spaces or control characters";
  if (text.find('#') != std::string::npos)
    return "expected no fragment ('#')";
  bool has_tenant = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}')
      return "'}' at offset " + std::to_string(i) + " closes no placeholder";
    if (text[i] != '{')
      continue;
    auto close = text.find('}', i);
    auto reopen = text.find('{', i + 1);
    if (close == std::string::npos || (reopen != std::string::npos && reopen < close))
      return "'{' at offset " + std::to_string(i) + " is not closed by '}'";
    auto name = text.substr(i + 1, close - i - 1);
    if (name != "tenant" && name != "user")
      return "unknown placeholder {" + name + "} (known: {tenant}, {user})";
    has_tenant = has_tenant || name == "tenant";
    i = close;
  }
  if (!has_tenant)
    return "expected the placeholder {tenant}: every lookup is scoped by the session's tenant";
  return {};
}

/// RFC 9110 token characters: what an HTTP header name is made of.
bool is_header_name(const std::string& name) {
  static const std::string extra = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || extra.find(static_cast<char>(c)) != std::string::npos;
  });
}

/// The account section: URL templates (placeholders), the auth header and its variable, the base URL, and
/// what the http backend needs.
template <class Report>
void validate_account(const account_config& a, const Report& report) {
  const auto& h = a.http;
  const std::pair<const char*, const std::string*> templates[] = {
    {"account.http.subscription_url", &h.subscription_url},
    {"account.http.invoices_url", &h.invoices_url},
    {"account.http.usage_url", &h.usage_url},
    {"account.http.open_tickets_url", &h.open_tickets_url}};
  bool any_lookup = false;
  for (auto [key, value] : templates) {
    if (value->empty())
      continue;
    any_lookup = true;
    if (auto problem = url_template_problem(*value); !problem.empty())
      report(std::string(key) + " = " + quoted(*value) + ": " + problem);
  }
  if (!h.auth_header.empty() && !is_header_name(h.auth_header))
    report("account.http.auth_header = " + quoted(h.auth_header) +
           ": expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), e.g. Authorization");
  if (!h.auth_header_env.empty() && h.auth_header.empty())
    report("account.http.auth_header_env = " + quoted(h.auth_header_env) +
           ": account.http.auth_header is empty; name the header its value is sent in");
  if (h.auth_header_env.rfind(env_prefix, 0) == 0)
    report("account.http.auth_header_env = " + quoted(h.auth_header_env) +
           ": SUPPORT_AGENT_* variables are configuration overrides; name another variable");
  if (!h.base_url.empty())
    if (auto problem = account_base_url_problem(h.base_url); !problem.empty())
      report("account.http.base_url = " + quoted(h.base_url) + ": " + problem +
             " (scheme://host[:port][/prefix], e.g. https://api.example.com/support)");
  if (a.backend == "http") {
    if (h.base_url.empty())
      report("account.backend = \"http\": needs account.http.base_url (scheme://host[:port][/prefix] of the "
             "account API)");
    if (!any_lookup)
      report("account.backend = \"http\": account.http.subscription_url, invoices_url, usage_url and "
             "open_tickets_url are all empty; set at least one lookup's URL template");
  }
}

/// What is wrong with an actions webhook URL, http(s)://host[:port][/path][?query]; empty when nothing is.
std::string webhook_url_problem(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return base_url_problem(url);  // names the missing scheme
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
    return "expected no spaces or control characters";
  auto path = url.find_first_of("/?#", scheme + 3);
  auto root = url.substr(0, path);
  if (root.find('@') != std::string::npos)
    return "expected no user or password in the URL (requests are signed with the secret from the *secret_env variable)";
  if (auto problem = base_url_problem(root); !problem.empty())
    return problem;
  if (path != std::string::npos && url.find('#', path) != std::string::npos)
    return "expected no fragment ('#')";
  return {};
}

/// The actions section: webhook URLs and the variables holding their secrets, workflow names, backoff.
template <class Report>
void validate_actions(const actions_config& a, const Report& report) {
  auto check_secret_env = [&](const std::string& key, const std::string& env) {
    if (env.rfind(env_prefix, 0) == 0)
      report(key + " = " + quoted(env) + ": SUPPORT_AGENT_* variables are configuration overrides; name another variable");
  };
  if (!a.ticket_webhook_url.empty()) {
    if (auto problem = webhook_url_problem(a.ticket_webhook_url); !problem.empty())
      report("actions.ticket_webhook_url = " + quoted(a.ticket_webhook_url) + ": " + problem +
             " (http(s)://host[:port]/path, e.g. https://helpdesk.example.com/hooks/tickets)");
    if (a.ticket_webhook_secret_env.empty())
      report("actions.ticket_webhook_url is set: needs actions.ticket_webhook_secret_env (the environment variable "
             "holding the secret its requests are signed with)");
  }
  check_secret_env("actions.ticket_webhook_secret_env", a.ticket_webhook_secret_env);
  if (a.webhook_backoff_initial_ms > a.webhook_backoff_max_ms)
    report("actions.webhook_backoff_initial_ms = " + std::to_string(a.webhook_backoff_initial_ms) +
           ": expected at most actions.webhook_backoff_max_ms (" + std::to_string(a.webhook_backoff_max_ms) + ")");
  for (const auto& [name, w] : a.workflows) {
    auto at = "actions.workflows." + name;
    bool good_name = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!good_name)
      report(at + ": expected a workflow name of lower-case letters, digits, '_' and '-' (at most 64 characters); "
             "customers and models name it in the trigger_workflow call");
    if (w.url.empty())
      report(at + ".url: required (http(s)://host[:port]/path the signed POST goes to)");
    else if (auto problem = webhook_url_problem(w.url); !problem.empty())
      report(at + ".url = " + quoted(w.url) + ": " + problem + " (http(s)://host[:port]/path)");
    if (w.secret_env.empty())
      report(at + ".secret_env: required (the environment variable holding the workflow's signing secret)");
    check_secret_env(at + ".secret_env", w.secret_env);
  }
}

/// The escalation section: topics that can match, per-tenant override names.
template <class Report>
void validate_escalation(const escalation_config& e, const Report& report) {
  auto check_topics = [&](const std::string& key, const std::vector<std::string>& topics) {
    for (const auto& t : topics)
      if (std::none_of(t.begin(), t.end(), [](unsigned char c) { return std::isalnum(c) || c >= 0x80; }))
        report(key + ": topic " + quoted(t) + " has no letter or digit, so it can never match; remove it");
  };
  check_topics("escalation.sensitive_topics", e.sensitive_topics);
  for (const auto& [tenant, o] : e.tenants) {
    auto at = "escalation.tenants." + tenant;
    auto word_char = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; };
    if (tenant.size() > 64 || !std::isalnum(static_cast<unsigned char>(tenant.front()))
        || !std::all_of(tenant.begin(), tenant.end(), word_char))
      report(at + ": expected a tenant id (a letter or digit first, then letters, digits, '_', '-' or '.'; at most "
             "64 characters)");
    if (o.sensitive_topics)
      check_topics(at + ".sensitive_topics", *o.sensitive_topics);
  }
}

template <class Report>
void validate_embedding(const config& cfg, const Report& report) {
  const auto& e = cfg.retriever.embedding;
  if (e.provider.empty())
    return;
  if (cfg.retriever.hybrid.candidates < cfg.retriever.top_k)
    report("retriever.hybrid.candidates = " + std::to_string(cfg.retriever.hybrid.candidates) +
           ": expected at least retriever.top_k (" + std::to_string(cfg.retriever.top_k) + ")");
  auto ep = cfg.providers.endpoints.find(e.provider);
  if (ep == cfg.providers.endpoints.end()) {
    std::vector<std::string> known;
    for (const auto& [name, endpoint] : cfg.providers.endpoints)
      known.push_back(name);
    report("retriever.embedding.provider = " + quoted(e.provider) + ": names no providers.endpoints entry (known: " +
           (known.empty() ? std::string("none") : join(known, ", ")) + ")");
  } else if (ep->second.kind == "anthropic") {
    report("retriever.embedding.provider = " + quoted(e.provider) + ": endpoint kind anthropic has no embeddings API; "
           "name an openai, openai_compatible or gemini endpoint");
  } else if (ep->second.kind == "gemini" && e.batch_size > 100) {
    report("retriever.embedding.batch_size = " + std::to_string(e.batch_size) +
           ": expected at most 100 with a gemini endpoint (batchEmbedContents takes at most 100 texts)");
  }
  if (e.model.empty())
    report("retriever.embedding.model: required with retriever.embedding.provider (the embedding model, e.g. "
           "text-embedding-3-small)");
}

} // namespace

std::vector<std::string> validate(const config& cfg) {
  std::vector<std::string> errors;
  auto report = [&](const std::string& text) { errors.push_back("config error: " + text); };
  validate_memory(cfg.memory, report);
  validate_account(cfg.account, report);
  validate_actions(cfg.actions, report);
  validate_escalation(cfg.escalation, report);
  validate_embedding(cfg, report);
  const auto& p = cfg.providers;
  auto is_endpoint = [&](const std::string& n) { return p.endpoints.count(n) != 0; };
  auto is_strategy = [&](const std::string& n) { return p.strategies.count(n) != 0; };
  auto resolves = [&](const std::string& n) { return n == local_provider || is_endpoint(n) || is_strategy(n); };
  std::vector<std::string> known{local_provider};
  for (const auto& [name, e] : p.endpoints)
    if (name != local_provider)
      known.push_back(name);
  for (const auto& [name, s] : p.strategies)
    if (name != local_provider && !is_endpoint(name))
      known.push_back(name);
  auto unresolved = [&](const std::string& what) {
    return what + " names no endpoint, strategy or local (known: " + join(known, ", ") + ")";
  };

  // Names.
  const std::string reserved = ".local: the name local is reserved for the built-in local provider; choose another name";
  if (is_endpoint(local_provider))
    report("providers.endpoints" + reserved);
  if (is_strategy(local_provider))
    report("providers.strategies" + reserved);
  for (const auto& [name, s] : p.strategies)
    if (name != local_provider && is_endpoint(name))
      report("providers.strategies." + name + ": the name " + name + " is also an endpoint (providers.endpoints." +
             name + "); endpoint and strategy names must differ");

  // What the llm backends call.
  if (!p.root.empty() && !resolves(p.root))
    report(unresolved("providers.root = " + quoted(p.root) + ":"));
  if (p.root.empty()) {
    if (cfg.generator.backend == "llm")
      report("generator.backend = \"llm\": needs providers.root (the endpoint or strategy the llm backend calls)");
    if (cfg.classifier.backend == "llm")
      report("classifier.backend = \"llm\": needs providers.root (the endpoint or strategy the llm backend calls)");
  }

  // Endpoints.
  for (const auto& [name, e] : p.endpoints) {
    auto at = "providers.endpoints." + name + ".";
    if (e.base_url.empty())
      report(at + "base_url: required (scheme://host[:port], e.g. https://api.openai.com)");
    else if (auto problem = base_url_problem(e.base_url); !problem.empty())
      report(at + "base_url = " + quoted(e.base_url) + ": " + problem + " (scheme://host[:port], e.g. "
             "https://api.openai.com)");
    if (e.model.empty())
      report(at + "model: required (the model name sent with each request, e.g. gpt-4o-mini)");
    if (e.thinking_budget > 0 && e.thinking_budget < 1024)
      report(at + "thinking_budget = " + std::to_string(e.thinking_budget) +
             ": expected 0 (off) or at least 1024 (the smallest thinking budget Anthropic accepts)");
    if (e.backoff_initial_ms > e.backoff_max_ms)
      report(at + "backoff_initial_ms = " + std::to_string(e.backoff_initial_ms) + ": expected at most backoff_max_ms (" +
             std::to_string(e.backoff_max_ms) + ")");
    if (e.api_key_env.rfind(env_prefix, 0) == 0)
      report(at + "api_key_env = " + quoted(e.api_key_env) + ": SUPPORT_AGENT_* variables are configuration "
             "overrides; name another variable");
  }

  // Strategies: members, routes, counts.
  for (const auto& [name, s] : p.strategies) {
    auto at = "providers.strategies." + name + ".";
    for (const auto& m : s.members)
      if (!resolves(m))
        report(unresolved(at + "members: " + quoted(m)));
    bool routed = s.kind == "by_task" || s.kind == "by_intent";
    if (routed) {
      if (!s.members.empty())
        report(at + "members: a " + s.kind + " strategy takes no members (it calls its routes' targets); "
               "remove members");
      if (s.routes.empty())
        report(at + "routes: a " + s.kind + " strategy needs at least one route (" +
               (s.kind == "by_task" ? "task" : "intent") + " or \"default\" -> endpoint, strategy or local)");
      auto route_keys = s.kind == "by_task" ? task_names() : schema::intents();
      route_keys.push_back("default");
      for (const auto& [route, target] : s.routes) {
        if (!contains(route_keys, route))
          report(at + "routes." + route + ": unknown " + (s.kind == "by_task" ? "task" : "intent") + " (known: " +
                 join(route_keys, ", ") + ")");
        if (!resolves(target))
          report(unresolved(at + "routes." + route + " = " + quoted(target) + ":"));
      }
      continue;
    }
    if (!s.routes.empty())
      report(at + "routes: only by_task and by_intent strategies have routes (this one is " + s.kind + ")");
    auto n = s.members.size();
    if (s.kind == "fallback" && n < 1)
      report(at + "members: a fallback strategy needs at least 1 member (tried in order)");
    else if (s.kind == "hedge" && n < 2)
      report(at + "members: a hedge strategy needs at least 2 members (primary then backups), got " +
             std::to_string(n));
    else if (s.kind == "self_consistency" && n != 1)
      report(at + "members: a self_consistency strategy needs exactly 1 member (the one sampled), got " +
             std::to_string(n));
  }

  // Cycles among strategies (depth first; a strategy on the current path reached again closes a cycle).
  auto targets = [&](const strategy_config& s) {
    std::vector<std::string> out = s.members;
    for (const auto& [route, target] : s.routes)
      out.push_back(target);
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const std::string& t) { return t == local_provider || !is_strategy(t); }),
              out.end());
    return out;
  };
  enum class mark { unseen, on_path, done };
  std::map<std::string, mark> marks;
  std::vector<std::string> path, cycles;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    marks[name] = mark::on_path;
    path.push_back(name);
    for (const auto& t : targets(p.strategies.at(name))) {
      if (marks[t] == mark::on_path) {
        auto from = std::find(path.begin(), path.end(), t);
        std::vector<std::string> cycle(from, path.end());
        cycle.push_back(t);
        auto text = join(cycle, " -> ");
        if (!contains(cycles, text)) {
          cycles.push_back(text);
          report("providers.strategies." + t + ": strategies call each other in a cycle: " + text);
        }
      } else if (marks[t] == mark::unseen) {
        visit(t);
      }
    }
    path.pop_back();
    marks[name] = mark::done;
  };
  for (const auto& [name, s] : p.strategies)
    if (name != local_provider && marks[name] == mark::unseen)
      visit(name);

  // Cluster.
  const auto& c = cfg.cluster;
  for (const auto& seed : c.seeds) {
    auto colon = seed.rfind(':');
    auto port = colon == std::string::npos ? std::string{} : seed.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; });
    if (colon == 0 || !digits || std::stol(port) < 1 || std::stol(port) > 65535 ||
        seed.find_first_of("/ \t") != std::string::npos)
      report("cluster.seeds: " + quoted(seed) + ": expected host:port with a port in [1, 65535], e.g. "
             "\"10.0.0.2:7400\"");
  }
  if (c.port != 0 && c.advertise_host.empty() && (c.listen_address == "0.0.0.0" || c.listen_address == "::"))
    report("cluster.advertise_host: required when cluster.listen_address is " + quoted(c.listen_address) +
           " (the host or address other nodes connect to)");
  if (c.connection_timeout_ms < 2 * c.heartbeat_interval_ms)
    report("cluster.connection_timeout_ms = " + std::to_string(c.connection_timeout_ms) +
           ": expected at least twice cluster.heartbeat_interval_ms (" + std::to_string(c.heartbeat_interval_ms) +
           "), or a healthy node is taken for lost between two heartbeats");
  if (c.secret_env.rfind(env_prefix, 0) == 0)
    report("cluster.secret_env = " + quoted(c.secret_env) + ": SUPPORT_AGENT_* variables are configuration "
           "overrides; name another variable");
  if (cfg.audit.backend == "redis" && cfg.memory.backend != "redis")
    report("audit.backend = \"redis\" needs memory.backend = \"redis\" (it is " + quoted(cfg.memory.backend) +
           "): the audit stream uses the Redis connection of memory.redis_*");
  // Members called with a task the local provider cannot do: an endpoint or strategy, never "local".
  auto remote_member = [&](const char* key, const std::string& name, const char* task, const char* when_empty) {
    if (!name.empty() && (name == local_provider || (cfg.providers.endpoints.count(name) == 0 &&
                                                     cfg.providers.strategies.count(name) == 0)))
      report(std::string(key) + " = " + quoted(name) + ": expected the name of a providers endpoint or strategy " +
             (name == local_provider ? "(the local provider cannot " + std::string(task) + ")"
                                     : std::string("(none is called so)")) +
             "; empty = " + when_empty);
  };
  remote_member("quality.judge", cfg.quality.judge, "judge", "the local groundedness check");
  remote_member("safety.moderation", cfg.safety.moderation, "moderate", "the rules alone");
  if (c.registry == "redis" && cfg.memory.backend != "redis")
    report("cluster.registry = \"redis\" needs memory.backend = \"redis\" (it is " + quoted(cfg.memory.backend) +
           "): the registry uses the Redis connection of memory.redis_*");
  return errors;
}

std::vector<std::string> warnings(const config& cfg) {
  std::vector<std::string> out;
  if (cfg.memory.backend == "redis" && cfg.memory.redis_reply_timeout_ms >= cfg.session.child_timeout_ms)
    out.push_back("memory.redis_reply_timeout_ms (" + std::to_string(cfg.memory.redis_reply_timeout_ms) +
                  ") is not below session.child_timeout_ms (" + std::to_string(cfg.session.child_timeout_ms) +
                  "): a hung Redis can make memory appends time out at the session before the client "
                  "reconnects and queues them");
  if (cfg.account.backend == "http" && cfg.account.http.timeout_ms >= cfg.session.child_timeout_ms)
    out.push_back("account.http.timeout_ms (" + std::to_string(cfg.account.http.timeout_ms) +
                  ") is not below session.child_timeout_ms (" + std::to_string(cfg.session.child_timeout_ms) +
                  "): a slow account API makes the session give up on the account service before the lookups "
                  "that did finish are joined, and the answer has no account facts at all");
  if (!cfg.safety.moderation.empty() && 2 * cfg.safety.moderation_timeout_ms >= cfg.session.turn_timeout_ms)
    out.push_back("safety.moderation_timeout_ms (" + std::to_string(cfg.safety.moderation_timeout_ms) +
                  ") is half of session.turn_timeout_ms (" + std::to_string(cfg.session.turn_timeout_ms) +
                  ") or more: a slow moderator leaves the rest of the turn too little time to answer");
  if (cfg.account.backend != "http" && !cfg.account.http.base_url.empty())
    out.push_back("account.http.base_url is set but account.backend is \"" + cfg.account.backend +
                  "\": the account API is not used");
  const auto& p = cfg.providers;
  for (const auto& [name, e] : p.endpoints) {
    auto at = "providers.endpoints." + name + ".";
    if (!e.model.empty() && p.prices.count(e.model) == 0)
      out.push_back(at + "model '" + e.model + "' has no price in providers.prices; its cost counts as 0");
    if (e.api_key_env.empty() && e.kind != "openai_compatible")
      out.push_back(at + "api_key_env is empty: requests to this " + e.kind + " endpoint carry no API key");
    if (e.thinking_budget > 0 && e.kind != "anthropic" && e.kind != "gemini")
      out.push_back(at + "thinking_budget " + std::to_string(e.thinking_budget) + " has no effect on kind " + e.kind +
                    " (anthropic and gemini only)");
  }
  bool llm_used =
    cfg.generator.backend == "llm" || cfg.classifier.backend == "llm" || !cfg.quality.judge.empty() ||
    !cfg.safety.moderation.empty();
  const auto& embedder = cfg.retriever.embedding.provider; // an endpoint used for embeddings only is used
  bool only_embedder = p.strategies.empty() && p.endpoints.size() == 1 && p.endpoints.count(embedder) == 1;
  if (!llm_used && !only_embedder && (!p.endpoints.empty() || !p.strategies.empty()))
    out.push_back("providers: endpoints or strategies are configured but neither generator.backend nor "
                  "classifier.backend is \"llm\"; they are not used");
  if (!p.root.empty()) {
    // What providers.root reaches through strategy members and routes.
    std::vector<std::string> reached, todo{p.root};
    if (!cfg.quality.judge.empty())
      todo.push_back(cfg.quality.judge);  // the quality monitor's judge is called too
    if (!cfg.safety.moderation.empty())
      todo.push_back(cfg.safety.moderation);  // and the safety check's moderator
    while (!todo.empty()) {
      auto n = todo.back();
      todo.pop_back();
      if (contains(reached, n))
        continue;
      reached.push_back(n);
      if (auto s = p.strategies.find(n); s != p.strategies.end()) {
        todo.insert(todo.end(), s->second.members.begin(), s->second.members.end());
        for (const auto& [route, target] : s->second.routes)
          todo.push_back(target);
      }
    }
    for (const auto& [name, e] : p.endpoints)
      if (!contains(reached, name) && name != embedder)
        out.push_back("providers.endpoints." + name + " is not reachable from providers.root '" + p.root +
                      "'; it is never called");
    for (const auto& [name, s] : p.strategies)
      if (!contains(reached, name))
        out.push_back("providers.strategies." + name + " is not reachable from providers.root '" + p.root +
                      "'; it is never called");
  }
  return out;
}

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
  // Whole-config checks on the effective values, reported with the errors of the layers.
  auto inconsistencies = validate(cfg);
  errors.insert(errors.end(), inconsistencies.begin(), inconsistencies.end());
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
