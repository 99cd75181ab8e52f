#include "actors/handoff/export_training.hpp"

namespace sa::handoff {

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

std::size_t export_training(const std::vector<handoff_view>& records, const std::string& tenant, std::ostream& out) {
  out << "text,intent,bot_could_answer,handoff\n";
  std::size_t rows = 0;
  for (const auto& r : records) {
    if (r.tenant.value != tenant || !r.tagged || r.tag_intent.empty())
      continue;
    bool blank = r.question.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank)
      continue;
    out << csv_field(r.question) << ',' << r.tag_intent << ',' << (r.bot_could_answer ? "true" : "false") << ','
        << r.id << '\n';
    ++rows;
  }
  return rows;
}

} // namespace sa::handoff
