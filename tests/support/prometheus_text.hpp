// A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must be a
// `# HELP`, a `# TYPE` or a sample `name{label="value",...} value`, every family must have both HELP and
// TYPE before its samples, histograms must have cumulative buckets ending in +Inf = _count. What it
// accepts, a Prometheus server accepts; the tests check /metrics and metrics::render() with it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sa::test {

struct prom_sample {
  std::string name;  ///< as written (histograms: name_bucket, name_sum, name_count)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prom_family {
  std::string help;
  std::string type;  ///< counter, gauge, histogram, summary or untyped
  bool has_help = false;
  bool has_type = false;
};

struct prom_exposition {
  std::map<std::string, prom_family> families;
  std::vector<prom_sample> samples;

  /// Sum of the samples called `name` whose labels include every pair of `match`.
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const;

  /// Every label value of every sample.
  std::vector<std::string> label_values() const;
};

/// Parses `text`; false with `error` naming the line and the problem.
bool parse_prometheus_text(const std::string& text, prom_exposition& out, std::string& error);

} // namespace sa::test
