// embedding_protocol: the wire formats of the embedding APIs the hybrid retriever calls, as plain functions
// (no networking): OpenAI `POST /v1/embeddings` (also OpenAI-compatible servers) and Gemini
// `:embedContent` (one text) / `:batchEmbedContents` (several), per docs/llm-provider-protocols.md.
//
// The request carries the API key in its headers (the http client never logs header values); error
// messages built here never do. Vectors come back L2-normalised, so an inner product is the cosine.
// To add a provider: a wire kind, its request in embedding_http_request and its answer in
// parse_embedding_response.
#pragma once

#include "runtime/http_client.hpp"
#include "runtime/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sa::knowledge {

enum class embedding_wire : uint8_t { openai, gemini };

/// What a text is embedded for. Gemini uses it as the task type (RETRIEVAL_DOCUMENT / RETRIEVAL_QUERY);
/// OpenAI embeds both the same way.
enum class embedding_purpose : uint8_t { document, query };

/// One embedding endpoint: where it is, which model, and the key (never logged).
struct embedding_endpoint {
  std::string name;      ///< the providers.endpoints entry it came from (logs, errors)
  embedding_wire wire = embedding_wire::openai;
  std::string base_url;  ///< scheme://host[:port], no trailing slash
  std::string model;     ///< e.g. text-embedding-3-small, gemini-embedding-001
  std::string api_key;   ///< empty: no key header (local servers)
};

/// Longest text sent for one input, in bytes (cut at a UTF-8 boundary): below every provider's input
/// limit (OpenAI: 8,191 tokens; a token is at least one byte).
inline constexpr std::size_t max_embedding_input_bytes = 8000;

/// `text` cut to max_embedding_input_bytes at a character boundary.
std::string clip_embedding_input(std::string_view text);

/// The HTTP request embedding `texts` (at least one; Gemini: one text uses :embedContent, more use
/// :batchEmbedContents). `timeout` bounds the whole exchange (first byte and total).
http_request embedding_http_request(const embedding_endpoint& ep, const std::vector<std::string>& texts,
                                    embedding_purpose purpose, std::chrono::milliseconds timeout,
                                    std::chrono::milliseconds connect_timeout);

/// The vectors of a 2xx answer to a request of `expected` texts, in input order, each L2-normalised.
/// Fails naming the problem: not JSON, a missing field, a count other than `expected`, vectors of
/// different lengths, a non-finite or all-zero vector. `tokens` (optional) receives the input tokens the
/// answer reports (OpenAI's usage.prompt_tokens), 0 when it reports none (Gemini).
result<std::vector<std::vector<float>>> parse_embedding_response(embedding_wire wire, std::string_view body,
                                                                 std::size_t expected, uint64_t* tokens = nullptr);

/// A non-2xx answer as one line for an operator: "HTTP 429: <the provider's message, at most 200 bytes>".
std::string embedding_error_message(int status, std::string_view body);

} // namespace sa::knowledge
