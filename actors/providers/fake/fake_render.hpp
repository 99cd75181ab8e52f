// fake_render: the exact bytes the fake provider sends. Streams are rendered as SSE frames (one event per
// frame, flagged so the fault planner can count tokens and find the frame to cut); non-streamed answers,
// error bodies, mid-stream error events and embeddings as JSON text. Formats follow
// docs/llm-provider-protocols.md: OpenAI `data:` chunks up to `data: [DONE]`, Anthropic named events with
// ping and thinking/signature blocks, Gemini `data:` chunks with \r\n line ends.
//
// Plain functions. Keys are emitted in the documented order (nlohmann::ordered_json).
#pragma once

#include "actors/providers/fake/fake_answer.hpp"

#include <string>
#include <utility>
#include <vector>

namespace sa::providers::fake {

struct sse_frame {
  std::string bytes;      ///< the whole event, terminated by its empty line
  bool token = false;     ///< carries one answer (or thinking) token
  bool finish = false;    ///< carries the finish reason: the frame `cut_line` cuts
};

/// Fixed `created` timestamp of OpenAI chunks, so output is byte-for-byte reproducible.
inline constexpr long long fake_created = 1732450000;

std::vector<sse_frame> render_stream(const answer_request& r, const answer& a);

/// The non-streamed JSON answer (chat.completion / message / GenerateContentResponse).
std::string render_json(const answer_request& r, const answer& a);

/// The provider's error body for `status`. `code` refines it (OpenAI error.code, e.g. insufficient_quota;
/// Anthropic error.type; Gemini error.status); empty picks the usual one for the status.
std::string render_error_body(provider_kind p, int status, std::string code = {}, std::string message = {});

/// An error arriving after a 200: Anthropic `event: error`, an OpenAI/Gemini `data:` error chunk.
std::string render_error_event(provider_kind p);

/// A `data:` line whose JSON is invalid, framed as the provider frames events.
std::string render_bad_json_event(provider_kind p);

/// The fake's deterministic embedding of `text`: hashed bag of words (lower-cased, a few stop words dropped,
/// a plural 's' stripped) plus the words' character trigrams at a lower weight, each feature added with a
/// hash-chosen sign into one of `dim` buckets, L2-normalised (an empty text gives the first unit vector).
/// Texts sharing words point the same way, so retrieval over these vectors behaves like a lexical search
/// with some tolerance for morphology and typos - good enough to test and benchmark hybrid retrieval offline.
std::vector<double> fake_embedding(std::string_view text, unsigned dim);

/// OpenAI /v1/embeddings answer: fake_embedding (rounded to 6 decimals) of `dim` floats per input.
/// Fails when the body has no "input" string or array of strings.
result<std::string> render_embeddings(std::string_view body, unsigned dim);

/// Gemini embedding answers: `:embedContent` ({"content":{"parts":[{"text":...}]}} -> {"embedding":{"values":[...]}})
/// and, with `batch`, `:batchEmbedContents` ({"requests":[{"model":...,"content":...},...]} ->
/// {"embeddings":[{"values":[...]},...]}); the parts' texts are joined. Fails naming what the body lacks.
result<std::string> render_gemini_embeddings(std::string_view body, unsigned dim, bool batch);

/// The request-id header a provider uses ("x-request-id" or "request-id").
const char* request_id_header(provider_kind p) noexcept;

} // namespace sa::providers::fake
