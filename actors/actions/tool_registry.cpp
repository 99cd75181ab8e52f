// tool_registry: the tool definitions and the argument validation (see tool_registry.hpp).
#include "actors/actions/tool_registry.hpp"

#include "runtime/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace sa::actions {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_quoted_chars = 40;

param_spec param(std::string name, param_type type, bool required, std::string description) {
  param_spec p;
  p.name = std::move(name);
  p.type = type;
  p.required = required;
  p.description = std::move(description);
  return p;
}

std::vector<std::string> priorities() { return {"low", "normal", "high", "urgent"}; }
std::vector<std::string> reference_kinds() { return {"invoice", "order", "ticket"}; }

tool_definition create_ticket_definition() {
  tool_definition t;
  t.name = tools::create_ticket;
  t.description = "Open a support ticket for the customer so the support team follows up. Changes something: "
                  "the customer is asked to confirm first.";
  t.mutating = true;
  auto subject = param("subject", param_type::string, true, "One-line summary of the problem");
  subject.min_chars = 3;
  subject.max_chars = 120;
  auto description = param("description", param_type::string, false,
                        "What happened, what the customer tried, ids involved");
  description.max_chars = 2000;
  description.multiline = true;
  auto priority = param("priority", param_type::string, false, "How urgent the problem is");
  priority.one_of = priorities();
  priority.default_value = "normal";
  t.params = {subject, description, priority};
  return t;
}

tool_definition trigger_workflow_definition(std::vector<std::string> workflows) {
  tool_definition t;
  t.name = tools::trigger_workflow;
  t.description = "Start one of the company's configured workflows (for example an order escalation) for the "
                  "customer. Changes something: the customer is asked to confirm first.";
  t.mutating = true;
  auto workflow = param("workflow", param_type::string, true, "Which workflow to start");
  workflow.one_of = std::move(workflows);
  auto reference = param("reference", param_type::string, false,
                      "The order, invoice or ticket id the workflow is about");
  reference.min_chars = 1;
  reference.max_chars = 64;
  auto note = param("note", param_type::string, false, "A short note for the team running the workflow");
  note.max_chars = 500;
  note.multiline = true;
  t.params = {workflow, reference, note};
  return t;
}

tool_definition lookup_definition() {
  tool_definition t;
  t.name = tools::lookup_order_or_invoice;
  t.description = "Look up one of the customer's own invoices, orders or support tickets by its id and report "
                  "its date, amount and status. Read-only.";
  t.mutating = false;
  auto reference = param("reference", param_type::string, true,
                      "The id as the customer wrote it, e.g. INV-2026-0142, TCK-5012 or an order number");
  reference.min_chars = 2;
  reference.max_chars = 64;
  auto kind = param("kind", param_type::string, false, "What the id is; inferred from its form when absent");
  kind.one_of = reference_kinds();
  t.params = {reference, kind};
  return t;
}

/// The first `n` code points of valid UTF-8 `s` (a shorter string is returned whole).
std::string prefix_chars(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  char32_t cp;
  for (std::size_t count = 0; i < s.size() && count < n; ++count) {
    auto len = utf8_decode(s, i, cp);
    i += len == 0 ? 1 : len;
  }
  return s.substr(0, i);
}

/// A value as the error text shows it: strings quoted and cut short, other types by their JSON type.
std::string describe_value(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + v.dump();
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      auto shown = prefix_chars(s, max_quoted_chars);
      return json(shown + (shown.size() < s.size() ? "..." : "")).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    default: return "a " + std::string(v.type_name());
  }
}

/// An argument name as error text shows it: cut short, control characters replaced.
std::string printable_name(const std::string& name) {
  auto out = prefix_chars(name, max_quoted_chars);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return out + (out.size() < name.size() ? "..." : "");
}

