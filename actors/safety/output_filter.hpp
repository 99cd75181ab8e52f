// output_filter: the safety check on everything the agent says, before it reaches the customer or the
// stored conversation. Plain classes, no actors: `pii_scanner` finds sensitive numbers and secrets
// (RE2 patterns compiled once, shared read-only), `stream_redactor` applies it to a streamed answer with
// enough hold-back that a number split across chunks is still caught.
//
// Found and redacted: payment card numbers (13-19 digits, spaces or dashes allowed, Luhn-valid), US
// social security numbers, IBANs (mod-97 valid), and API keys / secrets (sk-..., AKIA..., "password: x").
// To add a kind: add its pattern and validator in output_filter.cpp and a test.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::safety {

struct pii_match {
  std::string kind;       ///< card_number, ssn, iban, secret
  std::size_t offset = 0;
  std::size_t length = 0;
};

class pii_scanner {
public:
  pii_scanner();
  ~pii_scanner();
  pii_scanner(const pii_scanner&) = delete;
  pii_scanner& operator=(const pii_scanner&) = delete;

  /// Validated matches in `text`, in order, not overlapping.
  std::vector<pii_match> scan(std::string_view text) const;

  /// `text` with every match replaced by "[redacted <kind>]"; `count` gets the number replaced.
  std::string redact(std::string_view text, std::size_t* count = nullptr) const;

  /// The hold-back a stream needs: a card number, SSN or IBAN fits in this many characters, and a secret
  /// matches on its first characters already, so a match still growing at the end of the held-back text
  /// is found there and never cut.
  static constexpr std::size_t max_match_chars = 64;

  struct impl;
private:
  std::unique_ptr<impl> impl_;
};

/// Luhn checksum over the digits of `s` (other characters ignored); false for fewer than 13 digits.
bool luhn_valid(std::string_view s);

/// IBAN check: country letters, check digits, letters and digits only, 15-34 of them, mod 97 (spaces ignored).
bool iban_valid(std::string_view s);

/// Redacts a streamed answer. push() returns the text safe to send now; finish() the rest. The
/// concatenation of everything returned equals scanner.redact(concatenation of the input).
class stream_redactor {
public:
  explicit stream_redactor(const pii_scanner& scanner) : scanner_(&scanner) {}

  std::string push(std::string_view chunk);
  std::string finish();
  /// Starts over, as if newly constructed: the held-back text is discarded unreleased (it belongs to
  /// an answer that was voided) and the redaction count restarts at 0.
  void reset() noexcept {
    pending_.clear();
    redactions_ = 0;
  }
  std::size_t redactions() const noexcept { return redactions_; }

private:
  const pii_scanner* scanner_;
  std::string pending_;
  std::size_t redactions_ = 0;
};

} // namespace sa::safety
