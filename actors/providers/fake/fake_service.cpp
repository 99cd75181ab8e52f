// fake_service: routing, admin API and response plans with faults (see fake_service.hpp).
#include "actors/providers/fake/fake_service.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace sa::providers::fake {

namespace {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Overloaded";
    default: return "Status";
  }
}

std::string admin_error(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump();
}

response_plan single(int status, header_pairs headers, const std::string& body, bool keep_alive,
                     fault_kind fault = fault_kind::none) {
  response_plan plan;
  plan.keep_alive = keep_alive;
  plan.fault = fault;
  plan.steps.push_back({plan_step::action::write, 0, http_response(status, headers, body, keep_alive)});
  return plan;
}

response_plan json_reply(int status, const std::string& body, bool keep_alive) {
  return single(status, {{"Content-Type", "application/json"}}, body, keep_alive);
}

/// Splits every write step into one-byte writes, `drip_ms` apart (the first keeps its own delay).
void drip(response_plan& plan, uint32_t drip_ms) {
  std::vector<plan_step> out;
  for (auto& s : plan.steps) {
    if (s.what != plan_step::action::write) {
      out.push_back(std::move(s));
      continue;
    }
    for (std::size_t i = 0; i < s.bytes.size(); ++i)
      out.push_back({plan_step::action::write, i == 0 ? s.delay_ms : drip_ms, std::string(1, s.bytes[i])});
  }
  plan.steps = std::move(out);
}

std::string request_id(const answer& a) { return "req_fake_" + a.id; }

} // namespace

std::string http_response(int status, const header_pairs& headers, const std::string& body, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  for (const auto& [name, value] : headers)
    out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out + body;
}

std::string http_chunk(const std::string& bytes) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  return size + bytes + "\r\n";
}

response_plan fake_service::handle(const http_in& req, header_pairs headers) {
  headers_ = std::move(headers);
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string query = req.target.size() > path.size() ? req.target.substr(path.size() + 1) : std::string();
  if (path.rfind("/admin/", 0) == 0)
    return handle_admin(req);
  if (req.method != "POST")
    return json_reply(405, admin_error("fake-provider: " + path + " takes POST"), req.keep_alive);
  if (path == "/v1/chat/completions")
    return handle_chat(provider_kind::openai, req, {}, false);
  if (path == "/v1/messages")
    return handle_chat(provider_kind::anthropic, req, {}, false);
  if (path == "/v1/embeddings")
    return handle_embeddings(provider_kind::openai, req, false);
  const std::string prefix = "/v1beta/models/";
  if (path.rfind(prefix, 0) == 0) {
    auto rest = path.substr(prefix.size());
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && colon > 0) {
      auto model = rest.substr(0, colon);
      auto method = rest.substr(colon + 1);
      if (method == "streamGenerateContent" || method == "generateContent")
        return handle_chat(provider_kind::gemini, req, model,
                           method == "streamGenerateContent" && query.find("alt=sse") != std::string::npos);
      if (method == "embedContent" || method == "batchEmbedContents")
        return handle_embeddings(provider_kind::gemini, req, method == "batchEmbedContents");
    }
  }
  return json_reply(404, admin_error("fake-provider: no route for " + req.method + " " + path), req.keep_alive);
}

response_plan fake_service::handle_admin(const http_in& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/admin/faults") {
    if (req.method == "GET")
      return json_reply(200, faults_.faults_json(), req.keep_alive);
    if (req.method == "DELETE") {
      faults_.clear();
      return json_reply(200, faults_.faults_json(), req.keep_alive);
    }
    if (req.method == "PUT" || req.method == "POST") {
      auto parsed = parse_faults(req.body);
      if (!parsed)
        return json_reply(400, admin_error(parsed.error()), req.keep_alive);
      if (req.method == "PUT")
        faults_.replace(std::move(*parsed));
      else
        for (auto& f : *parsed)
          faults_.add(std::move(f));
      return json_reply(200, faults_.faults_json(), req.keep_alive);
    }
  } else if (path == "/admin/stats") {
    if (req.method == "GET")
      return json_reply(200, faults_.stats_json(), req.keep_alive);
    if (req.method == "DELETE") {
      faults_.reset_stats();
      return json_reply(200, faults_.stats_json(), req.keep_alive);
    }
  } else {
    return json_reply(404, admin_error("fake-provider: no admin route " + path +
                                       " (/admin/faults, /admin/stats)"), req.keep_alive);
  }
  return json_reply(405, admin_error("fake-provider: " + req.method + " is not allowed on " + path),
                    req.keep_alive);
}

