#include "actors/account/account_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>

namespace sa::account_api {

namespace {

using json = nlohmann::json;

/// Lists longer than this keep their first (invoices: newest) entries: the prompt stays bounded.
constexpr std::size_t max_list_items = 50;

/// Reads fields of a response, remembering the first problem (a field path and what was wrong, no value).
class reader {
public:
  bool failed() const noexcept { return !problem_.empty(); }
  const std::string& problem() const noexcept { return problem_; }
  void fail(std::string problem) {
    if (problem_.empty())
      problem_ = std::move(problem);
  }

  /// The member `key` of `obj`; null (absent or JSON null) is "not given", a problem when required.
  const json* member(const json& obj, const char* key, const std::string& at, bool required) {
    auto i = obj.find(key);
    if (i == obj.end() || i->is_null()) {
      if (required)
        fail(path(at, key) + ": missing");
      return nullptr;
    }
    return &*i;
  }

  std::string text(const json& obj, const char* key, const std::string& at, bool required) {
    auto* v = member(obj, key, at, required);
    if (!v)
      return {};
    if (!v->is_string()) {
      fail(path(at, key) + ": expected a string, got " + v->type_name());
      return {};
    }
    return v->get<std::string>();
  }

  double number(const json& obj, const char* key, const std::string& at, bool required) {
    auto* v = member(obj, key, at, required);
    if (!v)
      return 0;
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      fail(path(at, key) + ": expected a number, got " + v->type_name());
      return 0;
    }
    return v->get<double>();
  }

  int count(const json& obj, const char* key, const std::string& at, bool required) {
    auto* v = member(obj, key, at, required);
    if (!v)
      return 0;
    bool in_range = v->is_number_unsigned() ? v->get<std::uint64_t>() <= INT_MAX
                                            : v->is_number_integer() && v->get<std::int64_t>() >= 0 &&
                                                v->get<std::int64_t>() <= INT_MAX;
    if (!in_range) {
      fail(path(at, key) + ": expected a whole number in [0, " + std::to_string(INT_MAX) + "]");
      return 0;
    }
    return static_cast<int>(v->get<std::int64_t>());
  }

  const json* object(const json& obj, const char* key, const std::string& at, bool required) {
    auto* v = member(obj, key, at, required);
    if (v && !v->is_object()) {
      fail(path(at, key) + ": expected an object, got " + v->type_name());
      return nullptr;
    }
    return v;
  }

  const json* array(const json& obj, const char* key, const std::string& at, bool required) {
    auto* v = member(obj, key, at, required);
    if (v && !v->is_array()) {
      fail(path(at, key) + ": expected an array, got " + v->type_name());
      return nullptr;
    }
    return v;
  }

