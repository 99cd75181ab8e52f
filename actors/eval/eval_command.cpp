// The `eval` command: validates its arguments and the set before the slow start-up (training, indexing),
// then runs the set on the calling thread (CLI code, not an actor) and reports.
#include "actors/eval/eval_command.hpp"

#include "actors/eval/eval_runner.hpp"
#include "actors/node/node.hpp"

#include "caf/all.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace sa::eval {

namespace {

bool parse_count(const std::string& text, const char* name, long min, long& out, std::ostream& err) {
  try {
    std::size_t used = 0;
    out = std::stol(text, &used);
    if (used == text.size() && out >= min)
      return true;
  } catch (const std::exception&) {
  }
  err << "support-agent: " << name << " needs a whole number >= " << min << ", not \"" << text << "\"\n";
  return false;
}

} // namespace

config::config offline_config(config::config cfg, const std::string& scratch_dir) {
  cfg.classifier.backend = "local";
  cfg.generator.backend = "local";
  cfg.retriever.embedding.provider.clear();
  cfg.account.backend = "embedded";
  cfg.memory.backend = "inprocess";
  cfg.actions.ticket_webhook_url.clear();
  cfg.actions.workflows.clear();
  cfg.quality.sample_rate = 0;
  cfg.quality.judge.clear();
  cfg.cluster.port = 0;
  cfg.audit.backend = "file";
  cfg.audit.path = scratch_dir + "/audit.jsonl";
  return cfg;
}

int run_eval_command(const config::config& cfg, const eval_cli_options& opts, std::ostream& out,
                     std::ostream& err) {
  long k = 0, limit = 0;
  if (opts.set.empty()) {
    err << "support-agent: eval needs a set file (JSON lines; see data/eval/README.md)\n";
    return 2;
  }
  if (!parse_count(opts.k, "--k", 1, k, err) || (!opts.limit.empty() && !parse_count(opts.limit, "--limit", 1, limit, err)))
    return 2;
  auto rows = load_set(opts.set);
  if (!rows) {
    err << "support-agent: " << rows.error() << "\n";
    return 2;
  }
  if (limit > 0 && static_cast<std::size_t>(limit) < rows->size())
    rows->resize(static_cast<std::size_t>(limit));
  namespace fs = std::filesystem;
  auto scratch = fs::temp_directory_path() / ("sa-eval-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(scratch, ec);
  struct cleanup {
    fs::path p;
    ~cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } remove_scratch{scratch};
  auto progress = [&err](const std::string& line) { err << "support-agent: " << line << std::endl; };
  auto svc = build_node_services(offline_config(cfg, scratch.string()), progress);
  if (!svc) {
    err << "support-agent: " << svc.error() << "\n";
    return 1;
  }
  if (!(*svc)->accounts->has_user(opts.tenant, opts.user)) {
    err << "support-agent: tenant '" << opts.tenant << "' has no user '" << opts.user
        << "' (set --tenant and --user to an account of tenants.accounts_file)\n";
    return 2;
  }
  run_options ro;
  ro.tenant = opts.tenant;
  ro.user = opts.user;
  ro.k = static_cast<unsigned>(k);
  ro.turn_wait = std::chrono::milliseconds{cfg.session.turn_timeout_ms + 5000};
  ro.progress_every = rows->size() >= 200 ? 100 : 25;
  ro.progress = progress;
  std::vector<eval_observation> obs;
  {
    caf::actor_system_config sys_cfg;
    configure_actor_system(sys_cfg, (*svc)->cfg);
    caf::actor_system sys{sys_cfg};
    obs = run_set(sys, *svc, *rows, ro);
  }
  auto report = summarize(obs, ro.k);
  auto name = fs::path{opts.set}.filename().string();
  print_table(out, report, name);
  auto json = to_json(report, name).dump();
  out << json << std::endl;
  if (!opts.json_file.empty()) {
    std::ofstream f{opts.json_file};
    f << json << "\n";
    if (!f) {
      err << "support-agent: cannot write " << opts.json_file << "\n";
      return 1;
    }
  }
  if (!opts.rows_file.empty()) {
    std::ofstream f{opts.rows_file};
    for (std::size_t i = 0; i < obs.size(); ++i)
      f << row_json(obs[i], (*rows)[i].text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!f) {
      err << "support-agent: cannot write " << opts.rows_file << "\n";
      return 1;
    }
  }
  return report.failed == 0 ? 0 : 1;
}

} // namespace sa::eval