response_plan fake_service::handle_chat(provider_kind p, const http_in& req, const std::string& gemini_model,
                                        bool gemini_stream) {
  last_chat_ = {req, std::move(headers_)};
  // Parsed first: a tool_call script applies only to a request that offers tools and answers no calls.
  auto parsed = parse_answer_request(p, req.body, gemini_model, gemini_stream);
  bool offers_tools = parsed && !parsed->tool_names.empty() && !parsed->follow_up;
  auto fault = faults_.pick(p, offers_tools);
  faults_.record(to_string(p), fault ? fault->kind : fault_kind::none);
  const fault_spec* f = fault ? &*fault : nullptr;
  auto kind = f ? f->kind : fault_kind::none;

  if (kind == fault_kind::stall_before_headers) {
    response_plan plan;
    plan.keep_alive = false;
    plan.fault = kind;
    plan.steps.push_back({plan_step::action::close, f->stall_ms, {}});
    return plan;
  }
  if (kind == fault_kind::reset && f->after_tokens == 0) {
    response_plan plan;
    plan.keep_alive = false;
    plan.fault = kind;
    plan.steps.push_back({plan_step::action::reset, 0, {}});
    return plan;
  }

  if (!parsed)
    return single(400, {{"Content-Type", "application/json"}},
                  render_error_body(p, 400, {}, parsed.error()), req.keep_alive);
  if (!parsed->tool_turn_error.empty()) // the real API refuses a follow-up that breaks its tool rules
    return single(400, {{"Content-Type", "application/json"}},
                  render_error_body(p, 400, {}, parsed->tool_turn_error), req.keep_alive);
  if (kind == fault_kind::tool_call)
    parsed->script = f->script;
  auto a = make_answer(*parsed);

  if (kind == fault_kind::status) {
    header_pairs headers{{"Content-Type", "application/json"}, {request_id_header(p), request_id(a)}};
    if (f->retry_after_s) {
      char buf[32];
      double s = *f->retry_after_s;
      if (s == std::floor(s))
        std::snprintf(buf, sizeof buf, "%.0f", s);
      else
        std::snprintf(buf, sizeof buf, "%g", s);
      headers.emplace_back("retry-after", buf);
    }
    if (f->retry_after_ms)
      headers.emplace_back("retry-after-ms", std::to_string(*f->retry_after_ms));
    if (f->should_retry)
      headers.emplace_back("x-should-retry", *f->should_retry ? "true" : "false");
    if (f->status == 429) {
      if (p == provider_kind::openai)
        headers.emplace_back("x-ratelimit-remaining-requests", "0");
      else if (p == provider_kind::anthropic)
        headers.emplace_back("anthropic-ratelimit-requests-remaining", "0");
    }
    return single(f->status, std::move(headers), render_error_body(p, f->status, f->code, f->message),
                  req.keep_alive, kind);
  }

  if (!parsed->stream) {
    auto body = render_json(*parsed, a);
    if (kind == fault_kind::cut_line || kind == fault_kind::bad_json)
      body.resize(body.size() / 2); // no events to cut: the JSON body ends halfway (Content-Length matches)
    auto plan = single(200, {{"Content-Type", "application/json"}, {request_id_header(p), request_id(a)}},
                       body, req.keep_alive, kind);
    if (kind == fault_kind::drip)
      drip(plan, f->drip_ms);
    else if (kind == fault_kind::reset) // no stream to cut: reset instead of answering
      plan.steps = {{plan_step::action::reset, 0, {}}};
    else if (kind == fault_kind::stall_mid_stream)
      plan.steps = {{plan_step::action::close, f->stall_ms, {}}};
    if (kind == fault_kind::reset || kind == fault_kind::stall_mid_stream)
      plan.keep_alive = false;
    return plan;
  }
  return plan_stream(*parsed, a, f, req.keep_alive);
}

