#include "actors/retriever/knowledge_catalog.hpp"

namespace sa {

std::shared_ptr<const knowledge_catalog>
knowledge_catalog::build(const std::vector<tenant_sources>& tenants, const knowledge::chunking_options& opts) {
  auto cat = std::make_shared<knowledge_catalog>();
  std::map<std::vector<std::string>, const knowledge::knowledge_index*> built;
  std::map<std::vector<std::string>, std::string> failed;
  for (auto& t : tenants) {
    if (auto i = built.find(t.paths); i != built.end()) {
      cat->by_tenant_[t.tenant] = i->second;
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
    built[t.paths] = idx->get();
    cat->by_tenant_[t.tenant] = idx->get();
    cat->indexes_.push_back(*idx);
  }
  return cat;
}

const knowledge::knowledge_index* knowledge_catalog::find(const std::string& tenant) const {
  auto i = by_tenant_.find(tenant);
  return i == by_tenant_.end() ? nullptr : i->second;
}

} // namespace sa
