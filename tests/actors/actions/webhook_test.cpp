// Webhook signing and retry rules, and the embedded ticket store.
#include "actors/actions/actions_settings.hpp"
#include "actors/actions/ticket_store.hpp"
#include "config/load.hpp"
#include "actors/actions/webhook.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sa;
using namespace sa::actions;
using std::chrono::milliseconds;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[actions][webhook]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a webhook signature covers the timestamp and the body, and is checked in both", "[actions][webhook]") {
  const std::string body = R"({"event":"workflow.trigger","id":"k1"})";
  auto sig = webhook_signature("s3cret", 1700000000, body);
  CHECK(sig == "v1=" + hmac_sha256_hex("s3cret", "1700000000." + body));
  CHECK(verify_signature("s3cret", "1700000000", body, sig, 1700000010));
  CHECK_FALSE(verify_signature("s3cret", "1700000000", body + " ", sig, 1700000010));   // body changed
  CHECK_FALSE(verify_signature("s3cret", "1700000001", body, sig, 1700000010));         // timestamp changed
  CHECK_FALSE(verify_signature("other", "1700000000", body, sig, 1700000010));          // another secret
  CHECK_FALSE(verify_signature("s3cret", "1700000000", body, sig, 1700000000 + 301));   // too old
  CHECK_FALSE(verify_signature("s3cret", "17e8", body, sig, 1700000010));               // not whole seconds
  CHECK(verify_signature("s3cret", "1700000000", body, "v1=deadbeef, " + sig, 1700000010));  // rotation list
}

TEST_CASE("signed headers carry the timestamp, the signature and the idempotency key", "[actions][webhook]") {
  auto h = signed_headers("s3cret", 1700000000, "{}", "key-1");
  std::map<std::string, std::string> m(h.begin(), h.end());
  CHECK(m["Content-Type"] == "application/json");
  CHECK(m[webhook_headers::timestamp] == "1700000000");
  CHECK(m[webhook_headers::signature] == webhook_signature("s3cret", 1700000000, "{}"));
  CHECK(m[webhook_headers::idempotency_key] == "key-1");
  for (auto& [name, value] : h)
    CHECK(value.find("s3cret") == std::string::npos);
}

TEST_CASE("timeouts, connection errors, 5xx and 429 are retried, other statuses are final", "[actions][webhook]") {
  CHECK(verdict_for_status(200) == attempt_verdict::success);
  CHECK(verdict_for_status(202) == attempt_verdict::success);
  for (int s : {408, 409, 425, 429, 500, 502, 503, 504})
    CHECK(verdict_for_status(s) == attempt_verdict::retry);
  for (int s : {301, 400, 401, 403, 404, 422})
    CHECK(verdict_for_status(s) == attempt_verdict::give_up);
  for (auto k : {http_error_kind::connect, http_error_kind::timeout_connect, http_error_kind::timeout_first_byte,
                 http_error_kind::timeout_idle, http_error_kind::timeout_total, http_error_kind::reset})
    CHECK(verdict_for_error(k) == attempt_verdict::retry);
  for (auto k : {http_error_kind::tls, http_error_kind::cancelled, http_error_kind::other})
    CHECK(verdict_for_error(k) == attempt_verdict::give_up);
}

TEST_CASE("backoff doubles per retry up to the cap, with jitter in [50%, 100%]", "[actions][webhook]") {
  CHECK(backoff_delay(1, milliseconds{200}, milliseconds{2000}, 0.0) == milliseconds{100});
  CHECK(backoff_delay(1, milliseconds{200}, milliseconds{2000}, 1.0) == milliseconds{200});
  CHECK(backoff_delay(2, milliseconds{200}, milliseconds{2000}, 1.0) == milliseconds{400});
  CHECK(backoff_delay(3, milliseconds{200}, milliseconds{2000}, 1.0) == milliseconds{800});
  CHECK(backoff_delay(6, milliseconds{200}, milliseconds{2000}, 1.0) == milliseconds{2000});
  CHECK(backoff_delay(40, milliseconds{200}, milliseconds{2000}, 0.5) == milliseconds{1500});
}

TEST_CASE("Retry-After is read in seconds, other forms are ignored", "[actions][webhook]") {
  CHECK(retry_after({{"Retry-After", "3"}}) == milliseconds{3000});
  CHECK(retry_after({{"retry-after", " 1 "}}) == milliseconds{1000});
  CHECK_FALSE(retry_after({{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}));
  CHECK_FALSE(retry_after({{"X-Other", "3"}}));
}

TEST_CASE("one proposed action has one idempotency key", "[actions][webhook]") {
  auto k = idempotency_key("acme", "s1", 3, "create_ticket", R"({"subject":"x"})");
  CHECK(k.size() == 32);
  CHECK(k == idempotency_key("acme", "s1", 3, "create_ticket", R"({"subject":"x"})"));
  std::set<std::string> others{idempotency_key("globex", "s1", 3, "create_ticket", R"({"subject":"x"})"),
                               idempotency_key("acme", "s2", 3, "create_ticket", R"({"subject":"x"})"),
                               idempotency_key("acme", "s1", 4, "create_ticket", R"({"subject":"x"})"),
                               idempotency_key("acme", "s1", 3, "create_ticket", R"({"subject":"y"})")};
  CHECK(others.size() == 4);
  CHECK(others.count(k) == 0);
}

TEST_CASE("the ticket store opens a ticket once per idempotency key", "[actions][tickets]") {
  ticket_store store{10, 7001};
  auto a = store.create("acme", "alice", "k1", {"Build fails", "", "high", "2026-11-27"});
  REQUIRE(a);
  CHECK(a->info.id == "TCK-7001");
  CHECK(a->info.status == "open");
  CHECK_FALSE(a->duplicate);
  auto again = store.create("acme", "alice", "k1", {"Build fails", "", "high", "2026-11-27"});
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->info.id == "TCK-7001");
  CHECK(store.size("acme") == 1);
  auto b = store.create("acme", "alice", "k2", {"Second", "", "normal", "2026-11-27"});
  REQUIRE(b);
  CHECK(b->info.id == "TCK-7002");
}

