// The gateway over real sockets: a node, its gateway on 127.0.0.1 port 0, and a Beast WebSocket client.
// Every wait has a deadline; nothing sleeps.
#include "actors/gateway/gateway.hpp"
#include "tests/actors/gateway/gateway_fixture.hpp"
#include "tests/support/scripted_generator.hpp"
#include "tests/support/test_node.hpp"
#include "tests/support/ws_client.hpp"

#include <catch2/catch.hpp>

#include "runtime/log.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

using namespace sa;
using namespace sa::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct rsa_pair {
  std::string private_pem;
  std::string public_pem;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

/// A fresh 2048-bit RSA key pair (once per process).
const rsa_pair& rsa_keys() {
  static const rsa_pair pair = [] {
    rsa_pair out;
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* priv = BIO_new(BIO_s_mem());
    BIO* pub = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub, key);
    out.private_pem = bio_text(priv);
    out.public_pem = bio_text(pub);
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(key);
    return out;
  }();
  return pair;
}

gateway::token_keys rs256_keys() {
  gateway::token_keys k;
  k.algorithm = "RS256";
  k.public_key_pem = rsa_keys().public_pem;
  k.private_key_pem = rsa_keys().private_pem;
  return k;
}

/// The first error frame, then the close code.
void expect_refused(ws_client& c, const std::string& code, int close_code = 1008) {
  auto f = c.read_until("error", 10s);
  REQUIRE(f);
  CHECK((*f)["code"] == code);
  CHECK(c.wait_closed(10s));
  CHECK(c.close_code() == close_code);
}

} // namespace

TEST_CASE("a client with a minted token holds a two-turn conversation with streamed answers and sources",
          "[gateway]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  auto first = ask(c, "m1", "How do I add a custom domain?");
  REQUIRE(first.session);
  CHECK((*first.session)["resumed"] == false);
  REQUIRE(first.final);
  auto& f1 = *first.final;
  CHECK(f1["id"] == "m1");
  CHECK(f1["turn"] == 1);
  CHECK_FALSE(first.deltas.empty());
  CHECK(first.streamed() == f1["text"].get<std::string>());
  CHECK_FALSE(f1["sources"].empty());
  CHECK(f1["sources"][0].contains("url"));
  CHECK(f1.contains("intent"));
  CHECK(f1.contains("confidence"));
  auto second = ask(c, "m2", "Why was I charged twice on my invoice this month?");
  REQUIRE(second.final);
  CHECK_FALSE(second.session);
  CHECK((*second.final)["turn"] == 2);
  CHECK((*second.final)["session"] == (*first.session)["session"]);
  CHECK((*second.final)["intent"] == "billing");
}

TEST_CASE("a reset frame tells the client to discard the partial answer, the deltas after it make the final text",
          "[gateway][reset]") {
  auto script = std::make_shared<generation_script>();
  script->delta("Thanks for waiting. I am looking at the charges on your account for this month right now, ")
    .delta("and the first thing I notice is that the card on file")
    .reset("connection")
    .delta("Sorry about the double charge. ")
    .delta("We have reversed the second payment.");
  script->final_text = "Sorry about the double charge. We have reversed the second payment.";
  auto children = default_children(shared_services());
  children.generator = scripted_generator_factory(script);
  gateway_fixture fx{hs256_keys(), nullptr, children};
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(c.send_json({{"type", "message"}, {"id", "m1"}, {"text", "Why was I charged twice this month?"}}));
  std::vector<json> frames;  // delta and reset frames, in order, up to the final
  std::optional<json> final, session;
  auto end = std::chrono::steady_clock::now() + 20s;
  while (!final && std::chrono::steady_clock::now() < end) {
    auto f = c.read(20s);
    REQUIRE(f);
    auto type = (*f)["type"].get<std::string>();
    REQUIRE(type != "error");
    if (type == "final")
      final = *f;
    else if (type == "session")
      session = *f;
    else if (type == "delta" || type == "reset")
      frames.push_back(*f);
  }
  REQUIRE(final);
  REQUIRE(session);
  size_t resets = 0, reset_index = 0;
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i]["type"] == "reset") {
      ++resets;
      reset_index = i;
    }
  REQUIRE(resets == 1);
  REQUIRE(reset_index >= 1);  // something was on screen to discard
  auto& reset = frames[reset_index];
  CHECK(reset["id"] == "m1");
  CHECK(reset["session"] == (*session)["session"]);
  CHECK(reset["turn"] == (*final)["turn"]);
  CHECK(reset["reason"] == "connection");
  // What a client renders: the deltas after the reset, numbered from 0, equal the final text.
  std::string rendered;
  for (size_t i = reset_index + 1; i < frames.size(); ++i) {
    CHECK(frames[i]["seq"] == i - reset_index - 1);
    rendered += frames[i]["text"].get<std::string>();
  }
  CHECK(rendered == (*final)["text"].get<std::string>());
  CHECK((*final)["text"] == script->final_text);
}

