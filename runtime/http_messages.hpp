// Messages of an http request as an actor sees them (sent by caf_http_listener, in this order):
// http_response_headers once, http_body_chunk zero or more times, then http_response_done or
// http_response_failed. Each carries the id returned by http_client::submit.
#pragma once

#include "runtime/http_client.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace sa {

struct http_response_headers {
  uint64_t request_id = 0;
  int status = 0;
  http_headers headers;
};

struct http_body_chunk {
  uint64_t request_id = 0;
  std::string data;
};

struct http_response_done {
  uint64_t request_id = 0;
};

struct http_response_failed {
  uint64_t request_id = 0;
  http_error_kind kind = http_error_kind::other;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response_headers& x) {
  return f(caf::meta::type_name("http_response_headers"), x.request_id, x.status, x.headers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_body_chunk& x) {
  return f(caf::meta::type_name("http_body_chunk"), x.request_id, x.data);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response_done& x) {
  return f(caf::meta::type_name("http_response_done"), x.request_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response_failed& x) {
  return f(caf::meta::type_name("http_response_failed"), x.request_id, x.kind, x.message);
}

} // namespace sa
