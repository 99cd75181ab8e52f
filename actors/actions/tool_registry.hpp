// tool_registry: the tools the bot may use, each with typed parameters, and the validation every call
// passes before anything runs. Plain class, built once per node from the config (the workflows and which
// tenants may trigger them) and shared read-only; every method is const and thread-safe.
//
// A tool's parameters are strings, integers or booleans, required or optional, with enum values and
// length limits. validate() checks a call's JSON arguments against them and names the argument and the
// problem ("create_ticket.priority: expected one of low, normal, high, urgent, got \"asap\""); tools_for()
// exports each tool's JSON Schema for the providers' tool-calling request builders.
//
// To add a tool: add a *_definition() function in tool_registry.cpp and list it in definitions(), its execution in
// actions_actor.cpp, a local rule in action_rules.cpp if customers ask for it in so many words, and tests.
#pragma once

#include "messages/actions.hpp"
#include "runtime/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sa::actions {

/// Stable tool names.
namespace tools {
constexpr const char* create_ticket = "create_ticket";
constexpr const char* trigger_workflow = "trigger_workflow";
constexpr const char* lookup_order_or_invoice = "lookup_order_or_invoice";
} // namespace tools

enum class param_type { string, integer, boolean };

struct param_spec {
  std::string name;
  param_type type = param_type::string;
  bool required = false;
  std::string description;
  std::vector<std::string> one_of;  ///< string: allowed values (empty: any)
  std::string default_value;        ///< string: applied when an optional argument is absent (empty: none)
  std::size_t min_chars = 0;        ///< string: length in characters (code points), after trimming
  std::size_t max_chars = 0;        ///< string: 0 = no limit
  bool multiline = false;           ///< string: line breaks and tabs allowed (other control characters never)
  int64_t min = 0;                  ///< integer: inclusive range
  int64_t max = 0;
};

struct tool_definition {
  std::string name;
  std::string description;
  bool mutating = false;            ///< changes something: proposed first, run once the customer confirms
  std::vector<param_spec> params;
};

/// A workflow customers can trigger (actions.workflows in the config), without its URL or secret.
struct workflow_offer {
  std::string name;
  std::string description;
  std::vector<std::string> tenants;  ///< who may trigger it; empty = every tenant
};

/// A call that passed validation: its tool and its arguments with defaults applied and strings trimmed.
struct validated_call {
  tool_definition tool;
  nlohmann::json arguments;          ///< a JSON object

  /// A string argument, or "" when absent.
  std::string text(const std::string& name) const;
};

class tool_registry {
public:
  explicit tool_registry(std::vector<workflow_offer> workflows = {});

  /// The tools `tenant` may use, in a stable order. trigger_workflow only when the tenant has a workflow;
  /// its `workflow` argument then accepts exactly that tenant's workflows.
  std::vector<tool_definition> definitions(const std::string& tenant) const;

  /// The same tools with their JSON Schema, as offered to a generator (and on to a model).
  std::vector<action_tool> tools_for(const std::string& tenant) const;

  /// Checks `call` for `tenant`: a tool the tenant may use, arguments a JSON object with no unknown
  /// argument, every required one present, each of the right type, allowed value and length. The failure
  /// lists every problem found, each naming "<tool>.<argument>".
  result<validated_call> validate(const std::string& tenant, const action_call& call) const;

  /// True when `tool` changes something (create_ticket, trigger_workflow).
  bool mutating(const std::string& tool) const;

  /// What a mutating call will do, for the confirmation question ("open a support ticket titled ...").
  static std::string describe(const validated_call& call);

  /// The JSON Schema object of a tool's parameters (draft 2020-12 subset every provider accepts).
  static nlohmann::json json_schema(const tool_definition& tool);

  /// The names of the workflows `tenant` may trigger.
  std::vector<std::string> workflows_for(const std::string& tenant) const;

private:
  std::vector<workflow_offer> workflows_;
};

/// Length in code points of valid UTF-8 (each invalid byte counts as one).
std::size_t utf8_length(const std::string& s) noexcept;

} // namespace sa::actions
