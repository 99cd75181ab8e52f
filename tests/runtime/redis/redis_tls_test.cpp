// The Redis client over TLS against a real redis-server per test that speaks TLS only (--port 0
// --tls-port P, a throwaway PKI made in its directory): round trips verified by IP address and by host
// name, mutual TLS, an untrusted server certificate and a wrong server name (refused, nothing sent), a
// restart with writes waiting, AUTH, a plaintext server; then the TLS context's own checks of its files.
// Waits have deadlines; no sleeps.
#include "redis_test_listener.hpp"
#include "tests/support/redis_server.hpp"

#include "bench/tls_pki.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/redis_tls.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sa::test::client_options_for;
using sa::test::client_tls;
using sa::test::redis_server;
using sa::test::submit;
using kind = sa::redis_reply::kind;

namespace {

redis_server tls_server(bool auth_clients = false, std::string password = {}) {
  return redis_server{sa::test::tls_only(auth_clients, std::move(password))};
}

/// The error a command that does not wait gets once the client failed `attempts` connection attempts.
sa::redis_error refusal_after(sa::redis_client& client, uint64_t attempts) {
  return sa::test::refused_outcome(client, attempts).error;
}

long long commands_processed(const redis_server& server) {
  auto info = server.command({"INFO", "stats"}).str;
  const std::string field = "total_commands_processed:";
  auto at = info.find(field);
  REQUIRE(at != std::string::npos);
  return std::atoll(info.c_str() + at + field.size());
}

/// A scratch directory of this test, removed at scope exit.
struct scratch_dir {
  scratch_dir() {
    auto tmpl = (std::filesystem::temp_directory_path() / "sa-tls-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    auto p = path + "/" + name;
    std::ofstream{p} << text;
    return p;
  }
  std::string path;
};

} // namespace

TEST_CASE("over TLS, commands round-trip and the server is verified by its IP address or its host name",
          "[redis][tls]") {
  auto server = tls_server();
  auto tls = client_tls(server.tls().ca_cert);
  sa::redis_client client{client_options_for(server, tls)};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto set = submit(client, l, {"SET", "k", std::string("v\0w", 3)});
  auto get = submit(client, l, {"GET", "k"});
  auto range = submit(client, l, {"LRANGE", "missing", "0", "-1"});
  std::vector<uint64_t> incrs;
  for (int i = 0; i < 2000; ++i)  // a pipeline longer than one TLS record each way
    incrs.push_back(submit(client, l, {"INCR", "n"}));
  REQUIRE(l->wait_done(3 + incrs.size()));
  CHECK(l->outcome(set).reply.str == "OK");
  CHECK(l->outcome(get).reply.str == std::string("v\0w", 3));
  CHECK(l->outcome(range).reply.type == kind::array);
  CHECK(l->outcome(incrs.back()).reply.integer == 2000);
  CHECK(client.connected());
  CHECK(server.command({"GET", "n"}).str == "2000");  // the server's own view, over its own TLS connection

  // "localhost": verified against the DNS name in the certificate (and sent as SNI).
  sa::redis_client by_name{client_options_for(server, tls, "localhost")};
  auto l2 = std::make_shared<sa::test::recording_redis_listener>();
  auto ping = submit(by_name, l2, {"PING"});
  REQUIRE(l2->wait_done(1));
  CHECK(l2->outcome(ping).reply.str == "PONG");
}

TEST_CASE("mutual TLS: a client certificate the CA signed gets in, a client without one is refused",
          "[redis][tls]") {
  auto server = tls_server(/*auth_clients=*/true);
  sa::redis_client with_cert{client_options_for(server, client_tls(server.tls().ca_cert, &server.tls()))};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  auto set = submit(with_cert, l, {"SET", "mtls", "yes"});
  REQUIRE(l->wait_done(1));
  CHECK(l->outcome(set).reply.str == "OK");
  CHECK(server.command({"GET", "mtls"}).str == "yes");

  sa::redis_client without{client_options_for(server, client_tls(server.tls().ca_cert))};
  auto e = refusal_after(without, 2);
  CHECK_THAT(e.message, Contains(server.address()));
  // TLS 1.3: the client's handshake completes before the server checks the client; the server's alert
  // ("TLS: tlsv13 alert certificate required") or its reset ("TLS: Connection reset by peer") comes next.
  CHECK_THAT(e.message, Contains("TLS: "));
  CHECK(without.stats().connects == 0);
  CHECK_FALSE(without.connected());
}

TEST_CASE("a server certificate from a CA the client does not trust fails verification, and nothing is sent",
          "[redis][tls]") {
  auto server = tls_server();
  auto before = commands_processed(server);
  auto opts = client_options_for(server, client_tls(server.tls().other_ca_cert));
  opts.password = "never-sent-pw";
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"SET", "leak", "1"});  // waits: it must never reach the server
  auto e = refusal_after(client, 3);
  CHECK_THAT(e.message, Contains("TLS handshake failed: certificate verification failed"));
  CHECK_THAT(e.message, !Contains("never-sent-pw"));
  CHECK(client.stats().connects == 0);
  CHECK(client.stats().pending == 1);
  // The server ran nothing but our own INFO in between: no AUTH, no SET.
  CHECK(commands_processed(server) == before + 1);
  CHECK(server.command({"EXISTS", "leak"}).integer == 0);
}

