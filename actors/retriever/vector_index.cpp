// vector_index: one hnswlib graph per source kind over normalised float vectors (see vector_index.hpp).
// hnswlib is header-only and defines non-inline functions in its headers: include it in this file only.
//
// Debian's hnswlib 0.6.2 prefetches one link past the end of a node's link list when built with SSE (an
// out-of-bounds read that AddressSanitizer reports; fixed upstream later), so its manual vectorization is
// off and the distance is ours: an inner product with eight independent accumulators, which the compiler
// vectorizes without reordering the sum.
#include "actors/retriever/vector_index.hpp"

#define NO_MANUAL_VECTORIZATION 1
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>

namespace sa::knowledge {

namespace {

constexpr std::size_t kind_count = 3;

/// Normalises `v` in place; false when it is all zeros or not finite.
bool normalise(std::vector<float>& v) {
  double norm = 0;
  for (float x : v)
    norm += static_cast<double>(x) * x;
  if (!(norm > 0) || !std::isfinite(norm))
    return false;
  const double inv = 1.0 / std::sqrt(norm);
  for (auto& x : v)
    x = static_cast<float>(x * inv);
  return true;
}

/// Inner-product distance (1 - cosine for unit vectors) over float vectors of one dimension.
class inner_product_space final : public hnswlib::SpaceInterface<float> {
public:
  explicit inner_product_space(std::size_t dims) : dims_(dims) {}

  std::size_t get_data_size() override { return dims_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dims_; }

  static float dot(const float* x, const float* y, std::size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (std::size_t k = 0; k < 8; ++k)
        acc[k] += x[i + k] * y[i + k];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; ++i)
      sum += x[i] * y[i];
    return sum;
  }

private:
  static float distance(const void* a, const void* b, const void* param) {
    const auto n = *static_cast<const std::size_t*>(param);
    return 1.0f - dot(static_cast<const float*>(a), static_cast<const float*>(b), n);
  }

  std::size_t dims_;
};

} // namespace

struct vector_index::impl {
  struct graph {
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw; ///< labels are positions in `chunks`
    std::size_t count = 0;
  };
  std::size_t dims = 0;
  std::vector<chunk> chunks;
  std::unique_ptr<inner_product_space> space;
  graph by_kind[kind_count];
};

vector_index::vector_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
vector_index::~vector_index() = default;

std::size_t vector_index::size() const noexcept { return impl_->chunks.size(); }
std::size_t vector_index::dimensions() const noexcept { return impl_->dims; }

result<std::shared_ptr<const vector_index>> vector_index::build(std::vector<chunk> chunks,
                                                                const std::vector<std::vector<float>>& vectors,
                                                                const vector_index_options& opts) {
  if (chunks.size() != vectors.size())
    return failure{"vector index: " + std::to_string(chunks.size()) + " chunks for " + std::to_string(vectors.size()) +
                   " vectors"};
  auto p = std::make_unique<impl>();
  if (chunks.empty())
    return std::shared_ptr<const vector_index>(new vector_index(std::move(p)));
  p->dims = vectors.front().size();
  if (p->dims == 0)
    return failure{"vector index: the vector of chunk " + chunks.front().id + " is empty"};
  std::size_t per_kind[kind_count] = {0, 0, 0};
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (vectors[i].size() != p->dims)
      return failure{"vector index: the vector of chunk " + chunks[i].id + " has " + std::to_string(vectors[i].size()) +
                     " dimensions, expected " + std::to_string(p->dims)};
    ++per_kind[static_cast<std::size_t>(chunks[i].kind) % kind_count];
  }
  p->space = std::make_unique<inner_product_space>(p->dims);
  try {
    for (std::size_t k = 0; k < kind_count; ++k) {
      if (per_kind[k] == 0)
        continue;
      auto& g = p->by_kind[k];
      g.hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(p->space.get(), per_kind[k], opts.m,
                                                                  opts.ef_construction, opts.seed);
      g.hnsw->setEf(std::max<std::size_t>(opts.ef_search, 1));
    }
    std::vector<float> v;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      v = vectors[i];
      if (!normalise(v))
        return failure{"vector index: the vector of chunk " + chunks[i].id + " is all zeros or not finite"};
      auto& g = p->by_kind[static_cast<std::size_t>(chunks[i].kind) % kind_count];
      g.hnsw->addPoint(v.data(), static_cast<hnswlib::labeltype>(i));
      ++g.count;
    }
  } catch (const std::exception& e) { // hnswlib reports allocation failures by exception
    return failure{std::string("vector index: cannot build the HNSW graph: ") + e.what()};
  }
  p->chunks = std::move(chunks);
  return std::shared_ptr<const vector_index>(new vector_index(std::move(p)));
}

std::vector<vector_hit> vector_index::search(const std::vector<float>& query, std::size_t k,
                                             const std::vector<source_weight>& sources) const {
  std::vector<vector_hit> hits;
  if (k == 0 || impl_->dims == 0 || query.size() != impl_->dims)
    return hits;
  bool searched[kind_count] = {true, true, true};
  for (const auto& s : sources) {
    auto kind = static_cast<std::size_t>(s.kind);
    if (kind < kind_count)
      searched[kind] = s.weight > 0; // also false for NaN
  }
  std::vector<float> q = query;
  if (!normalise(q))
    return hits;
  for (std::size_t kind = 0; kind < kind_count; ++kind) {
    const auto& g = impl_->by_kind[kind];
    if (!searched[kind] || !g.hnsw || g.count == 0)
      continue;
    auto found = g.hnsw->searchKnn(q.data(), std::min(k, g.count));
    while (!found.empty()) {
      auto [distance, label] = found.top(); // inner product distance: 1 - cosine
      found.pop();
      hits.push_back({&impl_->chunks[static_cast<std::size_t>(label)], 1.0 - static_cast<double>(distance)});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const vector_hit& a, const vector_hit& b) {
    if (a.similarity != b.similarity)
      return a.similarity > b.similarity;
    return a.passage->id < b.passage->id; // deterministic order for ties
  });
  if (hits.size() > k)
    hits.resize(k);
  return hits;
}

} // namespace sa::knowledge
