// embedding_client: what the retriever's actors need to call an embedding API through the node's http client
// (runtime/http_client.hpp, curl multi on its own thread): the settings read from the config, and a listener
// that collects one response on the loop thread and hands it to the actor that asked, as one message.
//
// Parsing happens in the receiving actor (embedding_protocol.hpp), not on the http loop, so a large batch
// answer never holds up the streams of other requests. The API key lives in the settings and in the request
// headers only; nothing here logs.
#pragma once

#include "actors/retriever/embedding_protocol.hpp"
#include "runtime/http_client.hpp"
#include "runtime/result.hpp"

#include "caf/actor_addr.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sa {

namespace config {
struct config;
}
namespace providers {
struct endpoint_settings;
}

/// The embedding side of retriever.embedding, resolved against providers.endpoints.
struct embedding_settings {
  knowledge::embedding_endpoint endpoint;
  double input_per_mtok = 0;  ///< USD per million input tokens (providers.prices[model]; 0: unpriced or free)
  std::size_t batch_size = 64;
  std::chrono::milliseconds query_timeout{1500};
  std::chrono::milliseconds batch_timeout{30000};
  std::chrono::milliseconds connect_timeout{2000};
};

/// The settings for retriever.embedding.provider from the node's endpoint settings (API keys already read
/// from the environment by providers::all_endpoint_settings). Fails naming the key when the provider is
/// unknown or cannot embed; call only with a provider set.
result<embedding_settings> embedding_settings_from(const config::config& cfg,
                                                   const std::map<std::string, providers::endpoint_settings>& endpoints);

/// One embedding request ended (sent by embedding_listener to the actor that submitted it). `failed`:
/// the transport failed (`error`, `message`); else `status` and `body` are the answer (the body cut at the
/// listener's limit, `truncated` then set).
struct embedding_reply {
  uint64_t request_id = 0;
  bool failed = false;
  http_error_kind error = http_error_kind::other;
  std::string message;
  int status = 0;
  std::string body;
  bool truncated = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, embedding_reply& x) {
  return f(caf::meta::type_name("embedding_reply"), x.request_id, x.failed, x.error, x.message, x.status, x.body,
           x.truncated);
}

/// Collects one request's answer on the http loop thread and sends one embedding_reply to `receiver` (held
/// weakly: an actor that is gone gets nothing, and keeps nothing alive).
class embedding_listener final : public http_listener {
public:
  embedding_listener(caf::actor_addr receiver, std::size_t max_body)
    : receiver_(std::move(receiver)), max_body_(max_body) {}

  void on_headers(uint64_t id, int status, const http_headers& headers) noexcept override;
  void on_chunk(uint64_t id, std::string chunk) noexcept override;
  void on_complete(uint64_t id) noexcept override;
  void on_error(uint64_t id, const http_error& error) noexcept override;

private:
  void send(embedding_reply reply) noexcept;

  caf::actor_addr receiver_;
  std::size_t max_body_;
  int status_ = 0;
  std::string body_;
  bool truncated_ = false;
};

/// Submits an embedding request for `texts` and returns its http id; the answer goes to `receiver` as an
/// embedding_reply. `max_body` bounds the bytes kept of the answer.
uint64_t submit_embedding(http_client& http, const embedding_settings& s, const std::vector<std::string>& texts,
                          knowledge::embedding_purpose purpose, std::chrono::milliseconds timeout,
                          caf::actor_addr receiver, std::size_t max_body);

} // namespace sa
