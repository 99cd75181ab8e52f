// Stable names of the product's enums (protocol, logs, metrics labels). Never rename one.
#include "messages/account.hpp"
#include "messages/actions.hpp"
#include "messages/classify.hpp"
#include "messages/errors.hpp"
#include "messages/escalate.hpp"
#include "messages/retrieve.hpp"

#include "caf/sec.hpp"

namespace sa {

const char* to_string(intent x) noexcept {
  switch (x) {
    case intent::general: return "general";
    case intent::billing: return "billing";
    case intent::technical: return "technical";
    case intent::account: return "account";
    case intent::escalation_request: return "escalation_request";
  }
  return "general";
}

bool from_string(const std::string& name, intent& out) noexcept {
  for (auto x : {intent::general, intent::billing, intent::technical, intent::account,
                 intent::escalation_request})
    if (name == to_string(x)) {
      out = x;
      return true;
    }
  return false;
}

const char* to_string(account_failure x) noexcept {
  switch (x) {
    case account_failure::none: return "none";
    case account_failure::not_found: return "not_found";
    case account_failure::timeout: return "timeout";
    case account_failure::unreachable: return "unreachable";
    case account_failure::http_status: return "http_status";
    case account_failure::bad_response: return "bad_response";
    case account_failure::wrong_account: return "wrong_account";
    case account_failure::service_failed: return "service_failed";
  }
  return "none";
}

const char* to_string(action_status x) noexcept {
  switch (x) {
    case action_status::ok: return "ok";
    case action_status::invalid_arguments: return "invalid_arguments";
    case action_status::not_found: return "not_found";
    case action_status::failed: return "failed";
    case action_status::timeout: return "timeout";
    case action_status::unavailable: return "unavailable";
  }
  return "failed";
}

const char* to_string(source_kind x) noexcept {
  switch (x) {
    case source_kind::doc: return "doc";
    case source_kind::faq: return "faq";
    case source_kind::ticket: return "ticket";
  }
  return "doc";
}

const char* to_string(escalation_reason x) noexcept {
  switch (x) {
    case escalation_reason::none: return "none";
    case escalation_reason::low_confidence: return "low_confidence";
    case escalation_reason::user_requested: return "user_requested";
    case escalation_reason::sensitive_topic: return "sensitive_topic";
    case escalation_reason::knowledge_unavailable: return "knowledge_unavailable";
    case escalation_reason::component_failure: return "component_failure";
    case escalation_reason::safety: return "safety";
    case escalation_reason::repeated_failure: return "repeated_failure";
    case escalation_reason::negative_sentiment: return "negative_sentiment";
    case escalation_reason::agent_requested: return "agent_requested";
  }
  return "none";
}

const char* to_string(safety_action x) noexcept {
  switch (x) {
    case safety_action::allow: return "allow";
    case safety_action::redact: return "redact";
    case safety_action::refuse: return "refuse";
    case safety_action::escalate: return "escalate";
  }
  return "allow";
}

const char* to_string(safety_reason x) noexcept {
  switch (x) {
    case safety_reason::none: return "none";
    case safety_reason::pii: return "pii";
    case safety_reason::harmful: return "harmful";
    case safety_reason::abusive: return "abusive";
    case safety_reason::off_topic: return "off_topic";
    case safety_reason::prompt_injection: return "prompt_injection";
    case safety_reason::other_person_data: return "other_person_data";
    case safety_reason::moderation: return "moderation";
  }
  return "none";
}

const char* to_string(safety_source x) noexcept {
  switch (x) {
    case safety_source::user_message: return "user_message";
    case safety_source::retrieved_passage: return "retrieved_passage";
    case safety_source::answer: return "answer";
  }
  return "user_message";
}

const char* to_string(support_errc x) noexcept {
  switch (x) {
    case support_errc::ok: return "ok";
    case support_errc::empty_message: return "empty_message";
    case support_errc::message_too_long: return "message_too_long";
    case support_errc::invalid_utf8: return "invalid_utf8";
    case support_errc::unknown_tenant: return "unknown_tenant";
    case support_errc::unknown_user: return "unknown_user";
    case support_errc::busy: return "busy";
    case support_errc::knowledge_unavailable: return "knowledge_unavailable";
    case support_errc::component_failed: return "component_failed";
    case support_errc::timeout: return "timeout";
    case support_errc::account_unavailable: return "account_unavailable";
    case support_errc::shutting_down: return "shutting_down";
    case support_errc::internal: return "internal";
    case support_errc::session_forbidden: return "session_forbidden";
    case support_errc::turn_conflict: return "turn_conflict";
  }
  return "internal";
}

support_errc to_support_errc(const caf::error& e) noexcept {
  if (!e)
    return support_errc::ok;
  if (e.category() == support_error_atom::value)
    return static_cast<support_errc>(e.code());
  if (e.category() == caf::atom("system")
      && e.code() == static_cast<uint8_t>(caf::sec::request_timeout))
    return support_errc::timeout;
  return support_errc::internal;
}

} // namespace sa