  static std::string path(const std::string& at, const char* key) { return at.empty() ? key : at + "." + key; }

private:
  std::string problem_;
};

std::string item_path(const char* list, std::size_t i) {
  return std::string{list} + "[" + std::to_string(i) + "]";
}

void read_subscription(const json& doc, reader& r, account_facts& f) {
  f.company = r.text(doc, "company", "", true);
  f.plan = r.text(doc, "plan", "", true);
  f.plan_status = r.text(doc, "status", "", false);
  f.user_name = r.text(doc, "user_name", "", false);
  f.user_role = r.text(doc, "user_role", "", false);
  if (auto* seats = r.object(doc, "seats", "", false)) {
    f.seats_purchased = r.count(*seats, "purchased", "seats", true);
    f.seats_used = r.count(*seats, "used", "seats", true);
  }
  if (auto* billing = r.object(doc, "billing", "", false)) {
    f.billing_cycle = r.text(*billing, "cycle", "billing", false);
    f.next_renewal = r.text(*billing, "next_renewal", "billing", false);
    f.payment_method = r.text(*billing, "payment_method", "billing", false);
    if (auto* price = r.object(*billing, "price", "billing", false)) {
      f.price = r.number(*price, "amount", "billing.price", true);
      f.currency = r.text(*price, "currency", "billing.price", true);
    }
  }
}

void read_invoices(const json& doc, reader& r, account_facts& f) {
  auto* list = r.array(doc, "invoices", "", true);
  if (!list)
    return;
  for (std::size_t i = 0; i < list->size() && !r.failed(); ++i) {
    const auto& item = (*list)[i];
    auto at = item_path("invoices", i);
    if (!item.is_object()) {
      r.fail(at + ": expected an object, got " + item.type_name());
      return;
    }
    invoice_info x;
    x.id = r.text(item, "id", at, true);
    x.date = r.text(item, "date", at, true);
    x.amount = r.number(item, "amount", at, true);
    x.currency = r.text(item, "currency", at, true);
    x.status = r.text(item, "status", at, true);
    x.description = r.text(item, "description", at, false);
    f.invoices.push_back(std::move(x));
  }
  std::stable_sort(f.invoices.begin(), f.invoices.end(), [](auto& a, auto& b) { return a.date > b.date; });
  if (f.invoices.size() > max_list_items)
    f.invoices.resize(max_list_items);
}

void read_usage(const json& doc, reader& r, account_facts& f) {
  if (auto* period = r.object(doc, "period", "", false)) {
    f.usage_period_start = r.text(*period, "start", "period", false);
    f.usage_period_end = r.text(*period, "end", "period", false);
  }
  auto* list = r.array(doc, "metrics", "", true);
  if (!list)
    return;
  for (std::size_t i = 0; i < list->size() && !r.failed(); ++i) {
    const auto& item = (*list)[i];
    auto at = item_path("metrics", i);
    if (!item.is_object()) {
      r.fail(at + ": expected an object, got " + item.type_name());
      return;
    }
    usage_metric m;
    m.name = r.text(item, "name", at, true);
    m.used = r.number(item, "used", at, true);
    m.limit = r.number(item, "limit", at, false);  // absent or null: no limit
    m.unit = r.text(item, "unit", at, false);
    if (f.usage.size() < max_list_items)
      f.usage.push_back(std::move(m));
  }
}

void read_open_tickets(const json& doc, reader& r, account_facts& f) {
  auto* list = r.array(doc, "tickets", "", true);
  if (!list)
    return;
  for (std::size_t i = 0; i < list->size() && !r.failed(); ++i) {
    const auto& item = (*list)[i];
    auto at = item_path("tickets", i);
    if (!item.is_object()) {
      r.fail(at + ": expected an object, got " + item.type_name());
      return;
    }
    ticket_info t;
    t.id = r.text(item, "id", at, true);
    t.subject = r.text(item, "subject", at, true);
    t.status = r.text(item, "status", at, false);
    if (t.status.empty())
      t.status = "open";
    t.opened = r.text(item, "opened", at, false);
    if (f.open_tickets.size() < max_list_items)
      f.open_tickets.push_back(std::move(t));
  }
}

/// Copies the fields `which` is responsible for from `from` into `out`.
void merge(account_facts& out, lookup which, const account_facts& from) {
  switch (which) {
    case lookup::subscription:
      out.company = from.company;
      out.user_name = from.user_name;
      out.user_role = from.user_role;
      out.plan = from.plan;
      out.plan_status = from.plan_status;
      out.seats_purchased = from.seats_purchased;
      out.seats_used = from.seats_used;
      out.billing_cycle = from.billing_cycle;
      out.price = from.price;
      out.currency = from.currency;
      out.next_renewal = from.next_renewal;
      out.payment_method = from.payment_method;
      return;
    case lookup::invoices: out.invoices = from.invoices; return;
    case lookup::usage:
      out.usage_period_start = from.usage_period_start;
      out.usage_period_end = from.usage_period_end;
      out.usage = from.usage;
      return;
    case lookup::open_tickets: out.open_tickets = from.open_tickets; return;
  }
}

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

} // namespace

const char* to_string(lookup x) noexcept {
  switch (x) {
    case lookup::subscription: return "subscription";
    case lookup::invoices: return "invoices";
    case lookup::usage: return "usage";
    case lookup::open_tickets: return "open_tickets";
  }
  return "subscription";
}

