// embedding_client: settings from the config and the one-message http listener (see embedding_client.hpp).
#include "actors/retriever/embedding_client.hpp"

#include "actors/providers/provider_actor.hpp"
#include "config/config.hpp"

#include "caf/all.hpp"

namespace sa {

result<embedding_settings> embedding_settings_from(const config::config& cfg,
                                                   const std::map<std::string, providers::endpoint_settings>& endpoints) {
  const auto& e = cfg.retriever.embedding;
  auto it = endpoints.find(e.provider);
  if (it == endpoints.end())
    return failure{"retriever.embedding.provider = \"" + e.provider + "\": names no providers.endpoints entry"};
  const auto& ep = it->second;
  embedding_settings s;
  s.endpoint.name = ep.name;
  switch (ep.kind) {
    case providers::wire_kind::openai:
    case providers::wire_kind::openai_compatible: s.endpoint.wire = knowledge::embedding_wire::openai; break;
    case providers::wire_kind::gemini: s.endpoint.wire = knowledge::embedding_wire::gemini; break;
    case providers::wire_kind::anthropic:
      return failure{"retriever.embedding.provider = \"" + e.provider +
                     "\": endpoint kind anthropic has no embeddings API"};
  }
  if (e.model.empty())
    return failure{"retriever.embedding.model: required with retriever.embedding.provider"};
  s.endpoint.base_url = ep.base_url;
  s.endpoint.model = e.model;
  s.endpoint.api_key = ep.api_key;
  if (auto price = cfg.providers.prices.find(e.model); price != cfg.providers.prices.end())
    s.input_per_mtok = price->second.input_per_mtok;
  s.batch_size = static_cast<std::size_t>(e.batch_size);
  s.query_timeout = std::chrono::milliseconds{e.timeout_ms};
  s.batch_timeout = std::chrono::milliseconds{e.batch_timeout_ms};
  s.connect_timeout = std::min(ep.connect_timeout, s.batch_timeout);
  return s;
}

void embedding_listener::on_headers(uint64_t, int status, const http_headers&) noexcept { status_ = status; }

void embedding_listener::on_chunk(uint64_t, std::string chunk) noexcept {
  if (truncated_)
    return;
  if (body_.size() + chunk.size() > max_body_) {
    body_.append(chunk, 0, max_body_ - body_.size());
    truncated_ = true;
    return;
  }
  body_ += chunk;
}

void embedding_listener::on_complete(uint64_t id) noexcept {
  embedding_reply r;
  r.request_id = id;
  r.status = status_;
  r.body = std::move(body_);
  r.truncated = truncated_;
  send(std::move(r));
}

void embedding_listener::on_error(uint64_t id, const http_error& error) noexcept {
  embedding_reply r;
  r.request_id = id;
  r.failed = true;
  r.error = error.kind;
  r.message = error.message;
  send(std::move(r));
}

void embedding_listener::send(embedding_reply reply) noexcept {
  if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(receiver_))
    caf::anon_send(caf::actor_cast<caf::actor>(std::move(strong)), std::move(reply));
}

uint64_t submit_embedding(http_client& http, const embedding_settings& s, const std::vector<std::string>& texts,
                          knowledge::embedding_purpose purpose, std::chrono::milliseconds timeout,
                          caf::actor_addr receiver, std::size_t max_body) {
  auto req = knowledge::embedding_http_request(s.endpoint, texts, purpose, timeout, std::min(s.connect_timeout, timeout));
  return http.submit(std::move(req), std::make_shared<embedding_listener>(std::move(receiver), max_body));
}

} // namespace sa
