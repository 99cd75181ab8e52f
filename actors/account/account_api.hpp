// account_api: the plain parts of the HTTP account backend (no actor, no I/O). URL templates with
// {tenant} and {user}; the documented JSON shape of each lookup's response (docs/account-api.md) read
// into account_facts, with the tenant and user the API echoes checked against the ones asked for; and
// the lookups' parts combined into one answer. The actor is actors/account/http_account_actor.cpp.
// To add a lookup: a value in `lookup`, its name, its reader in account_api.cpp, its config key.
#pragma once

#include "messages/account.hpp"
#include "runtime/result.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::account_api {

/// The four lookups behind one account_facts, in the order they are configured and combined.
enum class lookup : uint8_t { subscription = 0, invoices = 1, usage = 2, open_tickets = 3 };
constexpr std::size_t lookup_count = 4;
constexpr std::array<lookup, lookup_count> all_lookups{lookup::subscription, lookup::invoices, lookup::usage,
                                                       lookup::open_tickets};

/// subscription, invoices, usage, open_tickets (stable: logs, account_gap::lookup, config keys).
const char* to_string(lookup x) noexcept;

/// Percent-encodes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), so a value
/// can carry neither a '/', a '?', a '#' nor a '%' of its own into the URL.
std::string url_encode(std::string_view value);

/// True for an id a URL may carry: not empty, not "." or ".." (dot segments a server would resolve).
bool valid_id(std::string_view id) noexcept;

/// A URL template: a path (and query) relative to the base URL, with {tenant} and {user} placeholders.
class url_template {
public:
  url_template() = default;

  /// Parses `text`. Empty is valid (the lookup is not made). Otherwise it must start with '/', hold no
  /// spaces, control characters or '#', close every '{', name only {tenant} and {user}, and contain
  /// {tenant}. Fails with the problem ("unknown placeholder {account} (known: {tenant}, {user})"); the
  /// caller prefixes the config key.
  static result<url_template> parse(const std::string& text);

  bool empty() const noexcept { return pieces_.empty(); }
  const std::string& text() const noexcept { return text_; }

  /// The template with each placeholder replaced by url_encode(value).
  std::string expand(std::string_view tenant, std::string_view user) const;

private:
  struct piece {
    enum kind_t : uint8_t { literal, tenant, user } kind = literal;
    std::string text;
  };
  std::string text_;
  std::vector<piece> pieces_;
};

/// The HTTP backend's settings, built once per node from account.http (secret included; never logged).
struct http_settings {
  std::string base_url;                                  ///< scheme://host[:port][/prefix], no trailing '/'
  std::array<url_template, lookup_count> templates;      ///< by lookup; empty = not looked up
  std::string auth_header;                               ///< empty = no auth header
  std::string auth_value;                                ///< the header's value (from the environment)
  std::chrono::milliseconds timeout{2000};               ///< the four lookups are joined under this
  std::chrono::milliseconds cache_ttl{30000};            ///< 0 = no cache
  std::size_t cache_max_entries = 10000;                 ///< (tenant, user) pairs kept
  std::size_t max_response_bytes = 1 << 20;              ///< a larger body fails its lookup

  /// The full URL of `which` for (tenant, user); empty when the lookup is not configured.
  std::string url(lookup which, std::string_view tenant, std::string_view user) const;
};

/// What one lookup contributed: its part of the facts, or why it has none.
struct part {
  account_failure failure = account_failure::none;  ///< none = ok
  std::string problem;   ///< for the log: names the field or status and what was wrong, never a value
  account_facts facts;   ///< only the fields of this lookup are set

  bool ok() const noexcept { return failure == account_failure::none; }
};

/// A failed part (a transport error, a timeout): `problem` must hold no value from the response.
std::shared_ptr<const part> failed_part(account_failure why, std::string problem);

/// Reads a lookup's response: 2xx with a body of the documented shape is a part; 404 is not_found,
/// another status http_status; a body that is not JSON or not of the shape is bad_response, naming the
/// first field that is wrong; a "tenant" or "user" echoed by the API that differs from the ones asked
/// for is wrong_account (and nothing of that body is used).
part read_response(lookup which, int status, std::string_view body, std::string_view tenant,
                   std::string_view user);

/// One answer from the parts of the configured lookups (null = not configured). Facts are available
/// when at least one part is; each failed part is listed in `missing` with its reason. When none is,
/// available=false and `failure` is the reason of the first failed lookup.
account_facts combine(const std::array<std::shared_ptr<const part>, lookup_count>& parts);

} // namespace sa::account_api
