// Cluster settings from the config and the environment: the secret comes only from the environment.
#include "actors/cluster/cluster.hpp"
#include "config/load.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace sa;

namespace {

config::config clustered() {
  auto cfg = config::defaults();
  cfg.node.name = "node-7";
  cfg.cluster.port = 7407;
  cfg.cluster.seeds = {"10.0.0.1:7401", "node-2.internal:7402"};
  return cfg;
}

std::function<const char*(const char*)> env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto i = shared->find(name);
    return i == shared->end() ? nullptr : i->second.c_str();
  };
}

} // namespace

TEST_CASE("Cluster settings take the secret from the variable cluster.secret_env names") {
  auto s = cluster::settings_from(clustered(), env({{"SA_CLUSTER_SECRET", "0123456789abcdef0123"}}));
  REQUIRE(s);
  CHECK(s->name == "node-7");
  CHECK(s->port == 7407);
  CHECK(s->advertise_host == "127.0.0.1");  // defaults to the listen address
  CHECK(s->secret == "0123456789abcdef0123");
  REQUIRE(s->seeds.size() == 2);
  CHECK(s->seeds[1].host == "node-2.internal");
  CHECK(s->seeds[1].port == 7402);
  CHECK(s->relay_deadline == std::chrono::milliseconds{2 * 15000 + 1000});
}

TEST_CASE("A missing or short cluster secret is refused naming the variable") {
  auto missing = cluster::settings_from(clustered(), env({}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("SA_CLUSTER_SECRET") != std::string::npos);
  auto cfg = clustered();
  cfg.cluster.secret_env = "MY_SECRET";
  auto short_one = cluster::settings_from(cfg, env({{"MY_SECRET", "short"}}));
  REQUIRE_FALSE(short_one);
  CHECK(short_one.error().find("MY_SECRET") != std::string::npos);
  CHECK(short_one.error().find("at least 16") != std::string::npos);
}

TEST_CASE("The config loader checks seeds, the advertised host and the heartbeat timing") {
  config::load_options lo;
  lo.overrides = {"cluster.port=7400", "cluster.seeds=[\"nohost\", \"h:99999\", \"10.9.9.9:7400\"]",
                  "cluster.listen_address=0.0.0.0", "cluster.heartbeat_interval_ms=600",
                  "cluster.secret_env=SUPPORT_AGENT_X"};
  auto loaded = config::load(lo);
  REQUIRE_FALSE(loaded);
  auto& e = loaded.error();
  CHECK(e.find("cluster.seeds: \"nohost\"") != std::string::npos);
  CHECK(e.find("cluster.seeds: \"h:99999\"") != std::string::npos);
  CHECK(e.find("10.9.9.9") == std::string::npos);
  CHECK(e.find("cluster.advertise_host: required") != std::string::npos);
  CHECK(e.find("cluster.connection_timeout_ms = 1000: expected at least twice") != std::string::npos);
  CHECK(e.find("cluster.secret_env") != std::string::npos);
  lo.overrides = {"cluster.port=7400", "cluster.seeds=[\"10.0.0.2:7400\"]", "cluster.listen_address=0.0.0.0",
                  "cluster.advertise_host=10.0.0.1"};
  CHECK(config::load(lo));
}

TEST_CASE("Clustering is off by default") {
  CHECK(config::defaults().cluster.port == 0);
}
