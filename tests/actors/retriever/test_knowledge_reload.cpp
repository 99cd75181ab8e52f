// Hot reload of re-ingested tenants: the catalog and its slot, the reloader, the watcher actor on a real
// timer, and a running node whose answers change after a re-ingest without a restart. Waits are polls
// with deadlines, never fixed sleeps.
#include "actors/retriever/knowledge_catalog.hpp"
#include "actors/retriever/knowledge_store.hpp"
#include "actors/retriever/knowledge_watcher.hpp"
#include "runtime/log.hpp"
#include "tests/support/test_node.hpp"
#include "test_support.hpp"

#include "caf/all.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace sa;
using sa::knowledge::test::temp_dir;
namespace fs = std::filesystem;

namespace {

std::size_t hits(const knowledge::knowledge_index& index, const std::string& query) {
  knowledge::search_options opts;
  opts.limit = 50;
  return index.search(query, opts).size();
}

void ingest_ok(const std::string& root, const std::string& tenant, const std::string& path) {
  auto r = knowledge::ingest(root, tenant, {path});
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
}

/// Polls `done` until it holds or `deadline` passes.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct two_tenants {
  temp_dir dir;
  std::string root = dir.str() + "/knowledge";
  std::string acme_file = knowledge::tenant_index_file(root, "acme");
  std::string globex_file = knowledge::tenant_index_file(root, "globex");
  std::shared_ptr<knowledge_catalog_slot> slot;

  two_tenants() {
    dir.write("acme/zebra.md", "# Zebra crossings\n\nThe zebra crossing policy covers painted stripes.\n");
    dir.write("globex/lasers.md", "# Lasers\n\nGlobex lasers need a licence.\n");
    ingest_ok(root, "acme", dir.str() + "/acme");
    // acme is ingested; globex is served from its configured path (no ingested index yet)
    auto catalog = knowledge_catalog::build({{"acme", {dir.str() + "/unused"}, acme_file},
                                             {"globex", {dir.str() + "/globex"}, globex_file}});
    REQUIRE(catalog->problems().empty());
    slot = std::make_shared<knowledge_catalog_slot>(catalog);
  }

  knowledge_watch_settings settings(std::chrono::milliseconds interval = std::chrono::milliseconds(20)) const {
    return {slot, {{"acme", acme_file}, {"globex", globex_file}}, interval, nullptr};
  }
};

} // namespace

TEST_CASE("The catalog serves an ingested tenant from its index file and the others from their paths") {
  two_tenants t;
  auto cat = t.slot->load();
  REQUIRE(cat->find("acme") != nullptr);
  REQUIRE(cat->origin_of("acme") != nullptr);
  CHECK(cat->origin_of("acme")->ingested);
  CHECK(cat->origin_of("acme")->index_file == t.acme_file);
  CHECK(cat->find("acme")->generation() == 1);
  CHECK(hits(*cat->find("acme"), "zebra") == 1);
  REQUIRE(cat->find("globex") != nullptr);
  CHECK_FALSE(cat->origin_of("globex")->ingested);
  CHECK(hits(*cat->find("globex"), "lasers") == 1);
  CHECK(cat->find("nobody") == nullptr);

  // A damaged ingested index makes the tenant unavailable (no silent fallback to stale configured paths).
  t.dir.write("broken/index.sqlite", "not a database, just some text long enough to fill a header.......");
  auto broken = knowledge_catalog::build({{"initech", {t.dir.str() + "/globex"}, t.dir.str() + "/broken/index.sqlite"}});
  CHECK(broken->find("initech") == nullptr);
  REQUIRE(broken->problems().count("initech") == 1);
  CHECK(broken->problems().at("initech").find("ingested index:") == 0);
}

TEST_CASE("The reloader publishes a re-ingested tenant, other tenants and retrievals in flight keep their index") {
  two_tenants t;
  knowledge_reloader reloader(t.settings());
  CHECK(reloader.check().empty()); // nothing changed since the catalog was built

  auto in_flight = t.slot->load(); // a retrieval holding the catalog while the tenant is re-ingested
  const auto* old_acme = in_flight->find("acme");
  const auto* globex = in_flight->find("globex");
  t.dir.write("acme/quokka.md", "# Quokka feeding\n\nQuokkas are fed leaves, never bread.\n");
  fs::remove(t.dir.path() / "acme" / "zebra.md");
  ingest_ok(t.root, "acme", t.dir.str() + "/acme");

  CHECK(reloader.check() == std::vector<std::string>{"acme"});
  auto now = t.slot->load();
  REQUIRE(now != in_flight);
  CHECK(now->find("acme")->generation() == 2);
  CHECK(hits(*now->find("acme"), "quokka") == 1);
  CHECK(hits(*now->find("acme"), "zebra") == 0);
  CHECK(now->find("globex") == globex); // untouched, the same index object
  CHECK(hits(*old_acme, "zebra") == 1);  // the old snapshot still answers, unchanged
  CHECK(hits(*old_acme, "quokka") == 0);
  CHECK(reloader.check().empty());       // reloaded once, not on every pass

  // A tenant served from its paths picks up its first ingest the same way.
  ingest_ok(t.root, "globex", t.dir.str() + "/globex");
  CHECK(reloader.check() == std::vector<std::string>{"globex"});
  CHECK(t.slot->load()->origin_of("globex")->ingested);
  CHECK(t.slot->load()->find("acme") == now->find("acme"));
}

