// knowledge_catalog: which knowledge index serves which tenant. Immutable once built; tenants that
// share the same source paths share one index. A tenant whose sources failed to load has no index and
// a recorded reason (its turns escalate with knowledge_unavailable; other tenants are unaffected).
#pragma once

#include "actors/retriever/knowledge_index.hpp"

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
  };

  /// Builds an index per distinct path list (in memory). Never fails as a whole: failures are
  /// recorded per tenant and reported by `problems()`.
  static std::shared_ptr<const knowledge_catalog> build(const std::vector<tenant_sources>& tenants,
                                                        const knowledge::chunking_options& opts = {});

  /// The tenant's index, or nullptr when it has none.
  const knowledge::knowledge_index* find(const std::string& tenant) const;

  /// tenant -> why its knowledge is unavailable.
  const std::map<std::string, std::string>& problems() const noexcept { return problems_; }

  std::size_t index_count() const noexcept { return indexes_.size(); }

private:
  std::vector<std::shared_ptr<const knowledge::knowledge_index>> indexes_;
  std::map<std::string, const knowledge::knowledge_index*> by_tenant_;
  std::map<std::string, std::string> problems_;
};

} // namespace sa
