// embedding_cache: a tenant's chunk vectors on disk, keyed by (embedding model, SHA-256 of the text that was
// embedded), so they survive restarts and re-ingests: a chunk whose text did not change is never embedded
// again, however the index around it was rebuilt.
//
// One SQLite file per tenant: <node.state_dir>/embeddings/<tenant>/vectors.sqlite, table
// vectors(model, text_sha256, dims, vector) with the vector as little-endian float32. Writes are batched in
// one transaction each. A row whose blob does not match its dims is treated as missing (and overwritten).
// Plain class, not thread-safe: one owner (the node's embedding indexer) uses it from one thread.
#pragma once

#include "runtime/result.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace sa::knowledge {

using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of `text`.
sha256_digest sha256(std::string_view text);

/// `<state_dir>/embeddings/<tenant>/vectors.sqlite` (the tenant name must be valid: valid_tenant_name).
std::string embedding_cache_file(const std::string& state_dir, const std::string& tenant);

class embedding_cache {
public:
  /// Opens (creating the folders, the file and the table as needed) the cache at `file`. A file that is
  /// not a cache (or not a database) fails naming it; the caller may move it aside and open again.
  static result<std::unique_ptr<embedding_cache>> open(const std::string& file);

  ~embedding_cache();
  embedding_cache(const embedding_cache&) = delete;
  embedding_cache& operator=(const embedding_cache&) = delete;

  /// The cached vectors of `model` for `digests`, by position; an empty vector where none is cached.
  result<std::vector<std::vector<float>>> lookup(const std::string& model, const std::vector<sha256_digest>& digests);

  /// Stores (or replaces) the vectors of `model` for `digests` (same length, non-empty vectors), in one
  /// transaction: all or nothing.
  status store(const std::string& model, const std::vector<sha256_digest>& digests,
               const std::vector<std::vector<float>>& vectors);

  /// Vectors held for `model`.
  result<std::size_t> count(const std::string& model);

  const std::string& file() const noexcept { return file_; }

private:
  embedding_cache(std::string file, ::sqlite3* db);
  std::string file_;
  ::sqlite3* db_ = nullptr;
};

} // namespace sa::knowledge