TEST_CASE("a client that reconnects resumes its session and the turn numbers continue", "[gateway]") {
  gateway_fixture fx;
  std::string session;
  {
    ws_client c;
    REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
    auto x = ask(c, "m1", "How do I add a custom domain?");
    REQUIRE(x.final);
    session = (*x.final)["session"];
  }
  SECTION("with ?session= on the URL") {
    ws_client c;
    REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice"), "&session=" + session));
    auto s = c.read_until("session");
    REQUIRE(s);
    CHECK((*s)["session"] == session);
    CHECK((*s)["resumed"] == true);
    auto x = ask(c, "m2", "And how do I set up SSL for it?");
    REQUIRE(x.final);
    CHECK((*x.final)["turn"] == 2);
  }
  SECTION("with a resume frame") {
    ws_client c;
    REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
    REQUIRE(c.send_json({{"type", "resume"}, {"session", session}}));
    auto s = c.read_until("session");
    REQUIRE(s);
    CHECK((*s)["resumed"] == true);
    auto x = ask(c, "m2", "And how do I set up SSL for it?");
    REQUIRE(x.final);
    CHECK((*x.final)["turn"] == 2);
  }
}

TEST_CASE("resuming another user's or another tenant's session is refused", "[gateway][isolation]") {
  gateway_fixture fx;
  ws_client owner;
  REQUIRE(connect_ready(owner, fx.port(), fx.token("acme", "alice")));
  auto x = ask(owner, "m1", "How do I add a custom domain?");
  REQUIRE(x.final);
  std::string session = (*x.final)["session"];
  for (auto [tenant, user] : {std::pair{"globex", "carol"}, std::pair{"acme", "bob"}}) {
    INFO(tenant << "/" << user);
    ws_client other;
    REQUIRE(connect_ready(other, fx.port(), fx.token(tenant, user), "&session=" + session));
    auto e = other.read_until("error");
    REQUIRE(e);
    CHECK((*e)["code"] == "session_forbidden");
    // A message afterwards goes to a new session of the intruder's own, never the owner's.
    auto y = ask(other, "m1", "What did the previous user ask?");
    REQUIRE(y.final);
    CHECK((*y.final)["session"] != session);
    CHECK((*y.final)["turn"] == 1);
  }
}

TEST_CASE("a token signed with the wrong key is refused", "[gateway][auth]") {
  gateway_fixture fx;
  auto forged_keys = hs256_keys();
  forged_keys.secret = "another-secret-that-is-long-enough-0123456789";
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws?token=" + gateway::mint_token(forged_keys, "acme", "alice", 600s)));
  expect_refused(c, "unauthorized");
}

TEST_CASE("an expired token is refused", "[gateway][auth]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws?token=" + fx.token("acme", "alice", -3600s)));
  expect_refused(c, "unauthorized");
}

