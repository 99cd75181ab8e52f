// csat_report: see the header.
#include "actors/quality/csat_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

namespace sa::quality {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr double no_value = std::numeric_limits<double>::quiet_NaN();

std::string string_field(const json& j, const char* key, const char* fallback) {
  auto i = j.find(key);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{fallback};
}

void add(csat_figures& f, bool survey, int score, bool resolved) {
  if (survey) {
    ++f.surveys;
    f.survey_sum += score;
    f.resolved += resolved ? 1 : 0;
  } else {
    ++f.ratings;
    f.rating_sum += score;
  }
}

struct conversation_key {
  std::string tenant, session;
  bool operator<(const conversation_key& o) const {
    return std::tie(tenant, session) < std::tie(o.tenant, o.session);
  }
};

/// One line into the report; false when it is not a CSAT record.
bool add_record(const std::string& line, const csat_filter& filter, csat_report& r,
                std::map<conversation_key, csat_conversation>& conversations) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  auto score = j.find("csat");
  auto at = j.find("at_unix_ms");
  if (score == j.end() || !score->is_number_integer() || at == j.end() || !at->is_number_integer())
    return false;
  auto s64 = score->get<int64_t>();
  if (s64 < 1 || s64 > 5)
    return false;
  int s = static_cast<int>(s64);
  auto tenant = string_field(j, "tenant", "");
  int64_t when = at->get<int64_t>();
  if ((!filter.tenant.empty() && tenant != filter.tenant) || when < filter.since_unix_ms)
    return true;
  bool survey = string_field(j, "kind", "rating") == "survey";
  auto r_it = j.find("resolved");
  bool resolved = r_it != j.end() && r_it->is_boolean() && r_it->get<bool>();
  auto intent = string_field(j, "intent", "unknown");
  auto reason = string_field(j, "escalation_reason", "unknown");
  ++r.records;
  add(r.all, survey, s, resolved);
  add(r.by_intent[intent], survey, s, resolved);
  add(r.by_escalation_reason[reason], survey, s, resolved);
  auto& c = conversations[{tenant, string_field(j, "session", "")}];
  c.tenant = tenant;
  c.session = string_field(j, "session", "");
  if (when >= c.last_unix_ms) {
    c.last_unix_ms = when;
    c.intent = intent;
    c.escalation_reason = reason;
  }
  add(c.figures, survey, s, resolved);
  return true;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string avg_text(double v) {
  if (std::isnan(v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string pad(std::string s, std::size_t width, bool right) {
  if (s.size() >= width)
    return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string figures_cells(const csat_figures& f) {
  std::string resolved = f.surveys == 0 ? "-" : avg_text(100.0 * static_cast<double>(f.resolved) /
                                                          static_cast<double>(f.surveys)) + "%";
  return pad(std::to_string(f.ratings), 9, true) + pad(avg_text(f.rating_avg()), 8, true) +
         pad(std::to_string(f.surveys), 9, true) + pad(avg_text(f.survey_avg()), 8, true) + pad(resolved, 10, true);
}

void table(std::ostringstream& out, const char* title, const std::map<std::string, csat_figures>& rows) {
  out << "\n" << pad(title, 22, false) << pad("ratings", 9, true) << pad("avg", 8, true) << pad("surveys", 9, true)
      << pad("avg", 8, true) << pad("resolved", 10, true) << "\n";
  for (const auto& [name, f] : rows)
    out << pad(name, 22, false) << figures_cells(f) << "\n";
}

std::string utc_text(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json number_or_null(double v) {
  return std::isnan(v) ? json(nullptr) : json(v);
}

json figures_json(const csat_figures& f) {
  return json{{"ratings", f.ratings},       {"rating_avg", number_or_null(f.rating_avg())},
              {"surveys", f.surveys},       {"survey_avg", number_or_null(f.survey_avg())},
              {"resolved", f.resolved}};
}

} // namespace

double csat_figures::rating_avg() const {
  return ratings == 0 ? no_value : rating_sum / static_cast<double>(ratings);
}

double csat_figures::survey_avg() const {
  return surveys == 0 ? no_value : survey_sum / static_cast<double>(surveys);
}

result<std::vector<std::string>> csat_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return failure{"no CSAT records: " + dir + " is not a directory (the quality actor writes "
                   "<quality.dir, else node.state_dir/quality>/<node>.csat.jsonl)"};
  std::vector<std::string> rotated, current;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    auto ends = [&](const std::string& suffix) {
      return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".csat.jsonl.1"))
      rotated.push_back(it->path().string());
    else if (ends(".csat.jsonl"))
      current.push_back(it->path().string());
  }
  if (ec)
    return failure{"cannot list " + dir + ": " + ec.message()};
  std::sort(rotated.begin(), rotated.end());
  std::sort(current.begin(), current.end());
  rotated.insert(rotated.end(), current.begin(), current.end());
  return rotated;
}

result<csat_report> read_csat(const std::vector<std::string>& files, const csat_filter& filter) {
  csat_report r;
  std::map<conversation_key, csat_conversation> conversations;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in)
      return failure{"cannot read " + path};
    r.files.push_back(path);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && !add_record(line, filter, r, conversations))
        ++r.skipped;
  }
  for (auto& [key, c] : conversations)
    r.conversations.push_back(std::move(c));
  std::stable_sort(r.conversations.begin(), r.conversations.end(),
                   [](const auto& a, const auto& b) { return a.last_unix_ms < b.last_unix_ms; });
  return r;
}

