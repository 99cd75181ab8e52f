#include "runtime/http_redact.hpp"

#include <algorithm>
#include <cctype>

namespace sa::http_redact {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

} // namespace

bool is_secret_header(std::string_view name) {
  auto n = lower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie"
         || n == "x-api-key" || n == "x-goog-api-key" || n.find("token") != std::string::npos
         || n.find("secret") != std::string::npos || n.find("api-key") != std::string::npos;
}

std::string url(std::string_view u) {
  auto cut = u.find_first_of("?#");
  if (cut != std::string_view::npos)
    u = u.substr(0, cut);
  auto scheme_end = u.find("://");
  auto authority_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto authority_end = u.find('/', authority_begin);
  auto authority = u.substr(authority_begin, authority_end == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : authority_end - authority_begin);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos)
    return std::string(u);
  std::string out(u.substr(0, authority_begin));
  out += authority.substr(at + 1);
  if (authority_end != std::string_view::npos)
    out += u.substr(authority_end);
  return out;
}

} // namespace sa::http_redact