TEST_CASE("a connection is closed when its token expires, on both endpoints", "[gateway][auth]") {
  auto keys = hs256_keys();
  keys.leeway_s = 0;  // the connection may outlive exp by the verification leeway: none here
  gateway_fixture fx{keys};
  ws_client customer, agent;
  REQUIRE(connect_ready(customer, fx.port(), fx.token("acme", "alice", 4s)));
  REQUIRE(agent.connect(fx.port(), "/agent/ws?token=" + fx.agent_token("acme", "ann", "Ann", 4s)));
  auto ready = agent.read_until("agent_ready", 5s);
  REQUIRE(ready);
  // Answered while the token is valid (a ping), then closed with token_expired once it is not.
  REQUIRE(customer.send_json({{"type", "ping"}}));
  auto pong = customer.read_until("pong", 5s);
  REQUIRE(pong);
  expect_refused(customer, "token_expired");
  expect_refused(agent, "token_expired");
}

TEST_CASE("a token for another audience is refused", "[gateway][auth]") {
  gateway_fixture fx;
  auto keys = hs256_keys();
  keys.audience = "some-other-service";
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws", gateway::mint_token(keys, "acme", "alice", 600s)));
  expect_refused(c, "unauthorized");
}

TEST_CASE("with RS256 configured, an RS256 token is accepted and an HS256 token is refused",
          "[gateway][auth]") {
  gateway_fixture fx{rs256_keys()};
  {
    ws_client c;
    CHECK(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  }
  // The classic confusion attack: HMAC keyed with the server's public key.
  gateway::token_keys attack;
  attack.algorithm = "HS256";
  attack.secret = rsa_keys().public_pem;
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws?token=" + gateway::mint_token(attack, "acme", "alice", 600s)));
  expect_refused(c, "unauthorized");
}

TEST_CASE("a token in the Authorization header or in the first frame authenticates", "[gateway][auth]") {
  gateway_fixture fx;
  {
    ws_client c;
    REQUIRE(c.connect(fx.port(), "/ws", fx.token("acme", "alice")));
    auto r = c.read();
    REQUIRE(r);
    CHECK((*r)["type"] == "ready");
  }
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws"));
  REQUIRE(c.send_json({{"type", "auth"}, {"token", fx.token("acme", "bob")}}));
  auto r = c.read();
  REQUIRE(r);
  CHECK((*r)["type"] == "ready");
  CHECK((*r)["user"] == "bob");
}

TEST_CASE("a frame other than auth before authentication closes the connection", "[gateway][auth]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws"));
  REQUIRE(c.send_json({{"type", "message"}, {"text", "hello"}}));
  expect_refused(c, "unauthorized");
}

TEST_CASE("malformed JSON and unknown frame types get error frames and the connection stays open",
          "[gateway][input]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(c.send_text("{not json"));
  auto e1 = c.read();
  REQUIRE(e1);
  CHECK((*e1)["type"] == "error");
  CHECK((*e1)["code"] == "bad_request");
  REQUIRE(c.send_json({{"type", "teleport"}}));
  auto e2 = c.read();
  REQUIRE(e2);
  CHECK((*e2)["code"] == "unknown_type");
  REQUIRE(c.send_json({{"type", "ping"}}));
  auto p = c.read();
  REQUIRE(p);
  CHECK((*p)["type"] == "pong");
}

TEST_CASE("a binary frame gets an error frame and a close with 1003", "[gateway][input]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(c.send_binary(std::string("\x01\x02\x03", 3)));
  expect_refused(c, "unsupported_data", 1003);
}

TEST_CASE("a tenant's connections share one rate limit and other tenants are unaffected", "[gateway][limits]") {
  // Each connection could send 10 at once; the tenant as a whole only 4 (and refills far slower).
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) {
    c.tenant_messages_per_second = 0.01;
    c.tenant_message_burst = 4;
  }};
  ws_client a, b, other;
  REQUIRE(connect_ready(a, fx.port(), fx.token("acme", "alice")));
  REQUIRE(connect_ready(b, fx.port(), fx.token("acme", "bob")));
  REQUIRE(connect_ready(other, fx.port(), fx.token("globex", "carol")));
  auto pings = [](ws_client& c, int n) {
    int pongs = 0, limited = 0;
    for (int i = 0; i < n; ++i)
      REQUIRE(c.send_json({{"type", "ping"}}));
    for (int i = 0; i < n; ++i) {
      auto f = c.read(5s);
      REQUIRE(f);
      if ((*f)["type"] == "pong")
        ++pongs;
      else if ((*f)["type"] == "error" && (*f)["code"] == "rate_limited")
        ++limited;
    }
    return std::make_pair(pongs, limited);
  };
  auto [a_ok, a_limited] = pings(a, 3);
  auto [b_ok, b_limited] = pings(b, 3);
  CHECK(a_ok == 3);
  CHECK(a_limited == 0);
  CHECK(b_ok == 1);  // the tenant's fourth message
  CHECK(b_limited == 2);
  auto [o_ok, o_limited] = pings(other, 3);
  CHECK(o_ok == 3);
  CHECK(o_limited == 0);
}

