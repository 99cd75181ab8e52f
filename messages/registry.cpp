#include "messages/registry.hpp"

#include "messages/account.hpp"
#include "messages/actions.hpp"
#include "messages/audit.hpp"
#include "messages/classify.hpp"
#include "messages/cluster.hpp"
#include "messages/completion.hpp"
#include "messages/errors.hpp"
#include "messages/escalate.hpp"
#include "messages/generate.hpp"
#include "messages/handoff.hpp"
#include "messages/memory.hpp"
#include "messages/quality.hpp"
#include "messages/retrieve.hpp"
#include "messages/safety.hpp"
#include "messages/session.hpp"

#include "caf/actor_system_config.hpp"

namespace sa {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<tenant_id>("sa::tenant_id")
    .add_message_type<user_id>("sa::user_id")
    .add_message_type<session_id>("sa::session_id")
    .add_message_type<entity_mention>("sa::entity_mention")
    .add_message_type<std::vector<entity_mention>>("std::vector<sa::entity_mention>")
    .add_message_type<classify_request>("sa::classify_request")
    .add_message_type<classification>("sa::classification")
    .add_message_type<passage>("sa::passage")
    .add_message_type<std::vector<passage>>("std::vector<sa::passage>")
    .add_message_type<retrieve_request>("sa::retrieve_request")
    .add_message_type<retrieval>("sa::retrieval")
    .add_message_type<invoice_info>("sa::invoice_info")
    .add_message_type<ticket_info>("sa::ticket_info")
    .add_message_type<usage_metric>("sa::usage_metric")
    .add_message_type<account_gap>("sa::account_gap")
    .add_message_type<account_request>("sa::account_request")
    .add_message_type<account_facts>("sa::account_facts")
    .add_message_type<action_call>("sa::action_call")
    .add_message_type<std::vector<action_call>>("std::vector<sa::action_call>")
    .add_message_type<action_tool>("sa::action_tool")
    .add_message_type<std::vector<action_tool>>("std::vector<sa::action_tool>")
    .add_message_type<action_request>("sa::action_request")
    .add_message_type<action_result>("sa::action_result")
    .add_message_type<std::vector<action_result>>("std::vector<sa::action_result>")
    .add_message_type<action_proposal>("sa::action_proposal")
    .add_message_type<ticket_list_request>("sa::ticket_list_request")
    .add_message_type<ticket_list>("sa::ticket_list")
    .add_message_type<turn_record>("sa::turn_record")
    .add_message_type<std::vector<turn_record>>("std::vector<sa::turn_record>")
    .add_message_type<memory_load>("sa::memory_load")
    .add_message_type<conversation_memory>("sa::conversation_memory")
    .add_message_type<memory_append>("sa::memory_append")
    .add_message_type<memory_ack>("sa::memory_ack")
    .add_message_type<memory_stats_request>("sa::memory_stats_request")
    .add_message_type<memory_stats>("sa::memory_stats")
    .add_message_type<generation_delta>("sa::generation_delta")
    .add_message_type<generate_request>("sa::generate_request")
    .add_message_type<citation>("sa::citation")
    .add_message_type<std::vector<citation>>("std::vector<sa::citation>")
    .add_message_type<token_usage>("sa::token_usage")
    .add_message_type<generation>("sa::generation")
    .add_message_type<safety_check_request>("sa::safety_check_request")
    .add_message_type<safety_verdict>("sa::safety_verdict")
    .add_message_type<escalation_request>("sa::escalation_request")
    .add_message_type<escalation_decision>("sa::escalation_decision")
    .add_message_type<turn_delta>("sa::turn_delta")
    .add_message_type<turn_completed>("sa::turn_completed")
    .add_message_type<turn_failed>("sa::turn_failed")
    .add_message_type<user_turn>("sa::user_turn")
    .add_message_type<router_stats_request>("sa::router_stats_request")
    .add_message_type<router_stats>("sa::router_stats")
    .add_message_type<providers::chat_message>("sa::providers::chat_message")
    .add_message_type<std::vector<providers::chat_message>>("std::vector<sa::providers::chat_message>")
    .add_message_type<providers::tool_spec>("sa::providers::tool_spec")
    .add_message_type<std::vector<providers::tool_spec>>("std::vector<sa::providers::tool_spec>")
    .add_message_type<providers::completion_request>("sa::providers::completion_request")
    .add_message_type<providers::usage>("sa::providers::usage")
    .add_message_type<providers::tool_call>("sa::providers::tool_call")
    .add_message_type<std::vector<providers::tool_call>>("std::vector<sa::providers::tool_call>")
    .add_message_type<providers::thinking_block>("sa::providers::thinking_block")
    .add_message_type<std::vector<providers::thinking_block>>("std::vector<sa::providers::thinking_block>")
    .add_message_type<providers::tool_result>("sa::providers::tool_result")
    .add_message_type<std::vector<providers::tool_result>>("std::vector<sa::providers::tool_result>")
    .add_message_type<completion_delta>("sa::completion_delta")
    .add_message_type<completion_reset>("sa::completion_reset")
    .add_message_type<completion_call>("sa::completion_call")
    .add_message_type<completion_cancel>("sa::completion_cancel")
    .add_message_type<completion>("sa::completion")
    .add_message_type<generation_reset>("sa::generation_reset")
    .add_message_type<turn_reset>("sa::turn_reset")
    .add_message_type<cluster_member>("sa::cluster_member")
    .add_message_type<cluster_hello>("sa::cluster_hello")
    .add_message_type<cluster_challenge>("sa::cluster_challenge")
    .add_message_type<cluster_join>("sa::cluster_join")
    .add_message_type<cluster_welcome>("sa::cluster_welcome")
    .add_message_type<cluster_member_hint>("sa::cluster_member_hint")
    .add_message_type<member_address>("sa::member_address")
    .add_message_type<std::vector<member_address>>("std::vector<sa::member_address>")
    .add_message_type<registry_heartbeat>("sa::registry_heartbeat")
    .add_message_type<registry_lookup>("sa::registry_lookup")
    .add_message_type<registry_members>("sa::registry_members")
    .add_message_type<audit_event>("sa::audit_event")
    .add_message_type<audit_receipt>("sa::audit_receipt")
    .add_message_type<audit_stats_request>("sa::audit_stats_request")
    .add_message_type<audit_stats>("sa::audit_stats")
    .add_message_type<quality_sample>("sa::quality_sample")
    .add_message_type<csat_record>("sa::csat_record")
    .add_message_type<quality_stats_request>("sa::quality_stats_request")
    .add_message_type<quality_stats>("sa::quality_stats")
    .add_message_type<handoff_line>("sa::handoff_line")
    .add_message_type<std::vector<handoff_line>>("std::vector<sa::handoff_line>")
    .add_message_type<handoff_view>("sa::handoff_view")
    .add_message_type<std::vector<handoff_view>>("std::vector<sa::handoff_view>")
    .add_message_type<handoff_open>("sa::handoff_open")
    .add_message_type<handoff_opened>("sa::handoff_opened")
    .add_message_type<handoff_route_request>("sa::handoff_route_request")
    .add_message_type<handoff_route>("sa::handoff_route")
    .add_message_type<handoff_customer_event>("sa::handoff_customer_event")
    .add_message_type<customer_attach>("sa::customer_attach")
    .add_message_type<customer_detach>("sa::customer_detach")
    .add_message_type<handoff_changed>("sa::handoff_changed")
    .add_message_type<handoff_customer_said>("sa::handoff_customer_said")
    .add_message_type<handoff_queue_changed>("sa::handoff_queue_changed")
    .add_message_type<agent_subscribe>("sa::agent_subscribe")
    .add_message_type<handoff_list_request>("sa::handoff_list_request")
    .add_message_type<handoff_list>("sa::handoff_list")
    .add_message_type<agent_action>("sa::agent_action")
    .add_message_type<agent_outcome>("sa::agent_outcome");
  cfg.add_error_category(support_error_atom::value, [](uint8_t code, caf::atom_value, const caf::message&) {
    return std::string{"support_errc::"} + to_string(static_cast<support_errc>(code));
  });
  cfg.add_error_category(cluster_error_atom::value, [](uint8_t code, caf::atom_value, const caf::message&) {
    return std::string{"cluster_errc::"} + to_string(static_cast<cluster_errc>(code));
  });
  cfg.add_error_category(provider_error_atom::value, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string text = std::string{"provider_errc::"} + to_string(static_cast<provider_errc>(code));
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      text += ": " + ctx.get_as<std::string>(0);
    return text;
  });
}

} // namespace sa
