// Tests for the local intent classifier: CSV reading, training, calibration, persistence, threads.
#include "actors/classifier/intent_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

using namespace sa::classifier;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system temp dir, removed at scope exit.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static int counter = 0;
    path = fs::temp_directory_path()
           / ("sa-classifier-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// 20 synthetic examples per label: 5 cores x 4 framings.
std::vector<labeled_example> synthetic_examples() {
  const std::map<std::string, std::vector<std::string>> cores = {
    {"billing",
     {"i was charged twice for my subscription", "i need a refund for last month's payment",
      "my invoice shows the wrong amount", "update the credit card used for billing",
      "why did my bill go up this month"}},
    {"technical",
     {"the app crashes when i open the dashboard", "i get an error 500 from the api",
      "the sync is broken and files do not upload", "the page does not load in my browser",
      "the integration keeps timing out with an error"}},
    {"account",
     {"i forgot my password and cannot log in", "how do i change the email address on my account",
      "please delete my account and profile", "add a new user to my team account",
      "enable two factor authentication on my account"}},
    {"general",
     {"what are your opening hours", "do you have a mobile app for android",
      "what languages does your product support", "where is your company located",
      "tell me about your product features"}},
    {"escalation_request",
     {"i want to speak to a human agent", "let me talk to a manager now",
      "escalate this to a supervisor", "connect me with a real person",
      "i demand to speak with someone in charge"}},
    {"out_of_scope",
     {"what is the weather like tomorrow", "tell me a joke about cats",
      "who won the football game last night", "give me a recipe for pancakes",
      "write me a poem about the sea"}},
  };
  const std::vector<std::string> framings = {"{}", "hi, {}", "hello there {} please", "{} thanks!"};
  std::vector<labeled_example> out;
  for (const auto& [label, texts] : cores)
    for (const auto& t : texts)
      for (const auto& f : framings) {
        auto s = f;
        s.replace(s.find("{}"), 2, t);
        out.push_back({s, label});
      }
  return out;
}

/// Paraphrases not in the training set, with their expected labels.
const std::vector<std::pair<std::string, std::string>>& paraphrases() {
  static const std::vector<std::pair<std::string, std::string>> p = {
    {"Hey, you charged me twice this month, I want a refund", "billing"},
    {"The invoice amount is wrong", "billing"},
    {"The dashboard crashes with an error", "technical"},
    {"API returns error 500 again", "technical"},
    {"I can't log in, forgot my password", "account"},
    {"Change the email on my account please", "account"},
    {"What are your hours?", "general"},
    {"Do you have an app for android?", "general"},
    {"I want to talk to a human", "escalation_request"},
    {"Please escalate to a manager", "escalation_request"},
    {"Tell me a joke", "out_of_scope"},
    {"What's the weather tomorrow?", "out_of_scope"},
  };
  return p;
}

training_options test_options() {
  training_options o;
  o.bucket = 20000;  // small model: fast to train, save and checksum
  return o;
}

/// One model shared by the tests that only read it.
const intent_model& shared_model(training_report* rep_out = nullptr) {
  static training_report rep;
  static auto model = [] {
    auto m = intent_model::train(synthetic_examples(), test_options(), &rep);
    if (!m) FAIL("training failed: " << m.error());
    return *m;
  }();
  if (rep_out) *rep_out = rep;
  return *model;
}

bool same_prediction(const prediction& a, const prediction& b) {
  return a.intent == b.intent && a.confidence == b.confidence && a.out_of_scope == b.out_of_scope
         && a.ranked == b.ranked;
}

std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

} // namespace

// --- normalisation ----------------------------------------------------------------------------------

TEST_CASE("normalisation lower-cases, separates punctuation, drops apostrophes and collapses spaces",
          "[classifier][normalize]") {
  CHECK(normalize_text("  Hello,   WORLD!!  ") == "hello , world ! !");
  CHECK(normalize_text("I can't log-in\t\r\n(again)") == "i cant log - in ( again )");
  CHECK(normalize_text("ÉCOLE Über ΑΒΓ ПРИВЕТ") == "école über αβγ привет");
  CHECK(normalize_text("__label__billing") == "_ _ label _ _ billing");
  CHECK(normalize_text("bad \xFF\xFE bytes \xE2\x82") == "bad bytes");
  CHECK(normalize_text("“quoted” — dash…") == "\" quoted \" - dash .");
  CHECK(normalize_text("").empty());
  CHECK(normalize_text(" \t\n ").empty());
}