TEST_CASE("a frame over max_frame_bytes closes the connection with 1009", "[gateway][limits]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  json big{{"type", "message"}, {"text", std::string(20000, 'a')}};
  c.send_json(big);
  CHECK(c.wait_closed(10s));
  CHECK(c.close_code() == 1009);
}

TEST_CASE("a client flooding messages gets rate_limited errors", "[gateway][limits]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.send_json({{"type", "ping"}}));
  int pongs = 0;
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    auto f = c.read(5s);
    REQUIRE(f);
    if ((*f)["type"] == "pong")
      ++pongs;
    else if ((*f)["type"] == "error" && (*f)["code"] == "rate_limited")
      ++limited;
  }
  CHECK(pongs >= 10);
  CHECK(limited >= 10);
  CHECK(pongs + limited == 30);
}

TEST_CASE("connections beyond max_connections are refused with HTTP 503", "[gateway][limits]") {
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.max_connections = 1; }};
  ws_client first;
  REQUIRE(connect_ready(first, fx.port(), fx.token("acme", "alice")));
  ws_client second;
  CHECK_FALSE(second.connect(fx.port(), "/ws?token=" + fx.token("acme", "bob")));
  CHECK(second.http_status() == 503);
}

namespace {

/// Whether `user` of `tenant` gets a ready connection within 10 s, retried: a connection's place under the
/// caps comes back only once the server has let go of it.
bool reconnects(gateway_fixture& fx, const std::string& tenant, const std::string& user) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    ws_client retry;
    if (connect_ready(retry, fx.port(), fx.token(tenant, user)))
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

} // namespace

TEST_CASE("a user's connections beyond max_connections_per_user are closed with too_many_connections and 1013",
          "[gateway][limits]") {
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.max_connections_per_user = 2; }};
  ws_client first, second, third;
  REQUIRE(connect_ready(first, fx.port(), fx.token("acme", "alice")));
  REQUIRE(connect_ready(second, fx.port(), fx.token("acme", "alice")));
  REQUIRE(third.connect(fx.port(), "/ws?token=" + fx.token("acme", "alice")));
  expect_refused(third, "too_many_connections", 1013);
  // Another user of the tenant, and the same user id signed in as an agent, count apart.
  ws_client bob;
  REQUIRE(connect_ready(bob, fx.port(), fx.token("acme", "bob")));
  ws_client agent;
  CHECK(connect_agent(agent, fx.port(), fx.agent_token("acme", "alice", "Alice")));
  // A closed connection gives its place back once the server has let go of it (retried up to a deadline).
  first.close();
  CHECK(reconnects(fx, "acme", "alice"));
}