std::string join(const std::vector<std::string>& xs, const char* sep = ", ") {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : sep) + x;
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Checks one present argument; on success stores the normalised value in `out`, else appends problems.
void check_value(const std::string& where, const param_spec& p, const json& v, json& out,
                 std::vector<std::string>& problems) {
  switch (p.type) {
    case param_type::boolean:
      if (!v.is_boolean())
        problems.push_back(where + ": expected true or false, got " + describe_value(v));
      else
        out[p.name] = v;
      return;
    case param_type::integer:
      if (!v.is_number_integer()) {
        problems.push_back(where + ": expected an integer, got " + describe_value(v));
        return;
      }
      if ((v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(p.max))
          || (!v.is_number_unsigned() && (v.get<int64_t>() < p.min || v.get<int64_t>() > p.max))) {
        problems.push_back(where + ": expected an integer in [" + std::to_string(p.min) + ", " +
                           std::to_string(p.max) + "], got " + v.dump());
        return;
      }
      out[p.name] = v;
      return;
    case param_type::string: break;
  }
  if (!v.is_string()) {
    problems.push_back(where + ": expected a string, got " + describe_value(v));
    return;
  }
  auto s = trim(v.get_ref<const std::string&>());
  if (!is_valid_utf8(s)) {  // nlohmann refuses invalid UTF-8 when parsing; a caller may build json directly
    problems.push_back(where + ": expected valid UTF-8 text");
    return;
  }
  for (unsigned char c : s)
    if ((c < 0x20 && !(p.multiline && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f) {
      problems.push_back(where + (p.multiline ? ": control characters other than line breaks and tabs are not allowed"
                                              : ": control characters and line breaks are not allowed"));
      return;
    }
  if (!p.one_of.empty()) {
    auto want = lower(s);
    auto i = std::find(p.one_of.begin(), p.one_of.end(), want);
    if (i == p.one_of.end()) {
      problems.push_back(where + ": expected one of " + join(p.one_of) + ", got " + describe_value(v));
      return;
    }
    out[p.name] = *i;
    return;
  }
  auto chars = utf8_length(s);
  if (chars < p.min_chars) {
    problems.push_back(where + ": expected at least " + std::to_string(p.min_chars) + " characters, got " +
                       std::to_string(chars));
    return;
  }
  if (p.max_chars > 0 && chars > p.max_chars) {
    problems.push_back(where + ": expected at most " + std::to_string(p.max_chars) + " characters, got " +
                       std::to_string(chars));
    return;
  }
  out[p.name] = std::move(s);
}

} // namespace

std::size_t utf8_length(const std::string& s) noexcept {
  std::size_t n = 0;
  char32_t cp;
  for (std::size_t i = 0; i < s.size(); ++n) {
    auto len = utf8_decode(s, i, cp);
    i += len == 0 ? 1 : len;
  }
  return n;
}

std::string validated_call::text(const std::string& name) const {
  auto i = arguments.find(name);
  return i != arguments.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

tool_registry::tool_registry(std::vector<workflow_offer> workflows) : workflows_(std::move(workflows)) {
  std::sort(workflows_.begin(), workflows_.end(), [](auto& a, auto& b) { return a.name < b.name; });
}

std::vector<std::string> tool_registry::workflows_for(const std::string& tenant) const {
  std::vector<std::string> out;
  for (const auto& w : workflows_)
    if (w.tenants.empty() || std::find(w.tenants.begin(), w.tenants.end(), tenant) != w.tenants.end())
      out.push_back(w.name);
  return out;
}

std::vector<tool_definition> tool_registry::definitions(const std::string& tenant) const {
  std::vector<tool_definition> out{create_ticket_definition(), lookup_definition()};
  if (auto names = workflows_for(tenant); !names.empty()) {
    auto t = trigger_workflow_definition(names);
    t.description += " Workflows:";
    for (const auto& w : workflows_)
      if (std::find(names.begin(), names.end(), w.name) != names.end())
        t.description += " " + w.name + (w.description.empty() ? "" : " (" + w.description + ")") + ";";
    t.description.pop_back();
    t.description += ".";
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<action_tool> tool_registry::tools_for(const std::string& tenant) const {
  std::vector<action_tool> out;
  for (auto& t : definitions(tenant))
    out.push_back(action_tool{t.name, t.description, json_schema(t).dump(), t.mutating});
  return out;
}

bool tool_registry::mutating(const std::string& tool) const {
  for (const auto& d : {create_ticket_definition(), lookup_definition(), trigger_workflow_definition({})})
    if (d.name == tool)
      return d.mutating;
  return true;  // an unknown tool is never run without asking (validate() refuses it anyway)
}

json tool_registry::json_schema(const tool_definition& tool) {
  json props = json::object();
  json required = json::array();
  for (const auto& p : tool.params) {
    json s;
    switch (p.type) {
      case param_type::string:
        s["type"] = "string";
        if (!p.one_of.empty())
          s["enum"] = p.one_of;
        if (p.min_chars > 0)
          s["minLength"] = p.min_chars;
        if (p.max_chars > 0)
          s["maxLength"] = p.max_chars;
        if (!p.default_value.empty())
          s["default"] = p.default_value;
        break;
      case param_type::integer:
        s["type"] = "integer";
        s["minimum"] = p.min;
        s["maximum"] = p.max;
        break;
      case param_type::boolean: s["type"] = "boolean"; break;
    }
    s["description"] = p.description;
    props[p.name] = std::move(s);
    if (p.required)
      required.push_back(p.name);
  }
  return json{{"type", "object"}, {"properties", props}, {"required", required}, {"additionalProperties", false}};
}

result<validated_call> tool_registry::validate(const std::string& tenant, const action_call& call) const {
  auto defs = definitions(tenant);
  auto def = std::find_if(defs.begin(), defs.end(), [&](const tool_definition& d) { return d.name == call.tool; });
  if (def == defs.end()) {
    std::vector<std::string> names;
    for (auto& d : defs)
      names.push_back(d.name);
    return failure{"unknown tool " + describe_value(json(call.tool)) + " (available: " + join(names) + ")"};
  }
  json args;
  if (call.arguments_json.find_first_not_of(" \t\r\n") == std::string::npos) {
    args = json::object();  // models send "" for a call without arguments
  } else {
    try {
      args = json::parse(call.arguments_json);
    } catch (const json::parse_error& e) {
      return failure{def->name + ": arguments are not valid JSON (error at byte " + std::to_string(e.byte) + ")"};
    }
  }
  if (!args.is_object())
    return failure{def->name + ": arguments must be a JSON object, got " + describe_value(args)};
  std::vector<std::string> problems;
  std::vector<std::string> known;
  for (const auto& p : def->params)
    known.push_back(p.name);
  for (auto it = args.begin(); it != args.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      problems.push_back(def->name + "." + printable_name(it.key()) + ": unknown argument (expected " + join(known) +
                         ")");
  validated_call out;
  out.tool = *def;
  out.arguments = json::object();
  for (const auto& p : def->params) {
    auto where = def->name + "." + p.name;
    auto i = args.find(p.name);
    if (i == args.end() || i->is_null()) {
      if (p.required)
        problems.push_back(where + ": required argument missing");
      else if (!p.default_value.empty())
        out.arguments[p.name] = p.default_value;
      continue;
    }
    check_value(where, p, *i, out.arguments, problems);
  }
  if (!problems.empty())
    return failure{join(problems, "; ")};
  return out;
}

std::string tool_registry::describe(const validated_call& call) {
  auto quote = [](const std::string& s) { return "\u201c" + s + "\u201d"; };
  if (call.tool.name == tools::create_ticket) {
    auto text = "open a support ticket titled " + quote(call.text("subject"));
    auto priority = call.text("priority");
    if (!priority.empty() && priority != "normal")
      text += " with " + priority + " priority";
    return text;
  }
  if (call.tool.name == tools::trigger_workflow) {
    auto text = "start the " + quote(call.text("workflow")) + " workflow";
    if (auto ref = call.text("reference"); !ref.empty())
      text += " for " + ref;
    return text;
  }
  if (call.tool.name == tools::lookup_order_or_invoice)
    return "look up " + call.text("reference");
  return "use " + call.tool.name;
}

} // namespace sa::actions
