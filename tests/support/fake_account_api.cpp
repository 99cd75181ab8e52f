#include "tests/support/fake_account_api.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace sa::test {

namespace {

using json = nlohmann::json;

std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = s.substr(i + 1, 2);
      if (std::isxdigit(static_cast<unsigned char>(hex[0])) &&
          std::isxdigit(static_cast<unsigned char>(hex[1]))) {
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return out;
}

/// The API's data: what each known (tenant, user) gets.
json data_of(const std::string& tenant, const std::string& user, const std::string& lookup) {
  json out{{"tenant", tenant}, {"user", user}};
  if (tenant == "acme") {
    if (lookup == "subscription") {
      out.update(json{{"company", "Acme Corp (via API)"}, {"plan", "business"}, {"status", "active"},
                      {"user_name", user == "alice" ? "Alice Nguyen" : "Bob Martin"},
                      {"user_role", user == "alice" ? "owner" : "member"},
                      {"seats", {{"purchased", 30}, {"used", 21}}},
                      {"billing", {{"cycle", "monthly"}, {"price", {{"amount", 300.0}, {"currency", "USD"}}},
                                   {"next_renewal", "2026-12-15"}, {"payment_method", "Visa ending 1881"}}}});
    } else if (lookup == "invoices") {
      out["invoices"] = json::array({{{"id", "API-INV-7"}, {"date", "2026-11-15"}, {"amount", 300.0},
                                      {"currency", "USD"}, {"status", "paid"}},
                                     {{"id", "API-INV-6"}, {"date", "2026-10-15"}, {"amount", 300.0},
                                      {"currency", "USD"}, {"status", "paid"}}});
    } else if (lookup == "usage") {
      out["period"] = {{"start", "2026-11-15"}, {"end", "2026-12-14"}};
      out["metrics"] = json::array({{{"name", "builds"}, {"used", 512}, {"limit", 2000}},
                                    {{"name", "bandwidth"}, {"used", 40.5}, {"limit", 100}, {"unit", "GB"}}});
    } else {
      out["tickets"] = json::array({{{"id", "API-T-1"}, {"subject", "Webhook retries"}, {"opened", "2026-11-21"}}});
    }
  } else {  // globex
    if (lookup == "subscription") {
      out.update(json{{"company", "Globex Open Source (via API)"}, {"plan", "community"}, {"status", "active"},
                      {"user_name", "Carol Diaz"}, {"user_role", "owner"},
                      {"seats", {{"purchased", 1}, {"used", 1}}}});
    } else if (lookup == "invoices") {
      out["invoices"] = json::array({{{"id", "GLOBEX-INV-9"}, {"date", "2026-11-02"}, {"amount", 9.0},
                                      {"currency", "USD"}, {"status", "paid"}}});
    } else if (lookup == "usage") {
      out["metrics"] = json::array({{{"name", "globex-builds"}, {"used", 37}}});
    } else {
      out["tickets"] = json::array({{{"id", "GLOBEX-T-1"}, {"subject", "Globex build killed"}}});
    }
  }
  return out;
}

bool known(const std::string& tenant, const std::string& user) {
  return (tenant == "acme" && (user == "alice" || user == "bob")) || (tenant == "globex" && user == "carol");
}

} // namespace

fake_account_api::fake_account_api() : server_([this](const received_request& r) { return answer(r); }) {}

std::optional<fake_account_api::parsed_target> fake_account_api::parse(const std::string& target) {
  auto path = target.substr(0, target.find('?'));
  auto segments = split(path);
  // v1 tenants <tenant> users <user> <lookup>: the ids are single segments, decoded after splitting.
  if (segments.size() != 6 || segments[0] != "v1" || segments[1] != "tenants" || segments[3] != "users")
    return std::nullopt;
  return parsed_target{decode(segments[2]), decode(segments[4]), segments[5]};
}

scripted_reply fake_account_api::answer(const received_request& r) {
  auto t = parse(r.target);
  if (!t || r.method != "GET")
    return {404, R"({"error": "no such route"})"};
  override_t o;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = overrides_.find(t->lookup); i != overrides_.end())
      o = i->second;
  }
  scripted_reply reply;
  reply.delay = o.delay;
  if (o.reply) {
    reply.status = o.reply->first;
    reply.body = o.reply->second;
  } else if (!known(t->tenant, t->user)) {
    reply.status = 404;
    reply.body = R"({"error": "no such user"})";
  } else {
    reply.body = data_of(t->tenant, t->user, t->lookup).dump();
  }
  return reply;
}

void fake_account_api::delay(const std::string& lookup, std::chrono::milliseconds by) {
  std::lock_guard<std::mutex> guard{mtx_};
  overrides_[lookup].delay = by;
}

void fake_account_api::replace(const std::string& lookup, int status, std::string body) {
  std::lock_guard<std::mutex> guard{mtx_};
  overrides_[lookup].reply = std::make_pair(status, std::move(body));
}

void fake_account_api::reset() {
  std::lock_guard<std::mutex> guard{mtx_};
  overrides_.clear();
}

std::size_t fake_account_api::count(const std::string& lookup) const {
  std::size_t n = 0;
  for (const auto& r : server_.requests()) {
    auto t = parse(r.target);
    if (lookup.empty() || (t && t->lookup == lookup))
      ++n;
  }
  return n;
}

} // namespace sa::test