TEST_CASE("a tenant's connections beyond max_connections_per_tenant are closed, other tenants still connect",
          "[gateway][limits]") {
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.max_connections_per_tenant = 2; }};
  ws_client alice, bob, dana;
  REQUIRE(connect_ready(alice, fx.port(), fx.token("acme", "alice")));
  REQUIRE(connect_ready(bob, fx.port(), fx.token("acme", "bob")));
  // First-frame authentication is held to the same caps as a token in the URL.
  REQUIRE(dana.connect(fx.port(), "/ws"));
  REQUIRE(dana.send_json({{"type", "auth"}, {"token", fx.token("acme", "dana")}}));
  expect_refused(dana, "too_many_connections", 1013);
  ws_client carol;
  CHECK(connect_ready(carol, fx.port(), fx.token("globex", "carol")));
  // The tenant's agents are not counted against it: its customers cannot lock them out.
  ws_client agent;
  CHECK(connect_agent(agent, fx.port(), fx.agent_token("acme", "ann", "Ann")));
}

TEST_CASE("an escalate frame hands the conversation to a human", "[gateway][escalation]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(c.send_json({{"type", "escalate"}}));
  auto e = c.read_until("escalated");
  REQUIRE(e);
  CHECK((*e)["reason"] == "user_requested");
  CHECK_FALSE((*e)["handoff"].get<std::string>().empty());
}

TEST_CASE("feedback on a turn is acknowledged", "[gateway]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  auto x = ask(c, "m1", "How do I add a custom domain?");
  REQUIRE(x.final);
  REQUIRE(c.send_json({{"type", "feedback"}, {"turn", 1}, {"csat", 5}, {"comment", "great"}}));
  auto f = c.read_until("feedback_received");
  REQUIRE(f);
  CHECK((*f)["turn"] == 1);
  REQUIRE(c.send_json({{"type", "feedback"}, {"turn", 1}, {"csat", 9}}));
  auto e = c.read_until("error");
  REQUIRE(e);
  CHECK((*e)["code"] == "bad_request");
}

TEST_CASE("an end-of-conversation survey is acknowledged, counted and stored redacted", "[gateway][csat]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  REQUIRE(c.send_json({{"type", "survey"}, {"csat", 4}, {"resolved", true}}));
  auto early = c.read_until("error");  // no conversation yet
  REQUIRE(early);
  CHECK((*early)["code"] == "bad_request");
  auto x = ask(c, "m1", "How do I add a custom domain?");
  REQUIRE(x.final);
  auto intent = (*x.final)["intent"].get<std::string>();
  const std::string marker = "survey-ref-" + std::to_string(::getpid());  // no PII: survives redaction
  const std::string email = "survey.canary@example.com";
  REQUIRE(c.send_json({{"type", "survey"}, {"csat", 4}, {"resolved", true}, {"comment", marker + " " + email}}));
  REQUIRE(c.read_until("survey_received"));
  REQUIRE(c.send_json({{"type", "survey"}, {"csat", 0}, {"resolved", true}}));
  auto bad = c.read_until("error");
  REQUIRE(bad);
  CHECK((*bad)["message"] == "A survey needs an integer \"csat\" from 1 to 5.");
  REQUIRE(c.send_json({{"type", "survey"}, {"csat", 3}}));
  REQUIRE(c.read_until("error"));
  const auto& q = fx.node.services->cfg.quality;
  auto file = (q.dir.empty() ? fx.node.services->cfg.node.state_dir + "/quality" : q.dir) + "/" +
              fx.node.services->cfg.node.name + ".csat.jsonl";
  // The quality service writes on its own thread: poll the file with a deadline.
  std::optional<json> stored;
  for (auto until = std::chrono::steady_clock::now() + 10s; !stored && std::chrono::steady_clock::now() < until;) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
      if (line.find(marker) != std::string::npos)
        stored = json::parse(line);
  }
  REQUIRE(stored);
  CHECK((*stored)["kind"] == "survey");
  CHECK((*stored)["csat"] == 4);
  CHECK((*stored)["resolved"] == true);
  CHECK((*stored)["intent"] == intent);
  CHECK((*stored)["comment"].get<std::string>().find(email) == std::string::npos);  // redacted
  CHECK((*stored)["tenant"] == "acme");
  std::string metrics = fx.node.services->metrics->render();
  CHECK(metrics.find("sa_csat_surveys_total{") != std::string::npos);
}

