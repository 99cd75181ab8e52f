#include "actors/retriever/knowledge_catalog.hpp"

#include <filesystem>
#include <set>

namespace sa {

std::shared_ptr<const knowledge_catalog>
knowledge_catalog::build(const std::vector<tenant_sources>& tenants, const knowledge::chunking_options& opts) {
  auto cat = std::make_shared<knowledge_catalog>();
  std::map<std::vector<std::string>, std::shared_ptr<const knowledge::knowledge_index>> built;
  std::map<std::vector<std::string>, std::string> failed;
  for (auto& t : tenants) {
    std::error_code ec;
    if (!t.index_file.empty() && std::filesystem::exists(t.index_file, ec)) {
      origin from;
      from.ingested = true;
      from.index_file = t.index_file;
      knowledge::stat_file(t.index_file, from.stamp); // before reading: a newer file gets a newer stamp
      auto idx = knowledge::knowledge_index::open(t.index_file);
      if (!idx) // no silent fallback to the configured paths: the operator ingested on purpose
        cat->problems_[t.tenant] = "ingested index: " + idx.error();
      else
        cat->by_tenant_[t.tenant] = {*idx, std::move(from)};
      continue;
    }
    if (auto i = built.find(t.paths); i != built.end()) {
      cat->by_tenant_[t.tenant] = {i->second, {}};
      continue;
    }
    if (auto f = failed.find(t.paths); f != failed.end()) {
      cat->problems_[t.tenant] = f->second;
      continue;
    }
    auto idx = knowledge::knowledge_index::build(t.paths, ":memory:", opts);
    if (!idx) {
      failed[t.paths] = idx.error();
      cat->problems_[t.tenant] = idx.error();
      continue;
    }
    if ((*idx)->chunk_count() == 0) {
      failed[t.paths] = "the knowledge base is empty";
      cat->problems_[t.tenant] = "the knowledge base is empty";
      continue;
    }
    built[t.paths] = *idx;
    cat->by_tenant_[t.tenant] = {*idx, {}};
  }
  return cat;
}

std::shared_ptr<const knowledge_catalog>
knowledge_catalog::with_index(const std::string& tenant, std::shared_ptr<const knowledge::knowledge_index> index,
                              origin from) const {
  auto next = std::make_shared<knowledge_catalog>(*this);
  next->by_tenant_[tenant] = {std::move(index), std::move(from)};
  next->problems_.erase(tenant);
  return next;
}

const knowledge::knowledge_index* knowledge_catalog::find(const std::string& tenant) const {
  auto i = by_tenant_.find(tenant);
  return i == by_tenant_.end() ? nullptr : i->second.index.get();
}

std::shared_ptr<const knowledge::knowledge_index> knowledge_catalog::find_shared(const std::string& tenant) const {
  auto i = by_tenant_.find(tenant);
  return i == by_tenant_.end() ? nullptr : i->second.index;
}

const knowledge_catalog::origin* knowledge_catalog::origin_of(const std::string& tenant) const {
  auto i = by_tenant_.find(tenant);
  return i == by_tenant_.end() ? nullptr : &i->second.from;
}

std::size_t knowledge_catalog::index_count() const noexcept {
  std::set<const knowledge::knowledge_index*> distinct;
  for (const auto& [tenant, e] : by_tenant_)
    distinct.insert(e.index.get());
  return distinct.size();
}

} // namespace sa
