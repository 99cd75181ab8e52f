// audit_redactor: what an audit record may hold. Every string in the arguments (object keys included) goes
// through the safety PII scanner (actors/safety/output_filter.hpp: card numbers, SSNs, IBANs, secrets) and an
// e-mail address pattern; long numbers are scanned as their digits; the value of a key that names a secret
// (password, token, api_key, secret, authorization, cookie, credential, cvv/cvc, pin, ssn) is replaced whole.
// Redaction happens before the record is hashed, so the chain commits to the redacted text only.
// Plain class, thread-safe after construction (RE2 and the scanner are read-only), shared by shared_ptr<const>.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace sa::safety {
class pii_scanner;
}

namespace sa::audit {

class redactor {
public:
  /// `scanner` may be null: one is built.
  explicit redactor(std::shared_ptr<const safety::pii_scanner> scanner = nullptr);
  ~redactor();
  redactor(const redactor&) = delete;
  redactor& operator=(const redactor&) = delete;

  /// Free text with every match replaced ("[redacted email]", "[redacted card_number]", ...). `count`, when
  /// given, is increased by the number of replacements (here and in arguments()).
  std::string text(std::string_view in, std::size_t* count = nullptr) const;

  /// The canonical JSON (audit_record.hpp canonical_args) of the redacted arguments object. Text that is
  /// not a JSON object becomes {"unparsed": "<redacted text, at most 1 KiB>"} (and `was_object` false).
  std::string arguments(std::string_view json_object, std::size_t* count = nullptr, bool* was_object = nullptr) const;

private:
  std::shared_ptr<const safety::pii_scanner> scanner_;
  std::unique_ptr<re2::RE2> email_;
};

} // namespace sa::audit
