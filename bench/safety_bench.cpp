// The safety checks' cost per turn on a 2 KB message: the customer's message check (PII redaction,
// harmful/abusive/injection/topic rules, then the off-topic check after classification) plus the answer's
// redaction as the session streams it (48-character chunks through stream_redactor, hold-back included).
// Two texts: ordinary support prose, and the same with PII of every kind in it. One thread, no actors: the
// checks are plain calls (the actor hop is measured by bench_pipeline). Target: p99 < 50 µs per turn.
// Then the scanner's worst cases a customer could send (not held to the target, reported so a regression to
// quadratic time shows): 2 KB of one-digit groups (every sub-span a card number candidate), of IBAN-like
// groups, and one token of colons (an IPv6 candidate, and a "key: value" sign per two bytes).
//
//   bench_safety [--turns N] [--chunk C]
#include "actors/safety/safety_actor.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace sa;
using clock_type = std::chrono::steady_clock;

namespace {

const char* usage = "usage: bench_safety [--turns N (default 20000)] [--chunk C (answer chunk chars, default 48)]\n";

/// `unit` repeated to `bytes`.
std::string repeated(std::string_view unit, size_t bytes) {
  std::string out;
  while (out.size() < bytes)
    out += unit;
  out.resize(bytes);
  return out;
}

/// About `bytes` of support prose; with `pii`, one value of every kind the scanner knows, spread through it.
std::string message(size_t bytes, bool pii) {
  static const char* sentences[] = {
    "Hi, our nightly build started failing on Monday after we upgraded the crawler settings. ",
    "The dashboard says the job timed out after 15 minutes, but it used to finish in five. ",
    "We are on the Team plan with 12 seats and were charged twice for the November invoice. ",
    "Could you check whether the webhook retries are configured correctly for our workspace? ",
    "Also, how do I kill a running build without losing the artifacts it already produced? ",
    "I tried ignoring case in search and removing the admin from the project, no luck. ",
  };
  static const char* values[] = {
    "My card is 4929 3847 1026 5537. ", "Write to zelda.quartermain@example.org please. ",
    "Call me on +44 20 7946 0321 or (415) 555-0187. ", "IBAN DE47 3704 0044 0532 0130 77. ",
    "The server is 203.0.113.77 and 2001:db8:85a3::8a2e:370:7334. ", "Key sk-seededSecretKey0123456789abcdef. ",
    "SSN 318-47-2915, NI JW 48 21 93 B. ",
  };
  std::string out;
  size_t i = 0, v = 0;
  while (out.size() < bytes) {
    out += sentences[i++ % std::size(sentences)];
    if (pii && i % 2 == 0)
      out += values[v++ % std::size(values)];
  }
  out.resize(bytes);
  return out;
}

struct figures {
  std::vector<double> message_us, answer_us, total_us;
};

figures run(const safety::safety_checks& checks, const std::string& text, int turns, size_t chunk) {
  figures f;
  tenant_id tenant{"acme"};
  classification cls;
  size_t sink = 0;
  for (int i = -turns / 10; i < turns; ++i) {  // the first tenth warms up
    auto t0 = clock_type::now();
    auto v = checks.check({tenant, safety_source::user_message, text, {}, false});
    auto off = checks.check({tenant, safety_source::user_message, v.redacted, cls, true});
    auto t1 = clock_type::now();
    auto own = std::make_shared<safety::own_data>();
    own->values = std::move(v.own_contacts);  // as the session does: from the message check's own scan
    safety::stream_redactor r{checks.pii(), own};
    for (size_t pos = 0; pos < text.size(); pos += chunk)
      sink += r.push(std::string_view(text).substr(pos, chunk)).size();
    sink += r.finish().size();
    auto t2 = clock_type::now();
    sink += v.redacted.size() + off.redacted.size();
    if (i < 0)
      continue;
    auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
    f.message_us.push_back(us(t1 - t0));
    f.answer_us.push_back(us(t2 - t1));
    f.total_us.push_back(us(t2 - t0));
  }
  if (sink == 42)
    std::puts("");  // keeps the work observable
  return f;
}

} // namespace

