// fake_service: what the fake provider does with one HTTP request, as data. It routes the request,
// answers the admin API, picks a fault, and returns a response_plan: the exact bytes to write, the
// delays between them (time to first token, tokens per second, drip) and how the connection ends
// (keep-alive, close after a stall, reset). The Beast server only executes plans, so every behaviour
// here is testable without sockets.
//
// Routes: POST /v1/chat/completions (openai), POST /v1/messages (anthropic),
// POST /v1beta/models/{model}:streamGenerateContent?alt=sse and :generateContent (gemini),
// embeddings: POST /v1/embeddings (openai) and /v1beta/models/{model}:embedContent|:batchEmbedContents (gemini),
// deterministic vectors (fake_embedding), faults from rules for provider "embeddings" (status, stalls, reset,
// cut_line/bad_json: half a body, drip, timing: ttft_ms delays the answer);
// admin: GET|PUT|POST|DELETE /admin/faults, GET|DELETE /admin/stats.
// Non-streamed requests: cut_line and bad_json send half of the JSON body, reset resets, stall_mid_stream
// stalls, drip drips, error_event does not apply (a normal answer). A `tool_call` rule scripts a tool call
// for a request that offers tools; a follow-up whose tool calls and results break the provider's rules is
// answered 400 with the provider's error (fake_tools.hpp).
// To add a route: a branch in handle(); to add a fault: fault_table.hpp, then plan_stream / plan_chat.
#pragma once

#include "actors/providers/fake/fake_answer.hpp"
#include "actors/providers/fake/fake_render.hpp"
#include "actors/providers/fake/fault_table.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sa::providers::fake {

struct http_in {
  std::string method;        ///< "POST", "GET", ...
  std::string target;        ///< path and query
  std::string body;
  bool keep_alive = true;
};

/// A chat request as the server received it, headers included (tests check the API key headers).
struct received_request {
  http_in request;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct plan_step {
  enum class action {
    write,   ///< write `bytes`
    close,   ///< graceful close (FIN)
    reset,   ///< abortive close (RST)
  };
  action what = action::write;
  uint32_t delay_ms = 0;     ///< wait before this step
  std::string bytes;
};

/// Steps run in order, one at a time. After the last: read the next request when keep_alive.
struct response_plan {
  std::vector<plan_step> steps;
  bool keep_alive = true;
  fault_kind fault = fault_kind::none;  ///< the fault applied, for logs and tests
};

struct service_options {
  uint32_t ttft_ms = 0;          ///< delay before the first token
  double tokens_per_s = 0;       ///< 0: no delay between tokens
  uint64_t seed = 1;             ///< seeds fault probabilities
  unsigned embedding_dim = 16;
};

class fake_service {
public:
  explicit fake_service(service_options opts) : opts_(opts), faults_(opts.seed) {}

  /// `headers`: the request's headers, kept with the last chat request (last_chat_request).
  response_plan handle(const http_in& req, std::vector<std::pair<std::string, std::string>> headers = {});

  fault_table& faults() noexcept { return faults_; }
  const service_options& options() const noexcept { return opts_; }
  /// The last chat request (OpenAI, Anthropic or Gemini route) as received, headers included; empty
  /// before the first. For tests: which key header and body the client sent.
  const received_request& last_chat_request() const noexcept { return last_chat_; }

private:
  response_plan handle_admin(const http_in& req);
  response_plan handle_chat(provider_kind p, const http_in& req, const std::string& gemini_model, bool gemini_stream);
  response_plan handle_embeddings(provider_kind wire, const http_in& req, bool gemini_batch);
  response_plan plan_stream(const answer_request& r, const answer& a, const fault_spec* f, bool keep_alive);

  service_options opts_;
  fault_table faults_;
  std::vector<std::pair<std::string, std::string>> headers_; ///< of the request being handled
  received_request last_chat_;
};

/// "HTTP/1.1 <status> <reason>\r\n" + headers + Content-Length + Connection, then the body.
std::string http_response(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body, bool keep_alive);

/// One HTTP/1.1 chunk: hex size, CRLF, bytes, CRLF. Empty `bytes` gives the last chunk "0\r\n\r\n".
std::string http_chunk(const std::string& bytes);

} // namespace sa::providers::fake
