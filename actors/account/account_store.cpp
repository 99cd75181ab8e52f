#include "actors/account/account_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sa {

namespace {

using json = nlohmann::json;

// Reads a field of an expected type; records an error naming the path otherwise.
template <class T>
T field(const json& obj, const char* key, const std::string& where, std::vector<std::string>& errors,
        T fallback = T{}) {
  auto i = obj.find(key);
  if (i == obj.end()) {
    errors.push_back(where + "." + key + ": missing");
    return fallback;
  }
  try {
    return i->get<T>();
  } catch (const json::exception&) {
    errors.push_back(where + "." + key + ": wrong type (" + i->type_name() + ")");
    return fallback;
  }
}

} // namespace

result<std::shared_ptr<const account_store>> account_store::load(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return failure{"account store: cannot read '" + path + "'"};
  std::stringstream buf;
  buf << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    return failure{"account store: '" + path + "' is not valid JSON: " + e.what()};
  }
  if (!doc.is_object() || !doc.contains("tenants") || !doc["tenants"].is_array())
    return failure{"account store: '" + path + "': expected an object with a 'tenants' array"};
  auto store = std::make_shared<account_store>();
  std::vector<std::string> errors;
  size_t idx = 0;
  for (auto& t : doc["tenants"]) {
    auto where = "tenants[" + std::to_string(idx++) + "]";
    if (!t.is_object()) {
      errors.push_back(where + ": expected an object");
      continue;
    }
    auto id = field<std::string>(t, "id", where, errors);
    if (id.empty())
      continue;
    where = "tenants[" + id + "]";
    tenant_entry e;
    auto& f = e.base;
    f.available = true;
    f.company = field<std::string>(t, "name", where, errors);
    f.plan = field<std::string>(t, "plan", where, errors);
    f.plan_status = field<std::string>(t, "status", where, errors);
    if (auto s = t.find("seats"); s != t.end() && s->is_object()) {
      f.seats_purchased = field<int>(*s, "purchased", where + ".seats", errors);
      f.seats_used = field<int>(*s, "used", where + ".seats", errors);
    }
    if (auto b = t.find("billing"); b != t.end() && b->is_object()) {
      f.billing_cycle = field<std::string>(*b, "cycle", where + ".billing", errors);
      f.next_renewal = b->value("next_renewal", "");
      f.payment_method = b->value("payment_method", "");
      if (auto p = b->find("price"); p != b->end() && p->is_object()) {
        f.price = field<double>(*p, "amount", where + ".billing.price", errors);
        f.currency = field<std::string>(*p, "currency", where + ".billing.price", errors);
      }
    }
    if (auto inv = t.find("invoices"); inv != t.end() && inv->is_array()) {
      for (auto& i : *inv) {
        auto iw = where + ".invoices";
        invoice_info x;
        x.id = field<std::string>(i, "id", iw, errors);
        x.date = field<std::string>(i, "date", iw, errors);
        x.amount = field<double>(i, "amount", iw, errors);
        x.currency = field<std::string>(i, "currency", iw, errors);
        x.status = field<std::string>(i, "status", iw, errors);
        x.description = i.value("description", "");
        f.invoices.push_back(std::move(x));
      }
      std::stable_sort(f.invoices.begin(), f.invoices.end(),
                       [](auto& a, auto& b) { return a.date > b.date; });
    }
    if (auto us = t.find("usage"); us != t.end() && us->is_object()) {
      auto uw = where + ".usage";
      if (auto p = us->find("period"); p != us->end() && p->is_object()) {
        f.usage_period_start = field<std::string>(*p, "start", uw + ".period", errors);
        f.usage_period_end = field<std::string>(*p, "end", uw + ".period", errors);
      }
      if (auto ms = us->find("metrics"); ms != us->end() && ms->is_array()) {
        for (auto& m : *ms) {
          usage_metric x;
          x.name = field<std::string>(m, "name", uw + ".metrics", errors);
          x.used = field<double>(m, "used", uw + ".metrics", errors);
          if (auto l = m.find("limit"); l != m.end() && !l->is_null())  // null or absent: no limit
            x.limit = field<double>(m, "limit", uw + ".metrics", errors);
          x.unit = m.value("unit", "");
          f.usage.push_back(std::move(x));
        }
      }
    }
    if (auto tk = t.find("open_tickets"); tk != t.end() && tk->is_array()) {
      for (auto& i : *tk) {
        auto tw = where + ".open_tickets";
        ticket_info x;
        x.id = field<std::string>(i, "id", tw, errors);
        x.subject = field<std::string>(i, "subject", tw, errors);
        x.status = i.value("status", "open");
        x.opened = i.value("opened", "");
        e.tickets.emplace_back(i.value("user", ""), std::move(x));
      }
    }
    if (auto us = t.find("users"); us != t.end() && us->is_array()) {
      for (auto& u : *us) {
        auto uid = field<std::string>(u, "id", where + ".users", errors);
        if (uid.empty())
          continue;
        e.users[uid] = user_entry{u.value("name", uid), u.value("role", "member")};
        e.user_order.push_back(uid);
      }
    } else {
      errors.push_back(where + ".users: missing or not an array");
    }
    if (store->tenants_.count(id))
      errors.push_back(where + ": duplicate tenant id");
    store->tenant_order_.push_back(id);
    store->tenants_.emplace(id, std::move(e));
  }
  if (!errors.empty()) {
    std::string msg = "account store: '" + path + "':";
    for (auto& e : errors)
      msg += "\n  " + e;
    return failure{msg};
  }
  return std::shared_ptr<const account_store>{std::move(store)};
}

bool account_store::has_tenant(const std::string& tenant) const {
  return tenants_.count(tenant) > 0;
}

bool account_store::has_user(const std::string& tenant, const std::string& user) const {
  auto i = tenants_.find(tenant);
  return i != tenants_.end() && i->second.users.count(user) > 0;
}

std::vector<std::string> account_store::tenants() const {
  return tenant_order_;
}

std::vector<std::string> account_store::users(const std::string& tenant) const {
  auto i = tenants_.find(tenant);
  return i == tenants_.end() ? std::vector<std::string>{} : i->second.user_order;
}

account_facts account_store::lookup(const std::string& tenant, const std::string& user) const {
  account_facts none;
  none.failure = account_failure::not_found;
  auto i = tenants_.find(tenant);
  if (i == tenants_.end())
    return none;
  auto u = i->second.users.find(user);
  if (u == i->second.users.end())
    return none;
  auto facts = i->second.base;
  facts.user_name = u->second.name;
  facts.user_role = u->second.role;
  // A user sees the tickets they opened; an owner or admin sees every ticket of the account.
  bool all = u->second.role == "owner" || u->second.role == "admin";
  for (auto& [opener, ticket] : i->second.tickets)
    if (all || opener == user)
      facts.open_tickets.push_back(ticket);
  return facts;
}

} // namespace sa