std::string url_encode(std::string_view value) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (is_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

bool valid_id(std::string_view id) noexcept {
  return !id.empty() && id != "." && id != "..";
}

result<url_template> url_template::parse(const std::string& text) {
  url_template t;
  t.text_ = text;
  if (text.empty())
    return t;
  if (text.front() != '/')
    return failure{"expected a path starting with '/' (it is appended to base_url)"};
  for (unsigned char c : text)
    if (c <= ' ' || c == 0x7f)
      return failure{"expected no spaces or control characters"};
  if (text.find('#') != std::string::npos)
    return failure{"expected no fragment ('#')"};
  bool has_tenant = false;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}')
      return failure{"'}' at offset " + std::to_string(i) + " closes no placeholder"};
    if (c != '{') {
      literal += c;
      continue;
    }
    auto close = text.find('}', i);
    auto reopen = text.find('{', i + 1);
    if (close == std::string::npos || (reopen != std::string::npos && reopen < close))
      return failure{"'{' at offset " + std::to_string(i) + " is not closed by '}'"};
    auto name = text.substr(i + 1, close - i - 1);
    piece p;
    if (name == "tenant") {
      p.kind = piece::tenant;
      has_tenant = true;
    } else if (name == "user") {
      p.kind = piece::user;
    } else {
      return failure{"unknown placeholder {" + name + "} (known: {tenant}, {user})"};
    }
    if (!literal.empty())
      t.pieces_.push_back(piece{piece::literal, std::move(literal)});
    literal.clear();
    t.pieces_.push_back(std::move(p));
    i = close;
  }
  if (!literal.empty())
    t.pieces_.push_back(piece{piece::literal, std::move(literal)});
  if (!has_tenant)
    return failure{"expected the placeholder {tenant}: every lookup is scoped by the session's tenant"};
  return t;
}

std::string url_template::expand(std::string_view tenant, std::string_view user) const {
  std::string out;
  for (const auto& p : pieces_) {
    switch (p.kind) {
      case piece::literal: out += p.text; break;
      case piece::tenant: out += url_encode(tenant); break;
      case piece::user: out += url_encode(user); break;
    }
  }
  return out;
}

std::string http_settings::url(lookup which, std::string_view tenant, std::string_view user) const {
  const auto& t = templates[static_cast<std::size_t>(which)];
  return t.empty() ? std::string{} : base_url + t.expand(tenant, user);
}

std::shared_ptr<const part> failed_part(account_failure why, std::string problem) {
  auto p = std::make_shared<part>();
  p->failure = why;
  p->problem = std::move(problem);
  return p;
}

part read_response(lookup which, int status, std::string_view body, std::string_view tenant,
                   std::string_view user) {
  part p;
  auto fail = [&](account_failure why, std::string problem) {
    p.failure = why;
    p.problem = std::move(problem);
    p.facts = {};
    return p;
  };
  if (status == 404)
    return fail(account_failure::not_found, "HTTP 404");
  if (status < 200 || status > 299)
    return fail(account_failure::http_status, "HTTP " + std::to_string(status));
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  } catch (const json::exception&) {
    return fail(account_failure::bad_response, "body is not valid JSON");
  }
  if (doc.is_discarded())
    return fail(account_failure::bad_response, "body is not valid JSON");
  if (!doc.is_object())
    return fail(account_failure::bad_response, std::string{"expected a JSON object at the top level, got "} +
                                                  doc.type_name());
  // The ids the API echoes, when it does, must be the ones asked for: nothing else of the body is read.
  const std::pair<const char*, std::string_view> echoes[] = {{"tenant", tenant}, {"user", user}};
  for (auto [key, asked] : echoes) {
    auto i = doc.find(key);
    if (i == doc.end() || i->is_null())
      continue;
    if (!i->is_string())
      return fail(account_failure::bad_response, std::string{key} + ": expected a string, got " + i->type_name());
    if (i->get_ref<const std::string&>() != asked)
      return fail(account_failure::wrong_account, std::string{key} + ": not the " + key + " asked for");
  }
  reader r;
  switch (which) {
    case lookup::subscription: read_subscription(doc, r, p.facts); break;
    case lookup::invoices: read_invoices(doc, r, p.facts); break;
    case lookup::usage: read_usage(doc, r, p.facts); break;
    case lookup::open_tickets: read_open_tickets(doc, r, p.facts); break;
  }
  if (r.failed())
    return fail(account_failure::bad_response, r.problem());
  return p;
}

account_facts combine(const std::array<std::shared_ptr<const part>, lookup_count>& parts) {
  account_facts out;
  auto first_failure = account_failure::none;
  for (auto which : all_lookups) {
    const auto& p = parts[static_cast<std::size_t>(which)];
    if (!p)
      continue;
    if (p->ok()) {
      merge(out, which, p->facts);
      out.available = true;
      continue;
    }
    out.missing.push_back(account_gap{to_string(which), p->failure});
    if (first_failure == account_failure::none)
      first_failure = p->failure;
  }
  if (!out.available)
    out.failure = first_failure == account_failure::none ? account_failure::not_found : first_failure;
  return out;
}

} // namespace sa::account_api
