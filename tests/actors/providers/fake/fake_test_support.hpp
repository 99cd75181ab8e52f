// Helpers for the fake provider tests: decode bytes with the product's own stream decoders, build request
// bodies with the product's own protocol classes, and undo HTTP chunked framing of a response_plan.
#pragma once

#include "actors/providers/anthropic/anthropic_protocol.hpp"
#include "actors/providers/fake/fake_answer.hpp"
#include "actors/providers/fake/fake_service.hpp"
#include "actors/providers/gemini/gemini_protocol.hpp"
#include "actors/providers/openai/openai_protocol.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace fake_test {

using namespace sa::providers;
using sa::providers::fake::provider_kind;

struct decoded {
  std::string text;
  std::string thinking;
  std::optional<stream_end> end;
  std::optional<provider_error> error;
  std::size_t events = 0;
};

inline std::unique_ptr<stream_decoder> decoder_for(provider_kind p) {
  switch (p) {
    case provider_kind::openai: return openai_protocol{}.make_decoder();
    case provider_kind::anthropic: return anthropic_protocol{}.make_decoder();
    case provider_kind::gemini: return gemini_protocol{}.make_decoder();
  }
  return nullptr;
}

/// Feeds `bytes` in pieces of `piece` bytes (0: all at once); `finish` tells the decoder the body ended.
inline decoded decode(provider_kind p, const std::string& bytes, std::size_t piece = 0, bool finish = true) {
  decoded out;
  auto dec = decoder_for(p);
  auto sink = [&](const stream_event& ev) {
    ++out.events;
    if (auto* d = std::get_if<stream_delta>(&ev))
      (d->thinking ? out.thinking : out.text) += d->text;
    else if (auto* e = std::get_if<stream_end>(&ev))
      out.end = *e;
    else
      out.error = std::get<provider_error>(ev);
  };
  if (piece == 0) {
    dec->feed(bytes, sink);
  } else {
    for (std::size_t i = 0; i < bytes.size(); i += piece)
      dec->feed(std::string_view(bytes).substr(i, piece), sink);
  }
  if (finish)
    dec->finish(sink);
  return out;
}

/// A completion request as the product builds it.
inline completion_request sample_request(std::string user_text = "Why was I charged twice?") {
  completion_request r;
  r.model = "test-model";
  r.system = "You are a support agent.";
  r.messages.push_back({chat_role::user, std::move(user_text)});
  r.max_tokens = 2048;
  r.stream = true;
  return r;
}

/// The product's wire request for `r` (path and JSON body).
inline http_request build(provider_kind p, const completion_request& r) {
  sa::result<http_request> req = sa::failure{"unreachable"};
  switch (p) {
    case provider_kind::openai: req = openai_protocol{}.build_request(r); break;
    case provider_kind::anthropic: req = anthropic_protocol{}.build_request(r); break;
    case provider_kind::gemini: req = gemini_protocol{}.build_request(r); break;
  }
  if (!req)
    throw std::runtime_error(req.error());
  return *req;
}

inline provider_error parse_error(provider_kind p, int status, const header_list& headers, const std::string& body) {
  switch (p) {
    case provider_kind::openai: return openai_protocol{}.parse_error(status, headers, body);
    case provider_kind::anthropic: return anthropic_protocol{}.parse_error(status, headers, body);
    case provider_kind::gemini: return gemini_protocol{}.parse_error(status, headers, body);
  }
  return {};
}

/// The written bytes of a plan, split into the HTTP head and the de-chunked (or plain) body.
struct plan_bytes {
  std::string head;
  std::string body;
};

inline plan_bytes written(const sa::providers::fake::response_plan& plan) {
  std::string all;
  for (const auto& s : plan.steps)
    if (s.what == sa::providers::fake::plan_step::action::write)
      all += s.bytes;
  plan_bytes out;
  auto end = all.find("\r\n\r\n");
  if (end == std::string::npos)
    return {all, {}};
  out.head = all.substr(0, end + 2);
  std::string rest = all.substr(end + 4);
  if (out.head.find("Transfer-Encoding: chunked") == std::string::npos) {
    out.body = rest;
    return out;
  }
  std::size_t pos = 0;
  while (pos < rest.size()) {
    auto eol = rest.find("\r\n", pos);
    if (eol == std::string::npos)
      break;
    std::size_t size = std::stoul(rest.substr(pos, eol - pos), nullptr, 16);
    if (size == 0)
      break;
    out.body += rest.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

} // namespace fake_test