TEST_CASE("a server name the certificate does not carry fails verification", "[redis][tls]") {
  auto server = tls_server();
  sa::redis_client wrong_name{
    client_options_for(server, client_tls(server.tls().ca_cert, nullptr, "redis.example.internal"))};
  auto e = refusal_after(wrong_name, 2);
  CHECK_THAT(e.message, Contains("certificate verification failed: hostname mismatch"));
  CHECK_THAT(e.message, Contains("redis.example.internal"));

  sa::redis_client wrong_ip{client_options_for(server, client_tls(server.tls().ca_cert, nullptr, "127.0.0.2"))};
  CHECK_THAT(refusal_after(wrong_ip, 2).message, Contains("certificate verification failed: IP address mismatch"));
}

TEST_CASE("over TLS, writes that wait while the server is down are flushed in order after a restart",
          "[redis][tls]") {
  auto server = tls_server();
  sa::redis_client client{client_options_for(server, client_tls(server.tls().ca_cert))};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"PING"});
  REQUIRE(l->wait_done(1));
  server.kill();
  REQUIRE(sa::test::eventually([&] { return client.stats().disconnects == 1; }));
  for (int i = 0; i < 50; ++i)
    submit(client, l, {"RPUSH", "queue", std::to_string(i)}, true, true);
  REQUIRE(l->wait_waiting(50));
  server.start();
  REQUIRE(l->wait_done(51));
  auto items = server.command({"LRANGE", "queue", "0", "-1"});
  REQUIRE(items.elements.size() == 50);
  for (size_t i = 0; i < 50; ++i)
    CHECK(items.elements[i].str == std::to_string(i));
  CHECK(client.stats().reconnects == 1);
  CHECK(client.connected());
}

TEST_CASE("over TLS, AUTH runs on every connection and a wrong password is refused without showing it",
          "[redis][tls]") {
  auto server = tls_server(false, "tls-pw");
  auto tls = client_tls(server.tls().ca_cert);
  auto opts = client_options_for(server, tls);
  opts.password = "tls-pw";
  sa::redis_client client{opts};
  auto l = std::make_shared<sa::test::recording_redis_listener>();
  submit(client, l, {"SET", "before", "1"});
  REQUIRE(l->wait_done(1));
  server.kill();
  server.start();
  auto after = submit(client, l, {"SET", "after", "2"}, true, true);
  REQUIRE(l->wait_done(2));
  CHECK(l->outcome(after).reply.str == "OK");
  CHECK(server.command({"GET", "after"}).str == "2");
  CHECK(client.stats().reconnects == 1);

  auto wrong = client_options_for(server, tls);
  wrong.password = "wrong-tls-pw";
  sa::redis_client refused{wrong};
  auto e = refusal_after(refused, 2);
  CHECK_THAT(e.message, Contains("AUTH refused"));
  CHECK_THAT(e.message, !Contains("wrong-tls-pw"));
}

