// actions: tools the bot can use on the customer's behalf (create_ticket, trigger_workflow,
// lookup_order_or_invoice). A generator asks for a tool with an action_call (the local rules or an LLM's
// tool call: name, JSON arguments, call id); the session validates it against the tool registry
// (actors/actions/tool_registry.hpp), proposes a tool that changes something and runs it only after the
// customer confirms, and sends the actions service an action_request scoped by the authenticated tenant
// and user. The service validates again, executes, audits, and answers with one action_result - never an
// error for a tool that failed (the result says so), only for a service that crashed.
#pragma once

#include "messages/account.hpp"
#include "messages/ids.hpp"

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sa {

/// A request to run one tool, from the local rules or from a model's tool call.
struct action_call {
  std::string id;              ///< the caller's call id (an LLM's tool call id, or "rule-1"); echoed back
  std::string tool;            ///< the tool's name in the registry
  std::string arguments_json;  ///< the arguments: a JSON object, as text
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_call& x) {
  return f(caf::meta::type_name("action_call"), x.id, x.tool, x.arguments_json);
}

/// A tool offered to a generator for one turn, with its JSON Schema (what provider request builders send
/// as the tool's parameters).
struct action_tool {
  std::string name;
  std::string description;
  std::string parameters_json;  ///< a JSON Schema object: types, required, enums, length limits
  bool mutating = false;        ///< changes something: proposed first, run once the customer confirms
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_tool& x) {
  return f(caf::meta::type_name("action_tool"), x.name, x.description, x.parameters_json, x.mutating);
}

/// How a tool run ended. Stable names (protocol, audit, metrics labels); never renumber.
enum class action_status : uint8_t {
  ok = 0,
  invalid_arguments = 1,  ///< refused before running: the detail names the argument and the problem
  not_found = 2,          ///< nothing with that reference on the caller's account
  failed = 3,             ///< the tool ran and failed (webhook refused it, store full, ...)
  timeout = 4,            ///< no outcome before the deadline (a webhook may still act: same idempotency key)
  unavailable = 5,        ///< the tool is not configured for this tenant, or a service it needs is down
};
const char* to_string(action_status x) noexcept;

/// Runs one tool for the authenticated (tenant, user). Nothing in `call` can widen that scope.
struct action_request {
  tenant_id tenant;
  user_id user;
  session_id session;
  action_call call;
  std::string idempotency_key;  ///< the same key never acts twice (embedded store, webhook receivers)
  int64_t deadline = 0;         ///< a steady_deadline (messages/completion.hpp): answered by then; 0: none
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_request& x) {
  return f(caf::meta::type_name("action_request"), x.tenant, x.user, x.session, x.call, x.idempotency_key,
           x.deadline);
}

struct action_result {
  std::string call_id;        ///< the action_call's id
  std::string tool;
  action_status status = action_status::ok;
  std::string summary;        ///< for the customer: what happened, or what went wrong and what to do
  std::string detail;         ///< for logs and models: the validation error or failure kind; no secrets
  std::string reference;      ///< the record acted on or found (ticket id, workflow run id, invoice id)
  std::string data_json;      ///< the structured outcome (a JSON object) for a model or a client
  uint32_t attempts = 0;      ///< webhook requests made (0: no webhook involved)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_result& x) {
  return f(caf::meta::type_name("action_result"), x.call_id, x.tool, x.status, x.summary, x.detail,
           x.reference, x.data_json, x.attempts);
}

/// A tool the session proposed and waits for the customer to confirm (shown with the turn's answer).
struct action_proposal {
  std::string tool;           ///< empty: nothing proposed
  std::string summary;        ///< what will happen, in the customer's words ("open a ticket titled ...")
  int64_t expires_unix_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_proposal& x) {
  return f(caf::meta::type_name("action_proposal"), x.tool, x.summary, x.expires_unix_ms);
}

/// The tickets the actions service opened for (tenant, user) in its embedded ticket store; the session
/// adds them to the account facts' open tickets.
struct ticket_list_request {
  tenant_id tenant;
  user_id user;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ticket_list_request& x) {
  return f(caf::meta::type_name("ticket_list_request"), x.tenant, x.user);
}

struct ticket_list {
  std::vector<ticket_info> tickets;  ///< oldest first
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ticket_list& x) {
  return f(caf::meta::type_name("ticket_list"), x.tickets);
}

using actions_actor = caf::typed_actor<caf::replies_to<action_request>::with<action_result>,
                                       caf::replies_to<ticket_list_request>::with<ticket_list>>;

} // namespace sa