// --- CSV --------------------------------------------------------------------------------------------

TEST_CASE("labeled CSV reading handles quotes, doubled quotes, embedded newlines and CRLF",
          "[classifier][csv]") {
  temp_dir dir;
  auto path = dir.file("ok.csv");
  write_file(path,
             "\xEF\xBB\xBFid,text,intent\r\n"
             "1,\"charged twice, please refund\",billing\r\n"
             "2,\"he said \"\"hi\"\"\",general\r\n"
             "\r\n"
             "3,\"line one\nline two\",technical\n"
             "4,plain text,account");
  auto rows = read_labeled_csv(path);
  REQUIRE(rows);
  REQUIRE(rows->size() == 4);
  CHECK((*rows)[0].text == "charged twice, please refund");
  CHECK((*rows)[0].label == "billing");
  CHECK((*rows)[1].text == "he said \"hi\"");
  CHECK((*rows)[2].text == "line one\nline two");
  CHECK((*rows)[2].label == "technical");
  CHECK((*rows)[3].text == "plain text");
  CHECK((*rows)[3].label == "account");
}

TEST_CASE("labeled CSV errors name the file and line", "[classifier][csv]") {
  temp_dir dir;
  auto path = dir.file("bad.csv");

  SECTION("unknown label") {
    write_file(path, "text,intent\nhello,general\n\"multi\nline\",billing\nwhat,refunds\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":5:") && Catch::Contains("unknown intent 'refunds'"));
  }
  SECTION("missing column") {
    write_file(path, "text,label\nhello,general\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":1:") && Catch::Contains("'intent'"));
  }
  SECTION("unterminated quote") {
    write_file(path, "text,intent\nhello,general\n\"never closed,billing\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":3:") && Catch::Contains("unterminated"));
  }
  SECTION("garbage after a closing quote") {
    write_file(path, "text,intent\n\"hello\"x,general\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":2:"));
  }
  SECTION("empty text") {
    write_file(path, "text,intent\n  ,general\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":2:") && Catch::Contains("empty text"));
  }
  SECTION("too few fields") {
    write_file(path, "text,intent\nhello\n");
    auto r = read_labeled_csv(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ":2:"));
  }
  SECTION("missing file") {
    auto r = read_labeled_csv(dir.file("nope.csv"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("nope.csv"));
  }
}

// --- training and prediction --------------------------------------------------------------------------

TEST_CASE("training on a small synthetic set predicts held-out paraphrases", "[classifier][train]") {
  const auto& model = shared_model();
  for (const auto& [text, label] : paraphrases()) {
    auto p = model.predict(text, 0.0);
    INFO(text << " -> " << p.ranked[0].first << " " << p.ranked[0].second);
    CHECK(p.ranked[0].first == label);
    if (label == "out_of_scope") {
      CHECK(p.intent == "general");
      CHECK(p.out_of_scope);
    } else {
      CHECK(p.intent == label);
      CHECK_FALSE(p.out_of_scope);
    }
  }
}

TEST_CASE("training fails when a label has no example or is unknown", "[classifier][train]") {
  auto ex = synthetic_examples();
  ex.erase(std::remove_if(ex.begin(), ex.end(), [](auto& e) { return e.label == "account"; }), ex.end());
  auto r = intent_model::train(ex, test_options());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("'account'"));

  ex = synthetic_examples();
  ex.push_back({"hello", "sales"});
  auto r2 = intent_model::train(ex, test_options());
  REQUIRE_FALSE(r2);
  CHECK_THAT(r2.error(), Catch::Contains("'sales'"));
}

TEST_CASE("training with the same seed gives the same predictions", "[classifier][train]") {
  training_report r1, r2;
  auto a = intent_model::train(synthetic_examples(), test_options(), &r1);
  auto b = intent_model::train(synthetic_examples(), test_options(), &r2);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(r1.temperature == r2.temperature);
  CHECK(r1.holdout_accuracy == r2.holdout_accuracy);
  for (const auto& [text, label] : paraphrases())
    CHECK(same_prediction((*a)->predict(text, 0.0), (*b)->predict(text, 0.0)));
}

TEST_CASE("calibration fits a positive temperature and yields probabilities that sum to one",
          "[classifier][calibration]") {
  training_report rep;
  const auto& model = shared_model(&rep);
  CHECK(rep.examples == 120);
  CHECK(rep.holdout == 24);  // 4 of 20 per label
  CHECK(rep.temperature > 0);
  CHECK(std::isfinite(rep.temperature));
  CHECK(rep.holdout_accuracy >= 0.8);
  CHECK(rep.holdout_ece >= 0);
  CHECK(rep.holdout_ece <= 1);
  CHECK(model.report().temperature == rep.temperature);
  for (const auto& text : {"refund please", "zzz qqq", "my app crashes", "hello", "ticket 4 invoice 7"}) {
    auto p = model.predict(text, 0.45);
    INFO(text);
    REQUIRE(p.ranked.size() == intent_model::labels().size());
    double sum = 0;
    for (const auto& [label, prob] : p.ranked) {
      CHECK(prob >= 0);
      CHECK(prob <= 1);
      sum += prob;
    }
    CHECK(sum == Approx(1.0).epsilon(1e-9));
    CHECK(std::is_sorted(p.ranked.begin(), p.ranked.end(),
                         [](auto& x, auto& y) { return x.second > y.second; }));
    CHECK(p.confidence >= 0);
    CHECK(p.confidence <= 1);
  }
}

TEST_CASE("out of scope maps to general with out_of_scope set and a low confidence",
          "[classifier][predict]") {
  const auto& model = shared_model();
  auto p = model.predict("tell me a joke about the weather", 0.45);
  REQUIRE(p.ranked[0].first == "out_of_scope");
  CHECK(p.intent == "general");
  CHECK(p.out_of_scope);
  CHECK(p.confidence <= 0.3);
  CHECK(p.confidence == Approx(std::min(p.ranked[1].second, 0.3)));
}

TEST_CASE("low confidence maps to general with that confidence", "[classifier][predict]") {
  const auto& model = shared_model();
  auto sure = model.predict("I was charged twice, refund please", 0.0);
  REQUIRE(sure.intent == "billing");
  REQUIRE(sure.confidence < 1.0);
  auto unsure = model.predict("I was charged twice, refund please", sure.confidence + 1e-9);
  CHECK(unsure.intent == "general");
  CHECK_FALSE(unsure.out_of_scope);
  CHECK(unsure.confidence == sure.confidence);
  CHECK(unsure.ranked == sure.ranked);
}

TEST_CASE("empty text is general with confidence zero", "[classifier][predict]") {
  const auto& model = shared_model();
  for (const auto& text : {"", "   ", "\xFF\xFE", "'"}) {
    auto p = model.predict(text, 0.45);
    CHECK(p.intent == "general");
    CHECK(p.confidence == 0);
    CHECK_FALSE(p.out_of_scope);
    CHECK(p.ranked.empty());
  }
}

// --- persistence --------------------------------------------------------------------------------------

TEST_CASE("save and load round trip predicts identically", "[classifier][persist]") {
  temp_dir dir;
  const auto& model = shared_model();
  auto path = dir.file("models/intents.bin");  // parent created by save()
  auto st = model.save(path);
  REQUIRE(st);
  CHECK(fs::exists(path));
  CHECK(fs::exists(path + ".meta.json"));
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK_FALSE(fs::exists(path + ".meta.json.tmp"));
  auto meta = nlohmann::json::parse(read_file(path + ".meta.json"));
  CHECK(meta["format_version"] == 1);
  CHECK(meta["labels"].size() == 6);
  CHECK(meta["model_file"]["bytes"].get<std::uint64_t>() == fs::file_size(path));

  auto loaded = intent_model::load(path);
  REQUIRE(loaded);
  CHECK((*loaded)->report().temperature == model.report().temperature);
  CHECK((*loaded)->report().holdout_accuracy == model.report().holdout_accuracy);
  for (const auto& [text, label] : paraphrases())
    CHECK(same_prediction(model.predict(text, 0.45), (*loaded)->predict(text, 0.45)));

  // saving over an existing model replaces it
  REQUIRE((*loaded)->save(path));
  REQUIRE(intent_model::load(path));
}

TEST_CASE("a truncated, corrupt or unreadable model fails to load with a message naming the file",
          "[classifier][persist]") {
  temp_dir dir;
  auto path = dir.file("m.bin");
  REQUIRE(shared_model().save(path));
  auto bytes = read_file(path);
  REQUIRE(bytes.size() > 1000);

  SECTION("truncated") {
    write_file(path, bytes.substr(0, bytes.size() / 2));
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path) && Catch::Contains("truncated"));
  }
  SECTION("one flipped byte") {
    bytes[bytes.size() / 3] ^= 0x5A;
    write_file(path, bytes);
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path) && Catch::Contains("checksum"));
  }
  SECTION("missing meta file") {
    fs::remove(path + ".meta.json");
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ".meta.json") && Catch::Contains("missing"));
  }
  SECTION("missing model file") {
    fs::remove(path);
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path) && Catch::Contains("missing"));
  }
  SECTION("meta that is not JSON") {
    write_file(path + ".meta.json", "{ not json");
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path + ".meta.json"));
  }
  SECTION("meta with another format version") {
    auto meta = nlohmann::json::parse(read_file(path + ".meta.json"));
    meta["format_version"] = 99;
    write_file(path + ".meta.json", meta.dump());
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("format version 99"));
  }
  SECTION("a non-fastText file whose checksum matches is rejected by fastText, not a crash") {
    std::string junk(4096, '\x7f');
    write_file(path, junk);
    auto meta = nlohmann::json::parse(read_file(path + ".meta.json"));
    meta["model_file"]["bytes"] = junk.size();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(junk)));
    meta["model_file"]["fnv1a64"] = hex;
    write_file(path + ".meta.json", meta.dump());
    auto r = intent_model::load(path);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(path) && Catch::Contains("fastText"));
  }
}

