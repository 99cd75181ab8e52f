// csat_command: see the header.
#include "actors/node/csat_command.hpp"

#include "actors/quality/csat_report.hpp"

#include <chrono>
#include <fstream>
#include <ostream>

namespace sa {
namespace {

/// Tenant names as the config allows them: [A-Za-z0-9_.-], 1..64 characters.
bool tenant_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == std::string::npos;
}

} // namespace

int run_csat_command(const config::config& cfg, const csat_cli_options& opts, std::ostream& out, std::ostream& err) {
  quality::csat_filter filter;
  if (!opts.tenant.empty() && !tenant_name(opts.tenant)) {
    err << "support-agent: --tenant \"" << opts.tenant << "\": a tenant name is 1-64 of A-Z a-z 0-9 _ . -\n";
    return 2;
  }
  filter.tenant = opts.tenant;
  if (!opts.since.empty()) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
    auto since = quality::parse_since(opts.since, now);
    if (!since) {
      err << "support-agent: " << since.error() << "\n";
      return 2;
    }
    filter.since_unix_ms = *since;
  }
  std::vector<std::string> files{opts.file};
  if (opts.file.empty()) {
    auto dir = cfg.quality.dir.empty() ? cfg.node.state_dir + "/quality" : cfg.quality.dir;
    auto found = quality::csat_files(dir);
    if (!found) {
      err << "support-agent: " << found.error() << "\n";
      return 1;
    }
    files = std::move(*found);
  }
  auto report = quality::read_csat(files, filter);
  if (!report) {
    err << "support-agent: " << report.error() << "\n";
    return 1;
  }
  if (opts.json_file == "-") {
    out << quality::csat_json(*report) << "\n";
    return 0;
  }
  if (report->records == 0)
    out << "No CSAT records" << (opts.tenant.empty() ? "" : " of tenant " + opts.tenant)
        << (opts.since.empty() ? "" : " since " + opts.since) << " in " << files.size() << " file"
        << (files.size() == 1 ? "" : "s") << ".\n";
  else
    out << quality::format_csat(*report);
  if (!opts.json_file.empty()) {
    std::ofstream f(opts.json_file);
    f << quality::csat_json(*report) << "\n";
    if (!f) {
      err << "support-agent: cannot write " << opts.json_file << "\n";
      return 1;
    }
  }
  return 0;
}

} // namespace sa
