// knowledge_catalog: which knowledge index serves which tenant. Immutable once built; tenants that
// share the same source paths share one index. A tenant whose sources failed to load has no index and
// a recorded reason (its turns escalate with knowledge_unavailable; other tenants are unaffected).
//
// A tenant with an ingested index (knowledge_store.hpp) is served from it; the others are indexed at
// start-up from their configured paths. A re-ingested tenant gets a new catalog (with_index) published
// through the node's knowledge_catalog_slot: each retrieval reads the slot once and keeps that catalog,
// and with it the index, alive until it is done, so nothing in flight ever sees an index disappear.
#pragma once

#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/knowledge_store.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sa {

class knowledge_catalog {
public:
  struct tenant_sources {
    std::string tenant;
    std::vector<std::string> paths;
    /// The tenant's ingested index: used instead of `paths` when the file exists (empty: none).
    std::string index_file;
  };

  /// Where a tenant's index came from.
  struct origin {
    bool ingested = false;          ///< false: built at start-up from the configured paths
    std::string index_file;         ///< ingested: the file it was read from
    knowledge::file_stamp stamp;    ///< ingested: that file as it was just before it was read
  };

  /// Opens each ingested index, and builds an index per distinct path list (in memory) for the other
  /// tenants. Never fails as a whole: failures are recorded per tenant and reported by `problems()`.
  static std::shared_ptr<const knowledge_catalog> build(const std::vector<tenant_sources>& tenants,
                                                        const knowledge::chunking_options& opts = {});

  /// A copy of this catalog with `tenant` served by `index` (read from `from`); its problem, if any, cleared.
  std::shared_ptr<const knowledge_catalog> with_index(const std::string& tenant,
                                                      std::shared_ptr<const knowledge::knowledge_index> index,
                                                      origin from) const;

  /// The tenant's index, or nullptr when it has none. Valid while this catalog is alive.
  const knowledge::knowledge_index* find(const std::string& tenant) const;

  /// The same, sharing ownership: for whoever builds something on top of the index (the embedding indexer).
  std::shared_ptr<const knowledge::knowledge_index> find_shared(const std::string& tenant) const;

  /// Where the tenant's index came from, or nullptr when it has none.
  const origin* origin_of(const std::string& tenant) const;

  /// tenant -> why its knowledge is unavailable.
  const std::map<std::string, std::string>& problems() const noexcept { return problems_; }

  /// Distinct indexes in use.
  std::size_t index_count() const noexcept;

private:
  struct entry {
    std::shared_ptr<const knowledge::knowledge_index> index;
    origin from;
  };
  std::map<std::string, entry> by_tenant_;
  std::map<std::string, std::string> problems_;
};

/// The node's current catalog: published by the knowledge watcher, read by every retrieval. Lock-free for
/// readers in effect (an atomic shared_ptr load); the catalogs themselves are immutable.
class knowledge_catalog_slot {
public:
  explicit knowledge_catalog_slot(std::shared_ptr<const knowledge_catalog> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const knowledge_catalog> load() const { return std::atomic_load(&current_); }
  void store(std::shared_ptr<const knowledge_catalog> next) { std::atomic_store(&current_, std::move(next)); }

private:
  std::shared_ptr<const knowledge_catalog> current_;
};

} // namespace sa
