// output_filter: the safety check on everything the agent says, before it reaches the customer or the
// stored conversation. Plain classes, no actors: `pii_scanner` finds sensitive numbers and secrets
// (RE2 patterns compiled once, shared read-only), `stream_redactor` applies it to a streamed answer with
// enough hold-back that a number split across chunks is still caught.
//
// Found and redacted: payment card numbers (13-19 digits, spaces or dashes allowed, Luhn-valid), US
// social security numbers (valid area/group/serial), national ids with a strict format or checksum (UK
// NINO, Canadian SIN with Luhn, Spanish DNI with its check letter), IBANs (mod-97 valid), email addresses,
// phone numbers (international "+<country> ..." or NANP "(415) 555-0134"; never a date, a bare run of
// digits, or a number right after "order"/"invoice"/"ticket"), IPv4 and IPv6 addresses (not a version
// number: "v1.2.3.4", "version 1.2.3.4", "1.2.3.4.5" pass), and API keys / secrets (sk-..., AKIA..., JWTs,
// private key headers, "password: x").
// A byte-level prefilter (pii_prefilter.hpp) finds the few windows where each pattern can match at all;
// RE2 searches only those (ordinary prose: no regex pass at all), with the same result as a search of the
// whole text (scan_exhaustive, compared by the tests and the fuzz target).
// To add a kind: add its pattern (bounded to max_match_chars when it may hold spaces), its window rule and
// validator in output_filter.cpp, and positive, negative and stream-split tests in tests/actors/safety.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sa::safety {

struct pii_match {
  std::string kind;       ///< card_number, ssn, national_id, iban, email, phone, ip_address, secret
  std::size_t offset = 0;
  std::size_t length = 0;
};

struct own_data;

class pii_scanner {
public:
  pii_scanner();
  ~pii_scanner();
  pii_scanner(const pii_scanner&) = delete;
  pii_scanner& operator=(const pii_scanner&) = delete;

  /// Validated matches in `text`, in order, not overlapping (overlapping ones are joined; one glued to the
  /// word before or after it takes the rest of that token along, so redacting it exposes nothing new). `candidates` (when set) gets every raw
  /// pattern hit, valid or not (a stream is never cut inside one, so it is judged on the same text).
  std::vector<pii_match> scan(std::string_view text,
                              std::vector<std::pair<std::size_t, std::size_t>>* candidates = nullptr) const;

  /// scan(), except that matches starting at or after `end` may be missing (and some are there): what a
  /// stream needs to release the text before `end`, without searching the held-back rest yet.
  std::vector<pii_match> scan_before(std::string_view text, std::size_t end,
                                     std::vector<std::pair<std::size_t, std::size_t>>* candidates = nullptr) const;

  /// scan() without the prefilter: every pattern searched over the whole text. Slower, same result; the
  /// reference the tests and the fuzz target hold scan() to.
  std::vector<pii_match> scan_exhaustive(std::string_view text,
                                         std::vector<std::pair<std::size_t, std::size_t>>* candidates = nullptr) const;

  /// `text` with every match replaced by "[redacted <kind>]"; `count` gets the number replaced. With
  /// `own`, emails and phone numbers it holds are the customer's own and stay; the others are counted
  /// in `other_person` too (an answer must not disclose another person's contact data).
  std::string redact(std::string_view text, std::size_t* count = nullptr, const own_data* own = nullptr,
                     std::size_t* other_person = nullptr) const;

  /// The hold-back a stream needs: every pattern that may hold a space (card number, IBAN, phone, SSN,
  /// national id, "password: x", a version or order prefix) fits in this many characters, and a secret
  /// matches on its first characters already, so a match still growing at the end of the held-back text
  /// is found there and never cut. Patterns without spaces (emails) are never cut: the stream cuts at spaces.
  static constexpr std::size_t max_match_chars = 64;

  struct impl;
private:
  std::unique_ptr<impl> impl_;
};

/// The customer's own contact data (emails, phone numbers) an answer may repeat: found in their message,
/// their account facts, or the tenant's published knowledge. Compared normalised (email lower case,
/// phone digits only).
struct own_data {
  std::vector<std::string> values;
  /// Adds every email and phone number `scanner` finds in `text`.
  void add_from(const pii_scanner& scanner, std::string_view text);
  /// Adds the emails and phone numbers among `matches`, a scan of `text` (no second scan).
  void add_matches(const std::vector<pii_match>& matches, std::string_view text);
  /// The values add_from would add to an empty own_data.
  static std::vector<std::string> values_in(const pii_scanner& scanner, std::string_view text);
  bool holds(const pii_match& m, std::string_view text) const;
};

/// Luhn checksum over the digits of `s` (other characters ignored); false for fewer than 13 digits.
bool luhn_valid(std::string_view s);

/// IBAN check: country letters, check digits, letters and digits only, 15-34 of them, mod 97 (spaces ignored).
bool iban_valid(std::string_view s);

/// Redacts a streamed answer. push() returns the text safe to send now; finish() the rest. The
/// concatenation of everything returned equals scanner.redact(concatenation of the input).
class stream_redactor {
public:
  /// push() scans (and releases) again only once this many bytes have arrived since its last scan, so a
  /// stream of tiny chunks (a token each) does not rescan the held-back text on every push; text is held
  /// back up to max_match_chars + min_release characters.
  static constexpr std::size_t min_release = 16;

  explicit stream_redactor(const pii_scanner& scanner, std::shared_ptr<const own_data> own = nullptr)
    : scanner_(&scanner), own_(std::move(own)) {}

  std::string push(std::string_view chunk);
  std::string finish();
  /// Starts over, as if newly constructed: the held-back text is discarded unreleased (it belongs to
  /// an answer that was voided) and the redaction count restarts at 0.
  void reset() noexcept {
    pending_.clear();
    next_scan_at_ = 0;
    redactions_ = 0;
    other_person_ = 0;
  }
  std::size_t redactions() const noexcept { return redactions_; }
  /// Of those, emails and phone numbers that were not the customer's own.
  std::size_t other_person_redactions() const noexcept { return other_person_; }

private:
  std::string redact_counted(std::string_view text, const std::vector<pii_match>* matches = nullptr);

  const pii_scanner* scanner_;
  std::shared_ptr<const own_data> own_;
  std::string pending_;
  /// The held-back size at which push() scans again: min_release bytes more than after the last scan, or,
  /// when a hit crossed every cut, half as much again (a long run of digits costs O(n), not a rescan per chunk).
  std::size_t next_scan_at_ = 0;
  std::size_t redactions_ = 0;
  std::size_t other_person_ = 0;
};

} // namespace sa::safety
