// The ingest command: options -> knowledge::ingest(), a throttled progress line on stderr (at most two a
// second), and a summary on stdout. Ctrl-C sets the ingest's cancel flag: it stops at the next file or
// batch of chunks and writes nothing, so the previous index stays in place.
#include "actors/node/ingest_command.hpp"

#include "actors/account/account_store.hpp"
#include "actors/node/node.hpp"
#include "actors/retriever/knowledge_store.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <cstdio>
#include <ostream>

namespace sa {

namespace {

std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int) { interrupted.store(true); }

/// Installs the stop handlers for its lifetime (a second signal kills the process the usual way).
class stop_signals {
public:
  stop_signals() {
    interrupted.store(false);
    struct sigaction sa{};
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    // A parent may have started us with them blocked (inherited masks): they must reach the handler.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &stop, &old_mask_);
  }
  ~stop_signals() {
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

private:
  struct sigaction old_int_{}, old_term_{};
  sigset_t old_mask_{};
};

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string rate(std::size_t chunks, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f chunks/s", seconds > 0 ? static_cast<double>(chunks) / seconds : 0.0);
  return buf;
}

} // namespace

int run_ingest_command(const config::config& cfg, const ingest_cli_options& o, std::ostream& out, std::ostream& err) {
  std::string why;
  if (!knowledge::valid_tenant_name(o.tenant, &why)) {
    err << "support-agent: " << why << "\n";
    return 2;
  }
  if (auto accounts = account_store::load(cfg.tenants.accounts_file); accounts && !(*accounts)->has_tenant(o.tenant))
    err << "support-agent: note: tenant '" << o.tenant << "' is not in " << cfg.tenants.accounts_file
        << "; a node serves only the tenants listed there\n";
  const auto paths = o.paths.empty() ? configured_knowledge_paths(cfg, o.tenant) : o.paths;

  knowledge::ingest_options opts;
  opts.chunking = knowledge_chunking(cfg);
  opts.skip_bad_files = o.skip_bad;
  opts.cancel = &interrupted;
  auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1); // the first report prints at once
  opts.progress = [&](const knowledge::ingest_progress& p) {
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(500))
      return;
    last = now;
    if (p.stage == knowledge::ingest_progress::phase::reading)
      err << "support-agent: ingest " << o.tenant << ": read " << p.files_done << "/" << p.files_total << " files, "
          << p.chunks << " chunks, " << rate(p.chunks, p.seconds) << std::endl;
    else
      err << "support-agent: ingest " << o.tenant << ": wrote " << p.chunks << "/" << p.chunks_to_write
          << " chunks, " << rate(p.chunks, p.seconds) << std::endl;
  };

  result<knowledge::ingest_report> r = failure{""};
  {
    stop_signals guard;
    r = knowledge::ingest(knowledge_root(cfg), o.tenant, paths, opts);
  }
  if (!r) {
    err << "support-agent: ingest " << o.tenant << " failed: " << r.error() << "\n";
    return interrupted.load() ? 130 : 1;
  }
  const auto& rep = *r;
  for (const auto& note : rep.notes)
    err << "support-agent: note: " << note << "\n";
  for (const auto& [file, original] : rep.duplicates)
    err << "support-agent: duplicate: " << file << " has the same content as " << original << " (indexed once)\n";
  for (const auto& skipped : rep.skipped)
    err << "support-agent: skipped: " << skipped << "\n";
  if (rep.written)
    out << "ingested tenant " << o.tenant << " into " << rep.index_file << " (generation " << rep.generation << ")\n";
  else
    out << "nothing changed for tenant " << o.tenant << ": " << rep.index_file << " kept (generation "
        << rep.generation << ")\n";
  out << "  files    " << rep.files << " found: " << rep.added << " added, " << rep.updated << " updated, "
      << rep.removed << " removed, " << rep.unchanged << " unchanged (skipped), " << rep.duplicates.size()
      << " duplicate" << (rep.duplicates.size() == 1 ? "" : "s") << ", " << rep.skipped.size() << " bad (skipped), "
      << rep.empty << " without text\n";
  out << "  chunks   " << rep.chunks << " in the index (+" << rep.chunks_added << " -" << rep.chunks_removed << ")\n";
  out << "  index    " << megabytes(rep.index_bytes) << " (" << rep.index_bytes << " bytes)\n";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", rep.seconds);
  out << "  time     " << secs << " (" << rate(rep.chunks_added, rep.seconds) << ")\n";
  if (!rep.skipped.empty()) {
    err << "support-agent: ingest " << o.tenant << ": " << rep.skipped.size()
        << " bad source(s) skipped (listed above); the rest was ingested\n";
    return 1;
  }
  return 0;
}

} // namespace sa