// --- threads -------------------------------------------------------------------------------------------

TEST_CASE("concurrent predict from 8 threads equals sequential predict", "[classifier][threads]") {
  const auto& model = shared_model();
  std::vector<std::string> texts;
  for (const auto& [t, l] : paraphrases()) texts.push_back(t);
  for (const auto& e : synthetic_examples()) texts.push_back(e.text);
  std::vector<prediction> expected;
  for (const auto& t : texts) expected.push_back(model.predict(t, 0.45));

  std::vector<std::vector<prediction>> got(8);
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < got.size(); ++k)
    threads.emplace_back([&, k] {
      for (int round = 0; round < 5; ++round)
        for (std::size_t i = 0; i < texts.size(); ++i) {
          auto idx = (i + k * 7) % texts.size();  // threads walk the texts from different points
          auto p = model.predict(texts[idx], 0.45);
          if (round == 4) {
            if (got[k].empty()) got[k].resize(texts.size());
            got[k][idx] = std::move(p);
          }
        }
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) {
    REQUIRE(g.size() == expected.size());
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(same_prediction(g[i], expected[i]));
  }
}

// --- hidden: benchmarks and the real data set -------------------------------------------------------------

TEST_CASE("predict latency is reported", "[.][bench]") {
  const auto& model = shared_model();
  std::vector<double> us;
  const auto& ps = paraphrases();
  for (int i = 0; i < 20000; ++i) {
    const auto& text = ps[static_cast<std::size_t>(i) % ps.size()].first;
    auto t0 = std::chrono::steady_clock::now();
    auto p = model.predict(text, 0.45);
    auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  std::cout << "predict latency: p50 " << us[us.size() / 2] << " us, p99 " << us[us.size() * 99 / 100]
            << " us\n";
}

namespace {

training_options options_from_env() {
  training_options o;
  if (auto v = std::getenv("SA_EPOCHS")) o.epochs = std::atoi(v);
  if (auto v = std::getenv("SA_LR")) o.learning_rate = std::atof(v);
  if (auto v = std::getenv("SA_NGRAMS")) o.word_ngrams = std::atoi(v);
  if (auto v = std::getenv("SA_DIM")) o.dim = std::atoi(v);
  if (auto v = std::getenv("SA_MINN")) o.minn = std::atoi(v);
  if (auto v = std::getenv("SA_MAXN")) o.maxn = std::atoi(v);
  if (auto v = std::getenv("SA_BUCKET")) o.bucket = std::atoi(v);
  if (auto v = std::getenv("SA_SEED")) o.seed = std::atoi(v);
  return o;
}

} // namespace

TEST_CASE("training on the shipped intents reports holdout accuracy", "[.][data]") {
  const std::string dir = std::string(SA_SOURCE_DIR) + "/data/intents/";
  auto train_set = read_labeled_csv(dir + "intents.csv");
  REQUIRE(train_set);
  auto holdout = read_labeled_csv(dir + "holdout.csv");
  REQUIRE(holdout);
  auto opts = options_from_env();  // SA_EPOCHS, SA_LR, ... override the defaults for tuning
  training_report rep;
  auto t0 = std::chrono::steady_clock::now();
  auto model = intent_model::train(*train_set, opts, &rep);
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(model);

  std::size_t hits = 0, intent_hits = 0;
  std::map<std::string, std::map<std::string, int>> confusion;
  for (const auto& ex : *holdout) {
    auto p = (*model)->predict(ex.text, 0.45);
    const auto& top = p.ranked[0].first;
    hits += top == ex.label;
    auto want_intent = ex.label == "out_of_scope" ? std::string("general") : ex.label;
    intent_hits += p.intent == want_intent;
    ++confusion[ex.label][top];
    if (top != ex.label) std::cout << "  miss: [" << ex.label << " -> " << top << "] " << ex.text << "\n";
  }
  std::cout << "options: epochs " << opts.epochs << " lr " << opts.learning_rate << " wordNgrams "
            << opts.word_ngrams << " dim " << opts.dim << " minn " << opts.minn << " maxn " << opts.maxn
            << " bucket " << opts.bucket << "\n"
            << "training: " << rep.examples << " examples in "
            << std::chrono::duration<double>(t1 - t0).count() << " s (two fits)\n"
            << "internal holdout (" << rep.holdout << "): accuracy " << rep.holdout_accuracy << ", ECE "
            << rep.holdout_ece << ", temperature " << rep.temperature << "\n"
            << "holdout.csv (" << holdout->size() << "): label accuracy "
            << static_cast<double>(hits) / static_cast<double>(holdout->size())
            << ", routed-intent accuracy at min_confidence 0.45 "
            << static_cast<double>(intent_hits) / static_cast<double>(holdout->size()) << "\n";

  std::vector<double> us;
  for (int round = 0; round < 50; ++round)
    for (const auto& ex : *holdout) {
      auto a = std::chrono::steady_clock::now();
      auto p = (*model)->predict(ex.text, 0.45);
      auto b = std::chrono::steady_clock::now();
      us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    }
  std::sort(us.begin(), us.end());
  temp_dir tmp;
  REQUIRE((*model)->save(tmp.file("m.bin")));
  auto l0 = std::chrono::steady_clock::now();
  REQUIRE(intent_model::load(tmp.file("m.bin")));
  auto l1 = std::chrono::steady_clock::now();
  std::cout << "predict latency on holdout.csv texts: p50 " << us[us.size() / 2] << " us, p99 "
            << us[us.size() * 99 / 100] << " us; model file " << fs::file_size(tmp.file("m.bin"))
            << " bytes, load " << std::chrono::duration<double, std::milli>(l1 - l0).count() << " ms\n";
}
