// gemini_protocol: the Google Gemini (Generative Language API) wire format.
//
// build_request -> POST /v1beta/models/{model}:streamGenerateContent?alt=sse (or :generateContent) with
// systemInstruction, contents (roles user / model) and generationConfig (temperature, maxOutputTokens,
// responseMimeType, thinkingConfig.thinkingBudget). Tools go as tools[{functionDeclarations}] with their
// JSON Schemas cut to Gemini's Schema (OpenAPI subset, upper-case type names); a model turn that called
// tools carries functionCall parts (with their thoughtSignature), the answer a user turn of
// functionResponse parts ({"output": ...} or {"error": ...}). gemini_stream_decoder reads one
// GenerateContentResponse per `data:` (\r\n line ends); there is no [DONE]: the chunk carrying
// finishReason (with the full usageMetadata) ends the stream (MALFORMED_FUNCTION_CALL is a malformed
// error), a stream closing without one is truncated, promptFeedback.blockReason is a `blocked` error.
// parse_error maps {"error":{"code","message","status"}} bodies.
#pragma once

#include "actors/providers/provider_types.hpp"
#include "actors/providers/stream_decoder.hpp"
#include "runtime/result.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace sa::providers {

struct gemini_options {
  std::string path_prefix = "/v1beta/models/";
};

class gemini_stream_decoder final : public stream_decoder {
public:
  using stream_decoder::stream_decoder;

private:
  void on_event(const sse_event& ev, std::vector<stream_event>& out) override;
  void on_close(std::vector<stream_event>&) override {} // no finishReason: truncated
  const char* provider_name() const noexcept override { return "gemini"; }

  usage usage_;
  std::vector<tool_call> tools_;
};

class gemini_protocol {
public:
  explicit gemini_protocol(gemini_options opts = {}) : opts_(std::move(opts)) {}

  /// The request for `r`; fails when the model is missing or not a plain model id, messages are
  /// missing, or a tool schema is not a JSON object. Tool schema "type" values are upper-cased.
  result<http_request> build_request(const completion_request& r) const;

  std::unique_ptr<stream_decoder> make_decoder() const { return std::make_unique<gemini_stream_decoder>(); }

  /// Maps a non-2xx response: kind by status, refined by error.status; retry-after(-ms),
  /// x-request-id and x-should-retry from the headers.
  provider_error parse_error(int http_status, const header_list& headers, std::string_view body) const;

  static provider_error error_from_body(int http_status, std::string_view body);

  static finish_kind finish_of(std::string_view reason) noexcept;

private:
  gemini_options opts_;
};

} // namespace sa::providers
