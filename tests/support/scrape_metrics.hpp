// scrape: a node's metrics as Prometheus would read them (metrics::render() through the strict parser of
// prometheus_text.hpp); the test fails, showing the text, when it does not parse. Links sa_prometheus_text.
#pragma once

#include "tests/support/prometheus_text.hpp"

#include "runtime/metrics.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace sa::test {

inline prom_exposition scrape(const metrics& m) {
  prom_exposition e;
  std::string error;
  auto text = m.render();
  INFO(text);
  REQUIRE(parse_prometheus_text(text, e, error));
  return e;
}

} // namespace sa::test
