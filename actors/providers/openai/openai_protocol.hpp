// openai_protocol: the OpenAI Chat Completions wire format, also spoken by vLLM, llama.cpp server and
// Ollama's /v1 (the "local" provider is this class with a different base URL and options).
//
// build_request -> POST /v1/chat/completions (tools with tool_choice "auto"/"none"; an assistant message
// that called tools carries `tool_calls`, each result follows as a {"role":"tool","tool_call_id"} message);
// openai_stream_decoder reads `data:` chunks up to `data: [DONE]` (content deltas, reasoning_content as
// thinking, tool_calls assembled by index from argument fragments and checked to be JSON objects, the
// usage chunk with empty choices); parse_error maps {"error":{...}} bodies and the retry rules.
#pragma once

#include "actors/providers/provider_types.hpp"
#include "actors/providers/stream_decoder.hpp"
#include "runtime/result.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace sa::providers {

struct openai_options {
  std::string path = "/v1/chat/completions";
  bool use_max_completion_tokens = false; ///< reasoning models (o1, o3, gpt-5) reject max_tokens
  bool include_usage = true;              ///< stream_options.include_usage (some old local servers reject it)
};

class openai_stream_decoder final : public stream_decoder {
public:
  using stream_decoder::stream_decoder;

private:
  void on_event(const sse_event& ev, std::vector<stream_event>& out) override;
  void on_close(std::vector<stream_event>& out) override;
  const char* provider_name() const noexcept override { return "openai"; }
  stream_end finished();
  /// The stream's end, or the error of a tool call that is cut or not JSON.
  void finish_with(std::vector<stream_event>& out);

  std::string finish_reason_;
  usage usage_;
  std::map<uint64_t, tool_call> tools_; ///< by the stream's tool_calls[].index
};

class openai_protocol {
public:
  explicit openai_protocol(openai_options opts = {}) : opts_(std::move(opts)) {}

  /// The request for `r`; fails when the model or messages are missing or a tool schema is not JSON.
  /// `thinking_budget` is ignored (OpenAI takes reasoning_effort, not a budget).
  result<http_request> build_request(const completion_request& r) const;

  std::unique_ptr<stream_decoder> make_decoder() const { return std::make_unique<openai_stream_decoder>(); }

  /// Maps a non-2xx response: kind by status, refined by error.code/type (insufficient_quota -> quota,
  /// not retryable); retry-after(-ms), x-request-id and x-should-retry from the headers.
  provider_error parse_error(int http_status, const header_list& headers, std::string_view body) const;

  /// Kind and retryability of an error object found inside a 200 stream.
  static provider_error error_from_body(int http_status, std::string_view body);

  static finish_kind finish_of(std::string_view reason) noexcept;

private:
  openai_options opts_;
};

} // namespace sa::providers