result<int64_t> parse_since(const std::string& text, int64_t now_unix_ms) {
  const failure bad{"--since \"" + text + "\": expected a duration back from now (90m, 24h, 7d), a date "
                    "(2026-11-01, UTC) or a UTC time (2026-11-01T12:30:00Z)"};
  if (text.size() >= 2 && all_digits(text.substr(0, text.size() - 1)) && text.size() <= 10) {
    int64_t n = std::stoll(text.substr(0, text.size() - 1));
    int64_t unit = text.back() == 'm' ? 60'000 : text.back() == 'h' ? 3'600'000 : text.back() == 'd' ? 86'400'000 : 0;
    if (unit == 0)
      return bad;
    return now_unix_ms - n * unit;
  }
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  int got = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  bool date_only = got == 3 && text.size() == 10;
  bool time = got == 7 && tail == 'Z' && text.size() == 20;
  if (!(date_only || time) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return bad;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string format_csat(const csat_report& r) {
  std::ostringstream out;
  out << "CSAT: " << r.records << " record" << (r.records == 1 ? "" : "s") << " from " << r.files.size() << " file"
      << (r.files.size() == 1 ? "" : "s");
  if (r.skipped > 0)
    out << " (" << r.skipped << " unreadable line" << (r.skipped == 1 ? "" : "s") << " skipped)";
  out << "\nRatings: answers rated 1-5; surveys: end-of-conversation score 1-5 and whether it was resolved\n";
  table(out, "overall", {{"all", r.all}});
  table(out, "by intent", r.by_intent);
  table(out, "by escalation reason", r.by_escalation_reason);
  out << "\n" << pad("conversation", 34, false) << pad("last record", 22, false) << pad("intent", 16, false)
      << pad("escalated", 14, false) << pad("ratings", 9, true) << pad("avg", 8, true) << pad("survey", 8, true)
      << pad("resolved", 10, true) << "\n";
  for (const auto& c : r.conversations) {
    const auto& f = c.figures;
    out << pad(c.tenant + "/" + c.session, 34, false) << pad(utc_text(c.last_unix_ms), 22, false)
        << pad(c.intent, 16, false) << pad(c.escalation_reason, 14, false) << pad(std::to_string(f.ratings), 9, true)
        << pad(avg_text(f.rating_avg()), 8, true) << pad(avg_text(f.survey_avg()), 8, true)
        << pad(f.surveys == 0 ? "-" : f.resolved > 0 ? "yes" : "no", 10, true) << "\n";
  }
  return out.str();
}

std::string csat_json(const csat_report& r) {
  json by_intent = json::object(), by_reason = json::object(), conversations = json::array();
  for (const auto& [k, f] : r.by_intent)
    by_intent[k] = figures_json(f);
  for (const auto& [k, f] : r.by_escalation_reason)
    by_reason[k] = figures_json(f);
  for (const auto& c : r.conversations) {
    auto j = figures_json(c.figures);
    j["tenant"] = c.tenant;
    j["session"] = c.session;
    j["last_unix_ms"] = c.last_unix_ms;
    j["intent"] = c.intent;
    j["escalation_reason"] = c.escalation_reason;
    conversations.push_back(std::move(j));
  }
  return json{{"files", r.files},         {"records", r.records},
              {"skipped", r.skipped},     {"all", figures_json(r.all)},
              {"by_intent", by_intent},   {"by_escalation_reason", by_reason},
              {"conversations", conversations}}
    .dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace sa::quality
