// embedding_job: the vectors of one knowledge index, gathered from the tenants' embedding caches and from the
// embedding API, then turned into a vector_index. Plain class, no networking: the embedding indexer actor
// asks it for batches to send and hands it the answers (tests drive it directly).
//
// At start every chunk's text (what is embedded: its heading path, title and body, clipped) is hashed and
// looked up in every cache of the job (one per tenant the index serves); a vector one tenant's cache holds
// is copied into the caches of the others, so each tenant's cache ends up complete for its own knowledge
// base. Texts still missing are deduplicated and handed out in batches; each answered batch is stored in
// every cache at once, so a job that fails half-way, or a node that restarts, never pays for them again.
#pragma once

#include "actors/retriever/embedding_cache.hpp"
#include "actors/retriever/knowledge_index.hpp"
#include "actors/retriever/vector_index.hpp"
#include "runtime/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sa::knowledge {

/// The text a chunk is embedded as: its heading path (or title) and its body, clipped to the input limit.
std::string embedding_text(const chunk& c);

struct embedding_batch {
  uint64_t id = 0;
  std::vector<std::string> texts;
};

class embedding_job {
public:
  /// Looks every chunk up in `caches` (any of them may be null: a tenant without a cache). Fails only
  /// when `batch_size` is 0; cache read errors are recorded (cache_problems) and treated as misses.
  static result<std::unique_ptr<embedding_job>> start(std::vector<chunk> chunks, std::string model,
                                                      std::vector<embedding_cache*> caches, std::size_t batch_size);

  std::size_t chunk_count() const noexcept { return chunks_.size(); }
  /// Chunks whose vector came from a cache at start.
  std::size_t cached() const noexcept { return cached_; }
  /// Distinct texts that had to be embedded, and how many of them have been so far.
  std::size_t to_embed() const noexcept { return to_embed_; }
  std::size_t embedded() const noexcept { return embedded_; }
  /// Every chunk has its vector: build() can run.
  bool done() const noexcept { return embedded_ == to_embed_; }

  /// The next batch not handed out yet (nullopt: none left; some may still be in flight).
  std::optional<embedding_batch> next_batch();
  /// Batches handed out and not yet completed or requeued.
  std::size_t in_flight() const noexcept { return in_flight_.size(); }
  /// Texts in batch `id` while it is in flight; 0 otherwise.
  std::size_t batch_size(uint64_t id) const;

  /// The answer to batch `id`: one vector per text, all of the job's dimension (set by the first answer).
  /// Stores them in every cache. Fails (and requeues nothing) on an unknown batch, a wrong count or a
  /// dimension other than the job's; the caller then requeues or abandons the job.
  status complete(uint64_t id, std::vector<std::vector<float>> vectors);
  /// Puts batch `id` back to be handed out again (after a failed request).
  void requeue(uint64_t id);

  /// The index of every chunk and its vector. Only when done().
  result<std::shared_ptr<const vector_index>> build(const vector_index_options& opts) const;

  /// Cache reads and writes that failed (file and why), oldest first; cleared by the call.
  std::vector<std::string> take_cache_problems();

private:
  embedding_job() = default;
  void store_everywhere(const std::vector<sha256_digest>& digests, const std::vector<std::vector<float>>& vectors,
                        const std::vector<embedding_cache*>& targets);

  std::string model_;
  std::vector<embedding_cache*> caches_;
  std::vector<chunk> chunks_;
  std::vector<std::vector<float>> vectors_;               ///< by chunk position
  std::vector<sha256_digest> digests_;                    ///< by chunk position
  std::map<sha256_digest, std::vector<std::size_t>> missing_; ///< digest -> chunk positions still without a vector
  std::map<sha256_digest, std::string> missing_text_;
  std::vector<std::vector<sha256_digest>> queue_;         ///< batches not handed out, front first
  std::map<uint64_t, std::vector<sha256_digest>> in_flight_;
  uint64_t next_id_ = 1;
  std::size_t dims_ = 0;
  std::size_t cached_ = 0, to_embed_ = 0, embedded_ = 0;
  std::vector<std::string> cache_problems_;
};

} // namespace sa::knowledge
