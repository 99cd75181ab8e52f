// embedding_job: cache lookups, batches and the final vector index of one knowledge index (see the header).
#include "actors/retriever/embedding_job.hpp"

#include "actors/retriever/embedding_protocol.hpp"

#include <set>

namespace sa::knowledge {

std::string embedding_text(const chunk& c) {
  std::string text;
  // The heading path starts with the page title; FAQ and ticket bodies start with their question or subject.
  const std::string& head = !c.section.empty() ? c.section : c.title;
  if (!head.empty() && c.text.compare(0, head.size(), head) != 0)
    text = head + "\n";
  text += c.text;
  return clip_embedding_input(text);
}

result<std::unique_ptr<embedding_job>> embedding_job::start(std::vector<chunk> chunks, std::string model,
                                                            std::vector<embedding_cache*> caches,
                                                            std::size_t batch_size) {
  if (batch_size == 0)
    return failure{"embedding job: the batch size must be at least 1"};
  std::unique_ptr<embedding_job> job(new embedding_job());
  job->model_ = std::move(model);
  job->chunks_ = std::move(chunks);
  std::vector<std::string> texts;
  texts.reserve(job->chunks_.size());
  for (const auto& c : job->chunks_) {
    texts.push_back(embedding_text(c));
    job->digests_.push_back(sha256(texts.back()));
  }
  job->vectors_.resize(job->chunks_.size());
  for (auto* c : caches)
    if (c != nullptr)
      job->caches_.push_back(c);

  // What each cache holds; a vector found anywhere serves every chunk with that text.
  std::vector<std::vector<bool>> lacks(job->caches_.size(), std::vector<bool>(job->chunks_.size(), true));
  for (std::size_t ci = 0; ci < job->caches_.size(); ++ci) {
    auto found = job->caches_[ci]->lookup(job->model_, job->digests_);
    if (!found) {
      job->cache_problems_.push_back(found.error());
      continue;
    }
    for (std::size_t i = 0; i < found->size(); ++i) {
      auto& v = (*found)[i];
      if (v.empty())
        continue;
      if (job->dims_ == 0)
        job->dims_ = v.size();
      if (v.size() != job->dims_)
        continue; // from another model version: embed again
      lacks[ci][i] = false;
      if (job->vectors_[i].empty())
        job->vectors_[i] = std::move(v);
    }
  }
  for (std::size_t i = 0; i < job->chunks_.size(); ++i) {
    if (!job->vectors_[i].empty()) {
      ++job->cached_;
      continue;
    }
    auto& positions = job->missing_[job->digests_[i]];
    if (positions.empty())
      job->missing_text_[job->digests_[i]] = texts[i];
    positions.push_back(i);
  }
  // Complete every tenant's cache with what the others had.
  for (std::size_t ci = 0; ci < job->caches_.size(); ++ci) {
    std::set<sha256_digest> seen;
    std::vector<sha256_digest> digests;
    std::vector<std::vector<float>> vectors;
    for (std::size_t i = 0; i < job->chunks_.size(); ++i)
      if (lacks[ci][i] && !job->vectors_[i].empty() && seen.insert(job->digests_[i]).second) {
        digests.push_back(job->digests_[i]);
        vectors.push_back(job->vectors_[i]);
      }
    job->store_everywhere(digests, vectors, {job->caches_[ci]});
  }
  job->to_embed_ = job->missing_.size();
  std::vector<sha256_digest> batch;
  for (const auto& [digest, positions] : job->missing_) {
    batch.push_back(digest);
    if (batch.size() == batch_size) {
      job->queue_.push_back(std::move(batch));
      batch.clear();
    }
  }
  if (!batch.empty())
    job->queue_.push_back(std::move(batch));
  return job;
}

std::optional<embedding_batch> embedding_job::next_batch() {
  if (queue_.empty())
    return std::nullopt;
  embedding_batch b;
  b.id = next_id_++;
  for (const auto& d : queue_.front())
    b.texts.push_back(missing_text_[d]);
  in_flight_.emplace(b.id, std::move(queue_.front()));
  queue_.erase(queue_.begin());
  return b;
}

status embedding_job::complete(uint64_t id, std::vector<std::vector<float>> vectors) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end())
    return failure{"embedding job: batch " + std::to_string(id) + " is not in flight"};
  const auto& digests = it->second;
  if (vectors.size() != digests.size())
    return failure{"embedding job: " + std::to_string(vectors.size()) + " vectors for a batch of " +
                   std::to_string(digests.size())};
  for (const auto& v : vectors) {
    if (v.empty())
      return failure{"embedding job: an empty vector"};
    if (dims_ != 0 && v.size() != dims_)
      return failure{"embedding job: a vector of " + std::to_string(v.size()) + " dimensions, expected " +
                     std::to_string(dims_) + " (the model's vectors changed length?)"};
  }
  if (dims_ == 0)
    dims_ = vectors.front().size();
  store_everywhere(digests, vectors, caches_);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    auto m = missing_.find(digests[i]);
    if (m == missing_.end())
      continue;
    for (auto pos : m->second)
      vectors_[pos] = vectors[i];
    missing_.erase(m);
    missing_text_.erase(digests[i]);
    ++embedded_;
  }
  in_flight_.erase(it);
  return {};
}

std::size_t embedding_job::batch_size(uint64_t id) const {
  auto it = in_flight_.find(id);
  return it == in_flight_.end() ? 0 : it->second.size();
}

void embedding_job::requeue(uint64_t id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end())
    return;
  queue_.push_back(std::move(it->second));
  in_flight_.erase(it);
}

result<std::shared_ptr<const vector_index>> embedding_job::build(const vector_index_options& opts) const {
  if (!done())
    return failure{"embedding job: " + std::to_string(to_embed_ - embedded_) + " texts still have no vector"};
  return vector_index::build(chunks_, vectors_, opts);
}

std::vector<std::string> embedding_job::take_cache_problems() {
  std::vector<std::string> out;
  out.swap(cache_problems_);
  return out;
}

void embedding_job::store_everywhere(const std::vector<sha256_digest>& digests,
                                     const std::vector<std::vector<float>>& vectors,
                                     const std::vector<embedding_cache*>& targets) {
  if (digests.empty())
    return;
  for (auto* c : targets)
    if (auto s = c->store(model_, digests, vectors); !s)
      cache_problems_.push_back(s.error());
}

} // namespace sa::knowledge