TEST_CASE("the ticket store never shows a ticket to another user or tenant", "[actions][tickets][isolation]") {
  ticket_store store;
  REQUIRE(store.create("acme", "alice", "k1", {"Alice's", "", "normal", ""}));
  REQUIRE(store.create("globex", "carol", "k1", {"Carol's", "", "normal", ""}));  // same key, other tenant
  CHECK(store.list("acme", "alice").size() == 1);
  CHECK(store.list("acme", "bob").empty());
  CHECK(store.list("globex", "alice").empty());
  CHECK(store.find("acme", "alice", "TCK-7001"));
  CHECK(store.find("acme", "alice", "7001"));
  CHECK_FALSE(store.find("acme", "bob", "TCK-7001"));
  CHECK_FALSE(store.find("globex", "alice", "TCK-7001"));
  CHECK(store.find("globex", "carol", "tck-7001")->subject == "Carol's");
  // A key another user of the tenant used is not a way to read their ticket.
  CHECK_FALSE(store.create("acme", "bob", "k1", {"Bob's", "", "normal", ""}));
}

TEST_CASE("the ticket store refuses tickets beyond its bound", "[actions][tickets]") {
  ticket_store store{2};
  REQUIRE(store.create("acme", "alice", "k1", {"one", "", "normal", ""}));
  REQUIRE(store.create("acme", "alice", "k2", {"two", "", "normal", ""}));
  auto third = store.create("acme", "alice", "k3", {"three", "", "normal", ""});
  REQUIRE_FALSE(third);
  CHECK(third.error().find("actions.max_tickets_per_tenant") != std::string::npos);
  CHECK(store.create("globex", "carol", "k1", {"own bound", "", "normal", ""}));
}

TEST_CASE("references match whole ids or their number", "[actions][tickets]") {
  CHECK(reference_matches("INV-2026-0142", "INV-2026-0142"));
  CHECK(reference_matches("INV-2026-0142", "inv-2026-0142"));
  CHECK(reference_matches("INV-2026-0142", "0142"));
  CHECK_FALSE(reference_matches("INV-2026-0142", "142"));
  CHECK_FALSE(reference_matches("INV-2026-0142", "2"));
  CHECK_FALSE(reference_matches("INV-2026-0142", "INV-2026"));
  CHECK_FALSE(reference_matches("INV-2026-0142", ""));
}

TEST_CASE("a webhook secret comes from the environment, an unset variable stops start-up naming it",
          "[actions][settings]") {
  auto cfg = config::defaults();
  config::workflow_config w;
  w.url = "https://ops.example.com/hooks/order";
  w.secret_env = "OPS_SECRET";
  w.tenants = {"acme"};
  cfg.actions.workflows["order_escalation"] = w;
  auto none = settings_from(cfg, [](const char*) -> const char* { return nullptr; });
  REQUIRE_FALSE(none);
  CHECK(none.error() == "actions.workflows.order_escalation.secret_env names OPS_SECRET, which is not set in the "
                        "environment (it holds the webhook signing secret)");
  auto empty = settings_from(cfg, [](const char*) -> const char* { return ""; });
  REQUIRE_FALSE(empty);
  auto ok = settings_from(cfg, [](const char* name) -> const char* {
    return std::string(name) == "OPS_SECRET" ? "s3cret-value" : nullptr;
  });
  REQUIRE(ok);
  CHECK((*ok)->uses_webhooks());
  CHECK((*ok)->workflow_for("acme", "order_escalation")->target.secret == "s3cret-value");
  CHECK((*ok)->workflow_for("globex", "order_escalation") == nullptr);
  CHECK((*ok)->registry->workflows_for("globex").empty());
  cfg.actions.ticket_webhook_url = "https://helpdesk.example.com/t";
  cfg.actions.ticket_webhook_secret_env = "HELPDESK_SECRET";
  auto helpdesk = settings_from(cfg, [](const char* name) -> const char* {
    return std::string(name) == "OPS_SECRET" ? "x" : nullptr;
  });
  REQUIRE_FALSE(helpdesk);
  CHECK(helpdesk.error().find("actions.ticket_webhook_secret_env names HELPDESK_SECRET") == 0);
  // The default configuration needs no secret and calls out to nobody.
  auto plain = settings_from(config::defaults(), [](const char*) -> const char* { return nullptr; });
  REQUIRE(plain);
  CHECK_FALSE((*plain)->uses_webhooks());
}
