// `support-agent csat`: the CSAT files the quality actor writes, summed by intent, by escalation reason and
// per conversation; the tenant and --since filters; unreadable lines skipped; the errors for bad input.
#include "actors/node/csat_command.hpp"
#include "actors/quality/csat_report.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace sa;
using namespace sa::quality;
namespace fs = std::filesystem;

namespace {

constexpr int64_t day_ms = 86'400'000;
constexpr int64_t t0 = 1'790'000'000'000;  // September 2026

/// A quality directory with two nodes' CSAT files (one rotated), removed at scope exit.
struct csat_dir {
  fs::path path = fs::temp_directory_path() / ("sa-csat-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<uintptr_t>(this)));
  csat_dir() {
    fs::create_directories(path);
    std::ofstream(path / "n1.csat.jsonl.1")
      << R"({"at_unix_ms":)" << t0 << R"(,"tenant":"acme","session":"s1","kind":"rating","csat":5,"intent":"billing","escalation_reason":"none","turn":1})" "\n";
    std::ofstream(path / "n1.csat.jsonl")
      << R"({"at_unix_ms":)" << t0 + 1000 << R"(,"tenant":"acme","session":"s1","kind":"rating","csat":3,"intent":"billing","escalation_reason":"none","turn":2})" "\n"
      << R"({"at_unix_ms":)" << t0 + 2000 << R"(,"tenant":"acme","session":"s1","kind":"survey","csat":4,"resolved":true,"intent":"billing","escalation_reason":"none"})" "\n"
      << "{\"at_unix_ms\":12,\"tenant\":\"acme\",\"csa\n"  // half-written line after a crash
      << R"({"at_unix_ms":)" << t0 + 2 * day_ms << R"(,"tenant":"acme","session":"s2","kind":"rating","csat":1,"intent":"technical","escalation_reason":"user_request","turn":1})" "\n";
    std::ofstream(path / "n2.csat.jsonl")
      << R"({"at_unix_ms":)" << t0 + 3 * day_ms << R"(,"tenant":"globex","session":"g1","kind":"survey","csat":2,"resolved":false,"intent":"unknown","escalation_reason":"unknown"})" "\n";
    std::ofstream(path / "n1.samples.jsonl") << "{}\n";  // not CSAT: never read
  }
  ~csat_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

config::config config_for(const csat_dir& d) {
  config::config cfg;
  cfg.quality.dir = d.path.string();
  return cfg;
}

} // namespace

TEST_CASE("stored CSAT sums by intent, by escalation reason and per conversation", "[quality][csat]") {
  csat_dir d;
  auto files = csat_files(d.path.string());
  REQUIRE(files);
  REQUIRE(files->size() == 3);
  CHECK(fs::path(files->front()).filename() == "n1.csat.jsonl.1");  // rotated first: oldest records first
  auto r = read_csat(*files, {});
  REQUIRE(r);
  CHECK(r->records == 5);
  CHECK(r->skipped == 1);
  CHECK(r->all.ratings == 3);
  CHECK(r->all.rating_avg() == Approx(3.0));  // (5 + 3 + 1) / 3
  CHECK(r->all.surveys == 2);
  CHECK(r->all.survey_avg() == Approx(3.0));  // (4 + 2) / 2
  CHECK(r->all.resolved == 1);
  CHECK(r->by_intent.at("billing").rating_avg() == Approx(4.0));
  CHECK(r->by_intent.at("billing").survey_avg() == Approx(4.0));
  CHECK(r->by_intent.at("technical").rating_avg() == Approx(1.0));
  CHECK(r->by_escalation_reason.at("user_request").ratings == 1);
  CHECK(r->by_escalation_reason.at("none").ratings == 2);
  REQUIRE(r->conversations.size() == 3);
  CHECK(r->conversations[0].session == "s1");
  CHECK(r->conversations[0].figures.ratings == 2);
  CHECK(r->conversations[0].figures.surveys == 1);
  CHECK(r->conversations[2].tenant == "globex");
  CHECK(std::isnan(r->conversations[2].figures.rating_avg()));

  auto acme_recent = read_csat(*files, {"acme", t0 + day_ms});
  REQUIRE(acme_recent);
  CHECK(acme_recent->records == 1);
  CHECK(acme_recent->conversations.at(0).session == "s2");
}

TEST_CASE("the since option takes a duration, a date or a UTC time, and names the forms when it cannot",
          "[quality][csat]") {
  const int64_t now = t0;
  CHECK(*parse_since("90m", now) == now - 90 * 60'000);
  CHECK(*parse_since("24h", now) == now - day_ms);
  CHECK(*parse_since("7d", now) == now - 7 * day_ms);
  CHECK(*parse_since("2026-11-01", now) == 1'793'491'200'000);
  CHECK(*parse_since("2026-11-01T12:30:00Z", now) == 1'793'491'200'000 + 45'000'000);
  for (const char* bad : {"", "yesterday", "7w", "2026-13-01", "2026-11-01T12:30:00", "d"}) {
    auto r = parse_since(bad, now);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("expected a duration"));
  }
}

TEST_CASE("the csat command prints the tables or JSON, and refuses bad input with exit 2", "[quality][csat]") {
  csat_dir d;
  auto cfg = config_for(d);
  csat_cli_options o;
  std::ostringstream out, err;
  REQUIRE(run_csat_command(cfg, o, out, err) == 0);
  CHECK_THAT(out.str(), Catch::Contains("CSAT: 5 records from 3 files (1 unreadable line skipped)"));
  CHECK_THAT(out.str(), Catch::Contains("by escalation reason"));
  CHECK_THAT(out.str(), Catch::Contains("acme/s1"));

  o.tenant = "globex";
  o.json_file = "-";
  std::ostringstream json_out, json_err;
  REQUIRE(run_csat_command(cfg, o, json_out, json_err) == 0);
  auto j = nlohmann::json::parse(json_out.str());
  CHECK(j["records"] == 1);
  CHECK(j["all"]["survey_avg"] == 2.0);
  CHECK(j["all"]["rating_avg"].is_null());
  CHECK(j["conversations"][0]["session"] == "g1");

  auto refused = [&](csat_cli_options bad, int code, const std::string& says) {
    std::ostringstream o2, e2;
    CHECK(run_csat_command(cfg, bad, o2, e2) == code);
    CHECK_THAT(e2.str(), Catch::Contains(says));
  };
  refused({"acme corp", "", "", ""}, 2, "--tenant \"acme corp\"");
  refused({"", "last week", "", ""}, 2, "--since \"last week\"");
  refused({"", "", "/nonexistent/x.csat.jsonl", ""}, 1, "cannot read /nonexistent/x.csat.jsonl");
  config::config missing;
  missing.quality.dir = (d.path / "nope").string();
  std::ostringstream o3, e3;
  CHECK(run_csat_command(missing, {}, o3, e3) == 1);
  CHECK_THAT(e3.str(), Catch::Contains("is not a directory"));

  csat_cli_options none;
  none.tenant = "initech";
  std::ostringstream o4, e4;
  CHECK(run_csat_command(cfg, none, o4, e4) == 0);
  CHECK_THAT(o4.str(), Catch::Contains("No CSAT records of tenant initech"));
}
