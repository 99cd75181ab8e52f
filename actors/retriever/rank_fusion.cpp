// rank_fusion: reciprocal rank fusion with source weights (see rank_fusion.hpp).
#include "actors/retriever/rank_fusion.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

namespace sa::knowledge {

std::vector<fused_hit> reciprocal_rank_fusion(const std::vector<search_hit>& bm25, const std::vector<vector_hit>& vectors,
                                              const fusion_options& opts) {
  double weight[3] = {1, 1, 1};
  for (const auto& s : opts.sources) {
    auto k = static_cast<unsigned>(s.kind);
    if (k < 3)
      weight[k] = s.weight > 0 ? s.weight : 0; // also maps NaN to 0
  }
  const double k = opts.k > 0 ? opts.k : 60;

  std::vector<fused_hit> all;
  std::unordered_map<std::string, std::size_t> at; // chunk id -> position in `all`
  auto entry = [&](const chunk& c) -> fused_hit& {
    auto [it, added] = at.emplace(c.id, all.size());
    if (added) {
      all.emplace_back();
      all.back().passage = c;
    }
    return all[it->second];
  };
  for (std::size_t i = 0; i < bm25.size(); ++i) {
    auto& h = entry(bm25[i].passage);
    if (h.bm25_rank == 0) { // a list holds each chunk once; keep its first (best) rank if not
      h.bm25_rank = i + 1;
      h.bm25 = bm25[i].score;
    }
  }
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (vectors[i].passage == nullptr)
      continue;
    auto& h = entry(*vectors[i].passage);
    if (h.vector_rank == 0) {
      h.vector_rank = i + 1;
      h.similarity = vectors[i].similarity;
    }
  }

  std::vector<fused_hit> out;
  out.reserve(all.size());
  for (auto& h : all) {
    double w = weight[static_cast<unsigned>(h.passage.kind) % 3];
    if (w <= 0)
      continue;
    double sum = 0;
    if (h.bm25_rank > 0)
      sum += 1.0 / (k + static_cast<double>(h.bm25_rank));
    if (h.vector_rank > 0)
      sum += 1.0 / (k + static_cast<double>(h.vector_rank));
    h.fused = w * sum;
    out.push_back(std::move(h));
  }
  auto best_rank = [](const fused_hit& h) {
    std::size_t a = h.bm25_rank == 0 ? SIZE_MAX : h.bm25_rank;
    std::size_t b = h.vector_rank == 0 ? SIZE_MAX : h.vector_rank;
    return std::min(a, b);
  };
  std::sort(out.begin(), out.end(), [&](const fused_hit& a, const fused_hit& b) {
    if (a.fused != b.fused)
      return a.fused > b.fused;
    if (best_rank(a) != best_rank(b))
      return best_rank(a) < best_rank(b);
    if (a.bm25 != b.bm25)
      return a.bm25 > b.bm25;
    return a.passage.id < b.passage.id;
  });
  if (out.size() > opts.limit)
    out.resize(opts.limit);
  return out;
}

} // namespace sa::knowledge
