// seeded_pii: personal data and secrets the tests send through the product on purpose (questions,
// retrieved documents, answers), one of every kind the safety check knows. The log scan
// (tests/support/log_scan_test.cpp, run after the suite) fails when any of them shows up in a test log.
// Every value passes its kind's checksum; each is distinctive enough not to occur by chance.
// To add a kind: add its value here, use it in a PII test, and the scan looks for it too.
#pragma once

#include <array>
#include <string_view>

namespace sa::test::seeded_pii {

inline constexpr std::string_view card = "4929 3847 1026 5537";           // Luhn-valid Visa
inline constexpr std::string_view card_compact = "4929384710265537";
inline constexpr std::string_view email = "zelda.quartermain@example.org";
inline constexpr std::string_view phone_intl = "+44 20 7946 0321";
inline constexpr std::string_view phone_nanp = "(415) 555-0187";
inline constexpr std::string_view ssn = "318-47-2915";
inline constexpr std::string_view iban = "DE47 3704 0044 0532 0130 77";    // mod-97 valid
inline constexpr std::string_view ipv4 = "203.0.113.77";
inline constexpr std::string_view ipv6 = "2001:db8:85a3::8a2e:370:7334";
inline constexpr std::string_view secret = "sk-seededSecretKey0123456789abcdef";
inline constexpr std::string_view nino = "JW 48 21 93 B";                 // UK National Insurance number
inline constexpr std::string_view sin_ca = "130 903 479";                 // Canadian SIN, Luhn-valid
inline constexpr std::string_view dni = "48213957T";                      // Spanish DNI, check letter valid

/// Every seeded value: what the log scan looks for (by name in its report, never by value).
inline constexpr std::array<std::string_view, 13> all{card,  card_compact, email,  phone_intl, phone_nanp,
                                                      ssn,   iban,         ipv4,   ipv6,       secret,
                                                      nino,  sin_ca,       dni};
inline constexpr std::array<std::string_view, 13> names{"card",  "card_compact", "email",  "phone_intl", "phone_nanp",
                                                        "ssn",   "iban",         "ipv4",   "ipv6",       "secret",
                                                        "nino",  "sin_ca",       "dni"};

} // namespace sa::test::seeded_pii