int main(int argc, char** argv) {
  int turns = 20000, chunk = 48;
  try {
    sa::bench::option_parser p;
    p.add("--turns", turns).add("--chunk", chunk);
    if (!p.parse(argc, argv)) {
      std::cout << usage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n" << usage;
    return 2;
  }
  if (turns < 10 || chunk < 1) {
    std::cerr << "--turns must be >= 10 and --chunk >= 1\n" << usage;
    return 2;
  }
  auto checks = make_safety_checks(config::safety_config{});
  std::printf("%-28s %s\n", "machine", (std::to_string(sa::bench::cores()) + " cores, " + sa::bench::cpu_model()).c_str());
  std::printf("%-28s %d turns, 2048-byte message and answer, answer streamed in %d-char chunks, one thread\n", "load",
              turns, chunk);
  std::printf("%-28s %10s %10s %10s %10s %10s %10s\n", "", "msg p50", "msg p99", "ans p50", "ans p99", "turn p50",
              "turn p99");
  struct text_case {
    const char* key;    ///< the JSON line's "text"
    const char* name;   ///< the table's row
    std::string text;
    bool target;        ///< held to the 50 µs target
  };
  const text_case cases[] = {
    {"prose", "2 KB support prose", message(2048, false), true},
    {"pii", "2 KB with PII of every kind", message(2048, true), true},
    {"worst_digit_groups", "worst: \"1 1 1 ...\"", repeated("1 ", 2048), false},
    {"worst_iban_groups", "worst: \"GB82 GB82 ...\"", repeated("GB82 ", 2048), false},
    {"worst_colon_token", "worst: \"a:a:a:...\"", repeated("a:", 2048), false},
  };
  for (const auto& c : cases) {
    const auto& text = c.text;
    if (c.target) {  // where the message check's time goes
      std::vector<double> scan_us, content_us;
      safety::content_checks content;
      for (int i = 0; i < turns / 4; ++i) {
        auto t0 = clock_type::now();
        auto found = checks->pii().scan(text);
        auto t1 = clock_type::now();
        auto f = content.check_message("acme", text);
        auto t2 = clock_type::now();
        scan_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() + found.size() * 0.0);
        content_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count() + (f.rule.empty() ? 0.0 : 0.0));
      }
      std::printf("%-28s pii scan p50 %.1f us, content rules p50 %.1f us\n",
                  c.key == std::string("pii") ? "  (with PII) breakdown" : "  (prose) breakdown",
                  sa::bench::percentile(scan_us, 0.5), sa::bench::percentile(content_us, 0.5));
    }
    auto f = run(*checks, text, c.target ? turns : std::max(10, turns / 20), static_cast<size_t>(chunk));
    const auto mean_us = sa::bench::mean(f.total_us);
    for (auto* v : {&f.message_us, &f.answer_us, &f.total_us})
      std::sort(v->begin(), v->end());
    auto p = [](const std::vector<double>& v, double q) { return sa::bench::percentile_sorted(v, q); };
    std::printf("%-28s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f  us%s\n", c.name, p(f.message_us, 0.5),
                p(f.message_us, 0.99), p(f.answer_us, 0.5), p(f.answer_us, 0.99), p(f.total_us, 0.5),
                p(f.total_us, 0.99), c.target ? " (target turn p99 < 50)" : "");
    std::printf("{\"bench\":\"safety\",\"text\":\"%s\",\"bytes\":2048,\"turns\":%zu,\"chunk\":%d,\"cores\":%u,\"cpu\":\"%s\","
                "\"message_p50_us\":%.2f,\"message_p99_us\":%.2f,\"answer_p50_us\":%.2f,\"answer_p99_us\":%.2f,"
                "\"turn_p50_us\":%.2f,\"turn_p99_us\":%.2f,\"turn_mean_us\":%.2f}\n",
                c.key, f.total_us.size(), chunk, sa::bench::cores(), sa::bench::cpu_model().c_str(),
                p(f.message_us, 0.5), p(f.message_us, 0.99), p(f.answer_us, 0.5), p(f.answer_us, 0.99),
                p(f.total_us, 0.5), p(f.total_us, 0.99), mean_us);
  }
  return 0;
}