TEST_CASE("HTTP serves health, readiness and the chat page, dev tokens only when enabled", "[gateway][http]") {
  gateway_fixture fx;
  CHECK(http_get(fx.port(), "/healthz").status == 200);
  CHECK(http_get(fx.port(), "/readyz").status == 200);
  auto page = http_get(fx.port(), "/");
  CHECK(page.status == 200);
  CHECK(page.content_type.find("text/html") != std::string::npos);
  CHECK(http_get(fx.port(), "/../CMakeLists.txt").status >= 400);
  // A target without its leading '/' must not be glued to the web root's name ("web" + "_old/x").
  CHECK(http_get(fx.port(), "/app.js").status == 200);
  CHECK(http_get(fx.port(), "app.js").status == 400);
  CHECK(http_get(fx.port(), "/dev/token?tenant=acme&user=alice").status == 404);

  gateway_fixture dev{hs256_keys(), [](config::gateway_config& c) { c.dev_tokens = true; }};
  auto t = http_get(dev.port(), "/dev/token?tenant=acme&user=alice");
  REQUIRE(t.status == 200);
  auto token = json::parse(t.body)["token"].get<std::string>();
  ws_client c;
  CHECK(connect_ready(c, dev.port(), token));
  CHECK(http_get(dev.port(), "/dev/token?tenant=acme&user=mallory").status == 400);
  auto tenants = json::parse(http_get(dev.port(), "/dev/tenants").body);
  CHECK(tenants["tenants"].size() >= 2);
}

TEST_CASE("stopping the gateway closes open connections with 1001 and refuses new ones", "[gateway][shutdown]") {
  gateway_fixture fx;
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  auto port = fx.port();
  // The client answers the close handshake on its own thread while stop() waits for it.
  auto closed = std::async(std::launch::async, [&] { return c.wait_closed(5s); });
  fx.gw->stop();
  CHECK(closed.get());
  CHECK(c.close_code() == 1001);
  CHECK(fx.gw->connections() == 0);
  ws_client late;
  CHECK_FALSE(late.connect(port, "/ws?token=" + fx.token("acme", "alice"), {}, 2s));
}

TEST_CASE("a connection that never authenticates is closed after the handshake timeout", "[gateway][auth]") {
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.handshake_timeout_s = 1; }};
  ws_client c;
  REQUIRE(c.connect(fx.port(), "/ws"));
  expect_refused(c, "unauthorized");
}

namespace {

/// A raw TCP connection to the gateway on 127.0.0.1 that sent the WebSocket upgrade for `token`, with
/// SO_RCVBUF set to `receive_buffer` before connecting when it is positive, and receive and send timeouts of
/// `timeout`. The answer is left unread. -1 when the connection failed.
int raw_upgrade(uint16_t port, const std::string& token, timeval timeout, int receive_buffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  if (receive_buffer > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);  // the window stays small
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string upgrade = "GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(upgrade.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

TEST_CASE("a half-open peer that never answers pings is disconnected after the idle timeout", "[gateway][limits]") {
  // A raw socket completes the WebSocket upgrade, reads what the server sends (its pings included) but
  // never writes again, so no pong ever comes back: the server must drop it after idle_timeout_s.
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.idle_timeout_s = 1; }};
  int fd = raw_upgrade(fx.port(), fx.token("acme", "alice"), timeval{1, 0});
  REQUIRE(fd >= 0);
  std::string received;
  bool closed = false;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0)
      received.append(buf, static_cast<size_t>(n));
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      closed = true;
  }
  ::close(fd);
  CHECK(received.find("101 Switching Protocols") != std::string::npos);
  CHECK(received.find("\"ready\"") != std::string::npos);
  CHECK(closed);
}

