#include "runtime/http_caf_listener.hpp"

#include "runtime/http_messages.hpp"

#include <caf/send.hpp>

namespace sa {

void caf_http_listener::on_headers(uint64_t id, int status, const http_headers& headers) noexcept {
  caf::anon_send(receiver_, http_response_headers{id, status, headers});
}

void caf_http_listener::on_chunk(uint64_t id, std::string chunk) noexcept {
  caf::anon_send(receiver_, http_body_chunk{id, std::move(chunk)});
}

void caf_http_listener::on_complete(uint64_t id) noexcept {
  caf::anon_send(receiver_, http_response_done{id});
}

void caf_http_listener::on_error(uint64_t id, const http_error& error) noexcept {
  caf::anon_send(receiver_, http_response_failed{id, error.kind, error.message});
}

} // namespace sa