TEST_CASE("a TLS client pointed at a plaintext server never gets through the handshake and says so",
          "[redis][tls]") {
  redis_server plain;  // takes the ClientHello for the start of an inline command and waits for its end
  scratch_dir dir;
  auto pki = sa::bench::make_tls_pki(dir.path);
  auto opts = client_options_for(plain, client_tls(pki.ca_cert));
  opts.connect_timeout = 200ms;
  sa::redis_client client{opts};
  CHECK_THAT(refusal_after(client, 2).message, Contains("ms (TLS handshake unfinished)"));
  CHECK(client.stats().connects == 0);
}

TEST_CASE("the TLS context names the file it cannot use and why", "[redis][tls]") {
  scratch_dir dir;
  auto pki = sa::bench::make_tls_pki(dir.path);
  auto load = [](sa::redis_tls_options o) { return sa::redis_tls_context::load(o); };
  sa::redis_tls_options ok;
  ok.ca_file = pki.ca_cert;
  ok.cert_file = pki.client_cert;
  ok.key_file = pki.client_key;
  auto good = load(ok);
  REQUIRE(good);
  CHECK((*good)->mutual());
  sa::redis_tls_options system_store;  // no ca_file: the system's default store
  CHECK(load(system_store));

  auto missing = ok;
  missing.ca_file = dir.path + "/absent.pem";
  auto m = load(missing);
  REQUIRE_FALSE(m);
  CHECK_THAT(m.error(), Contains("ca_file = \"" + missing.ca_file + "\": cannot read the file: No such file"));

  auto half = ok;
  half.key_file.clear();
  REQUIRE_FALSE(load(half));
  CHECK_THAT(load(half).error(), Contains("cert_file = \"" + ok.cert_file + "\" but key_file is empty"));

  auto not_pem = ok;
  not_pem.ca_file = dir.file("garbage.pem", "this is not a certificate\n");
  REQUIRE_FALSE(load(not_pem));
  CHECK_THAT(load(not_pem).error(), Contains("ca_file = \"" + not_pem.ca_file + "\": cannot load the CA bundle"));

  auto named = not_pem;  // as the node reports it: the config key
  named.field_prefix = "memory.redis_tls_";
  CHECK_THAT(load(named).error(), Contains("memory.redis_tls_ca_file = \"" + not_pem.ca_file + "\": cannot load"));

  auto other_key = ok;
  other_key.key_file = pki.server_key;  // a valid key, of another certificate
  REQUIRE_FALSE(load(other_key));
  CHECK_THAT(load(other_key).error(), Contains("key_file = \"" + pki.server_key + "\": cannot use the private key"));
  CHECK_THAT(load(other_key).error(), Contains("key values mismatch"));

  auto encrypted = ok;  // refused at once: no passphrase prompt on a terminal nobody watches
  encrypted.key_file = dir.path + "/encrypted.key";
  sa::bench::detail::openssl({"pkey", "-in", pki.client_key, "-aes256", "-passout", "pass:secret-phrase", "-out",
                              encrypted.key_file},
                             dir.path + "/openssl.log");
  REQUIRE_FALSE(load(encrypted));
  CHECK_THAT(load(encrypted).error(), Contains("key_file = \"" + encrypted.key_file + "\": cannot use the private key"));

  auto key_as_cert = ok;
  key_as_cert.cert_file = pki.client_key;
  REQUIRE_FALSE(load(key_as_cert));
  CHECK_THAT(load(key_as_cert).error(), Contains("cert_file = \"" + pki.client_key + "\": cannot load the client certificate"));
}