TEST_CASE("a client that stops reading but keeps writing is dropped once its close overruns the deadline",
          "[gateway][limits]") {
  // A raw socket with a small receive buffer upgrades, then only writes pings and never reads. Once the
  // socket buffers are full the server's write stalls, its queue (default bounds) overflows and it starts
  // the "slow reader" close; the close frame waits behind the stalled write, so Beast's own close timeout
  // never starts, and the pings keep the connection from ever being idle. Only the close deadline
  // (handshake_timeout_s) ends it: the socket is dropped, and the user's one connection place comes back.
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) {
                       c.handshake_timeout_s = 1;
                       c.max_connections_per_user = 1;
                       c.messages_per_second = 100000;
                       c.message_burst = 100000;
                     }};
  int fd = raw_upgrade(fx.port(), fx.token("acme", "alice"), timeval{5, 0}, 4096);
  REQUIRE(fd >= 0);
  std::string head;
  char c = 0;
  while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1)
    head += c;  // the upgrade answer only: nothing after it is ever read
  REQUIRE(head.find("101 Switching Protocols") != std::string::npos);
  // {"type":"ping"} as a masked client text frame (mask 0: the payload goes as it is).
  const std::string payload = R"({"type":"ping"})";
  std::string frame{"\x81"};
  frame += static_cast<char>(0x80 | payload.size());
  frame += std::string(4, '\0');
  frame += payload;
  std::string burst;
  for (int i = 0; i < 8; ++i)  // few enough per write that the writes keep up until the buffers are full
    burst += frame;
  bool dropped = false;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!dropped && std::chrono::steady_clock::now() < deadline) {
    if (::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL) < 0)
      dropped = errno == EPIPE || errno == ECONNRESET;  // EAGAIN: the server stopped reading for a moment
    else
      std::this_thread::sleep_for(1ms);  // a steady trickle: the connection is never idle
  }
  ::close(fd);
  CHECK(dropped);
  // The dropped connection gave its place back: the same user connects again (retried up to a deadline).
  CHECK(reconnects(fx, "acme", "alice"));
}

TEST_CASE("a client whose outbound queue overflows is disconnected with 1008", "[gateway][limits]") {
  // A queue of one frame overflows as soon as frames arrive faster than one write completes. Five
  // questions sent at once, never read, produce dozens of frames in a burst, so one write is always in
  // flight when the next frames arrive. (The byte bound: outbound_queue_test.cpp.)
  gateway_fixture fx{hs256_keys(), [](config::gateway_config& c) { c.outbound_queue_frames = 1; }};
  ws_client c;
  REQUIRE(connect_ready(c, fx.port(), fx.token("acme", "alice")));
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.send_json({{"type", "message"}, {"id", "m" + std::to_string(i)},
                         {"text", "Why was I charged twice on my invoice this month?"}}));
  CHECK(c.wait_closed(20s));
  CHECK(c.close_code() == 1008);
}

TEST_CASE("gateway logs carry neither message text nor tokens", "[gateway][privacy]") {
  shared_services();  // built first: building them resets the log sink
  auto file = std::filesystem::temp_directory_path() / ("sa-gateway-log-" + std::to_string(::getpid()) + ".log");
  REQUIRE(log::init("debug", file.string()));
  {
    gateway_fixture fx;
    auto token = fx.token("acme", "alice");
    ws_client c;
    REQUIRE(connect_ready(c, fx.port(), token));
    auto x = ask(c, "m1", "My card is CANARY-4111-TEXT and my invoice is wrong, how do I add a custom domain?");
    REQUIRE((x.final || x.error));
    REQUIRE(c.send_json({{"type", "feedback"}, {"turn", 1}, {"csat", 2}, {"comment", "CANARY-COMMENT-9931"}}));
    REQUIRE(c.read_until("feedback_received"));
    ws_client forged;
    REQUIRE(forged.connect(fx.port(), "/ws?token=" + token + "x"));
    expect_refused(forged, "unauthorized");
    c.close();
    log::get("gateway")->flush();
    std::ifstream in(file);
    std::string logs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(logs.find("event=connection_authenticated") != std::string::npos);
    CHECK(logs.find("CANARY") == std::string::npos);
    CHECK(logs.find(token.substr(token.rfind('.') + 1)) == std::string::npos);
    CHECK(logs.find(token.substr(0, token.find('.'))) == std::string::npos);
  }
  REQUIRE(log::init("warn", ""));
  std::filesystem::remove(file);
}