response_plan fake_service::handle_embeddings(provider_kind wire, const http_in& req, bool gemini_batch) {
  auto fault = faults_.pick(std::string_view("embeddings"));
  auto kind = fault ? fault->kind : fault_kind::none;
  faults_.record("embeddings", kind);
  response_plan plan;
  plan.fault = kind;
  plan.keep_alive = req.keep_alive;
  switch (kind) {
    case fault_kind::status:
      return single(fault->status, {{"Content-Type", "application/json"}},
                    render_error_body(wire, fault->status, fault->code, fault->message), req.keep_alive, kind);
    case fault_kind::stall_before_headers:
    case fault_kind::stall_mid_stream: // no stream: both stall, then close without an answer
      plan.keep_alive = false;
      plan.steps.push_back({plan_step::action::close, fault->stall_ms, {}});
      return plan;
    case fault_kind::reset:
      plan.keep_alive = false;
      plan.steps.push_back({plan_step::action::reset, 0, {}});
      return plan;
    default: break;
  }
  auto body = wire == provider_kind::gemini ? render_gemini_embeddings(req.body, opts_.embedding_dim, gemini_batch)
                                            : render_embeddings(req.body, opts_.embedding_dim);
  if (!body)
    return single(400, {{"Content-Type", "application/json"}},
                  render_error_body(wire, 400, wire == provider_kind::gemini ? "" : "invalid_request", body.error()),
                  req.keep_alive, kind);
  if (kind == fault_kind::cut_line || kind == fault_kind::bad_json)
    body->resize(body->size() / 2); // the JSON body ends halfway (Content-Length matches)
  plan = single(200, {{"Content-Type", "application/json"}}, *body, req.keep_alive, kind);
  uint32_t delay = fault && fault->ttft_ms ? *fault->ttft_ms : opts_.ttft_ms;
  plan.steps.front().delay_ms = delay; // time to answer, like a chat's time to first token
  if (kind == fault_kind::drip)
    drip(plan, fault->drip_ms);
  return plan;
}

response_plan fake_service::plan_stream(const answer_request& r, const answer& a, const fault_spec* f,
                                        bool keep_alive) {
  auto kind = f ? f->kind : fault_kind::none;
  uint32_t ttft = f && f->ttft_ms ? *f->ttft_ms : opts_.ttft_ms;
  double tps = f && f->tokens_per_s ? *f->tokens_per_s : opts_.tokens_per_s;
  uint32_t gap = tps > 0 ? static_cast<uint32_t>(std::lround(1000.0 / tps)) : 0;

  response_plan plan;
  plan.keep_alive = keep_alive;
  plan.fault = kind;
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
  head += std::string(request_id_header(r.provider)) + ": req_fake_" + a.id + "\r\n";
  head += "Transfer-Encoding: chunked\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  plan.steps.push_back({plan_step::action::write, 0, std::move(head)});

  auto frames = render_stream(r, a);
  uint32_t tokens = 0;
  bool first_token = true;
  bool ended = false; // the fault ended the stream early
  for (const auto& frame : frames) {
    // Faults that fire once `after_tokens` tokens were sent, before the next frame.
    if (f && (frame.token || frame.finish) && (tokens >= f->after_tokens || frame.finish)) {
      if (kind == fault_kind::error_event) {
        plan.steps.push_back({plan_step::action::write, 0, http_chunk(render_error_event(r.provider))});
        break;
      }
      if (kind == fault_kind::stall_mid_stream) {
        plan.steps.push_back({plan_step::action::close, f->stall_ms, {}});
        plan.keep_alive = false;
        ended = true;
        break;
      }
      if (kind == fault_kind::reset) {
        plan.steps.push_back({plan_step::action::reset, 0, {}});
        plan.keep_alive = false;
        ended = true;
        break;
      }
      if (kind == fault_kind::bad_json) {
        plan.steps.push_back({plan_step::action::write, 0, http_chunk(render_bad_json_event(r.provider))});
        kind = fault_kind::none; // once
      }
    }
    if (kind == fault_kind::cut_line && frame.finish) {
      // Half of the finish event's data line, then the body ends (cleanly at the HTTP level).
      auto cut = frame.bytes.find("data: ");
      cut = cut == std::string::npos ? frame.bytes.size() / 2 : cut + (frame.bytes.size() - cut) / 2;
      plan.steps.push_back({plan_step::action::write, frame.token ? (first_token ? ttft : gap) : 0,
                            http_chunk(frame.bytes.substr(0, cut))});
      break;
    }
    uint32_t delay = 0;
    if (frame.token) {
      delay = first_token ? ttft : gap;
      first_token = false;
      ++tokens;
    } else if (first_token && frame.finish) {
      delay = ttft; // an answer with no tokens still waits for its first event
    }
    plan.steps.push_back({plan_step::action::write, delay, http_chunk(frame.bytes)});
  }
  if (!ended)
    plan.steps.push_back({plan_step::action::write, 0, http_chunk({})});
  if (f && f->kind == fault_kind::drip)
    drip(plan, f->drip_ms);
  return plan;
}

} // namespace sa::providers::fake