TEST_CASE("A damaged new generation is refused once and the tenant keeps serving the index it has") {
  two_tenants t;
  knowledge_reloader reloader(t.settings());
  auto before = t.slot->load();
  auto garbage = t.dir.write("garbage.sqlite", "garbage that is not a database, long enough for a header.......");
  fs::rename(garbage, t.acme_file);
  CHECK(reloader.check().empty());
  CHECK(t.slot->load() == before);
  CHECK(reloader.check().empty()); // not retried until the file changes again
  CHECK(hits(*t.slot->load()->find("acme"), "zebra") == 1);

  fs::remove(t.acme_file); // a removed index changes nothing either
  CHECK(reloader.check().empty());
  ingest_ok(t.root, "acme", t.dir.str() + "/acme"); // a good generation is picked up again
  CHECK(reloader.check() == std::vector<std::string>{"acme"});
  CHECK(hits(*t.slot->load()->find("acme"), "zebra") == 1);
}

TEST_CASE("The knowledge watcher actor picks up a re-ingest on its timer") {
  two_tenants t;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto watcher = spawn_knowledge_watcher(sys, t.settings(std::chrono::milliseconds(20)));
  t.dir.write("acme/quokka.md", "# Quokka feeding\n\nQuokkas are fed leaves, never bread.\n");
  ingest_ok(t.root, "acme", t.dir.str() + "/acme");
  CHECK(eventually([&] { return t.slot->load()->find("acme")->generation() == 2; }));
  CHECK(hits(*t.slot->load()->find("acme"), "quokka") == 1);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

TEST_CASE("A running node answers from a re-ingested knowledge base without a restart") {
  temp_dir dir;
  log::init("warn", "");
  auto cfg = test::test_config();
  cfg.node.state_dir = dir.str() + "/state";
  cfg.retriever.reload_interval_ms = 50;
  const auto root = knowledge_root(cfg);
  dir.write("kb1/billing/zebra-invoices.md",
            "---\ntitle: Zebra invoices\n---\n# Zebra invoices\n\nZebra invoices are issued on the zebra date, "
            "and every zebra invoice lists the zebra plan and its price.\n");
  ingest_ok(root, "acme", dir.str() + "/kb1");
  auto svc = build_node_services(cfg, [](const std::string&) {});
  REQUIRE(svc.ok());
  test::test_node node({}, *svc);
  caf::scoped_actor self{*node.sys};
  auto cites = [](const test::turn_result& r, const std::string& prefix) {
    if (!r.completed)
      return false;
    for (const auto& s : r.completed->sources)
      if (s.source_id.rfind(prefix, 0) == 0)
        return true;
    return false;
  };

  auto first = test::run_turn(self, node.handles.router, "acme", "alice", "reload-1", "When are zebra invoices issued?");
  REQUIRE(first.completed);
  CHECK(cites(first, "billing/zebra-invoices.md#"));
  auto other = test::run_turn(self, node.handles.router, "globex", "carol", "reload-g1", "How do I add a custom domain?");
  REQUIRE(other.completed);
  CHECK_FALSE(cites(other, "billing/zebra-invoices.md#")); // globex is served from the configured data/kb
  CHECK_FALSE(other.completed->sources.empty());

  dir.write("kb1/guides/quokka-deliveries.md",
            "---\ntitle: Quokka deliveries\n---\n# Quokka deliveries\n\nQuokka deliveries are shipped by the quokka "
            "courier within five days of the quokka order.\n");
  ingest_ok(root, "acme", dir.str() + "/kb1");
  int attempt = 0;
  CHECK(eventually([&] {
    auto r = test::run_turn(self, node.handles.router, "acme", "alice", "reload-q" + std::to_string(++attempt),
                            "How are quokka deliveries shipped?");
    return cites(r, "guides/quokka-deliveries.md#");
  }));
  auto after = test::run_turn(self, node.handles.router, "globex", "carol", "reload-g2", "How do I add a custom domain?");
  REQUIRE(after.completed);
  CHECK_FALSE(cites(after, "guides/quokka-deliveries.md#")); // another tenant's ingest never reaches globex
}
