// Fuzz target: the PII detector and the streamed redactor. Byte 0 picks the chunk size (1..64) that
// splits the rest, as a provider's stream would. Invariants: matches are in order, inside the text,
// and non-overlapping; the prefiltered scan finds exactly what a search of the whole text finds (matches
// and raw hits); redact() leaves nothing it would flag; the
// stream redactor releases exactly scanner.redact(whole text), however the text was split; and the checksum
// tables the scan judges sub-spans of long runs with (scan and scan_exhaustive share them) answer what
// luhn_valid and iban_valid answer, on spans the input's bytes pick.
#include "actors/safety/checksum_spans.hpp"
#include "actors/safety/output_filter.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sa::safety::pii_scanner scanner;
  if (size == 0)
    return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<std::pair<size_t, size_t>> hits, all_hits;
  auto matches = scanner.scan(text, &hits);
  auto reference = scanner.scan_exhaustive(text, &all_hits);
  SA_FUZZ_CHECK(matches.size() == reference.size());
  for (size_t i = 0; i < matches.size(); ++i)
    SA_FUZZ_CHECK(matches[i].kind == reference[i].kind && matches[i].offset == reference[i].offset &&
                  matches[i].length == reference[i].length);
  std::sort(hits.begin(), hits.end());
  std::sort(all_hits.begin(), all_hits.end());
  SA_FUZZ_CHECK(hits == all_hits);
  size_t end = 0;
  for (const auto& m : matches) {
    SA_FUZZ_CHECK(m.offset >= end);
    SA_FUZZ_CHECK(m.length > 0 && m.offset + m.length <= text.size());
    end = m.offset + m.length;
  }
  size_t count = 0;
  auto redacted = scanner.redact(text, &count);
  SA_FUZZ_CHECK(count == matches.size());
  SA_FUZZ_CHECK(scanner.scan(redacted).empty());  // nothing the scanner flags survives redaction

  sa::safety::stream_redactor stream{scanner};
  std::string released;
  for (size_t at = 0; at < text.size(); at += chunk)
    released += stream.push(text.substr(at, chunk));
  released += stream.finish();
  SA_FUZZ_CHECK(released == redacted);
  SA_FUZZ_CHECK(stream.redactions() == count);

  const sa::safety::luhn_spans luhn(text);
  const sa::safety::iban_spans iban(text);
  for (size_t i = 0; i + 1 < std::min<size_t>(text.size(), 16); i += 2) {
    size_t begin = static_cast<unsigned char>(text[i]) % (text.size() + 1);
    size_t end = begin + static_cast<unsigned char>(text[i + 1]) % (text.size() + 1 - begin);
    auto span = text.substr(begin, end - begin);
    SA_FUZZ_CHECK(luhn.valid(begin, end) == sa::safety::luhn_valid(span));
    SA_FUZZ_CHECK(iban.valid(begin, end) == sa::safety::iban_valid(span));
  }
  return 0;
}
